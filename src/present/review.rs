//! The review's tables: a review run (`ivcd review`, a replay), the
//! scoreboard (`ivcd report`) and its one-line summary (`ivcd status`).

use comfy_table::Cell;
use rust_decimal::Decimal;

use super::format::{self, pct, right, signed_usd, table};
use crate::analysis::structures::StructureKind;
use crate::review::{ReportCard, Review, ReviewRun, ReviewStatus};
use crate::time::et;

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
    let mut out = format!("Scoreboard{since}: {}\n", card_summary(card));
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
    against_calibration(&mut out, card);
    if !card.reviews.is_empty() {
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

/// One line for `ivcd status`, e.g. `11 events reviewed, 1 with
/// structures (0 valued from quotes, 1 at intrinsic value); 1 of 1 moved
/// more than implied; short straddle: 0% won, mean -$1,229.00 a contract`.
pub fn card_summary(card: &ReportCard) -> String {
    if card.n_reviews == 0 {
        return "no events reviewed yet".into();
    }
    // The short straddles of the scoreboard (tiered, reviewed events), from the exact figures.
    let straddles: Vec<Decimal> = card
        .reviews
        .iter()
        .filter(|r| r.status == ReviewStatus::Reviewed && r.tier.is_some())
        .filter_map(|r| r.structure(StructureKind::ShortStraddle))
        .map(|s| s.natural.per_contract)
        .collect();
    let n = straddles.len();
    let mut line = format!(
        "{} event{} reviewed, {} with structures ({} valued from quotes, {} at intrinsic value); \
         {} of {} moved more than implied",
        card.n_reviews,
        if card.n_reviews == 1 { "" } else { "s" },
        card.n_with_structures,
        card.n_quoted,
        card.n_with_structures - card.n_quoted,
        card.n_outside,
        card.n_with_implied,
    );
    if n > 0 {
        let won = straddles.iter().filter(|p| **p > Decimal::ZERO).count();
        let total: Decimal = straddles.iter().sum();
        line.push_str(&format!(
            "; short straddle: {:.0}% won, mean {} a contract",
            won as f64 / n as f64 * 100.0,
            signed_usd(total / Decimal::from(n)),
        ));
    }
    if card.n_pending > 0 {
        line.push_str(&format!("; {} waiting for an opening price", card.n_pending));
    }
    line
}

/// The live reviews per tier beside the last calibration's record of the
/// tier, and whether they keep to it; or that no calibration has been run.
fn against_calibration(out: &mut String, card: &ReportCard) {
    let rows: Vec<_> = card.against_calibration.iter().filter(|r| r.live_events > 0).collect();
    if rows.is_empty() {
        return;
    }
    if card.calibration.is_none() {
        out.push_str("Live against history: no calibration yet; run `ivcd calibrate`.\n");
        return;
    }
    let mut t = table(&[
        "tier",
        "live n",
        "live inside [95%]",
        "calibrated n",
        "calibrated inside [95%]",
        "keeps to history",
        "live straddle (mid)",
        "calibrated straddle (bound)",
    ]);
    let rate = |r: Option<f64>, low: Option<f64>, high: Option<f64>| match (r, low, high) {
        (Some(r), Some(l), Some(h)) => format!("{:.0}% [{:.0}-{:.0}%]", r * 100.0, l * 100.0, h * 100.0),
        _ => "-".to_owned(),
    };
    for r in rows {
        let c = r.calibrated.as_ref();
        t.add_row(vec![
            Cell::new(r.tier.code()),
            right(r.live_events),
            right(rate(r.live_hit_rate, r.live_hit_rate_low, r.live_hit_rate_high)),
            right(c.map_or_else(|| "-".to_owned(), |c| format::thousands(c.events))),
            right(c.map_or_else(
                || "-".to_owned(),
                |c| rate(Some(c.hit_rate), Some(c.hit_rate_low), Some(c.hit_rate_high)),
            )),
            Cell::new(match r.keeps_to_history {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            }),
            right(
                r.live_straddle_mean
                    .map_or_else(|| "-".to_owned(), |x| format!("{:+.2}% of spot", x * 100.0)),
            ),
            right(c.map_or_else(|| "-".to_owned(), |c| format!("{:+.2}% of spot", c.straddle_mean * 100.0))),
        ]);
    }
    out.push_str(&format!(
        "Live against history (inside = |gap| at the open not above the implied move; keeps to history = the \
         two 95% intervals overlap, live Wilson, calibrated bootstrap):\n{t}\n{}\n",
        format::calibration_line(card.calibration.as_ref())
    ));
}
