//! An alert in every form a channel sends: plain text and HTML (email),
//! Slack Block Kit, Discord, and the generic webhook's JSON.

use std::fmt::Write as _;

use askama::Template;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::views::{BriefView, ReportView, SetupView};
use super::{AlertError, AlertReport, RenderError};

/// Slack's limits: blocks per message, characters per section or context text,
/// per field, per header.
/// Source: <https://docs.slack.dev/reference/block-kit/blocks>.
pub mod slack_limits {
    /// Blocks in one message.
    pub const BLOCKS: usize = 50;
    /// A section's or context element's text.
    pub const TEXT: usize = 3000;
    /// One section field.
    pub const FIELD: usize = 2000;
    /// Fields in one section.
    pub const FIELDS: usize = 10;
    /// A header's plain text.
    pub const HEADER: usize = 150;
}

/// Discord's limits: embeds per message, characters in all embeds, per
/// title, description, field value, and the message content.
/// Source: <https://discord.com/developers/docs/resources/message#embed-object-embed-limits>.
pub mod discord_limits {
    /// Embeds in one message.
    pub const EMBEDS: usize = 10;
    /// Characters across all embeds.
    pub const TOTAL: usize = 6000;
    /// An embed's title.
    pub const TITLE: usize = 256;
    /// An embed's description.
    pub const DESCRIPTION: usize = 4096;
    /// A field's value.
    pub const FIELD_VALUE: usize = 1024;
    /// The message content.
    pub const CONTENT: usize = 2000;
}

/// Our layout choices (not service limits): the longest line of a listed
/// ticker with its reason, the room kept in a list's last section for the
/// "…and N more" line, and the characters kept for Discord's summary embed.
const LIST_LINE: usize = 500;
const MORE_LINE: usize = 60;
const DISCORD_SUMMARY: usize = 1500;

/// The most setups a Slack message shows (3 blocks each); the rest are counted.
const SLACK_MAX_SETUPS: usize = 12;

/// One alert in every form.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The email subject (and the Slack/Discord notification text).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (inline CSS, no external resources).
    pub html: String,
    /// The Slack message: `{"text": ..., "blocks": [...]}`.
    pub slack: Value,
    /// The Discord message: `{"content": ..., "embeds": [...]}`.
    pub discord: Value,
    /// The generic webhook's body (JSON bytes, the document that HMAC signs).
    pub webhook: Vec<u8>,
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanHtml<'a> {
    v: &'a ReportView,
    min_tier: &'a str,
    scan_id: i64,
}

/// Renders a scan's alert in every form.
///
/// # Errors
/// [`AlertError::Render`] when a template or the JSON fails (a bug, not bad data).
pub fn scan(report: &AlertReport) -> Result<Rendered, AlertError> {
    let v = ReportView::new(report);
    let html = ScanHtml { v: &v, min_tier: report.min_tier.code(), scan_id: report.scan.scan_id }
        .render()
        .map_err(|e| AlertError::Render(RenderError::Template(e)))?;
    let webhook = serde_json::to_vec(&report.scan).map_err(|e| AlertError::Render(RenderError::Json(e)))?;
    Ok(Rendered {
        subject: v.subject.clone(),
        text: text(&v, report.scan.scan_id),
        html,
        slack: slack(&v),
        discord: discord(&v),
        webhook,
    })
}

#[derive(Template)]
#[template(
    source = r#"<!DOCTYPE html><html><body style="font-family:Helvetica,Arial,sans-serif;"><p><b>{{ subject }}</b></p><p>{{ line }}</p></body></html>"#,
    ext = "html"
)]
struct TestHtml<'a> {
    subject: &'a str,
    line: &'a str,
}

/// The test message of `ivcd notify test`, in every form.
pub fn test_message(host: &str, at: DateTime<Utc>) -> Rendered {
    let subject = format!("ivcd: test message from {host}");
    let line = format!(
        "This is a test from ivcd on {host}, sent {} ET. If you read this, alerts reach you here.",
        crate::time::et(at).format("%a %Y-%m-%d %H:%M")
    );
    let html = TestHtml { subject: &subject, line: &line }.render().unwrap_or_else(|_| line.clone());
    Rendered {
        slack: json!({
            "text": subject,
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": clip(&subject, slack_limits::HEADER) } },
                { "type": "section", "text": { "type": "mrkdwn", "text": slack_escape(&line) } },
            ],
        }),
        discord: json!({ "content": clip(&format!("**{subject}**\n{line}"), discord_limits::CONTENT), "allowed_mentions": { "parse": [] } }),
        // `sent_at` as every stored instant: RFC 3339 UTC, whole seconds.
        webhook: serde_json::to_vec(
            &json!({ "kind": "test", "host": host, "sent_at": crate::store::instant_text(at), "message": line }),
        )
            .unwrap_or_default(),
        text: format!("{subject}\n\n{line}\n"),
        html,
        subject,
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
/// Source: <https://docs.slack.dev/messaging/formatting-message-text#escaping>.
pub(crate) fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `max` characters: cut with an ellipsis when longer.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The plain-text body.
fn text(v: &ReportView, scan_id: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n{}\n{}", v.subject, v.sessions, v.scanned);
    if v.setups.is_empty() {
        let _ = writeln!(out, "\nNo setup made the cut.");
    }
    for s in &v.setups {
        let _ = writeln!(out, "\n#{} {}  {}  VRP {} ({})", s.rank, s.ticker, s.timing, s.vrp, s.tier);
        let _ = writeln!(
            out,
            "   reports {}, reacts {}, expiration {}",
            s.report_date, s.reaction_session, s.expiration
        );
        let _ = writeln!(out, "   spot {}   straddle {}", s.spot, s.straddle);
        let _ = writeln!(
            out,
            "   implied move {} vs historical mean {} ({} events)",
            s.implied_move, s.historical_mean, s.n_events
        );
        if !s.past_moves.is_empty() {
            let _ = writeln!(out, "   past gap moves, newest first: {}", s.past_moves);
        }
        let _ = writeln!(out, "   edge score {}   consistency (MAD/median) {}", s.edge_score, s.consistency);
        let _ = writeln!(out, "   {}", s.score);
        for d in &s.details {
            let _ = writeln!(out, "   {}: {}", d.label, d.line);
        }
        let _ = writeln!(
            out,
            "   spread {} of mid   open interest {} (smallest leg)   chain {} old",
            s.spread, s.open_interest, s.data_age
        );
        for w in &s.warnings {
            let _ = writeln!(out, "   ! {w}");
        }
    }
    brief_list(&mut out, "Below the cut", &v.below_cut);
    brief_list(&mut out, "Skipped", &v.skipped);
    let _ = writeln!(out, "\n{}", v.totals);
    if let Some(age) = &v.data_age {
        let _ = writeln!(out, "{age}");
    }
    let _ = writeln!(out, "{}", v.calibration);
    let _ = writeln!(
        out,
        "\nImplied move = ATM straddle / spot. VRP = implied move / mean absolute historical gap move.\n\
         Every figure is read from the ivcd database (scan {scan_id})."
    );
    out
}

fn brief_list(out: &mut String, title: &str, items: &[BriefView]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}");
    for b in items {
        let _ = writeln!(out, "   {:<6} {:<4} {}", b.ticker, b.timing, b.why);
    }
}

pub(crate) fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": clip(text, slack_limits::TEXT) })
}

fn field(label: &str, value: &str) -> Value {
    json!({ "type": "mrkdwn", "text": clip(&format!("*{label}*\n{}", slack_escape(value)), slack_limits::FIELD) })
}

fn slack_setup(s: &SetupView) -> Vec<Value> {
    let head = format!(
        "*#{} {}* {} · VRP *{}* ({})\nreports {} · reacts {} · expiration {}",
        s.rank,
        slack_escape(&s.ticker),
        s.timing,
        s.vrp,
        s.tier,
        s.report_date,
        s.reaction_session,
        s.expiration
    );
    let mut fields = vec![
        field("Implied move", &s.implied_move),
        field(&format!("Hist. mean ({})", s.n_events), &s.historical_mean),
        field("Spot / straddle", &format!("{} / {}", s.spot, s.straddle)),
        field("Edge / consistency", &format!("{} / {}", s.edge_score, s.consistency)),
        field("Spread / open interest", &format!("{} / {}", s.spread, s.open_interest)),
        field("Past gap moves", if s.past_moves.is_empty() { "-" } else { &s.past_moves }),
    ];
    fields.truncate(slack_limits::FIELDS);
    let mut blocks = vec![json!({ "type": "section", "text": mrkdwn(&head), "fields": fields })];
    let mut details = vec![format!("*{}*", slack_escape(&s.score))];
    details.extend(s.details.iter().map(|d| format!("_{}_: {}", d.label, slack_escape(&d.line))));
    blocks.push(json!({ "type": "section", "text": mrkdwn(&details.join("\n")) }));
    let mut notes = vec![format!("chain {} old", s.data_age)];
    notes.extend(s.warnings.iter().map(|w| format!(":warning: {}", slack_escape(w))));
    blocks.push(json!({ "type": "context", "elements": [mrkdwn(&notes.join("  ·  "))] }));
    blocks
}

/// A titled list as mrkdwn sections of at most [`slack_limits::TEXT`]
/// characters each, at most `max_blocks` of them; what does not fit is counted
/// in a last line.
fn brief_sections(title: &str, items: &[BriefView], max_blocks: usize) -> Vec<Value> {
    let lines: Vec<String> = items
        .iter()
        .map(|b| {
            clip(
                &format!("• *{}* {}: {}", slack_escape(&b.ticker), b.timing, slack_escape(&b.why)),
                LIST_LINE,
            )
        })
        .collect();
    let mut chunks: Vec<String> = vec![format!("*{title}* ({})", items.len())];
    let mut shown = 0;
    for line in &lines {
        #[expect(clippy::expect_used, reason = "chunks starts with the title and only grows")]
        let last = chunks.last_mut().expect("one chunk at least");
        if last.chars().count() + 1 + line.chars().count() + MORE_LINE <= slack_limits::TEXT {
            last.push('\n');
            last.push_str(line);
        } else if chunks.len() < max_blocks {
            chunks.push(line.clone());
        } else {
            break;
        }
        shown += 1;
    }
    if shown < lines.len() {
        #[expect(clippy::expect_used, reason = "chunks starts with the title and only grows")]
        let last = chunks.last_mut().expect("one chunk at least");
        let _ = write!(last, "\n…and {} more (see the email or `ivcd scan`)", lines.len() - shown);
    }
    chunks.into_iter().map(|text| json!({ "type": "section", "text": mrkdwn(&text) })).collect()
}

/// The Slack Block Kit message: a header, a section per setup with its
/// fields and a context line (chain age, warnings), the cut and skipped
/// tickers, and a closing context line with totals and data age. Never more
/// than [`slack_limits::BLOCKS`] blocks; texts are clipped to Slack's limits.
fn slack(v: &ReportView) -> Value {
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": clip(&v.subject, slack_limits::HEADER) } }),
        json!({ "type": "context", "elements": [mrkdwn(&format!("{} · {}", v.sessions, v.scanned))] }),
    ];
    // The setups come first; the lists get what blocks are left, at least one each.
    let setup_blocks = v.setups.len().min(SLACK_MAX_SETUPS) * 3 + 1;
    let spare = slack_limits::BLOCKS.saturating_sub(blocks.len() + setup_blocks + 1);
    let mut tail = Vec::new();
    if !v.below_cut.is_empty() {
        tail.extend(brief_sections("Below the cut", &v.below_cut, (spare / 2).max(1)));
    }
    if !v.skipped.is_empty() {
        tail.extend(brief_sections("Skipped", &v.skipped, spare.saturating_sub(tail.len()).max(1)));
    }
    let mut closing = v.totals.clone();
    if let Some(age) = &v.data_age {
        let _ = write!(closing, " · {age}");
    }
    // Room for the setups: 3 blocks each (section, context, divider), one for a "more" note.
    let room = slack_limits::BLOCKS.saturating_sub(blocks.len() + tail.len() + 2);
    let shown = v.setups.len().min(room / 3).min(SLACK_MAX_SETUPS);
    if v.setups.is_empty() {
        blocks.push(json!({ "type": "section", "text": mrkdwn("No setup made the cut.") }));
    }
    for s in &v.setups[..shown] {
        blocks.extend(slack_setup(s));
        blocks.push(json!({ "type": "divider" }));
    }
    if shown < v.setups.len() {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&format!("…and {} more setups (see the email or `ivcd scan`)", v.setups.len() - shown)) }));
    }
    blocks.extend(tail);
    blocks.push(
        json!({ "type": "context", "elements": [mrkdwn(&closing), mrkdwn(&slack_escape(&v.calibration))] }),
    );
    json!({ "text": v.subject, "blocks": blocks })
}

/// The Discord message: the subject as content, an embed per setup (at most
/// nine) and one for the rest, within Discord's limits.
fn discord(v: &ReportView) -> Value {
    let inline = |name: &str, value: &str| json!({ "name": name, "value": clip(value, discord_limits::FIELD_VALUE), "inline": true });
    let mut embeds = Vec::new();
    let mut total = 0;
    for s in v.setups.iter().take(discord_limits::EMBEDS - 1) {
        let title = clip(
            &format!("#{} {} {} · VRP {} ({})", s.rank, s.ticker, s.timing, s.vrp, s.tier),
            discord_limits::TITLE,
        );
        let mut description = format!(
            "reports {} · reacts {} · expiration {}\npast gap moves: {}\nchain {} old",
            s.report_date, s.reaction_session, s.expiration, s.past_moves, s.data_age
        );
        for w in &s.warnings {
            let _ = write!(description, "\n⚠ {w}");
        }
        // Last, so a clip to Discord's limit cuts details before warnings.
        let _ = write!(description, "\n**{}**", s.score);
        for d in &s.details {
            let _ = write!(description, "\n{}: {}", d.label, d.line);
        }
        let description = clip(&description, discord_limits::DESCRIPTION);
        let fields = vec![
            inline("Implied move", &s.implied_move),
            inline(&format!("Hist. mean ({})", s.n_events), &s.historical_mean),
            inline("Spot / straddle", &format!("{} / {}", s.spot, s.straddle)),
            inline("Edge / consistency", &format!("{} / {}", s.edge_score, s.consistency)),
            inline("Spread / OI", &format!("{} / {}", s.spread, s.open_interest)),
        ];
        let size = title.chars().count()
            + description.chars().count()
            + fields.iter().map(|f| f.to_string().len()).sum::<usize>();
        if total + size > discord_limits::TOTAL - DISCORD_SUMMARY {
            break;
        }
        total += size;
        embeds.push(
            json!({ "title": title, "description": description, "color": 0x25_63eb, "fields": fields }),
        );
    }
    let mut rest = String::new();
    if embeds.len() < v.setups.len() {
        let _ = writeln!(
            rest,
            "…and {} more setups (see the email or `ivcd scan`)",
            v.setups.len() - embeds.len()
        );
    }
    for (title, items) in [("Below the cut", &v.below_cut), ("Skipped", &v.skipped)] {
        if !items.is_empty() {
            let _ = writeln!(rest, "**{title}**");
            for b in items {
                let _ = writeln!(rest, "{} {}: {}", b.ticker, b.timing, b.why);
            }
        }
    }
    let _ = write!(rest, "{}", v.totals);
    if let Some(age) = &v.data_age {
        let _ = write!(rest, "\n{age}");
    }

    // The summary embed's title ("Summary") is counted in the total too.
    let budget =
        discord_limits::TOTAL.saturating_sub(total + "Summary".len()).min(discord_limits::DESCRIPTION);
    // The tier records' source and its credit are never clipped away: the
    // lists before them are.
    let credit = clip(&v.calibration, budget);
    let room = budget.saturating_sub(credit.chars().count() + 1);
    let summary = if room == 0 { credit } else { format!("{}\n{credit}", clip(&rest, room)) };
    embeds.push(json!({ "title": "Summary", "description": summary, "color": 0x6b_7280 }));
    json!({
        "content": clip(&format!("**{}**\n{} · {}", v.subject, v.sessions, v.scanned), discord_limits::CONTENT),
        "embeds": embeds,
        "allowed_mentions": { "parse": [] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ééééé", 4).chars().count(), 4);
    }

    /// Slack's limits hold however long the lists get (names and reasons
    /// here are placeholders for the layout, not market data).
    #[test]
    fn long_lists_stay_within_slacks_limits() {
        let items: Vec<BriefView> = (0..400)
            .map(|i| BriefView { ticker: format!("T{i:03}"), timing: "BMO", why: "x".repeat(80) })
            .collect();
        for max in [1, 3, 46] {
            let sections = brief_sections("Skipped", &items, max);
            assert!(sections.len() <= max, "{} sections for {max}", sections.len());
            let texts: Vec<&str> = sections.iter().map(|s| s["text"]["text"].as_str().unwrap()).collect();
            assert!(texts.iter().all(|t| t.chars().count() <= slack_limits::TEXT));
            let listed = texts.iter().map(|t| t.matches("• ").count()).sum::<usize>();
            let more = texts.last().unwrap().rsplit("…and ").next().unwrap();
            let counted: usize = more.split(' ').next().unwrap().parse().unwrap_or(0);
            assert_eq!(listed + counted, items.len(), "every item is listed or counted");
        }
        let view = ReportView {
            subject: "s".repeat(400),
            sessions: String::new(),
            scanned: String::new(),
            setups: Vec::new(),
            below_cut: items.clone(),
            skipped: items,
            totals: String::new(),
            data_age: None,
            calibration: String::new(),
        };
        let message = slack(&view);
        let blocks = message["blocks"].as_array().unwrap();
        assert!(blocks.len() <= slack_limits::BLOCKS, "{} blocks", blocks.len());
        assert_eq!(blocks[0]["text"]["text"].as_str().unwrap().chars().count(), slack_limits::HEADER);
    }

    #[test]
    fn slack_escapes_its_control_characters() {
        assert_eq!(slack_escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
