//! The scan's tables: the ranked scan (`ivcd scan`, a replay), a ticker's
//! moves (`ivcd moves`) and the backtest (`ivcd backtest`). Rendered from
//! stored rows; moves in percent, times in ET.

use comfy_table::{Cell, CellAlignment};

use super::format::{self, num, opt, pct, table};
use crate::report::{MovesReport, ScanReport};
use crate::time::{et, human_age};

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
            "score",
            "liquidity",
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
                Cell::new(num(c.score(), 1)).set_alignment(CellAlignment::Right),
                Cell::new(c.liquidity().map_or("-", |l| l.code())),
                Cell::new(c.chain_age_seconds.map_or_else(|| "-".into(), human_age)),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        for c in &ranked {
            let past: Vec<String> =
                c.past_moves.iter().map(|m| format!("{:+.1}%", m.gap_move * 100.0)).collect();
            out.push_str(&format!("{} past gap moves (newest first): {}\n", c.ticker, past.join(" ")));
            for st in &c.structures {
                out.push_str(&format!(
                    "{} proposed {} {} {}: credit {} natural, {} mid\n",
                    c.ticker,
                    st.kind.label(),
                    format::strikes(&st.legs),
                    st.expiration,
                    format::usd(Some(st.entry_natural())),
                    format::price(st.entry_mid()),
                ));
            }
            for (label, line) in format::analysis_lines(c) {
                out.push_str(&format!("{} {label}: {line}\n", c.ticker));
            }
            if let Some(line) = format::tier_record_line(c, report.calibration.as_ref()) {
                out.push_str(&format!("{} tier record: {line}\n", c.ticker));
            }
            if let Some(r) = &c.ticker_record {
                out.push_str(&format!("{} own record: {}\n", c.ticker, format::ticker_record_line(r)));
            }
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
                c.unranked_reason(),
            ]);
        }
        out.push_str(&format!("Not ranked ({}):\n{t}\n", unranked.len()));
    }
    let requests = match &report.requests {
        Some(r) => {
            let each: Vec<String> = r.iter().map(|(p, n)| format!("{p} {n}")).collect();
            format!("; provider requests: {}", each.join(", "))
        }
        None => String::new(),
    };
    out.push_str(&format!(
        "{} candidates, {} ranked, {} not ranked (scan id {}{requests})\n",
        report.candidates.len(),
        ranked.len(),
        unranked.len(),
        report.scan_id
    ));
    if !ranked.is_empty() {
        out.push_str(&format::calibration_line(report.calibration.as_ref()));
        out.push('\n');
    }
    out
}

/// `ivcd moves TICKER`: the stored moves newest first (timing-suspect
/// events flagged with the other session's gap), the window's consistency
/// figures, realized volatility, and the latest scan's score components.
pub fn moves_report(r: &MovesReport) -> String {
    let ticker = r.ticker.as_str();
    if r.moves.is_empty() {
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
        "other session gap",
        "timing check",
    ]);
    for m in r.moves.iter().rev() {
        t.add_row(vec![
            m.report_date.to_string(),
            m.timing.to_string(),
            m.sessions.reference_session.to_string(),
            m.sessions.reaction_session.to_string(),
            m.reference_close.round_dp(2).to_string(),
            m.reaction_open.round_dp(2).to_string(),
            m.reaction_close.round_dp(2).to_string(),
            format::signed_pct2(Some(m.gap_move)),
            format::signed_pct2(Some(m.close_to_close_move)),
            format::signed_pct2(m.other_session_gap_move),
            if m.timing_suspect { "SUSPECT".to_owned() } else { String::new() },
        ]);
    }
    let suspect = r.moves.iter().filter(|m| m.timing_suspect).count();
    let mut out = format!("{ticker}: {} measured earnings moves\n{t}\n", r.moves.len());
    if suspect > 0 {
        out.push_str(&format!(
            "{suspect} event(s) SUSPECT: the larger gap is at the session the other timing implies; \
             left out of the means (analysis.timing_check.include_suspect = false)\n"
        ));
    }
    let w = &r.window;
    if let Some(s) = &w.stats {
        out.push_str(&format!(
            "Window for a scan today: {} events, mean |gap| {}, median {}, MAD {} (relative {:.2}), \
             EWMA {}, max {} (tail risk {:.2})\n",
            s.n_events,
            pct(Some(s.mean)),
            pct(Some(s.median)),
            pct(Some(s.mad)),
            s.relative_mad,
            pct(r.ewma_move),
            pct(Some(s.max)),
            s.tail_risk_ratio
        ));
    }
    if let Some(tr) = &r.trend {
        out.push_str(&format!(
            "Trend: {:+.2}% per event; recent mean {} vs earlier {}{}\n",
            tr.slope_per_event * 100.0,
            pct(Some(tr.recent_mean)),
            pct(Some(tr.earlier_mean)),
            if tr.growing { " (recent moves growing)" } else { "" }
        ));
    }
    if let Some(rv) = &r.rv30 {
        out.push_str(&format!(
            "Realized volatility (Yang-Zhang, {} sessions {}..{}): {}\n",
            rv.sessions,
            rv.first_session,
            rv.last_session,
            pct(Some(rv.value))
        ));
    }
    if let Some(latest) = &r.latest_scan {
        let c = &latest.candidate;
        out.push_str(&format!(
            "Latest scan ({} ET): rank {}, VRP {}, tier {}\n",
            et(latest.slot).format("%a %Y-%m-%d %H:%M"),
            opt(&c.rank),
            num(c.vrp, 2),
            c.tier.map_or("-", |t| t.code())
        ));
        for (label, line) in format::analysis_lines(c) {
            out.push_str(&format!("  {label}: {line}\n"));
        }
        if let Some(line) = format::tier_record_line(c, r.calibration.as_ref()) {
            out.push_str(&format!("  tier record: {line}\n"));
        }
    }
    if let Some(own) = &r.ticker_record {
        out.push_str(&format!(
            "Own record (recorded implied moves against the gaps that followed): {}\n",
            format::ticker_record_line(own)
        ));
    }
    out.push_str(&format::calibration_line(r.calibration.as_ref()));
    out.push('\n');
    out
}

/// `ivcd backtest`: each past event with its implied move at the close
/// before and the gap that followed, then the per-tier summary.
pub fn backtest_table(r: &crate::report::BacktestReport) -> String {
    let mut out = String::new();
    if r.events.is_empty() {
        out.push_str("No past events with a completed reaction session are stored for these tickers.\n");
    } else {
        let mut t = table(&[
            "ticker",
            "report date",
            "timing",
            "chain date",
            "expiration",
            "spot",
            "implied",
            "hist. mean",
            "VRP",
            "tier",
            "gap",
            "beyond",
            "reason",
        ]);
        for e in &r.events {
            t.add_row(vec![
                e.ticker.to_string(),
                e.report_date.to_string(),
                e.timing.to_string(),
                e.chain_date.to_string(),
                opt(&e.expiration),
                opt(&e.spot),
                pct(e.implied_move),
                pct(e.historical_mean_move),
                num(e.vrp, 2),
                e.tier.map_or("-", |t| t.code()).to_owned(),
                format::signed_pct2(e.realized_gap),
                e.beyond_implied.map_or("-", |b| if b { "yes" } else { "no" }).to_owned(),
                e.reason.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if r.tiers.is_empty() {
        out.push_str("No event could be judged (each needs an implied move, a tier and its own gap).\n");
    } else {
        let mut t = table(&[
            "tier",
            "events",
            "mean implied",
            "mean |gap|",
            "mean |gap| / implied",
            "beyond implied",
        ]);
        for s in &r.tiers {
            t.add_row(vec![
                s.tier.code().to_owned(),
                s.events.to_string(),
                pct(Some(s.mean_implied_move)),
                pct(Some(s.mean_abs_realized_move)),
                format!("{:.2}", s.mean_realized_to_implied),
                format!("{:.0}%", s.share_beyond_implied * 100.0),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    out.push_str(&format!(
        "{} events, {} judged; {} end-of-day chains requested, {} implied moves reused\n",
        r.events.len(),
        r.tiers.iter().map(|s| s.events).sum::<usize>(),
        r.chains_requested,
        r.reused
    ));
    out
}
