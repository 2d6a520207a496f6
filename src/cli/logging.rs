//! Logging: tracing to stdout (the daemon: journald) or stderr, through the
//! redactor, and to daily files with `[log] directory`.

use anyhow::{Context, Result};

/// Sets up logging: `level` is a tracing filter (`RUST_LOG` wins). The
/// daemon logs to stdout (journald reads it); other commands to stderr, so
/// `--json` output stays clean. With `[log] directory`, also to daily files
/// (rotated at midnight UTC, `retention_days` kept); the returned guard
/// flushes them and must live until exit.
pub(super) fn init_tracing(
    level: &str,
    to_stdout: bool,
    log: Option<&crate::config::LogConfig>,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            let mut filter = tracing_subscriber::EnvFilter::new(level);
            // Libraries at WARN unless the configured filter names them:
            // tokio-cron-scheduler logs every one-shot job it creates at INFO,
            // refinery each migration it applies (and that it applies none);
            // ivcd's own log says what the migrations did.
            for library in ["tokio_cron_scheduler", "refinery_core"] {
                if !level.contains(library)
                    && let Ok(quiet) = format!("{library}=warn").parse()
                {
                    filter = filter.add_directive(quiet);
                }
            }
            filter
        })
    };
    use std::io::IsTerminal;
    // Colours only on a terminal: journald and files get plain text.
    // Every log line passes the redactor (crate::redact), whatever it quotes.
    use crate::redact::Redacting;
    let console = if to_stdout {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stdout().is_terminal())
            .with_writer(Redacting(std::io::stdout))
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(Redacting(std::io::stderr))
            .boxed()
    };
    let mut guard = None;
    let files = match log.and_then(|l| l.directory.as_ref().map(|d| (d, l.retention_days))) {
        Some((dir, keep)) => {
            // tracing-appender complains on first start when the directory is missing.
            std::fs::create_dir_all(dir)
                .with_context(|| format!("log.directory {}: cannot create it", dir.display()))?;
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("ivcd")
                .filename_suffix("log")
                .max_log_files(keep as usize)
                .build(dir)
                .with_context(|| format!("log.directory {}: cannot open a log file there", dir.display()))?;
            let (writer, g) = tracing_appender::non_blocking(appender);
            guard = Some(g);
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(Redacting(writer))
                    .with_filter(filter()),
            )
        }
        None => None,
    };
    let _ = tracing_subscriber::registry().with(console.with_filter(filter())).with(files).try_init();
    Ok(guard)
}
