//! `ivcd replay`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::notify::{Delivered, deliver_now};
use super::out::{say, say_part};
use crate::config::Config;
use crate::present;
use crate::store::Store;

/// Deletes a replay database and its WAL files so a replay starts clean.
pub(super) fn remove_database(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
        }
    }
    Ok(())
}

/// `ivcd replay SCENARIO`: the scenario's jobs on a simulated clock into a
/// fresh database, printed; with `--notify`, each report delivered at its
/// step's instant.
pub(super) async fn replay(
    config: &Config,
    scenario: PathBuf,
    db: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    json: bool,
    notify: bool,
) -> Result<ExitCode> {
    let scenario_file = scenario;
    let scenario = crate::replay::Scenario::load(&scenario_file)?;
    let data_dir = data_dir.unwrap_or_else(|| config.data_dir.clone());
    let db = db.unwrap_or_else(|| PathBuf::from(format!("replay-{}.db", scenario.name)));
    // The replay replaces its database: never one another ivcd process uses.
    let _lock = crate::store::DatabaseLock::acquire(&db, "ivcd replay")?;
    remove_database(&db)?;
    let outcome = crate::replay::run(&scenario, &data_dir, &db, config, notify).await?;
    let delivered = if notify {
        // The replay's reports are stamped with its simulated time: deliver each on that
        // clock, at the instant of the step that queued it (as the daemon would), so its
        // age is measured as if the day were live.
        let mut instants: Vec<_> =
            outcome.scans.iter().map(|s| s.as_of).chain(outcome.reviews.iter().map(|r| r.slot)).collect();
        instants.sort_unstable();
        instants.dedup();
        let store = Store::open(&db)?;
        let mut pass = Delivered::default();
        for at in instants {
            let clock = Arc::new(crate::clock::FixedClock::new(at));
            pass.extend(deliver_now(config, store.clone(), clock).await?);
            if config.alerts.channel_names().is_empty() {
                break; // the one pass said so
            }
        }
        Some(pass)
    } else {
        None
    };
    if json {
        say!("{}", serde_json::to_string_pretty(&outcome.scans)?);
    } else {
        say!("Replay {}: {}", scenario.name, scenario.description.trim());
        for line in &outcome.log {
            say!("  {line}");
        }
        for report in &outcome.scans {
            say!();
            say_part!("{}", present::scan_table(report));
        }
        for run in &outcome.reviews {
            say!();
            say_part!("{}", present::review_table(run));
        }
        say!(
            "\nDatabase: {} (try: sqlite3 {} 'SELECT * FROM latest_scan_ranked')",
            db.display(),
            db.display()
        );
    }
    if let Some(failed) = delivered.and_then(|pass| pass.report()) {
        return Ok(failed);
    }
    Ok(ExitCode::SUCCESS)
}
