//! `ivcd notify` (test, preview, pending) and the delivery pass of
//! `--notify`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::EXIT_ALERT_FAILED;
use super::args::MAX_PENDING_DAYS;
use super::out::{note, say, say_part};
use crate::alert::channels::Channel;
use crate::alert::outbox::{AttemptOutcome, Outbox};
use crate::clock::Clock;
use crate::config::Config;
use crate::present;
use crate::store::Store;

/// `ivcd notify` subcommands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message to each configured channel (or one) and report success or the exact failure.
    Test {
        /// Only this channel: email, slack, webhook or discord.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// Print the alert of a stored scan (the latest, or --scan-id) or review (--review) as a
    /// channel would send it.
    Preview {
        /// The scan (table `scans`); default: the latest.
        #[arg(long, value_name = "ID", conflicts_with = "review")]
        scan_id: Option<i64>,
        /// Preview the latest review slot's alert instead of a scan's.
        #[arg(long)]
        review: bool,
        /// text, html (the email's parts), slack, discord or webhook (the JSON bodies).
        #[arg(long, default_value = "text", value_parser = ["text", "html", "slack", "discord", "webhook"])]
        format: String,
        /// List setups down to this tier in the preview, whatever `[alerts] min_tier` says
        /// (e.g. `skip` to see how a setup looks when the replay finds none worth sending).
        #[arg(long, value_name = "TIER", value_parser = ["excellent", "good", "marginal", "skip"])]
        min_tier: Option<String>,
        /// Write every format of the scan's alert and, when one is stored, the latest review's
        /// into this directory (email .html and .txt, Slack, Discord and webhook .json) instead
        /// of printing one; open the .html files in a browser.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["format", "review"])]
        out: Option<std::path::PathBuf>,
    },
    /// List the outbox: deliveries not yet sent, and those finished in the days before its last
    /// activity (a replay's database: the replay's day).
    Pending {
        /// Also list deliveries finished within this many days of the outbox's last activity
        /// (default 7; 0 to 3650).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=MAX_PENDING_DAYS))]
        days: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// What a delivery pass came to: a line per attempt, and how many failed for good.
#[derive(Debug, Default)]
pub(super) struct Delivered {
    pub(super) lines: Vec<String>,
    pub(super) failed: usize,
}

impl Delivered {
    pub(super) fn extend(&mut self, other: Delivered) {
        self.lines.extend(other.lines);
        self.failed += other.failed;
    }

    /// Says each attempt on stderr; `Some(exit 4)` when a delivery failed
    /// for good ([`EXIT_ALERT_FAILED`]).
    pub(super) fn report(&self) -> Option<ExitCode> {
        for line in &self.lines {
            note!("{line}");
        }
        (self.failed > 0).then(|| {
            note!("ivcd: {} alert delivery(ies) failed for good (exit {EXIT_ALERT_FAILED})", self.failed);
            ExitCode::from(EXIT_ALERT_FAILED)
        })
    }
}

/// One delivery pass over the outbox (what is due now, every channel at
/// once); one line per attempt. What is not delivered stays queued.
pub(super) async fn deliver_now(config: &Config, store: Store, clock: Arc<dyn Clock>) -> Result<Delivered> {
    let outbox = Outbox::new(store, &config.alerts, clock).map_err(anyhow::Error::msg)?;
    if outbox.channels().is_empty() {
        return Ok(Delivered {
            lines: vec![
                "alerts: no channel is configured ([alerts.email], [alerts.slack], ...); nothing to send"
                    .into(),
            ],
            failed: 0,
        });
    }
    let attempts = outbox.deliver_due_all().await?;
    let failed = attempts.iter().filter(|a| matches!(a.outcome, AttemptOutcome::Failed { .. })).count();
    let lines = attempts
        .iter()
        .map(|a| match &a.outcome {
            AttemptOutcome::Sent => format!("alert {}: sent ({})", a.channel, a.key),
            AttemptOutcome::Retry { at, error } => format!(
                "alert {}: not sent ({error}); still queued, next attempt at {} ET by the daemon using this database",
                a.channel,
                crate::time::et(*at).format("%Y-%m-%d %H:%M:%S")
            ),
            AttemptOutcome::Failed { error } => format!("alert {}: FAILED: {error}", a.channel),
            AttemptOutcome::Superseded => format!("alert {}: superseded by a re-run of its scan", a.channel),
        })
        .collect();
    Ok(Delivered { lines, failed })
}

/// `ivcd notify test|pending`.
pub(super) async fn notify_command(
    config: &Config,
    clock: Arc<dyn Clock>,
    action: NotifyCommand,
) -> Result<ExitCode> {
    match action {
        NotifyCommand::Test { channel } => {
            let channels = Channel::all(&config.alerts).map_err(anyhow::Error::msg)?;
            let names: Vec<&str> = channels.iter().map(Channel::name).collect();
            if let Some(only) = &channel
                && !names.contains(&only.as_str())
            {
                bail!(
                    "channel {only:?} is not configured (configured: {}); add its [alerts.{only}] table",
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                );
            }
            if channels.is_empty() {
                bail!(
                    "no alert channel is configured: add [alerts.email], [alerts.slack], [alerts.webhook] or [alerts.discord]"
                );
            }
            let host = hostname();
            let now = clock.now();
            let message = crate::alert::render::test_message(&host, now);
            let installation = installation_id(config).await;
            let mut failed = false;
            for c in channels.iter().filter(|c| channel.as_deref().is_none_or(|o| o == c.name())) {
                // Unique per installation and per message, even for two tests in one second.
                let key = format!("{installation}/test/{}/{}", uuid::Uuid::new_v4().simple(), c.name());
                match c.send(&message, &key, now).await {
                    Ok(()) => say!("{}: sent", c.name()),
                    Err(e) => {
                        failed = true;
                        say!("{}: FAILED: {e}", c.name());
                    }
                }
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        NotifyCommand::Preview { scan_id, review, format, min_tier, out } => {
            let store = Store::open_read_only(&config.database)?;
            let mut alerts = config.alerts.clone();
            if let Some(tier) = min_tier.as_deref().and_then(crate::analysis::vrp::Tier::from_code) {
                alerts.min_tier = tier;
            }
            if let Some(dir) = out {
                return preview_files(&store, scan_id, &alerts, &dir).await;
            }
            let m = if review {
                let slot = store
                    .run(|db| db.latest_review_slot())
                    .await?
                    .context("no review is stored yet: run `ivcd review` or `ivcd replay` first")?;
                crate::alert::review::render(&crate::alert::review::load(&store, slot).await?)?
            } else {
                let id = scan_or_latest(&store, scan_id).await?;
                crate::alert::render::scan(&crate::alert::load(&store, id, &alerts).await?)?
            };
            match format.as_str() {
                "html" => say_part!("{}", m.html),
                "slack" => say!("{}", serde_json::to_string_pretty(&m.slack)?),
                "discord" => say!("{}", serde_json::to_string_pretty(&m.discord)?),
                "webhook" => say!("{}", String::from_utf8_lossy(&m.webhook)),
                _ => say_part!("Subject: {}\n\n{}", m.subject, m.text),
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Pending { days, json } => {
            let store = Store::open_read_only(&config.database)?;
            // The window ends at the outbox's last activity, not at the wall
            // clock: a replay's deliveries are stamped with its simulated day.
            let last = store.run(|db| db.outbox_last_activity()).await?.unwrap_or_else(|| clock.now());
            let since = chrono::Duration::try_days(i64::from(days))
                .and_then(|window| last.checked_sub_signed(window))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let rows = store.run(move |db| db.outbox(since)).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                say_part!("{}", present::outbox_table(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `scan_id`, or the latest stored scan's id.
///
/// # Errors
/// When no scan is stored yet (saying what to run), or the store fails.
async fn scan_or_latest(store: &Store, scan_id: Option<i64>) -> Result<i64> {
    match scan_id {
        Some(id) => Ok(id),
        None => store
            .run(|db| db.latest_scan())
            .await?
            .map(|s| s.scan_id)
            .context("no scan is stored yet: run `ivcd scan` or `ivcd replay` first"),
    }
}

/// `ivcd notify preview --out DIR`: every format of the scan's alert (the
/// latest, or `scan_id`) and of the latest review's, as files in `dir`
/// (created), one line per file written.
async fn preview_files(
    store: &Store,
    scan_id: Option<i64>,
    alerts: &crate::config::AlertsConfig,
    dir: &std::path::Path,
) -> Result<ExitCode> {
    let id = scan_or_latest(store, scan_id).await?;
    let mut messages =
        vec![("scan", crate::alert::render::scan(&crate::alert::load(store, id, alerts).await?)?)];
    if let Some(slot) = store.run(|db| db.latest_review_slot()).await? {
        messages
            .push(("review", crate::alert::review::render(&crate::alert::review::load(store, slot).await?)?));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (kind, m) in &messages {
        let files: [(&str, Vec<u8>); 5] = [
            ("email.html", m.html.clone().into_bytes()),
            ("email.txt", format!("Subject: {}\n\n{}", m.subject, m.text).into_bytes()),
            ("slack.json", serde_json::to_vec_pretty(&m.slack)?),
            ("discord.json", serde_json::to_vec_pretty(&m.discord)?),
            ("webhook.json", m.webhook.clone()),
        ];
        for (name, bytes) in files {
            let path = dir.join(format!("{kind}-{name}"));
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            say!("{}", path.display());
        }
    }
    say!(
        "open the .html files in a browser; the .json files are the bodies Slack, Discord and a webhook receive"
    );
    Ok(ExitCode::SUCCESS)
}

/// The installation id of the configured database (read-only), for the
/// test message's idempotency key; a random one when there is no database
/// yet (or it predates schema version 9).
async fn installation_id(config: &Config) -> String {
    let stored = match config.database.exists().then(|| Store::open_read_only(&config.database)) {
        Some(Ok(store)) => store.run(|db| db.installation_id()).await.ok(),
        _ => None,
    };
    stored.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// This machine's name, for the test message.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}
