//! `ivcd run` (the daemon) and `ivcd status`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::out::{say, say_part};
use crate::calendar::NyseCalendar;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::Store;

/// `ivcd run`: the daemon, fed by signal-hook, until SIGTERM or SIGINT.
pub(super) async fn run_daemon(
    config_file: Option<PathBuf>,
    config: Config,
    clock: Arc<dyn Clock>,
    compose: Box<crate::daemon::Compose>,
) -> Result<ExitCode> {
    config.prepare_default_database_dir().with_context(|| {
        format!("cannot create the directory of the database {}", config.database.display())
    })?;
    config.daemon.prepare_default_socket_dir().with_context(|| {
        format!("cannot create the directory of the status socket {}", config.daemon.status_socket.display())
    })?;
    // Never start on a damaged file: every job would write into it. A new
    // database (no file yet) is created by the daemon.
    if config.database.exists() {
        let store = Store::open_read_only(&config.database)?;
        tokio::task::spawn_blocking(move || store.quick_check()).await??;
    }
    let (controls, receiver) = tokio::sync::mpsc::unbounded_channel();
    crate::daemon::signals::forward_signals(controls).context("cannot install the signal handlers")?;
    let reload_file = config_file.clone();
    let options = crate::daemon::Options {
        config,
        config_file: config_file
            .clone()
            .or_else(|| Some(PathBuf::from(crate::config::SYSTEM_CONFIG)).filter(|p| p.exists())),
        reload: Box::new(move || Config::load(reload_file.as_deref())),
        compose,
        clock,
        alarms: crate::daemon::alarms::AlarmKind::Cron,
        systemd: crate::daemon::notify::Systemd::from_env(),
    };
    crate::daemon::run(options, receiver).await?;
    Ok(ExitCode::SUCCESS)
}

/// `ivcd status`: the daemon's snapshot from its socket, or, when no daemon
/// answers, what the database knows (read-only), with exit code 3.
pub(super) async fn show_status(config: &Config, json: bool, prometheus: bool) -> Result<ExitCode> {
    let clock = SystemClock;
    let report = match crate::status::fetch(&config.daemon.status_socket).await? {
        Some(report) => report,
        None => {
            let (store, error) = if config.database.exists() {
                match Store::open_read_only(&config.database) {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            } else {
                (
                    None,
                    Some(
                        crate::store::StoreError::Missing { path: config.database.display().to_string() }
                            .to_string(),
                    ),
                )
            };
            let calendar = match &store {
                Some(s) => crate::daemon::calendar_from_store(s).await.unwrap_or_default(),
                None => NyseCalendar::new(),
            };
            let timetable = crate::timetable::Timetable::new(config.timetable.clone(), calendar);
            crate::status::build(store.as_ref(), &config.database, error, &timetable, clock.now(), None).await
        }
    };
    if prometheus {
        let facts = match Store::open_read_only(&config.database) {
            Ok(store) => {
                let started = report.daemon.as_ref().map(|d| d.started_at);
                crate::metrics::store_facts(&store, started).await.ok()
            }
            Err(_) => None,
        };
        say_part!("{}", crate::metrics::render(&report, facts.as_ref()));
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_part!("{}", crate::status::render_text(&report));
    }
    Ok(ExitCode::from(report.state.exit_code()))
}
