//! `ivcd calendar`: the NYSE sessions, or (`--changes`) the earnings
//! date and timing changes between calendar refreshes.

use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::NaiveDate;

use super::compose::stored_calendar;
use super::out::{note, say};
use crate::config::Config;

/// `ivcd calendar FROM TO`: the NYSE sessions with their open and close in
/// ET (the stored exchange overrides applied).
pub(super) async fn calendar(
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
    json: bool,
) -> Result<ExitCode> {
    if from > to {
        bail!("FROM {from} is after TO {to}");
    }
    let calendar = stored_calendar(config).await;
    if !calendar.overrides().is_empty() {
        note!(
            "ivcd: {} day(s) follow the exchange's own calendar (stored by the daemon from Tradier), not the rules",
            calendar.overrides().len()
        );
    }
    let sessions = calendar.sessions_between(from, to);
    if json {
        say!("{}", serde_json::to_string_pretty(&sessions)?);
    } else {
        for s in &sessions {
            let early = if s.early_close { "  early close" } else { "" };
            say!("{}  {}  {}{early}", s.date, s.open.format("%H:%M %Z"), s.close.format("%H:%M %Z"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The schema version that added `calendar_changes` (migrations/V13).
const CHANGES_SCHEMA: u32 = 13;

/// `ivcd calendar --changes`: the stored date and timing changes of
/// upcoming events (table `calendar_changes`), oldest first, with whether
/// each was alerted and why.
pub(super) async fn changes(config: &Config, json: bool) -> Result<ExitCode> {
    let store = crate::store::Store::open_read_only(&config.database)?;
    // Read-only: an older database is not migrated here, so say what to do
    // instead of SQLite's "no such table".
    let version = store.run(|db| db.schema_version()).await?.unwrap_or(0);
    if version < CHANGES_SCHEMA {
        bail!(
            "database {} is at schema version {version}; the date changes are kept from version \
             {CHANGES_SCHEMA} on. The daemon migrates it at its next start (after a backup), as does any \
             command that writes (e.g. `ivcd refresh-calendar`); `ivcd db check` shows the versions",
            config.database.display()
        );
    }
    let changes = store.run(|db| db.date_changes()).await?;
    if json {
        say!("{}", serde_json::to_string_pretty(&changes)?);
        return Ok(ExitCode::SUCCESS);
    }
    if changes.is_empty() {
        say!(
            "No earnings date or timing change stored (each calendar refresh compares its listing with the stored one)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t =
        crate::present::format::table(&["detected (ET)", "ticker", "was", "now", "source", "alerted"]);
    for c in &changes {
        let timing = crate::present::format::timing;
        t.add_row(vec![
            crate::time::et(c.detected_at).format("%Y-%m-%d %H:%M").to_string(),
            c.ticker.to_string(),
            format!("{} {}", c.old_report_date, timing(c.old_timing)),
            format!("{} {}", c.new_report_date, timing(c.new_timing)),
            c.source.clone(),
            c.alert_reason.clone().unwrap_or_else(|| "no".to_owned()),
        ]);
    }
    say!("{t}");
    Ok(ExitCode::SUCCESS)
}
