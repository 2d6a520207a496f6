//! The alert of an earnings date or timing change (issue 23, item 5): a
//! stored upcoming event that a later calendar refresh moved, alerted when
//! a setup was already alerted for it or the move crosses the expiration a
//! scan chose (`jobs::refresh::alert_reason`). Rendered from the stored
//! change (`calendar_changes`) at send time, in every channel's form.

use serde_json::json;

use super::render::{Rendered, clip, discord_limits, slack_escape, slack_limits};
use super::{AlertError, RenderError};
use crate::store::{DateChange, Store};

/// The change id of a date-change alert's report key (`date_change/<id>`).
pub fn change_of(report_key: &str) -> Option<i64> {
    report_key.strip_prefix("date_change/")?.parse().ok()
}

/// Reads the change a date-change alert reports.
///
/// # Errors
/// [`AlertError::Store`] when it cannot be read; [`AlertError::Render`]
/// when the key names no stored change.
pub async fn load(store: &Store, report_key: &str) -> Result<DateChange, AlertError> {
    let id =
        change_of(report_key).ok_or_else(|| AlertError::Render(RenderError::ReportKey(report_key.into())))?;
    store
        .run(move |db| db.date_change(id))
        .await?
        .ok_or_else(|| AlertError::Render(RenderError::ReportKey(report_key.into())))
}

/// The subject and the lines of the message: the move, what it means for
/// the setup, and where the change came from (dates ET).
fn lines(c: &DateChange) -> (String, Vec<String>) {
    let subject = format!(
        "ivcd: {} earnings moved: {} {} -> {} {}",
        c.ticker,
        c.old_report_date,
        crate::present::format::timing(c.old_timing),
        c.new_report_date,
        crate::present::format::timing(c.new_timing)
    );
    let why = match c.alert_reason.as_deref() {
        Some("alerted_setup") => {
            "A setup was already alerted for this event: check the expiration and the position before acting on it."
        }
        Some("crosses_expiration") => {
            "The new date falls after the expiration a scan chose for this event: that expiration no longer holds the report."
        }
        _ => "The calendar changed this event.",
    };
    let lines = vec![
        format!(
            "{}: the calendar ({}) now lists the report on {} ({}), not {} ({}).",
            c.ticker,
            c.source,
            crate::present::format::day(c.new_report_date),
            crate::present::format::timing(c.new_timing),
            crate::present::format::day(c.old_report_date),
            crate::present::format::timing(c.old_timing)
        ),
        why.to_owned(),
        format!("Seen at the refresh of {} ET.", crate::time::et(c.detected_at).format("%a %Y-%m-%d %H:%M")),
    ];
    (subject, lines)
}

/// Escapes text for HTML, as the email templates do (askama's HTML escaper).
fn escape(s: &str) -> String {
    match askama::filters::escape(s, askama::filters::Html) {
        Ok(safe) => safe.to_string(),
        Err(never) => match never {},
    }
}

/// The alert in every channel's form; the webhook's body is the stored
/// change with `kind: "date_change"`.
///
/// # Errors
/// [`AlertError::Render`] when the JSON body cannot be written.
pub fn render(c: &DateChange) -> Result<Rendered, AlertError> {
    let (subject, lines) = lines(c);
    let text = format!("{subject}\n\n{}\n", lines.join("\n"));
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif\"><h2>{}</h2>{}</body></html>",
        escape(&subject),
        lines.iter().map(|l| format!("<p>{}</p>", escape(l))).collect::<String>()
    );
    let mut body = serde_json::to_value(c).map_err(|e| AlertError::Render(RenderError::Json(e)))?;
    if let Some(map) = body.as_object_mut() {
        map.insert("kind".into(), json!("date_change"));
    }
    let webhook = serde_json::to_vec(&body).map_err(|e| AlertError::Render(RenderError::Json(e)))?;
    Ok(Rendered {
        slack: json!({
            "text": subject,
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": clip(&subject, slack_limits::HEADER) } },
                { "type": "section", "text": { "type": "mrkdwn", "text": slack_escape(&lines.join("\n")) } },
            ],
        }),
        discord: json!({
            "content": clip(&format!("**{subject}**\n{}", lines.join("\n")), discord_limits::CONTENT),
            "allowed_mentions": { "parse": [] },
        }),
        webhook,
        text,
        html,
        subject,
    })
}
