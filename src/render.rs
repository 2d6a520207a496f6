//! Text output for people: the ranked scan and a ticker's moves. Tables are
//! rendered from stored rows; moves are shown in percent, times in ET.

use comfy_table::{Cell, CellAlignment, Table, presets};

use crate::alert::format::{self, num, pct};
use crate::report::{Candidate, MovesReport, ScanReport};
use crate::review::{ReportCard, Review, ReviewRun, ReviewStatus};
use crate::time::{et, human_age};

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map_or_else(|| "-".into(), ToString::to_string)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).force_no_tty().set_header(header.to_vec());
    t
}

/// Why a candidate has no rank: its reason, or a rejected liquidity check.
pub fn unranked_reason(c: &Candidate) -> String {
    match (&c.reason, c.analysis.as_ref().and_then(|a| a.liquidity.as_ref())) {
        (Some(reason), _) => reason.clone(),
        (None, Some(l)) => format!("liquidity rejected: {}", l.reasons.join("; ")),
        (None, None) => String::new(),
    }
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
                unranked_reason(c),
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
            format!("{:+.2}%", m.gap_move * 100.0),
            format!("{:+.2}%", m.close_to_close_move * 100.0),
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
    }
    out
}

/// `ivcd backtest`: each past event with its implied move at the close
/// before and the gap that followed, then the per-tier summary.
pub fn backtest_table(r: &crate::jobs::backtest::BacktestReport) -> String {
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

/// `ivcd db check` as text: one line per finding, then the verdict.
pub fn db_check(r: &crate::store::CheckReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "database        {} ({:.1} MiB)", r.database, r.bytes as f64 / (1024.0 * 1024.0));
    let version = match r.schema_version {
        None => "none recorded: not an ivcd database yet (ivcd creates the schema on first start)".to_owned(),
        Some(v) if v > r.supported_version => format!(
            "{v}, NEWER than this ivcd knows ({}): written by a newer ivcd; install it again or restore \
             the backup taken before the upgrade",
            r.supported_version
        ),
        Some(v) if r.pending_migrations.is_empty() => format!("{v} (current)"),
        Some(v) => format!(
            "{v}; this ivcd migrates it to {} on start ({}), after backing it up",
            r.supported_version,
            r.pending_migrations.join(", ")
        ),
    };
    let _ = writeln!(out, "schema version  {version}");
    let _ = writeln!(out, "integrity       {}", r.integrity.join("; "));
    let _ = writeln!(out, "foreign keys    {} violation(s)", r.foreign_key_violations);
    let _ = writeln!(out, "{}", if r.ok() { "ok" } else { "PROBLEMS: see above" });
    out
}
