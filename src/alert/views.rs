//! The alert's views: the figures of a scan's alert formatted for its
//! renderings (the chart's bars, each setup, the names below the cut), from
//! [`crate::present::format`].

use super::{AlertReport, Setup};
use crate::present::format::{
    calibration_line, count, day, num, pct, score_line, signed_pct, ticker_record_line, tier,
    tier_record_line, timing, usd,
};
use crate::report::{Calibration, Candidate};
use crate::time::{et, human_age};

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
    /// Formats a setup; `calibration` is the run its tier record comes from.
    pub fn new(s: &Setup, calibration: Option<&Calibration>) -> Self {
        let c = &s.candidate;
        let date = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".into(), day);
        Self {
            rank: c.rank.unwrap_or(0),
            ticker: c.ticker.to_string(),
            timing: timing(c.timing),
            report_date: day(c.report_date),
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
            details: record_lines(c, calibration)
                .into_iter()
                .chain(
                    crate::present::format::analysis_lines(c)
                        .into_iter()
                        .filter(|(label, _)| *label != "score" && !label.starts_with(' ')),
                )
                .map(|(label, line)| Detail { label, line })
                .collect(),
        }
    }
}

/// The tier record and the ticker's own record of a setup, labelled (first
/// among its details, so a clipped message keeps them).
fn record_lines(c: &Candidate, calibration: Option<&Calibration>) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    if let Some(line) = tier_record_line(c, calibration) {
        lines.push(("tier record", line));
    }
    if let Some(r) = &c.ticker_record {
        lines.push(("own record", ticker_record_line(r)));
    }
    lines
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
        let why = if c.makes_the_cut(report.min_tier) {
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
            why: match c.unranked_reason() {
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
    /// Where the tier records come from with the source's credit, or that
    /// no calibration has been run ([`calibration_line`]).
    pub calibration: String,
}

impl ReportView {
    /// Formats an alert.
    pub fn new(r: &AlertReport) -> Self {
        let analysed = r.setups.len() + r.below_cut.len();
        Self {
            subject: r.subject(),
            sessions: format!(
                "AMC reports on {} and BMO reports on {}",
                day(r.scan.session_date),
                day(r.scan.next_session)
            ),
            scanned: format!("Scanned {} ET", et(r.scan.as_of).format("%a %Y-%m-%d %H:%M")),
            setups: r.setups.iter().map(|s| SetupView::new(s, r.scan.calibration.as_ref())).collect(),
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
            calibration: calibration_line(r.scan.calibration.as_ref()),
        }
    }
}
