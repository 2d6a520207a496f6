//! Prometheus metrics: the status report, plus what the database knows about
//! the jobs, in the Prometheus text exposition format (version 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>), encoded
//! by the `prometheus` crate.
//!
//! Two ways out, same text: `ivcd status --prometheus` prints it, and with
//! `[metrics] textfile` the daemon writes it for node_exporter's textfile
//! collector every `interval_seconds` and after each job. The names, labels
//! and alert rules are documented in docs/operations.md#metrics.
//!
//! Counters (`*_total`) count since the daemon started: a restart resets
//! them, which Prometheus's `rate()` and `increase()` handle. Timestamps are
//! Unix seconds (UTC). Without a running daemon only the database's gauges
//! are given, with `ivcd_up 0`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use prometheus::{Encoder, GaugeVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::status::StatusReport;
use crate::store::{DeliveryState, JobTotal, Outcome, Store, StoreError};
use crate::timetable::Job;

/// What the metrics read from the database beyond the status report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreFacts {
    /// Finished runs since the daemon started, per job and outcome (empty when it is down).
    pub job_totals: Vec<JobTotal>,
    /// Per job, when its last `ok` run finished (UTC).
    pub last_ok: BTreeMap<String, DateTime<Utc>>,
    /// The database's schema version.
    pub schema_version: Option<u32>,
    /// The database file's size, bytes.
    pub bytes: u64,
}

/// Reads the [`StoreFacts`]; `daemon_started` is the running daemon's start
/// (UTC), from which the job counters count, or `None` when it is down.
///
/// # Errors
/// [`StoreError`] when the database cannot be read.
pub async fn store_facts(
    store: &Store,
    daemon_started: Option<DateTime<Utc>>,
) -> Result<StoreFacts, StoreError> {
    let bytes = std::fs::metadata(store.path()).map(|m| m.len()).unwrap_or(0);
    store
        .run(move |db| {
            let job_totals = match daemon_started {
                Some(since) => db.job_totals(since)?,
                None => Vec::new(),
            };
            let mut last_ok = BTreeMap::new();
            for job in Job::ALL {
                if let Some(at) = db.last_ok_run(job.name())? {
                    last_ok.insert(job.name().to_owned(), at);
                }
            }
            Ok(StoreFacts { job_totals, last_ok, schema_version: db.schema_version()?, bytes })
        })
        .await
}

/// A registry that builds one metric family per call.
struct Families {
    registry: Registry,
}

#[expect(
    clippy::expect_used,
    reason = "the names and labels are constants, each registered once: a mistake fails every metrics test"
)]
impl Families {
    fn register<M: prometheus::core::Collector + Clone + 'static>(&self, family: M) -> M {
        self.registry.register(Box::new(family.clone())).expect("each family registered once");
        family
    }

    fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        self.register(GaugeVec::new(Opts::new(name, help), labels).expect("a valid metric name"))
    }

    fn counter(&self, name: &str, help: &str, labels: &[&str]) -> prometheus::CounterVec {
        self.register(
            prometheus::CounterVec::new(Opts::new(name, help), labels).expect("a valid metric name"),
        )
    }

    fn int_gauge(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        self.register(IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid metric name"))
    }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The metrics of `report` and `facts` (`None` when the database could not
/// be read) in the Prometheus text format.
pub fn render(report: &StatusReport, facts: Option<&StoreFacts>) -> String {
    let f = Families { registry: Registry::new() };

    f.int_gauge(
        "ivcd_build_info",
        "The running ivcd's version and git commit (always 1).",
        &["version", "commit"],
    )
    .with_label_values(&[env!("CARGO_PKG_VERSION"), crate::GIT_COMMIT])
    .set(1);
    let up = f.int_gauge("ivcd_up", "1 when the daemon is running, 0 when it is not.", &[]);
    up.with_label_values::<&str>(&[]).set(i64::from(report.daemon.is_some()));
    if let Some(daemon) = &report.daemon {
        f.gauge("ivcd_daemon_start_time_seconds", "When the daemon started, Unix seconds.", &[])
            .with_label_values::<&str>(&[])
            .set(seconds(daemon.started_at));
        f.int_gauge(
            "ivcd_daemon_store_trouble",
            "1 while the database refuses the daemon's jobs (locked, full, read-only), else 0.",
            &[],
        )
        .with_label_values::<&str>(&[])
        .set(i64::from(daemon.store_trouble.is_some()));
    }

    let problems = f.int_gauge("ivcd_problems", "Open problems `ivcd status` lists, by kind.", &["kind"]);
    let mut by_kind: BTreeMap<&str, i64> = BTreeMap::new();
    for p in &report.problems {
        *by_kind.entry(p.kind.as_str()).or_default() += 1;
    }
    for (kind, n) in by_kind {
        problems.with_label_values(&[kind]).set(n);
    }
    f.int_gauge("ivcd_problems_open", "Open problems `ivcd status` lists, all kinds.", &[])
        .with_label_values::<&str>(&[])
        .set(report.problems.len() as i64);

    jobs(&f, report, facts);
    providers(&f, report);
    outbox(&f, report);

    if let Some(counts) = &report.store.counts {
        f.int_gauge(
            "ivcd_upcoming_earnings_events",
            "Earnings reports stored for the next sessions (the status report's window).",
            &[],
        )
        .with_label_values::<&str>(&[])
        .set(counts.upcoming_events as i64);
        if let Some(scan) = &counts.last_scan {
            f.int_gauge("ivcd_last_scan_candidates", "The latest scan's candidates, by tier.", &["tier"])
                .with_label_values(&["all"])
                .set(scan.candidates as i64);
            let tiers = f.int_gauge(
                "ivcd_last_scan_ranked",
                "The latest scan's ranked candidates by tier (`unanalysed`: without figures).",
                &["tier"],
            );
            for (tier, n) in &scan.by_tier {
                tiers.with_label_values(&[tier.as_str()]).set(*n as i64);
            }
            f.gauge(
                "ivcd_last_scan_slot_timestamp_seconds",
                "The latest stored scan's slot, Unix seconds.",
                &[],
            )
            .with_label_values::<&str>(&[])
            .set(seconds(scan.slot));
            if let Some(requests) = scan.requests {
                f.int_gauge("ivcd_last_scan_requests", "Provider requests the latest scan sent.", &[])
                    .with_label_values::<&str>(&[])
                    .set(requests as i64);
            }
        }
    }
    if let Some(facts) = facts {
        f.int_gauge("ivcd_database_size_bytes", "The database file's size (without its WAL), bytes.", &[])
            .with_label_values::<&str>(&[])
            .set(facts.bytes as i64);
        if let Some(v) = facts.schema_version {
            f.int_gauge(
                "ivcd_database_schema_version",
                "The database's schema version (last migration).",
                &[],
            )
            .with_label_values::<&str>(&[])
            .set(i64::from(v));
        }
    }

    let mut out = Vec::new();
    #[expect(clippy::expect_used, reason = "writing to a Vec does not fail")]
    TextEncoder::new().encode(&f.registry.gather(), &mut out).expect("writing to memory does not fail");
    #[expect(clippy::expect_used, reason = "the text format is UTF-8")]
    String::from_utf8(out).expect("the text format is UTF-8")
}

fn jobs(f: &Families, report: &StatusReport, facts: Option<&StoreFacts>) {
    let next =
        f.gauge("ivcd_job_next_run_timestamp_seconds", "The job's next slot, Unix seconds.", &["ivcd_job"]);
    let running = f.int_gauge("ivcd_job_running", "1 while a run of the job is in progress.", &["ivcd_job"]);
    let last_at = f.gauge(
        "ivcd_job_last_run_timestamp_seconds",
        "When the job's last run ended, Unix seconds.",
        &["ivcd_job"],
    );
    let last_duration = f.gauge(
        "ivcd_job_last_run_duration_seconds",
        "How long the job's last run took, seconds.",
        &["ivcd_job"],
    );
    let last_outcome = f.int_gauge(
        "ivcd_job_last_outcome",
        "1 for the outcome of the job's last run (ok, failed, interrupted, skipped), 0 for the others.",
        &["ivcd_job", "outcome"],
    );
    for j in &report.jobs {
        let job = j.job.name();
        if let Some(at) = j.next_run {
            next.with_label_values(&[job]).set(seconds(at));
        }
        if report.daemon.is_some() {
            running.with_label_values(&[job]).set(i64::from(j.running.is_some()));
        }
        if let Some(run) = &j.last_run {
            if let Some(finished) = run.finished_at {
                last_at.with_label_values(&[job]).set(seconds(finished));
            }
            if let Some(d) = run.duration_seconds() {
                last_duration.with_label_values(&[job]).set(d);
            }
            for outcome in [Outcome::Ok, Outcome::Failed, Outcome::Interrupted, Outcome::Skipped] {
                last_outcome.with_label_values(&[job, outcome.code()]).set(i64::from(run.outcome == outcome));
            }
        }
    }
    let Some(facts) = facts else { return };
    let last_ok = f.gauge(
        "ivcd_job_last_success_timestamp_seconds",
        "When the job's last ok run ended, Unix seconds.",
        &["ivcd_job"],
    );
    for (job, at) in &facts.last_ok {
        last_ok.with_label_values(&[job.as_str()]).set(seconds(*at));
    }
    if let Some(at) = facts.last_ok.get(Job::Scan.name()) {
        f.gauge(
            "ivcd_last_successful_scan_timestamp_seconds",
            "When the last scan that ended ok finished, Unix seconds.",
            &[],
        )
        .with_label_values::<&str>(&[])
        .set(seconds(*at));
    }
    if report.daemon.is_none() {
        return;
    }
    let runs = f.counter(
        "ivcd_job_runs_total",
        "Finished job runs since the daemon started, by job and outcome.",
        &["ivcd_job", "outcome"],
    );
    let spent = f.counter(
        "ivcd_job_run_seconds_total",
        "Seconds spent in job runs since the daemon started.",
        &["ivcd_job"],
    );
    for job in Job::ALL {
        // Every job and outcome is present from the start, so `increase()` sees the first run.
        for outcome in [Outcome::Ok, Outcome::Failed, Outcome::Interrupted, Outcome::Skipped] {
            runs.with_label_values(&[job.name(), outcome.code()]);
        }
        spent.with_label_values(&[job.name()]);
    }
    for t in &facts.job_totals {
        runs.with_label_values(&[t.job.as_str(), t.outcome.as_str()]).inc_by(t.runs as f64);
        spent.with_label_values(&[t.job.as_str()]).inc_by(t.seconds.max(0.0));
    }
}

fn providers(f: &Families, report: &StatusReport) {
    if report.providers.is_empty() {
        return;
    }
    let requests = f.counter(
        "ivcd_provider_requests_total",
        "HTTP requests sent since the daemon started, by answer: the status code, or timeout/transport.",
        &["provider", "status"],
    );
    let errors = f.counter(
        "ivcd_provider_errors_total",
        "Failed provider tries since the daemon started (at most since the last reload), by kind \
         (timeout, transport, http_status, rate_limited, unauthorized, invalid_body), calls the \
         open breaker refused (circuit_open) and calls ivcd's own long quota refused (quota_used_up).",
        &["provider", "kind"],
    );
    let retries =
        f.counter("ivcd_provider_retries_total", "Retries sent since the daemon started.", &["provider"]);
    let waits = f.counter(
        "ivcd_provider_rate_limit_waits_total",
        "Waits for a rate limit since the daemon started: ivcd's own limiter (limiter=\"ivcd\") or the \
         provider's window (limiter=\"provider\").",
        &["provider", "limiter"],
    );
    let refusals = f.counter(
        "ivcd_provider_rate_limit_refusals_total",
        "Answers refusing a request for the vendor's rate limit (HTTP 429, Alpha Vantage's throttle notice) \
         since the daemon started. The limiter keeps to the vendor's windows: any is a bug, or another \
         client using the same credentials.",
        &["provider"],
    );
    let waited = f.counter(
        "ivcd_provider_rate_limit_wait_seconds_total",
        "Seconds spent waiting for rate limits since the daemon started.",
        &["provider"],
    );
    let open = f.int_gauge(
        "ivcd_provider_circuit_open",
        "1 while the provider's circuit breaker refuses calls, else 0.",
        &["provider"],
    );
    let last_success = f.gauge(
        "ivcd_provider_last_success_timestamp_seconds",
        "When a call to the provider last succeeded, Unix seconds.",
        &["provider"],
    );
    for p in &report.providers {
        let name = p.provider.as_str();
        for (status, n) in &p.requests_by_status {
            requests.with_label_values(&[name, status.as_str()]).inc_by(*n as f64);
        }
        // Every kind is present from the start, so `increase()` sees the first burst.
        for kind in crate::providers::http::ERROR_KINDS {
            errors.with_label_values(&[name, kind]);
        }
        for (kind, n) in &p.errors_by_kind {
            errors.with_label_values(&[name, kind.as_str()]).inc_by(*n as f64);
        }
        retries.with_label_values(&[name]).inc_by(p.retries as f64);
        waits.with_label_values(&[name, "ivcd"]).inc_by(p.limiter_waits as f64);
        waits.with_label_values(&[name, "provider"]).inc_by(p.rate_limit_waits as f64);
        waited.with_label_values(&[name]).inc_by(p.rate_limit_wait_seconds.max(0.0));
        refusals.with_label_values(&[name]).inc_by(p.rate_limit_refusals as f64);
        let is_open = matches!(p.breaker, Some(crate::providers::resilience::BreakerState::Open { .. }));
        open.with_label_values(&[name]).set(i64::from(is_open));
        if let Some(at) = p.last_success {
            last_success.with_label_values(&[name]).set(seconds(at));
        }
    }
}

fn outbox(f: &Families, report: &StatusReport) {
    if report.store.counts.is_none() {
        return; // the database could not be read: no figure rather than a false 0
    }
    let depth = f.int_gauge(
        "ivcd_outbox_depth",
        "Alert deliveries waiting to be sent (pending or sending), by channel; channel=\"all\" sums them.",
        &["channel"],
    );
    let recent = f.int_gauge(
        "ivcd_alert_deliveries",
        "Alert deliveries not yet sent or finished in the last 7 days, by channel and state.",
        &["channel", "state"],
    );
    let mut waiting = 0;
    for d in &report.alerts {
        recent.with_label_values(&[d.channel.as_str(), d.state.code()]).inc();
        if matches!(d.state, DeliveryState::Pending | DeliveryState::Sending) {
            depth.with_label_values(&[d.channel.as_str()]).inc();
            waiting += 1;
        }
    }
    depth.with_label_values(&["all"]).set(waiting);
}

/// Writes `text` to `path` atomically for node_exporter's textfile
/// collector: a temporary file in the same directory, made readable by
/// all (mode 0644: the collector runs as another user), then renamed over
/// `path`, so a reader never sees half a file.
///
/// # Errors
/// I/O errors naming the file (a missing directory, no write permission).
pub fn write_textfile(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let named = |e: std::io::Error| {
        std::io::Error::new(
            e.kind(),
            format!("metrics textfile {}: {e} (check [metrics] textfile)", path.display()),
        )
    };
    let mut file =
        tempfile::Builder::new().prefix(".ivcd-metrics").suffix(".tmp").tempfile_in(dir).map_err(named)?;
    file.write_all(text.as_bytes()).map_err(named)?;
    file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(named)?;
    file.persist(path).map_err(|e| named(e.error))?;
    Ok(())
}
