//! The alert's figures as people read them, shared by every rendering:
//! moves in percent, money in USD as stored, dates and times in ET.

use rust_decimal::Decimal;

use super::{AlertReport, Setup};
use crate::analysis::vrp::Tier;
use crate::domain::Timing;
use crate::report::Candidate;
use crate::time::{et, human_age};

/// A fraction as a percent with two decimals: `0.1296` → `12.96%`; `-` when unknown.
pub fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:.2}%", x * 100.0))
}

/// A signed fraction as a percent with one decimal: `-0.0823` → `-8.2%`.
pub fn signed_pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// A signed fraction as a percent with two decimals: `0.35653` → `+35.65%`; `-` when unknown.
pub fn signed_pct2(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:+.2}%", x * 100.0))
}

/// A ratio with two decimals: `2.7503` → `2.75x`; `-` when unknown.
pub fn ratio(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{x:.2}x"))
}

/// A price in USD to at most four decimals (at least two): `16.9900016784668` → `$16.99`.
pub fn price(x: Decimal) -> String {
    usd(Some(x.round_dp(4)))
}

/// A number with `digits` decimals; `-` when unknown.
pub fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// USD as stored, at least two decimals: `36.83` → `$36.83`, `4.7745` → `$4.7745`.
pub fn usd(x: Option<Decimal>) -> String {
    match x {
        None => "-".into(),
        Some(d) => {
            let d = d.normalize();
            if d.scale() < 2 { format!("${d:.2}") } else { format!("${d}") }
        }
    }
}

/// Signed USD to the cent with thousands separators: `-1229` → `-$1,229.00`,
/// `40.5` → `+$40.50`, `0` → `$0.00`.
pub fn signed_usd(x: Decimal) -> String {
    let cents = x.round_dp(2);
    let sign = if cents.is_sign_negative() && !cents.is_zero() {
        "-"
    } else if cents.is_zero() {
        ""
    } else {
        "+"
    };
    let abs = cents.abs();
    let whole = abs.trunc().to_string().parse::<u64>().ok();
    let frac = ((abs - abs.trunc()) * Decimal::ONE_HUNDRED).round().to_string();
    format!("{sign}${}.{:0>2}", count(whole), frac)
}

/// A structure's strikes, puts then calls: `37P/37C`, `31.5P/32P/41.5C/42C`.
pub fn strikes(legs: &[crate::analysis::structures::Leg]) -> String {
    let right = |r| if r == crate::domain::OptionRight::Put { "P" } else { "C" };
    legs.iter().map(|l| format!("{}{}", l.strike.normalize(), right(l.right))).collect::<Vec<_>>().join("/")
}

/// A P&L figure with its basis: `-$1,229.00` from quotes, `≤ -$1,229.00` for
/// a bound (the real P&L is at most this), `≈ -$40.00` for an estimate.
pub fn pnl(x: Decimal, basis: crate::analysis::structures::ExitBasis) -> String {
    use crate::analysis::structures::ExitBasis;
    match basis {
        ExitBasis::Quotes => signed_usd(x),
        ExitBasis::Bound => format!("≤ {}", signed_usd(x)),
        ExitBasis::IntrinsicEstimate => format!("≈ {}", signed_usd(x)),
    }
}

/// What a basis means, for a footnote.
pub fn basis(b: crate::analysis::structures::ExitBasis) -> &'static str {
    use crate::analysis::structures::ExitBasis;
    match b {
        ExitBasis::Quotes => "quotes",
        ExitBasis::Bound => "bound (intrinsic)",
        ExitBasis::IntrinsicEstimate => "estimate (intrinsic)",
    }
}

/// A whole count with thousands separators: `12345` → `12,345`.
pub fn count(x: Option<u64>) -> String {
    let Some(x) = x else { return "-".into() };
    let digits = x.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `AMC`, `BMO`, `DMH` or `unknown`.
pub fn timing(t: Timing) -> &'static str {
    match t {
        Timing::Amc => "AMC",
        Timing::Bmo => "BMO",
        Timing::Dmh => "DMH",
        Timing::Unknown => "unknown",
    }
}

/// `excellent`, `good`, `marginal`, `skip`.
pub fn tier(t: Option<Tier>) -> &'static str {
    t.map_or("-", Tier::code)
}

/// One bar of a setup's chart: the implied move, or one past gap move.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// `implied` or the past event's reaction session (`2023-05-04`).
    pub label: String,
    /// The value shown beside the bar (`12.96%`, `+35.6%`).
    pub value: String,
    /// The bar's length in pixels, proportional to the absolute move.
    pub width: u32,
    /// The bar's colour (CSS hex): blue for the implied move, red for a past
    /// move larger than it (a loss for a straddle seller), green for a smaller one.
    pub color: &'static str,
}

/// The widest bar, pixels.
pub const CHART_WIDTH: u32 = 220;
/// The implied move's bar.
pub const IMPLIED_COLOR: &str = "#2563eb";
/// A past move beyond the implied move.
pub const BEYOND_COLOR: &str = "#dc2626";
/// A past move within the implied move.
pub const WITHIN_COLOR: &str = "#16a34a";

/// The implied move against each past absolute gap move (newest first), scaled to [`CHART_WIDTH`].
pub fn chart(c: &Candidate) -> Vec<Bar> {
    let Some(implied) = c.implied_move else { return Vec::new() };
    let largest = c.past_moves.iter().map(|m| m.gap_move.abs()).fold(implied, f64::max);
    let width = |x: f64| {
        if largest > 0.0 { ((x.abs() / largest) * f64::from(CHART_WIDTH)).round().max(1.0) as u32 } else { 1 }
    };
    let mut bars = vec![Bar {
        label: "implied".into(),
        value: pct(Some(implied)),
        width: width(implied),
        color: IMPLIED_COLOR,
    }];
    bars.extend(c.past_moves.iter().map(|m| Bar {
        label: m.reaction_session.to_string(),
        value: signed_pct(m.gap_move),
        width: width(m.gap_move),
        color: if m.gap_move.abs() > implied { BEYOND_COLOR } else { WITHIN_COLOR },
    }));
    bars
}

/// A setup's figures, formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupView {
    /// 1 for the best.
    pub rank: u32,
    /// The ticker.
    pub ticker: String,
    /// `AMC` or `BMO`.
    pub timing: &'static str,
    /// The report date, `Tue 2023-07-18`.
    pub report_date: String,
    /// The reaction session, `Wed 2023-07-19`.
    pub reaction_session: String,
    /// The expiration, `Fri 2023-07-21`.
    pub expiration: String,
    /// Spot, USD.
    pub spot: String,
    /// The ATM straddle, USD per share.
    pub straddle: String,
    /// The implied move, percent.
    pub implied_move: String,
    /// The mean historical absolute gap move, percent.
    pub historical_mean: String,
    /// How many past events.
    pub n_events: usize,
    /// The past gap moves, newest first: `+35.6% -8.2% ...`.
    pub past_moves: String,
    /// The VRP ratio.
    pub vrp: String,
    /// The tier.
    pub tier: &'static str,
    /// The edge score.
    pub edge_score: String,
    /// Consistency: the past moves' MAD / median.
    pub consistency: String,
    /// The straddle's bid/ask spread, percent of mid.
    pub spread: String,
    /// The smallest open interest among the legs.
    pub open_interest: String,
    /// The chain's age at the scan.
    pub data_age: String,
    /// Caveats.
    pub warnings: Vec<String>,
    /// The chart's bars.
    pub chart: Vec<Bar>,
    /// The composite score with its components' points, or `-`.
    pub score: String,
    /// The full analysis, one labelled line each (see [`analysis_lines`]).
    pub details: Vec<Detail>,
}

/// One labelled line of the full analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// `term`, `skew`, `liquidity`, `consistency`, `bounds` or `missing`.
    pub label: &'static str,
    /// The figures.
    pub line: String,
}

impl SetupView {
    /// Formats a setup.
    pub fn new(s: &Setup) -> Self {
        let c = &s.candidate;
        let date = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".into(), super::day);
        Self {
            rank: c.rank.unwrap_or(0),
            ticker: c.ticker.to_string(),
            timing: timing(c.timing),
            report_date: super::day(c.report_date),
            reaction_session: date(c.reaction_session),
            expiration: date(c.expiration),
            spot: usd(c.spot),
            straddle: usd(c.straddle),
            implied_move: pct(c.implied_move),
            historical_mean: pct(c.historical_mean_move),
            n_events: c.n_events,
            past_moves: c.past_moves.iter().map(|m| signed_pct(m.gap_move)).collect::<Vec<_>>().join(" "),
            vrp: num(c.vrp, 2),
            tier: tier(c.tier),
            edge_score: num(c.edge_score, 2),
            consistency: num(c.relative_mad, 2),
            spread: pct(s.liquidity.spread),
            open_interest: count(s.liquidity.min_open_interest),
            data_age: c.chain_age_seconds.map_or_else(|| "-".into(), human_age),
            warnings: c.warnings.clone(),
            chart: chart(c),
            score: c
                .analysis
                .as_ref()
                .and_then(|a| a.score.as_ref())
                .map_or_else(|| "-".to_owned(), score_line),
            details: analysis_lines(c)
                .into_iter()
                .filter(|(label, _)| *label != "score" && !label.starts_with(' '))
                .map(|(label, line)| Detail { label, line })
                .collect(),
        }
    }
}

/// A candidate listed by name only (below the cut, or skipped), formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefView {
    /// The ticker.
    pub ticker: String,
    /// `AMC` or `BMO`.
    pub timing: &'static str,
    /// Why it is not a setup: `VRP 1.00 (skip)`, or the reason it has no figures.
    pub why: String,
}

impl BriefView {
    fn below(c: &Candidate, report: &AlertReport) -> Self {
        let why = if super::makes_the_cut(c, report.min_tier) {
            format!("VRP {} ({}), beyond the top {}", num(c.vrp, 2), tier(c.tier), report.top_n)
        } else {
            format!("VRP {} ({})", num(c.vrp, 2), tier(c.tier))
        };
        Self { ticker: c.ticker.to_string(), timing: timing(c.timing), why }
    }

    fn skipped(c: &Candidate) -> Self {
        Self {
            ticker: c.ticker.to_string(),
            timing: timing(c.timing),
            why: match crate::render::unranked_reason(c) {
                why if why.is_empty() => "no figures".into(),
                why => why,
            },
        }
    }
}

/// The whole alert, formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportView {
    /// The subject line.
    pub subject: String,
    /// `AMC reports on Tue 2023-07-18 and BMO reports on Wed 2023-07-19`.
    pub sessions: String,
    /// `Scanned Tue 2023-07-18 15:00 ET`.
    pub scanned: String,
    /// The setups, best first.
    pub setups: Vec<SetupView>,
    /// Ranked but not listed as setups.
    pub below_cut: Vec<BriefView>,
    /// Without figures.
    pub skipped: Vec<BriefView>,
    /// `12 candidates: 1 analysed, 0 setups (tier marginal or better), 1 below, 11 skipped`.
    pub totals: String,
    /// `Chains up to 7h 09m old at the scan`, or none.
    pub data_age: Option<String>,
}

impl ReportView {
    /// Formats an alert.
    pub fn new(r: &AlertReport) -> Self {
        let analysed = r.setups.len() + r.below_cut.len();
        Self {
            subject: r.subject(),
            sessions: format!(
                "AMC reports on {} and BMO reports on {}",
                super::day(r.scan.session_date),
                super::day(r.scan.next_session)
            ),
            scanned: format!("Scanned {} ET", et(r.scan.as_of).format("%a %Y-%m-%d %H:%M")),
            setups: r.setups.iter().map(SetupView::new).collect(),
            below_cut: r.below_cut.iter().map(|c| BriefView::below(c, r)).collect(),
            skipped: r.skipped.iter().map(BriefView::skipped).collect(),
            totals: format!(
                "{} candidates: {analysed} analysed, {} {} (tier {} or better, top {}), {} below the cut, {} skipped",
                r.scan.candidates.len(),
                r.setups.len(),
                if r.setups.len() == 1 { "setup" } else { "setups" },
                r.min_tier.code(),
                r.top_n,
                r.below_cut.len(),
                r.skipped.len()
            ),
            data_age: r.oldest_chain_age().map(|a| format!("Chains up to {} old at the scan", human_age(a))),
        }
    }
}

/// `smirk`, `reverse smirk`, `smile` or `flat`.
pub fn skew_shape(s: crate::analysis::skew::SkewShape) -> &'static str {
    use crate::analysis::skew::SkewShape;
    match s {
        SkewShape::Smirk => "smirk",
        SkewShape::ReverseSmirk => "reverse smirk",
        SkewShape::Smile => "smile",
        SkewShape::Flat => "flat",
    }
}

/// The score with its components' points: `score 71.3 = vrp 45.0 + consistency 14.2 + ...`.
pub fn score_line(score: &crate::analysis::score::Score) -> String {
    let parts: Vec<String> = score.components.iter().map(|c| format!("{} {:.1}", c.name, c.points)).collect();
    format!("score {:.1} = {}", score.total, parts.join(" + "))
}

/// The full analysis of a candidate in a few labelled lines (text table,
/// email, Slack and webhook text): score and its components, term structure,
/// skew, liquidity, consistency, probability bounds, and what is missing.
/// Empty without an analysis.
pub fn analysis_lines(c: &Candidate) -> Vec<(&'static str, String)> {
    let Some(a) = &c.analysis else { return Vec::new() };
    let mut lines = Vec::new();
    if let Some(s) = &a.score {
        lines.push(("score", score_line(s)));
        for comp in &s.components {
            lines.push((
                "  component",
                format!("{} {:.2} x weight {}: {}", comp.name, comp.value, comp.weight, comp.explanation),
            ));
        }
    }
    if let Some(t) = &a.term {
        let ivs: Vec<String> = t
            .points
            .iter()
            .map(|p| {
                format!(
                    "{} {}{}",
                    p.expiration.format("%m-%d"),
                    pct(Some(p.iv)),
                    match p.source {
                        crate::analysis::term::IvSource::Vendor => "",
                        crate::analysis::term::IvSource::BlackScholes => " (BS)",
                    }
                )
            })
            .collect();
        let mut line = format!("ATM IV {}", ivs.join(", "));
        if let Some(e) = &t.event {
            match (e.event_move, e.negative_forward_variance) {
                (_, true) => line.push_str("; negative forward variance, no event move"),
                (Some(m), false) => line.push_str(&format!(
                    "; event move E {} (ex-earnings IV {})",
                    pct(Some(m)),
                    pct(e.ex_earnings_iv)
                )),
                (None, false) => {}
            }
        }
        if let Some(s) = &t.slope {
            line.push_str(&format!("; slope {:+.5}/day to {:.0}d", s.per_day, s.target_days));
        }
        if let Some(iv30) = t.iv30 {
            line.push_str(&format!("; IV30 {}", pct(Some(iv30))));
        }
        lines.push(("term", line));
    }
    if let Some(s) = &a.skew {
        lines.push((
            "skew",
            format!(
                "{} {}: slope {:+.3}, curvature {:+.3}, R² {:.2} ({} puts, {} calls)",
                s.expiration,
                skew_shape(s.shape),
                s.slope,
                s.curvature,
                s.r_squared,
                s.put_points,
                s.call_points
            ),
        ));
    }
    if let Some(l) = &a.liquidity {
        let leg = |x: &Option<crate::analysis::liquidity::LegLiquidity>| match x {
            Some(l) => format!(
                "spread {}, OI {}, vol {}",
                pct(l.spread_fraction),
                count(l.open_interest),
                count(l.volume)
            ),
            None => "-".to_owned(),
        };
        let mut line = format!(
            "{} at {}: call {}; put {}; ADV {}",
            l.verdict.code(),
            l.strike,
            leg(&l.call),
            leg(&l.put),
            l.avg_daily_volume.map_or_else(|| "-".to_owned(), |v| count(Some(v.round() as u64)))
        );
        if !l.reasons.is_empty() {
            line.push_str(&format!(" ({})", l.reasons.join("; ")));
        }
        lines.push(("liquidity", line));
    }
    let k = &a.consistency;
    let mut line = format!("EWMA move {} (VRP {} against it)", pct(k.ewma_move), ratio(k.vrp_ewma));
    if let Some(t) = &k.trend {
        line.push_str(&format!(
            "; trend {:+.2}%/event{}",
            t.slope_per_event * 100.0,
            if t.growing { ", recent moves growing" } else { "" }
        ));
    }
    if let Some(rv) = &k.rv30 {
        line.push_str(&format!("; RV{} {}", rv.sessions, pct(Some(rv.value))));
    }
    if let Some(x) = k.iv30_rv30 {
        line.push_str(&format!("; IV30/RV30 {x:.2}"));
    }
    lines.push(("consistency", line));
    if let Some(b) = &a.bounds {
        let ranges = |v: &[crate::analysis::bounds::PriceRange]| {
            v.iter()
                .map(|r| format!("{}σ {:.2}-{:.2}", r.sigmas, r.lower, r.upper))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = String::new();
        if !b.from_straddle.is_empty() {
            line.push_str(&format!("from the straddle {}", ranges(&b.from_straddle)));
        }
        if !b.from_event_move.is_empty() {
            line.push_str(&format!("; from E {}", ranges(&b.from_event_move)));
        }
        if let Some(share) = b.historical_share_beyond {
            line.push_str(&format!(
                "; {} of {} past moves beyond the implied move",
                (share * b.historical_events as f64).round(),
                b.historical_events
            ));
        }
        if !line.is_empty() {
            lines.push(("bounds", line));
        }
    }
    for m in &a.missing {
        lines.push(("missing", m.clone()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_usd_reads_like_money() {
        use rust_decimal_macros::dec;
        assert_eq!(signed_usd(dec!(-1229)), "-$1,229.00");
        assert_eq!(signed_usd(dec!(40.5)), "+$40.50");
        assert_eq!(signed_usd(dec!(-0.001)), "$0.00");
        assert_eq!(signed_usd(dec!(1234567.891)), "+$1,234,567.89");
    }
    use rust_decimal_macros::dec;

    #[test]
    fn money_keeps_every_stored_decimal() {
        assert_eq!(usd(Some(dec!(36.83))), "$36.83");
        assert_eq!(usd(Some(dec!(4.7745))), "$4.7745");
        assert_eq!(usd(Some(dec!(40))), "$40.00");
        assert_eq!(usd(Some(dec!(12.500))), "$12.50");
        assert_eq!(usd(None), "-");
    }

    #[test]
    fn counts_and_moves_read_naturally() {
        assert_eq!(count(Some(1_234_567)), "1,234,567");
        assert_eq!(count(Some(999)), "999");
        assert_eq!(signed_pct(-0.0823), "-8.2%");
        assert_eq!(signed_pct(0.3565), "+35.6%");
        assert_eq!(pct(Some(0.1296)), "12.96%");
    }
}
