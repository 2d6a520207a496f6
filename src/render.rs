//! Text output for people: the ranked scan and a ticker's moves. Tables are
//! rendered from stored rows; moves are shown in percent, times in ET.

use comfy_table::{Cell, CellAlignment, Table, presets};

use crate::alert::format::{num, pct};
use crate::analysis::moves::HistoricalMove;
use crate::jobs::{et, scan::human_age};
use crate::report::ScanReport;

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map_or_else(|| "-".into(), ToString::to_string)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).force_no_tty().set_header(header.to_vec());
    t
}

/// The ranked setups of a stored scan, then the candidates without figures
/// and their reasons.
pub fn scan_table(report: &ScanReport) -> String {
    let mut out = format!(
        "Scan as of {} ET: AMC reports on {} and BMO reports on {}\n",
        et(report.as_of).format("%a %Y-%m-%d %H:%M"),
        report.session_date,
        report.next_session
    );
    let ranked: Vec<_> = report.candidates.iter().filter(|c| c.rank.is_some()).collect();
    let unranked: Vec<_> = report.candidates.iter().filter(|c| c.rank.is_none()).collect();
    if ranked.is_empty() {
        out.push_str("No setup could be analysed.\n");
    } else {
        let mut t = table(&[
            "#",
            "ticker",
            "timing",
            "reaction",
            "expiration",
            "spot",
            "straddle",
            "implied",
            "hist. mean",
            "n",
            "VRP",
            "tier",
            "edge",
            "chain age",
        ]);
        for c in &ranked {
            t.add_row(vec![
                Cell::new(opt(&c.rank)),
                Cell::new(c.ticker.as_str()),
                Cell::new(c.timing.to_string()),
                Cell::new(opt(&c.reaction_session)),
                Cell::new(opt(&c.expiration)),
                Cell::new(opt(&c.spot)).set_alignment(CellAlignment::Right),
                Cell::new(c.straddle.map_or_else(|| "-".into(), |s| s.round_dp(2).to_string()))
                    .set_alignment(CellAlignment::Right),
                Cell::new(pct(c.implied_move)).set_alignment(CellAlignment::Right),
                Cell::new(pct(c.historical_mean_move)).set_alignment(CellAlignment::Right),
                Cell::new(c.n_events),
                Cell::new(num(c.vrp, 2)).set_alignment(CellAlignment::Right),
                Cell::new(c.tier.map_or("-", |t| t.code())),
                Cell::new(num(c.edge_score, 2)).set_alignment(CellAlignment::Right),
                Cell::new(c.chain_age_seconds.map_or_else(|| "-".into(), human_age)),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        for c in &ranked {
            let past: Vec<String> =
                c.past_moves.iter().map(|m| format!("{:+.1}%", m.gap_move * 100.0)).collect();
            out.push_str(&format!("{} past gap moves (newest first): {}\n", c.ticker, past.join(" ")));
            for w in &c.warnings {
                out.push_str(&format!("{} warning: {w}\n", c.ticker));
            }
        }
    }
    if !unranked.is_empty() {
        let mut t = table(&["ticker", "timing", "report date", "reason"]);
        for c in &unranked {
            t.add_row(vec![
                c.ticker.to_string(),
                c.timing.to_string(),
                c.report_date.to_string(),
                c.reason.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&format!("Not analysed ({}):\n{t}\n", unranked.len()));
    }
    out.push_str(&format!(
        "{} candidates, {} ranked, {} not analysed (scan id {})\n",
        report.candidates.len(),
        ranked.len(),
        unranked.len(),
        report.scan_id
    ));
    out
}

/// A ticker's stored moves, newest first.
pub fn moves_table(ticker: &str, moves: &[HistoricalMove]) -> String {
    if moves.is_empty() {
        return format!("No stored moves for {ticker}; run `ivcd backfill {ticker}` first.\n");
    }
    let mut t = table(&[
        "report date",
        "timing",
        "reference",
        "reaction",
        "ref. close",
        "open",
        "close",
        "gap",
        "close-to-close",
    ]);
    for m in moves.iter().rev() {
        t.add_row(vec![
            m.report_date.to_string(),
            m.timing.to_string(),
            m.sessions.reference_session.to_string(),
            m.sessions.reaction_session.to_string(),
            m.reference_close.round_dp(2).to_string(),
            m.reaction_open.round_dp(2).to_string(),
            m.reaction_close.round_dp(2).to_string(),
            format!("{:+.2}%", m.gap_move * 100.0),
            format!("{:+.2}%", m.close_to_close_move * 100.0),
        ]);
    }
    format!("{ticker}: {} measured earnings moves\n{t}\n", moves.len())
}

/// The alerts outbox: one row per delivery, newest report first.
pub fn outbox_table(rows: &[crate::store::Delivery]) -> String {
    if rows.is_empty() {
        return "The outbox is empty.\n".into();
    }
    let mut t = table(&[
        "report",
        "channel",
        "state",
        "attempts",
        "next attempt (ET)",
        "delivered (ET)",
        "last error",
    ]);
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or_else(|| "-".into(), |at| et(at).format("%m-%d %H:%M:%S").to_string())
    };
    for d in rows {
        let pending = matches!(d.state, crate::store::DeliveryState::Pending);
        t.add_row(vec![
            Cell::new(&d.report_key),
            Cell::new(&d.channel),
            Cell::new(d.state.code()),
            Cell::new(d.attempts).set_alignment(CellAlignment::Right),
            Cell::new(if pending { when(Some(d.next_attempt_at)) } else { "-".into() }),
            Cell::new(when(d.delivered_at)),
            Cell::new(d.last_error.as_deref().unwrap_or("")),
        ]);
    }
    format!("{t}\n")
}
