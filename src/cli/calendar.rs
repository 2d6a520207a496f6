//! `ivcd calendar`.

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
