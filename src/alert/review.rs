//! The review alert: what one review slot found at the open (each event's
//! gap against its implied move, each proposed structure's P&L) and the
//! running scoreboard of every stored review, in every form a channel sends.

use std::fmt::Write as _;

use askama::Template;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::render::{Rendered, clip, discord_limits, mrkdwn, slack_escape, slack_limits};
use super::{AlertError, RenderError};
use crate::analysis::scoreboard::ScoreLine;
use crate::present::format::{self, day, pct};
use crate::review::{ReportCard, Review, ReviewStatus};
use crate::store::Store;

/// The most events with structures a Slack message or a Discord message
/// shows in full; the rest are listed in one line each.
const MAX_DETAILED: usize = 9;

/// One review slot's alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewAlert {
    /// Always `review` (the scan alert's webhook body is a ScanReport).
    pub kind: &'static str,
    /// The review slot (UTC).
    pub slot: DateTime<Utc>,
    /// The reviews that slot wrote, by ticker.
    pub reviews: Vec<Review>,
    /// The running scoreboard over every stored review.
    pub scoreboard: Vec<ScoreLine>,
    /// The scoreboard in one line.
    pub summary: String,
}

/// Builds the alert of review slot `slot` from the database.
///
/// # Errors
/// [`AlertError::Store`] when the reviews cannot be read.
pub async fn load(store: &Store, slot: DateTime<Utc>) -> Result<ReviewAlert, AlertError> {
    let all = store.run(|db| db.reviews(None, None)).await?;
    let reviews: Vec<Review> = all.iter().filter(|r| r.slot == slot).cloned().collect();
    let card = ReportCard::new(all, None);
    Ok(ReviewAlert {
        kind: "review",
        slot,
        reviews,
        summary: crate::present::card_summary(&card),
        scoreboard: card.scoreboard,
    })
}

/// The slot of a review alert's report key (`review/<RFC 3339 slot>`).
pub fn slot_of(report_key: &str) -> Option<DateTime<Utc>> {
    let text = report_key.strip_prefix("review/")?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// One reviewed event as people read it.
#[derive(Debug, Clone)]
pub struct EventView {
    /// `CVNA`.
    pub ticker: String,
    /// `BMO`.
    pub timing: &'static str,
    /// `skip`, or `-` without a tier.
    pub tier: &'static str,
    /// `1.00` or `-`.
    pub vrp: String,
    /// `$39.80 (Tue 2023-07-18)`.
    pub reference: String,
    /// `$53.99`.
    pub open: String,
    /// `+35.65%`.
    pub gap: String,
    /// `12.96%` or `-`.
    pub implied: String,
    /// `2.75x the implied move: outside` or empty.
    pub verdict: String,
    /// `61.2%` or `-`.
    pub iv_crush: String,
    /// Its structures.
    pub structures: Vec<StructureView>,
    /// The reason and warnings.
    pub notes: Vec<String>,
    /// Whether the stock moved more than implied.
    pub outside: bool,
}

/// One structure's outcome as people read it.
#[derive(Debug, Clone)]
pub struct StructureView {
    /// `short straddle`.
    pub label: &'static str,
    /// `37P/37C`.
    pub strikes: String,
    /// `$4.70 / $4.80`.
    pub credit: String,
    /// `$16.99 / $16.99`.
    pub exit: String,
    /// `≤ -$1,229.00`.
    pub pnl_natural: String,
    /// `≤ -$1,219.00`.
    pub pnl_mid: String,
    /// `-$40.00` or `unlimited`.
    pub max_loss: String,
    /// `quotes`, `bound (intrinsic)`, `estimate (intrinsic)`.
    pub basis: &'static str,
    /// Whether it lost money at natural prices.
    pub lost: bool,
}

/// One scoreboard row as people read it.
#[derive(Debug, Clone)]
pub struct ScoreView {
    /// `skip`.
    pub tier: &'static str,
    /// `short straddle`.
    pub structure: &'static str,
    /// `1` (`1, 1 at intrinsic`).
    pub n: String,
    /// `0%`.
    pub won: String,
    /// `-$1,229.00`.
    pub mean: String,
    /// `-$1,229.00`.
    pub median: String,
    /// `-$1,229.00`.
    pub worst: String,
    /// `2.75x`.
    pub ratio: String,
}

/// Everything the renderings show.
#[derive(Debug, Clone)]
pub struct ReviewView {
    /// The subject line.
    pub subject: String,
    /// `Review at Wed 2023-07-19 09:31 ET of ...`.
    pub when: String,
    /// Events with proposed structures, best tier first.
    pub detailed: Vec<EventView>,
    /// Other reviewed events: `BKR BMO -1.31%`.
    pub others: Vec<String>,
    /// Events still waiting for an opening price, with the reason.
    pub waiting: Vec<String>,
    /// The running scoreboard.
    pub scoreboard: Vec<ScoreView>,
    /// Its one-line summary.
    pub summary: String,
    /// Whether any figure is at intrinsic value (the legend is shown).
    pub any_intrinsic: bool,
    /// The closing line naming the database record.
    pub footer: String,
}

impl ReviewView {
    /// The view of `alert`.
    pub fn new(alert: &ReviewAlert) -> Self {
        let reviewed: Vec<&Review> =
            alert.reviews.iter().filter(|r| r.status == ReviewStatus::Reviewed).collect();
        let n_outside = reviewed.iter().filter(|r| r.outside == Some(true)).count();
        let subject = format!(
            "ivcd review {}: {} event{} reviewed, {} moved more than implied",
            day(crate::time::et_date(alert.slot)),
            reviewed.len(),
            if reviewed.len() == 1 { "" } else { "s" },
            n_outside
        );
        let mut with_structures: Vec<&Review> =
            reviewed.iter().copied().filter(|r| !r.structures.is_empty()).collect();
        with_structures.sort_by_key(|r| (r.tier, r.ticker.clone()));
        let detailed: Vec<EventView> = with_structures.iter().map(|r| event_view(r)).collect();
        let others = reviewed
            .iter()
            .filter(|r| r.structures.is_empty())
            .map(|r| {
                let implied = r
                    .implied_move
                    .map_or_else(|| "no implied move".to_owned(), |m| format!("implied {}", pct(Some(m))));
                format!(
                    "{} {} gap {} ({implied})",
                    r.ticker,
                    format::timing(r.timing),
                    format::signed_pct2(r.realized_move)
                )
            })
            .collect();
        let waiting = alert
            .reviews
            .iter()
            .filter(|r| r.status == ReviewStatus::Pending)
            .map(|r| {
                format!("{} {}: {}", r.ticker, format::timing(r.timing), r.reason.as_deref().unwrap_or(""))
            })
            .collect();
        let scoreboard = alert
            .scoreboard
            .iter()
            .map(|l| ScoreView {
                tier: l.tier.code(),
                structure: l.structure.label(),
                n: if l.n_intrinsic > 0 {
                    format!("{} ({} at intrinsic)", l.n, l.n_intrinsic)
                } else {
                    l.n.to_string()
                },
                won: format!("{:.0}%", l.hit_rate_natural * 100.0),
                mean: format::signed_usd(l.mean_natural),
                median: format::signed_usd(l.median_natural),
                worst: format::signed_usd(l.worst_natural),
                ratio: format::ratio(l.mean_move_ratio),
            })
            .collect();
        let any_intrinsic = detailed.iter().any(|e| e.structures.iter().any(|s| s.basis != "quotes"));
        Self {
            subject,
            when: format!(
                "Review at {} ET: the open of each event's reaction session against the scan before it.",
                crate::time::et(alert.slot).format("%a %Y-%m-%d %H:%M")
            ),
            detailed,
            others,
            waiting,
            scoreboard,
            summary: alert.summary.clone(),
            any_intrinsic,
            footer: format!(
                "Every figure is read from the ivcd database (reviews of slot {}; `ivcd report` for the scoreboard).",
                crate::store::instant_text(alert.slot)
            ),
        }
    }
}

fn event_view(r: &Review) -> EventView {
    let reference = r.reference_close.map_or_else(
        || "-".into(),
        |c| format!("{} ({})", format::usd(Some(c.round_dp(2))), day(r.reference_session)),
    );
    let verdict = match (r.move_ratio, r.outside) {
        (Some(ratio), Some(true)) => format!("{ratio:.2}x the implied move: outside"),
        (Some(ratio), Some(false)) => format!("{ratio:.2}x the implied move: inside"),
        _ => String::new(),
    };
    let mut notes: Vec<String> = r.reason.iter().cloned().collect();
    notes.extend(r.warnings.iter().cloned());
    EventView {
        ticker: r.ticker.to_string(),
        timing: format::timing(r.timing),
        tier: format::tier(r.tier),
        vrp: format::num(r.vrp, 2),
        reference,
        open: format::usd(r.open_price.map(|p| p.round_dp(2))),
        gap: format::signed_pct2(r.realized_move),
        implied: pct(r.implied_move),
        verdict,
        iv_crush: pct(r.iv_crush),
        structures: r
            .structures
            .iter()
            .map(|s| StructureView {
                label: s.kind.label(),
                strikes: format::strikes(&s.legs),
                credit: format!("{} / {}", format::price(s.natural.credit), format::price(s.mid.credit)),
                exit: format!("{} / {}", format::price(s.natural.debit), format::price(s.mid.debit)),
                pnl_natural: format::pnl(s.natural.per_contract, s.basis),
                pnl_mid: format::pnl(s.mid.per_contract, s.basis),
                max_loss: s.natural.max_loss.map_or_else(
                    || "unlimited".into(),
                    |m| format::usd(Some((m * rust_decimal::Decimal::from(s.contract_size)).round_dp(2))),
                ),
                basis: format::basis(s.basis),
                lost: s.natural.per_contract.is_sign_negative() && !s.natural.per_contract.is_zero(),
            })
            .collect(),
        notes,
        outside: r.outside == Some(true),
    }
}

const LEGEND: &str = "P&L in USD per contract (one contract per leg): natural (sold at the bid, bought back at \
                      the ask) / mid. ≤: valued at intrinsic value from the open, short options only: the real \
                      P&L is at most this. ≈: valued at intrinsic value with long wings: an estimate.";

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewHtml<'a> {
    v: &'a ReviewView,
    legend: &'a str,
}

/// Renders a review alert in every form.
///
/// # Errors
/// [`AlertError::Render`] when a template or the JSON fails (a bug, not bad data).
pub fn render(alert: &ReviewAlert) -> Result<Rendered, AlertError> {
    let v = ReviewView::new(alert);
    let html = ReviewHtml { v: &v, legend: LEGEND }
        .render()
        .map_err(|e| AlertError::Render(RenderError::Template(e)))?;
    let webhook = serde_json::to_vec(alert).map_err(|e| AlertError::Render(RenderError::Json(e)))?;
    Ok(Rendered {
        subject: v.subject.clone(),
        text: text(&v),
        html,
        slack: slack(&v),
        discord: discord(&v),
        webhook,
    })
}

fn text(v: &ReviewView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n{}", v.subject, v.when);
    if v.detailed.is_empty() && v.others.is_empty() {
        let _ = writeln!(out, "\nNo event was reviewed.");
    }
    for e in &v.detailed {
        let _ = writeln!(out, "\n{}  {}  tier {}  VRP {}", e.ticker, e.timing, e.tier, e.vrp);
        let _ = writeln!(
            out,
            "   reference close {} -> open {}: gap {} against implied {}{}",
            e.reference,
            e.open,
            e.gap,
            e.implied,
            if e.verdict.is_empty() { String::new() } else { format!(" ({})", e.verdict) }
        );
        let _ = writeln!(out, "   IV crush at the straddle strike: {}", e.iv_crush);
        for s in &e.structures {
            let _ = writeln!(
                out,
                "   {:<15} {:<20} credit {}  exit {}  P&L {} / {}  max loss {}",
                s.label, s.strikes, s.credit, s.exit, s.pnl_natural, s.pnl_mid, s.max_loss
            );
        }
        for n in &e.notes {
            let _ = writeln!(out, "   ! {n}");
        }
    }
    if !v.others.is_empty() {
        let _ = writeln!(out, "\nOther events (no structures: no implied move at the scan)");
        for o in &v.others {
            let _ = writeln!(out, "   {o}");
        }
    }
    if !v.waiting.is_empty() {
        let _ = writeln!(out, "\nWaiting for an opening price");
        for w in &v.waiting {
            let _ = writeln!(out, "   {w}");
        }
    }
    let _ = writeln!(out, "\nScoreboard of every review: {}", v.summary);
    for l in &v.scoreboard {
        let _ = writeln!(
            out,
            "   {:<9} {:<15} n {}  won {}  mean {}  median {}  worst {}  realized/implied {}",
            l.tier, l.structure, l.n, l.won, l.mean, l.median, l.worst, l.ratio
        );
    }
    let _ = writeln!(out, "\n{LEGEND}\n{}", v.footer);
    out
}

fn event_lines(e: &EventView) -> String {
    let mut s = format!(
        "*{}* {} · tier {} · VRP {}\ngap *{}* against implied {}{}\nIV crush {}",
        e.ticker,
        e.timing,
        e.tier,
        e.vrp,
        e.gap,
        e.implied,
        if e.verdict.is_empty() { String::new() } else { format!(" ({})", e.verdict) },
        e.iv_crush
    );
    for st in &e.structures {
        let _ = write!(s, "\n• {} {}: {} / {}", st.label, st.strikes, st.pnl_natural, st.pnl_mid);
    }
    s
}

/// Header, context, a section per event with structures (at most
/// [`MAX_DETAILED`]), the other events, the waiting ones, the scoreboard and
/// the legend; within Slack's limits.
fn slack(v: &ReviewView) -> Value {
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": clip(&v.subject, slack_limits::HEADER) } }),
        json!({ "type": "context", "elements": [mrkdwn(&slack_escape(&v.when))] }),
    ];
    for e in v.detailed.iter().take(MAX_DETAILED) {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&slack_escape(&event_lines(e))) }));
        if !e.notes.is_empty() {
            blocks.push(
                json!({ "type": "context", "elements": [mrkdwn(&slack_escape(&e.notes.join(" · ")))] }),
            );
        }
    }
    let mut lists = Vec::new();
    if v.detailed.len() > MAX_DETAILED {
        lists.push(format!(
            "…and {} more events with structures (see the email or `ivcd report`)",
            v.detailed.len() - MAX_DETAILED
        ));
    }
    if !v.others.is_empty() {
        lists.push(format!("*Other events* ({})\n{}", v.others.len(), v.others.join("\n")));
    }
    if !v.waiting.is_empty() {
        lists.push(format!("*Waiting for an opening price* ({})\n{}", v.waiting.len(), v.waiting.join("\n")));
    }
    for l in lists {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&slack_escape(&l)) }));
    }
    let mut board = format!("*Scoreboard of every review*: {}", v.summary);
    for l in &v.scoreboard {
        let _ = write!(
            board,
            "\n{} {}: n {}, won {}, mean {}, worst {}",
            l.tier, l.structure, l.n, l.won, l.mean, l.worst
        );
    }
    blocks.push(json!({ "type": "section", "text": mrkdwn(&slack_escape(&board)) }));
    blocks.push(json!({ "type": "context", "elements": [mrkdwn(&slack_escape(LEGEND))] }));
    blocks.truncate(slack_limits::BLOCKS);
    json!({ "text": v.subject, "blocks": blocks })
}

/// The subject as content, an embed per event with structures (at most
/// [`MAX_DETAILED`]) and one with the rest and the scoreboard, within
/// Discord's limits.
fn discord(v: &ReviewView) -> Value {
    let mut embeds = Vec::new();
    let mut total = 0;
    for e in v.detailed.iter().take(MAX_DETAILED) {
        let title = clip(
            &format!("{} {} · tier {} · VRP {}", e.ticker, e.timing, e.tier, e.vrp),
            discord_limits::TITLE,
        );
        let mut description = event_lines(e).replace('*', "**");
        for n in &e.notes {
            let _ = write!(description, "\n⚠ {n}");
        }
        let description = clip(&description, discord_limits::DESCRIPTION);
        let size = title.chars().count() + description.chars().count();
        if total + size > discord_limits::TOTAL / 2 {
            break;
        }
        total += size;
        let color = if e.outside { 0xdc_2626 } else { 0x16_a34a };
        embeds.push(json!({ "title": title, "description": description, "color": color }));
    }
    let mut rest = String::new();
    if !v.others.is_empty() {
        let _ = writeln!(rest, "**Other events**\n{}", v.others.join("\n"));
    }
    if !v.waiting.is_empty() {
        let _ = writeln!(rest, "**Waiting for an opening price**\n{}", v.waiting.join("\n"));
    }
    let _ = writeln!(rest, "**Scoreboard**: {}", v.summary);
    for l in &v.scoreboard {
        let _ = writeln!(
            rest,
            "{} {}: n {}, won {}, mean {}, worst {}",
            l.tier, l.structure, l.n, l.won, l.mean, l.worst
        );
    }
    let _ = write!(rest, "{LEGEND}");
    let budget =
        discord_limits::TOTAL.saturating_sub(total + "Summary".len()).min(discord_limits::DESCRIPTION);
    embeds.push(json!({ "title": "Summary", "description": clip(&rest, budget), "color": 0x6b_7280 }));
    json!({
        "content": clip(&format!("**{}**\n{}", v.subject, v.when), discord_limits::CONTENT),
        "embeds": embeds,
        "allowed_mentions": { "parse": [] },
    })
}
