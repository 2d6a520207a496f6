//! The figures as people read them, shared by every text ivcd shows (the
//! command line's tables, `ivcd status`, the email, Slack, Discord and
//! webhook alerts): moves in percent, money in USD as stored, dates in ET,
//! and the full analysis in labelled lines.

use comfy_table::{Cell, CellAlignment, Table, presets};
use rust_decimal::Decimal;

use crate::analysis::vrp::Tier;
use crate::domain::Timing;
use crate::report::Candidate;

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
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
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

/// `Tue 2025-11-25`.
pub fn day(d: chrono::NaiveDate) -> String {
    d.format("%a %Y-%m-%d").to_string()
}

/// An optional value as text; `-` when unknown.
pub fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map_or_else(|| "-".into(), ToString::to_string)
}

/// A table with ivcd's style and `header`, laid out for the terminal when
/// shown (see [`TextTable`]).
pub fn table(header: &[&str]) -> TextTable {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_header(header.to_vec());
    TextTable(t)
}

/// The width tables are laid out to, once the command line has set it
/// ([`fit_tables_to_terminal`]); unset, tables are unbounded (the library's
/// and the tests' default).
static TABLE_WIDTH: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// Lays every [`TextTable`] of this process out to `COLUMNS` characters (the
/// variable a shell sets; 20 to 1000), or to the terminal's width when
/// stdout is one; into a pipe or a file, tables stay unbounded so `grep` sees
/// whole rows. Called once by the command line.
pub fn fit_tables_to_terminal() {
    use std::io::IsTerminal;
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok());
    let width = match columns.filter(|c| (20..=1000).contains(c)) {
        Some(width) => Some(width),
        // comfy-table reads the terminal's size.
        None if std::io::stdout().is_terminal() => Table::new().width(),
        None => None,
    };
    if let Some(width) = width {
        let _ = TABLE_WIDTH.set(width);
    }
}

/// A table that fits the width [`fit_tables_to_terminal`] set when shown.
/// Cells wrap between words, never inside one: each column is at least as
/// wide as its longest word, so a table whose words cannot fit is wider than
/// the terminal rather than cut.
#[derive(Debug)]
pub struct TextTable(Table);

impl std::ops::Deref for TextTable {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.0
    }
}

impl std::ops::DerefMut for TextTable {
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.0
    }
}

impl std::fmt::Display for TextTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use comfy_table::{ColumnConstraint, Width};
        let mut t = self.0.clone();
        t.force_no_tty();
        let Some(width) = TABLE_WIDTH.get().copied() else { return write!(f, "{t}") };
        // Each column's longest word (its narrowest) and longest line (its
        // widest), header included.
        let mut narrowest: Vec<usize> = Vec::new();
        let mut widest: Vec<usize> = Vec::new();
        for row in t.header().into_iter().chain(t.row_iter()) {
            for (i, cell) in row.cell_iter().enumerate() {
                let content = cell.content();
                let word = content.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(0);
                let line = content.lines().map(|l| l.chars().count()).max().unwrap_or(0);
                if narrowest.len() <= i {
                    narrowest.push(0);
                    widest.push(0);
                }
                if let (Some(n), Some(w)) = (narrowest.get_mut(i), widest.get_mut(i)) {
                    *n = (*n).max(word).max(1);
                    *w = (*w).max(line).max(1);
                }
            }
        }
        for (i, w) in fit_columns(&narrowest, &widest, usize::from(width)).into_iter().enumerate() {
            if let Some(column) = t.column_mut(i) {
                // comfy-table's fixed width includes the padding (a space each side).
                let fixed = u16::try_from(w + 2).unwrap_or(u16::MAX);
                column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(fixed)));
            }
        }
        write!(f, "{t}")
    }
}

/// The content width of each column of a table `width` characters wide
/// (borders and one space of padding each side included), given each
/// column's narrowest (its longest word) and widest (its longest line):
/// every column its widest when that fits; otherwise every column its
/// narrowest, and the space left shared in proportion to what each still
/// lacks of its widest. Never below the narrowest, so no word is cut: a
/// table whose words cannot fit is wider than `width`.
pub fn fit_columns(narrowest: &[usize], widest: &[usize], width: usize) -> Vec<usize> {
    let n = narrowest.len();
    let chrome = 3 * n + 1;
    let full: usize = widest.iter().sum();
    if full + chrome <= width {
        return widest.to_vec();
    }
    let least: usize = narrowest.iter().sum();
    let mut spare = width.saturating_sub(least + chrome);
    let lacking: Vec<usize> = widest.iter().zip(narrowest).map(|(w, n)| w.saturating_sub(*n)).collect();
    let total_lacking: usize = lacking.iter().sum();
    let mut out: Vec<usize> = narrowest
        .iter()
        .zip(&lacking)
        .map(|(n, l)| n + (spare * l).checked_div(total_lacking).unwrap_or(0))
        .collect();
    // What the rounding left, one character at a time to the columns that lack most.
    spare = width.saturating_sub(out.iter().sum::<usize>() + chrome);
    while spare > 0 {
        let most = out
            .iter()
            .zip(widest)
            .enumerate()
            .filter(|(_, (o, w))| o < w)
            .max_by_key(|(_, (o, w))| **w - **o);
        match most {
            Some((i, _)) => {
                if let Some(o) = out.get_mut(i) {
                    *o += 1;
                }
                spare -= 1;
            }
            None => break,
        }
    }
    out
}

/// A right-aligned cell.
pub fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
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

/// A candidate's tier record from the last calibration, e.g. `skip: 1,214
/// past reports, 65.6% inside the implied move [62.9-68.3%], mean
/// short-straddle result +0.79% of spot (upper bound)`. `None` without a tier
/// or without a calibration (see [`calibration_line`]); a line saying there is
/// no record when the calibration's thresholds put the candidate's VRP in
/// another tier.
pub fn tier_record_line(c: &Candidate, calibration: Option<&crate::report::Calibration>) -> Option<String> {
    let (tier, calibration) = (c.tier?, calibration?);
    Some(match &c.tier_record {
        Some(r) => format!(
            "{}: {} past reports, {:.1}% inside the implied move [{:.1}-{:.1}%], mean short-straddle result \
             {:+.2}% of spot (upper bound)",
            r.tier.code(),
            thousands(r.events),
            r.hit_rate * 100.0,
            r.hit_rate_low * 100.0,
            r.hit_rate_high * 100.0,
            r.straddle_mean * 100.0
        ),
        None => {
            let t = &calibration.thresholds;
            format!(
                "{}: no record under the calibrated tiers (VRP >= {:.2} / {:.2} / {:.2}); run `ivcd calibrate`",
                tier.code(),
                t.excellent,
                t.good,
                t.marginal
            )
        }
    })
}

/// A ticker's own record, e.g. `9 past reports, 6 inside the implied move,
/// mean |gap| / implied 0.84 (2021-05-05..2023-05-04)`.
pub fn ticker_record_line(r: &crate::report::TickerRecord) -> String {
    format!(
        "{} past {}, {} inside the implied move, mean |gap| / implied {:.2} ({}..{})",
        r.events,
        if r.events == 1 { "report" } else { "reports" },
        r.inside,
        r.mean_move_ratio,
        r.first_report,
        r.last_report
    )
}

/// Where the tier records come from, with the credit the source's licence
/// asks for; or that no calibration has been run.
pub fn calibration_line(calibration: Option<&crate::report::Calibration>) -> String {
    match calibration {
        None => "Tier record: none yet; run `ivcd calibrate`.".to_owned(),
        Some(c) => format!(
            "Tier records: `ivcd calibrate` of {} on recorded reports {}..{} (tiers VRP >= {:.2} / {:.2} / {:.2}; \
             inside = |gap| at the reaction open below the implied move). Implied moves: {}.",
            c.calibrated_at.format("%Y-%m-%d"),
            c.first_report,
            c.last_report,
            c.thresholds.excellent,
            c.thresholds.good,
            c.thresholds.marginal,
            c.attribution
        ),
    }
}

/// A count with thousands separators, `1,214`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
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
