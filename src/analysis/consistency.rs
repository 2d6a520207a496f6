//! How steady a ticker's earnings moves are over time, and the underlying's
//! realized volatility.
//!
//! Sources:
//! - Exponentially weighted mean of the absolute moves: the usual EWMA with a
//!   half-life (as in RiskMetrics-style weighting), weight of the i-th newest
//!   event = 0.5^(i / half-life), normalised by the sum of the weights. It
//!   answers "what has the stock done lately" where the plain mean of
//!   `../shared/docs/domain.md` §2/§4 weighs a move of three years ago like
//!   last quarter's.
//! - Trend of the moves: the ordinary least-squares slope of |move| against
//!   the event index (oldest = 0), and the mean of the newer half against the
//!   older half. A growing trend means the historical mean understates what
//!   the next move may be, so a VRP measured against it looks better than it is.
//! - Realized volatility: Yang, D. and Zhang, Q. (2000), "Drift-independent
//!   volatility estimation based on high, low, open, and close prices",
//!   *Journal of Business* 73(3), 477-491:
//!   sigma^2 = V_o + k V_c + (1 - k) V_rs with
//!   o_t = ln(O_t / C_{t-1}) (overnight), c_t = ln(C_t / O_t) (open to close),
//!   V_o and V_c their sample variances (divided by n - 1),
//!   V_rs = (1/n) sum [ln(H_t/C_t) ln(H_t/O_t) + ln(L_t/C_t) ln(L_t/O_t)]
//!   (Rogers and Satchell 1991; a mean, not a variance, exactly as in the
//!   paper), k = 0.34 / (1.34 + (n + 1) / (n - 1)); annualised by sqrt(252).
//!   The 30-session default is the window of the open-source "earnings
//!   volatility calculator" that compares IV30 with a Yang-Zhang RV30.

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::domain::DailyBar;

/// Trading sessions per year used to annualise a daily variance.
const SESSIONS_PER_YEAR: f64 = 252.0;

/// Settings of the consistency figures (a configuration section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsistencyParams {
    /// Half-life of the weights of [`ewma_abs_move`], in events (default 4.0:
    /// with quarterly reports a move loses half its weight each year, so in
    /// the 12-event window the oldest year counts a quarter as much as the
    /// latest).
    pub half_life_events: f64,
    /// The fraction by which the newer half's mean |move| must exceed the
    /// older half's, together with a positive OLS slope, for
    /// [`MoveTrend::growing`] (default 0.25, i.e. 25% larger).
    pub trend_growth_warning: f64,
    /// Sessions of the Yang-Zhang realized volatility (default 30, about one
    /// month, the RV30 set against IV30).
    pub rv_sessions: usize,
}

impl Default for ConsistencyParams {
    fn default() -> Self {
        Self { half_life_events: 4.0, trend_growth_warning: 0.25, rv_sessions: 30 }
    }
}

/// Exponentially weighted mean of the absolute moves (fractions), given
/// newest first: the i-th newest (i = 0 for the latest) weighs
/// 0.5^(i / `half_life_events`), and the result is sum(w |x|) / sum(w), a
/// fraction.
///
/// `None` when `moves_newest_first` is empty, when any move is not finite,
/// or when `half_life_events` is not a finite positive number.
///
/// Worked example: moves +0.10, -0.20, +0.30 (newest first), half-life 1
/// event: weights 1, 0.5, 0.25; (0.10 + 0.10 + 0.075) / 1.75 = 0.157142...,
/// below the plain mean 0.2 because the largest move is the oldest.
pub fn ewma_abs_move(moves_newest_first: &[f64], half_life_events: f64) -> Option<f64> {
    if moves_newest_first.is_empty()
        || moves_newest_first.iter().any(|m| !m.is_finite())
        || !half_life_events.is_finite()
        || half_life_events <= 0.0
    {
        return None;
    }
    let (weighted, total) =
        moves_newest_first.iter().enumerate().fold((0.0, 0.0), |(weighted, total), (i, m)| {
            let w = 0.5_f64.powf(i as f64 / half_life_events);
            (weighted + w * m.abs(), total + w)
        });
    Some(weighted / total)
}

/// Whether the absolute moves have been growing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveTrend {
    /// OLS slope of |move| against the event index (oldest = 0), fraction per
    /// event (0.01 = the absolute move grows by one percentage point a quarter).
    pub slope_per_event: f64,
    /// Mean |move| of the newer half of the events, fraction.
    pub recent_mean: f64,
    /// Mean |move| of the older half of the events, fraction.
    pub earlier_mean: f64,
    /// `slope_per_event > 0` and `recent_mean > earlier_mean x (1 + growth_warning)`.
    pub growing: bool,
}

/// The trend of the absolute moves (fractions, given newest first).
///
/// Halves: with n events the newer half is the newest floor(n/2) events and
/// the older half the oldest floor(n/2); for odd n the middle event belongs
/// to neither, so the two means are over the same number of events and
/// neither half is favoured. The slope uses every event.
///
/// `growing` is true when the slope is positive and the newer half's mean
/// exceeds the older half's by more than `growth_warning` (a fraction: 0.25 =
/// 25%); an older mean of 0 is exceeded by any positive newer mean.
///
/// `None` with fewer than 4 moves (two per half at least) or when any move is
/// not finite.
///
/// Worked example: moves 0.12, -0.10, 0.06, -0.04 (newest first) are
/// 0.04, 0.06, 0.10, 0.12 oldest first, at x = 0..3 (mean x 1.5, mean |move|
/// 0.08): slope = (1.5 x 0.04 + 0.5 x 0.02 + 0.5 x 0.02 + 1.5 x 0.04) /
/// (2.25 + 0.25 + 0.25 + 2.25) = 0.14 / 5 = 0.028 per event; newer half
/// (0.12 + 0.10) / 2 = 0.11, older (0.06 + 0.04) / 2 = 0.05; 0.11 > 0.05 x 1.25,
/// so growing.
pub fn move_trend(moves_newest_first: &[f64], growth_warning: f64) -> Option<MoveTrend> {
    let n = moves_newest_first.len();
    if n < 4 || moves_newest_first.iter().any(|m| !m.is_finite()) {
        return None;
    }
    let oldest_first: Vec<f64> = moves_newest_first.iter().rev().map(|m| m.abs()).collect();
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = mean(&oldest_first);
    let (sxy, sxx) = oldest_first.iter().enumerate().fold((0.0, 0.0), |(sxy, sxx), (i, y)| {
        let dx = i as f64 - mean_x;
        (sxy + dx * (y - mean_y), sxx + dx * dx)
    });
    let slope_per_event = sxy / sxx;
    let half = n / 2;
    let earlier_mean = mean(&oldest_first[..half]);
    let recent_mean = mean(&oldest_first[n - half..]);
    let growing = slope_per_event > 0.0 && recent_mean > earlier_mean * (1.0 + growth_warning);
    Some(MoveTrend { slope_per_event, recent_mean, earlier_mean, growing })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// A realized volatility figure and the sessions it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealizedVol {
    /// Annualised volatility, a fraction (1.70 = 170%).
    pub value: f64,
    /// Number of sessions n in the estimate.
    pub sessions: usize,
    /// The first session whose returns are used (its overnight return starts
    /// from the close of the bar before it).
    pub first_session: NaiveDate,
    /// The last session used.
    pub last_session: NaiveDate,
}

/// Yang-Zhang realized volatility over the last `sessions` sessions of
/// `bars`, annualised by sqrt(252), a fraction (see the module docs for the
/// formula and its source).
///
/// `bars` are daily bars ascending by date; the last `sessions + 1` are read,
/// because the first session's overnight return needs the close before it.
/// Every session in the window counts, earnings gaps included: an RV30 over a
/// window holding a report carries that report's gap, which is what the
/// stock did.
///
/// `None` when `sessions < 2` (the sample variances need n - 1 > 0), when
/// there are fewer than `sessions + 1` bars, when the window's dates are not
/// strictly ascending, when any price in it is not positive (or not
/// convertible to `f64`), or when the variance comes out negative or not
/// finite (possible only with bars whose high/low do not contain the open
/// and close).
///
/// Worked example (n = 2): closes/bars 100; O 101 H 104 L 99 C 103;
/// O 102 H 105 L 100 C 101. Overnight o = ln(101/100) = 0.0099503,
/// ln(102/103) = -0.0097562, V_o = (0.0099503 + 0.0097562)^2 / 2 = 0.00019417;
/// open-to-close c = ln(103/101) = 0.0196085, ln(101/102) = -0.0098523,
/// V_c = 0.00043397; Rogers-Satchell ln(104/103) ln(104/101) +
/// ln(99/103) ln(99/101) = 0.0010750 and ln(105/101) ln(105/102) +
/// ln(100/101) ln(100/102) = 0.0013229, V_rs = 0.00119897;
/// k = 0.34 / (1.34 + 3) = 0.078341; sigma^2 = 0.00019417 + 0.078341 x
/// 0.00043397 + 0.921659 x 0.00119897 = 0.0013332 per session;
/// annualised sqrt(252 x 0.0013332) = 0.57963 (57.96%).
pub fn yang_zhang(bars: &[DailyBar], sessions: usize) -> Option<RealizedVol> {
    if sessions < 2 || bars.len() < sessions + 1 {
        return None;
    }
    let window = &bars[bars.len() - (sessions + 1)..];
    if window.windows(2).any(|pair| pair[0].date >= pair[1].date) {
        return None;
    }
    let mut overnight = Vec::with_capacity(sessions);
    let mut intraday = Vec::with_capacity(sessions);
    let mut rogers_satchell = 0.0;
    for pair in window.windows(2) {
        let previous_close = positive(pair[0].close)?;
        let bar = &pair[1];
        let (open, high, low, close) =
            (positive(bar.open)?, positive(bar.high)?, positive(bar.low)?, positive(bar.close)?);
        overnight.push((open / previous_close).ln());
        intraday.push((close / open).ln());
        rogers_satchell += (high / close).ln() * (high / open).ln() + (low / close).ln() * (low / open).ln();
    }
    let n = sessions as f64;
    let k = 0.34 / (1.34 + (n + 1.0) / (n - 1.0));
    let variance =
        sample_variance(&overnight) + k * sample_variance(&intraday) + (1.0 - k) * (rogers_satchell / n);
    if !variance.is_finite() || variance < 0.0 {
        return None;
    }
    Some(RealizedVol {
        value: (variance * SESSIONS_PER_YEAR).sqrt(),
        sessions,
        first_session: window[1].date,
        last_session: window[sessions].date,
    })
}

/// A price as `f64` when it is positive and representable.
fn positive(price: rust_decimal::Decimal) -> Option<f64> {
    price.to_f64().filter(|p| p.is_finite() && *p > 0.0)
}

/// Sample variance (divided by n - 1); the caller ensures n >= 2.
fn sample_variance(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use std::path::PathBuf;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + chrono::Days::new(u64::from(d))
    }

    fn bar(d: u32, open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> DailyBar {
        DailyBar { date: day(d), open, high, low, close, volume: None }
    }

    fn flat(d: u32, price: Decimal) -> DailyBar {
        bar(d, price, price, price, price)
    }

    #[test]
    fn defaults() {
        let p = ConsistencyParams::default();
        assert_eq!((p.half_life_events, p.trend_growth_warning, p.rv_sessions), (4.0, 0.25, 30));
        let read: ConsistencyParams = serde_json::from_str(r#"{"rv_sessions": 20}"#).unwrap();
        assert_eq!(read, ConsistencyParams { rv_sessions: 20, ..p });
        assert!(serde_json::from_str::<ConsistencyParams>(r#"{"rv": 20}"#).is_err());
    }

    #[test]
    fn ewma_worked_example_from_the_docstring() {
        let e = ewma_abs_move(&[0.10, -0.20, 0.30], 1.0).unwrap();
        assert!((e - 0.275 / 1.75).abs() < 1e-15, "{e}");
        // Default half-life 4: weights 1, 0.5^0.25, 0.5^0.5.
        let w = [1.0, 0.5_f64.powf(0.25), 0.5_f64.sqrt()];
        let expected = (0.10 * w[0] + 0.20 * w[1] + 0.30 * w[2]) / (w[0] + w[1] + w[2]);
        assert!((ewma_abs_move(&[0.10, -0.20, 0.30], 4.0).unwrap() - expected).abs() < 1e-15);
    }

    #[test]
    fn ewma_refuses_what_it_cannot_weigh() {
        assert_eq!(ewma_abs_move(&[], 4.0), None);
        assert_eq!(ewma_abs_move(&[0.1, f64::NAN], 4.0), None);
        assert_eq!(ewma_abs_move(&[0.1, f64::INFINITY], 4.0), None);
        assert_eq!(ewma_abs_move(&[0.1], 0.0), None);
        assert_eq!(ewma_abs_move(&[0.1], f64::NAN), None);
    }

    #[test]
    fn trend_worked_example_from_the_docstring() {
        let t = move_trend(&[0.12, -0.10, 0.06, -0.04], 0.25).unwrap();
        assert!((t.slope_per_event - 0.028).abs() < 1e-15, "{t:?}");
        assert!((t.recent_mean - 0.11).abs() < 1e-15);
        assert!((t.earlier_mean - 0.05).abs() < 1e-15);
        assert!(t.growing);
        // The same moves in the other order shrink.
        let t = move_trend(&[0.04, 0.06, 0.10, 0.12], 0.25).unwrap();
        assert!((t.slope_per_event + 0.028).abs() < 1e-15);
        assert!(!t.growing);
    }

    #[test]
    fn trend_odd_count_leaves_the_middle_event_out_of_the_halves() {
        // Oldest first 0.02, 0.04, 0.50, 0.06, 0.08: halves {0.08, 0.06} and {0.02, 0.04}.
        let t = move_trend(&[0.08, 0.06, 0.50, 0.04, 0.02], 0.25).unwrap();
        assert!((t.recent_mean - 0.07).abs() < 1e-15);
        assert!((t.earlier_mean - 0.03).abs() < 1e-15);
        // Slope: x - 2 = -2..2, y - 0.14 = -0.12, -0.10, 0.36, -0.08, -0.06:
        // (0.24 + 0.10 + 0 - 0.08 - 0.12) / 10 = 0.014.
        assert!((t.slope_per_event - 0.014).abs() < 1e-15, "{t:?}");
        assert!(t.growing);
    }

    #[test]
    fn trend_growth_needs_both_the_slope_and_the_margin() {
        // Newer half 0.11 against older 0.10: rising, but by 10% only.
        let t = move_trend(&[0.11, 0.11, 0.10, 0.10], 0.25).unwrap();
        assert!(t.slope_per_event > 0.0);
        assert!(!t.growing);
        // Oldest first 0.3, 0, 0.8, 0: newer half 0.4 > 1.25 x 0.15, but the slope is
        // (-1.5 x 0.3 - 0.5 x 0 + 0.5 x 0.8 + 1.5 x 0) / 5 = -0.05 / 5 = -0.01 (the mean
        // 0.275 cancels because the deviations of x sum to 0).
        let t = move_trend(&[0.0, 0.8, 0.0, 0.3], 0.25).unwrap();
        assert!((t.slope_per_event + 0.01).abs() < 1e-15, "{t:?}");
        assert!((t.recent_mean - 0.4).abs() < 1e-15 && (t.earlier_mean - 0.15).abs() < 1e-15);
        assert!(!t.growing);
        // An older half of zeros is exceeded by any positive newer half.
        assert!(move_trend(&[0.01, 0.01, 0.0, 0.0], 0.25).unwrap().growing);
    }

    #[test]
    fn trend_needs_four_finite_moves() {
        assert_eq!(move_trend(&[0.1, 0.2, 0.3], 0.25), None);
        assert_eq!(move_trend(&[0.1, 0.2, 0.3, f64::NAN], 0.25), None);
    }

    #[test]
    fn yang_zhang_worked_example_from_the_docstring() {
        let bars = [
            flat(0, dec!(100)),
            bar(1, dec!(101), dec!(104), dec!(99), dec!(103)),
            bar(2, dec!(102), dec!(105), dec!(100), dec!(101)),
        ];
        let rv = yang_zhang(&bars, 2).unwrap();
        assert!((rv.value - 0.579_627_812_725_454_6).abs() < 1e-12, "{rv:?}");
        assert_eq!((rv.sessions, rv.first_session, rv.last_session), (2, day(1), day(2)));
    }

    #[test]
    fn yang_zhang_of_pure_gaps_is_the_overnight_variance() {
        // O = H = L = C each day: c = 0 and Rogers-Satchell = 0, so sigma^2 = V_o.
        // o = ln(1.1), -ln(1.1): V_o = (2 ln 1.1)^2 / 2 = 2 ln(1.1)^2,
        // sigma = sqrt(252 x 2) ln(1.1) = 22.449944 x 0.0953102 = 2.139708.
        let bars = [flat(0, dec!(100)), flat(1, dec!(110)), flat(2, dec!(100))];
        let rv = yang_zhang(&bars, 2).unwrap();
        assert!((rv.value - 504_f64.sqrt() * 1.1_f64.ln()).abs() < 1e-12, "{rv:?}");
        assert!((rv.value - 2.139_708_229_797_63).abs() < 1e-12);
        // A constant price has no volatility.
        let still: Vec<DailyBar> = (0..10).map(|d| flat(d, dec!(50))).collect();
        assert_eq!(yang_zhang(&still, 9).unwrap().value, 0.0);
    }

    #[test]
    fn yang_zhang_uses_only_the_last_sessions() {
        let mut bars = vec![flat(0, dec!(1)), flat(1, dec!(1000))];
        bars.extend([flat(2, dec!(100)), flat(3, dec!(110)), flat(4, dec!(100))]);
        let rv = yang_zhang(&bars, 2).unwrap();
        assert!((rv.value - 504_f64.sqrt() * 1.1_f64.ln()).abs() < 1e-12);
        assert_eq!((rv.first_session, rv.last_session), (day(3), day(4)));
    }

    #[test]
    fn yang_zhang_refuses_what_it_cannot_measure() {
        let bars = [flat(0, dec!(100)), flat(1, dec!(110)), flat(2, dec!(100))];
        assert!(yang_zhang(&bars, 3).is_none(), "needs sessions + 1 bars");
        assert!(yang_zhang(&bars, 1).is_none(), "needs n >= 2");
        assert!(yang_zhang(&bars, 0).is_none());
        let zero = [flat(0, dec!(100)), bar(1, dec!(100), dec!(100), dec!(0), dec!(100)), flat(2, dec!(100))];
        assert!(yang_zhang(&zero, 2).is_none(), "a zero price");
        let unsorted = [flat(0, dec!(100)), flat(2, dec!(110)), flat(1, dec!(100))];
        assert!(yang_zhang(&unsorted, 2).is_none(), "dates not ascending");
        let twice = [flat(0, dec!(100)), flat(1, dec!(110)), flat(1, dec!(100))];
        assert!(yang_zhang(&twice, 2).is_none(), "a date twice");
    }

    fn data_dir() -> PathBuf {
        match std::env::var_os("IVCD_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        }
    }

    /// CVNA's RV30 up to the session before its 2023-07-19 reaction, against an
    /// independent computation from the CSV text (python3, floats parsed from
    /// the file, run once):
    ///
    /// ```python
    /// import csv, math
    /// rows = [r for r in csv.DictReader(open('../shared/data/ivan-pichugin__cvna2019-2024gaps/CVNA.csv'))
    ///         if r['date'] <= '2023-07-18']
    /// n = 30
    /// w = rows[-(n + 1):]
    /// o, c, rs = [], [], []
    /// for prev, cur in zip(w, w[1:]):
    ///     O, H, L, C = (float(cur[k]) for k in ('open', 'high', 'low', 'close'))
    ///     o.append(math.log(O / float(prev['close'])))
    ///     c.append(math.log(C / O))
    ///     rs.append(math.log(H / C) * math.log(H / O) + math.log(L / C) * math.log(L / O))
    /// def var(x):
    ///     m = sum(x) / len(x)
    ///     return sum((v - m) ** 2 for v in x) / (len(x) - 1)
    /// k = 0.34 / (1.34 + (n + 1) / (n - 1))
    /// v = var(o) + k * var(c) + (1 - k) * sum(rs) / n
    /// print(w[1]['date'], w[-1]['date'], len(o), repr(math.sqrt(252 * v)))
    /// # 2023-06-05 2023-07-18 30 1.7031467101178077
    /// # V_o 0.0021159356876349835, V_c 0.011928321969382465, V_rs 0.008978473242731913,
    /// # k 0.14113942170054394
    /// ```
    ///
    /// RV30 170.3% against the Cboe chain's 156.6% IV at the 37 strike that
    /// morning: the June 8 gap (+21%) is inside the window.
    #[test]
    fn cvna_rv30_matches_an_independent_computation() {
        let path = data_dir().join("ivan-pichugin__cvna2019-2024gaps/CVNA.csv");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()));
        let bars = crate::providers::files::ohlcv::parse_ohlcv_csv(&text, "CVNA.csv").unwrap();
        let end = NaiveDate::from_ymd_opt(2023, 7, 18).unwrap();
        let upto: Vec<DailyBar> = bars.into_iter().filter(|b| b.date <= end).collect();
        let rv = yang_zhang(&upto, ConsistencyParams::default().rv_sessions).unwrap();
        assert_eq!(rv.sessions, 30);
        assert_eq!(rv.first_session, NaiveDate::from_ymd_opt(2023, 6, 5).unwrap());
        assert_eq!(rv.last_session, end);
        assert!((rv.value - 1.703_146_710_117_807_7).abs() < 1e-9, "{rv:?}");
    }

    fn ohlc() -> impl Strategy<Value = (f64, f64, f64, f64)> {
        // low, high, and open/close as positions between them.
        (1u32..100_000, 0u32..50_000, 0.0..=1.0f64, 0.0..=1.0f64).prop_map(|(low, width, a, b)| {
            let low = f64::from(low) / 100.0;
            let high = low + f64::from(width) / 100.0;
            (low + a * (high - low), high, low, low + b * (high - low))
        })
    }

    fn price(x: f64) -> Decimal {
        // Two decimals, kept inside [low, high] by rounding every price the same way.
        Decimal::from_f64_retain((x * 100.0).round() / 100.0).unwrap().round_dp(2)
    }

    proptest! {
        #[test]
        fn yang_zhang_is_finite_and_not_negative(rows in proptest::collection::vec(ohlc(), 3..40)) {
            let bars: Vec<DailyBar> = rows
                .iter()
                .enumerate()
                .map(|(i, (o, h, l, c))| {
                    let (low, high) = (price(*l), price(*h));
                    bar(i as u32, price(*o).clamp(low, high), high, low, price(*c).clamp(low, high))
                })
                .collect();
            let rv = yang_zhang(&bars, bars.len() - 1).unwrap();
            prop_assert!(rv.value.is_finite() && rv.value >= 0.0, "{rv:?}");
        }

        #[test]
        fn ewma_of_a_constant_is_the_constant(
            m in -1.0..1.0f64, n in 1usize..30, half_life in 0.1..20.0f64
        ) {
            let moves = vec![m; n];
            let e = ewma_abs_move(&moves, half_life).unwrap();
            prop_assert!((e - m.abs()).abs() <= 1e-12 * m.abs().max(1.0), "{e} vs {m}");
        }

        #[test]
        fn increasing_moves_trend_up(
            start in 0.0..0.2f64, steps in proptest::collection::vec(0.001..0.05f64, 3..12)
        ) {
            let mut oldest_first = vec![start];
            for s in &steps {
                let last = *oldest_first.last().unwrap();
                oldest_first.push(last + s);
            }
            let newest_first: Vec<f64> = oldest_first.iter().rev().copied().collect();
            let t = move_trend(&newest_first, 0.25).unwrap();
            prop_assert!(t.slope_per_event > 0.0, "{t:?}");
            prop_assert!(t.recent_mean > t.earlier_mean);
        }
    }
}
