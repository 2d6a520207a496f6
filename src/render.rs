//! Text output for people: the ranked scan and a ticker's moves. Tables are
//! rendered from stored rows; moves are shown in percent, times in ET.

use comfy_table::{Cell, CellAlignment, Table, presets};

use crate::alert::format::{self, num, pct};
use crate::analysis::moves::HistoricalMove;
use crate::jobs::{et, scan::human_age};
use crate::report::ScanReport;
use crate::review::{ReportCard, Review, ReviewRun, ReviewStatus};

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

fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
}

/// What a review run found: per event the gap against the implied move,
/// then per structure the entry, exit and P&L, then the notes.
pub fn review_table(run: &ReviewRun) -> String {
    let reviewed: Vec<&Review> = run.reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).collect();
    let waiting: Vec<&Review> = run.reviews.iter().filter(|r| r.status == ReviewStatus::Pending).collect();
    let mut out = format!(
        "Review at {} ET: {} event{} reviewed, {} waiting for an opening price\n",
        et(run.slot).format("%a %Y-%m-%d %H:%M"),
        reviewed.len(),
        if reviewed.len() == 1 { "" } else { "s" },
        waiting.len()
    );
    if !reviewed.is_empty() {
        out.push_str(&events_table(&reviewed));
        out.push_str(&structures_table(&reviewed));
        out.push_str(&notes(&reviewed));
    }
    for r in &waiting {
        out.push_str(&format!(
            "{} waiting: {}\n",
            r.ticker,
            r.reason.as_deref().unwrap_or("no opening price")
        ));
    }
    out
}

fn events_table(reviews: &[&Review]) -> String {
    let mut t = table(&[
        "ticker",
        "timing",
        "reaction",
        "tier",
        "ref. close",
        "open",
        "gap move",
        "implied",
        "ratio",
        "outside",
        "IV crush",
    ]);
    for r in reviews {
        t.add_row(vec![
            Cell::new(r.ticker.as_str()),
            Cell::new(r.timing.to_string()),
            Cell::new(r.reaction_session.to_string()),
            Cell::new(format::tier(r.tier)),
            right(format::usd(r.reference_close.map(|d| d.round_dp(2)))),
            right(format::usd(r.open_price.map(|d| d.round_dp(2)))),
            right(format::signed_pct2(r.realized_move)),
            right(pct(r.implied_move)),
            right(format::ratio(r.move_ratio)),
            Cell::new(match r.outside {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }),
            right(pct(r.iv_crush)),
        ]);
    }
    format!("{t}\n")
}

fn structures_table(reviews: &[&Review]) -> String {
    let mut t = table(&[
        "ticker",
        "structure",
        "strikes",
        "credit nat/mid",
        "exit nat/mid",
        "P&L/contract natural",
        "P&L/contract mid",
        "max loss",
        "basis",
    ]);
    let mut any = false;
    for r in reviews {
        for s in &r.structures {
            any = true;
            t.add_row(vec![
                Cell::new(r.ticker.as_str()),
                Cell::new(s.kind.label()),
                Cell::new(format::strikes(&s.legs)),
                right(format!("{} / {}", format::price(s.natural.credit), format::price(s.mid.credit))),
                right(format!("{} / {}", format::price(s.natural.debit), format::price(s.mid.debit))),
                right(format::pnl(s.natural.per_contract, s.basis)),
                right(format::pnl(s.mid.per_contract, s.basis)),
                right(s.natural.max_loss.map_or_else(
                    || "unlimited".into(),
                    |m| format::usd(Some((m * rust_decimal::Decimal::from(s.contract_size)).round_dp(2))),
                )),
                Cell::new(format::basis(s.basis)),
            ]);
        }
    }
    if any { format!("{t}\n") } else { "No structures were proposed (no chain at the scan).\n".into() }
}

fn notes(reviews: &[&Review]) -> String {
    let mut out = String::new();
    for r in reviews {
        if let Some(reason) = &r.reason {
            out.push_str(&format!("{} note: {reason}\n", r.ticker));
        }
        for w in &r.warnings {
            out.push_str(&format!("{} warning: {w}\n", r.ticker));
        }
    }
    if reviews
        .iter()
        .any(|r| r.structures.iter().any(|s| s.basis != crate::analysis::structures::ExitBasis::Quotes))
    {
        out.push_str(
            "≤: valued at intrinsic value from the open (short options only): the real P&L is at most this.\n\
             ≈: valued at intrinsic value with long wings: an estimate.\n",
        );
    }
    out
}

/// The scoreboard of `ivcd report`: per tier and structure, then per ticker.
pub fn report_card(card: &ReportCard) -> String {
    let since = card.since.map_or_else(String::new, |d| format!(" since {d}"));
    let mut out = format!("Scoreboard{since}: {}\n", card.summary());
    if card.scoreboard.is_empty() {
        out.push_str("No reviewed event had a tier and a proposed structure yet.\n");
    } else {
        let mut t = table(&[
            "tier",
            "structure",
            "n",
            "at intrinsic",
            "won (natural)",
            "won (mid)",
            "mean P&L natural",
            "median natural",
            "worst natural",
            "mean P&L mid",
            "median mid",
            "realized/implied",
        ]);
        for l in &card.scoreboard {
            t.add_row(vec![
                Cell::new(l.tier.code()),
                Cell::new(l.structure.label()),
                right(l.n),
                right(l.n_intrinsic),
                right(format!("{:.0}%", l.hit_rate_natural * 100.0)),
                right(format!("{:.0}%", l.hit_rate_mid * 100.0)),
                right(format::signed_usd(l.mean_natural)),
                right(format::signed_usd(l.median_natural)),
                right(format::signed_usd(l.worst_natural)),
                right(format::signed_usd(l.mean_mid)),
                right(format::signed_usd(l.median_mid)),
                right(format::ratio(l.mean_move_ratio)),
            ]);
        }
        out.push_str(&format!("P&L in USD per contract (one contract per leg).\n{t}\n"));
        if card.scoreboard.iter().any(|l| l.n_intrinsic > 0) {
            out.push_str(
                "At intrinsic: exits valued at intrinsic value from the open (no quotes of the open). \
                 For short straddles and strangles the real P&L was at most the figure (time value left \
                 at the open is not counted); for iron condors it is an estimate.\n",
            );
        }
    }
    if !card.reviews.is_empty() {
        use crate::analysis::structures::StructureKind;
        let mut t = table(&[
            "ticker",
            "reaction",
            "timing",
            "tier",
            "implied",
            "gap move",
            "ratio",
            "straddle P&L",
            "strangle P&L",
            "condor P&L",
        ]);
        for r in &card.reviews {
            let cell = |k| {
                r.structure(k).map_or_else(|| "-".into(), |s| format::pnl(s.natural.per_contract, s.basis))
            };
            let waiting = r.status == ReviewStatus::Pending;
            t.add_row(vec![
                Cell::new(r.ticker.as_str()),
                Cell::new(r.reaction_session.to_string()),
                Cell::new(r.timing.to_string()),
                Cell::new(format::tier(r.tier)),
                right(pct(r.implied_move)),
                right(if waiting { "no open yet".into() } else { format::signed_pct2(r.realized_move) }),
                right(format::ratio(r.move_ratio)),
                right(cell(StructureKind::ShortStraddle)),
                right(cell(StructureKind::ShortStrangle)),
                right(cell(StructureKind::IronCondor)),
            ]);
        }
        out.push_str(&format!("Per ticker (P&L natural, USD per contract):\n{t}\n"));
    }
    out
}
