//! The scan harness: ivcd's scan job against a local fake Tradier that
//! serves recorded real responses with a set latency, at a set rate limit,
//! for scans of 10, 50, 200 and 500 tickers; plus an idle daemon's memory.
//! Prints a table: wall time, requests, requests per ticker, the achieved
//! request rate against the limit, the lower bound
//! `max((requests - 1) / rate, dependent requests x latency)` and the ratio
//! of wall time to it, peak RSS and CPU time.
//!
//! What it can and cannot measure. No recorded chain exists for hundreds of
//! reporters, and ivcd never takes one ticker's data for another's: the fake
//! answers every request with the recorded PLTR responses of 2024-06-28
//! (quotes, expirations, one chain), unchanged, and ivcd's chain parser
//! refuses the PLTR chain for any other ticker ("... is not the requested
//! ..."). So each bench ticker costs exactly what a real ticker costs up to
//! its first chain (an expirations request, then the event's chain, parsed
//! up to the underlying check), and the term-structure chains a real ticker
//! would fetch next are not requested. The bench tickers (`BENCH1` ...) are
//! labels with one earnings event each, in a temporary database; no figure
//! of any ticker is produced. The CPU cost of parsing and analysing a real
//! chain is measured by `cargo bench --bench analysis`.
//!
//! Run: `cargo bench --bench scan`. Settings (environment):
//! `IVCD_BENCH_SIZES` (default `10,50,200,500`), `IVCD_BENCH_LATENCY_MS`
//! (50), `IVCD_BENCH_RATE` (requests per minute, 600; Tradier's is 120, which
//! makes the 500-ticker scan take 8 minutes), `IVCD_BENCH_CONCURRENCIES`
//! (`scan.concurrency` of the sized runs, default `8`), `IVCD_BENCH_CHAIN_KIB`
//! (pad each chain answer with spaces to this size, default 0: none),
//! `IVCD_DATA_DIR`.
//! docs/performance.md holds the latest table.

// Benches and tests print their figures to the terminal that runs them: a
// closed pipe there is the harness failing, not input ivcd must survive
// (clippy.toml forbids these macros in ivcd itself).
#![allow(clippy::disallowed_macros, reason = "output to the terminal running them")]
// Their durations are literals, and a test's panic is its failure.
#![allow(clippy::disallowed_methods, reason = "literal durations")]
// A test's unwrap, expect or panic is its failure, with the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests: a panic is the failure")]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use ivcd::clock::{Clock, FixedClock};
use ivcd::config::{Config, Secret};
use ivcd::domain::{EarningsEvent, Ticker, Timing};

mod common;

const TRADIER: &str =
    "OpenBB-finance__OpenBB/openbb_platform/providers/tradier/tests/record/http/test_tradier_fetchers";
/// Requests that depend on each other in the scan as the fake answers it: the
/// batched quotes, then per ticker its expirations, then its event's chain.
const DEPENDENT_REQUESTS: f64 = 3.0;
/// The "no rate limit" setting: 60,000 a minute (one a millisecond, the
/// finest the limiter is given here).
const UNLIMITED: u32 = 60_000;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Role `fake`: serves the recorded PLTR responses after `latency`, prints its
/// address, and runs until its standard input closes. With `pad_kib`, the
/// chain's JSON is followed by spaces up to that many KiB: the same recorded
/// answer (JSON ignores the whitespace), as large as a body limit allows, to
/// measure what buffering answers at the limit costs.
fn fake(latency: Duration, pad_kib: usize) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let server = MockServer::builder().start().await;
        for (endpoint, file) in [
            ("/v1/markets/quotes", "quotes_PLTR_2024-06-28.json"),
            ("/v1/markets/options/expirations", "expirations_PLTR_2024-06-28.json"),
            ("/v1/markets/options/chains", "chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"),
        ] {
            let body_path = common::data_dir().join(TRADIER).join(file);
            let mut body = std::fs::read_to_string(&body_path)
                .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", body_path.display()));
            if endpoint.ends_with("chains") && pad_kib * 1024 > body.len() {
                let pad = pad_kib * 1024 - body.len();
                body.push_str(&" ".repeat(pad));
            }
            Mock::given(method("GET"))
                .and(path(endpoint))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_string(body)
                        .insert_header("content-type", "application/json")
                        .set_delay(latency),
                )
                .mount(&server)
                .await;
        }
        println!("{}", server.uri());
        std::io::stdout().flush().expect("stdout");
        tokio::task::spawn_blocking(|| std::io::stdin().lines().for_each(drop)).await.expect("stdin");
    });
}

/// Role `scan`: one scan of `size` bench tickers against the fake at `url`,
/// limited to `rate` requests a minute; prints its figures as one line.
fn scan(url: &str, size: usize, rate: u32, concurrency: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config { database: dir.path().join("bench.db"), ..Config::default() };
    config.tradier.base_url = url.to_owned();
    config.tradier.token = Secret::new("bench-token");
    config.tradier.requests_per_minute = rate;
    config.scan.concurrency = concurrency;
    // Fri 2024-06-28 15:00 ET, the day the PLTR responses were recorded.
    let at: DateTime<Utc> = "2024-06-28T19:00:00Z".parse().expect("instant");
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(at));
    let session = NaiveDate::from_ymd_opt(2024, 6, 28).expect("date");
    // The runtime `ivcd` itself runs on (its thread ceilings included).
    let rt = ivcd::cli::runtime().expect("runtime");
    let ctx = ivcd::cli::live_context(&config, clock).expect("the job context");
    let events: Vec<EarningsEvent> = (1..=size)
        .map(|i| EarningsEvent {
            ticker: Ticker::new(&format!("BENCH{i}")).expect("bench ticker"),
            report_date: session,
            timing: Timing::Amc,
            source: "bench".into(),
        })
        .collect();
    rt.block_on(ctx.store.run(move |db| db.upsert_events(&events, at))).expect("the bench events");
    // The most threads (tasks, to systemd) the process had during the scan.
    let peak_threads = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let scanning = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, scanning) = (peak_threads.clone(), scanning.clone());
        std::thread::spawn(move || {
            while scanning.load(std::sync::atomic::Ordering::Relaxed) {
                let threads = common::status_number("self", "Threads").unwrap_or(0);
                peak.fetch_max(threads, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let (cpu0, start) = (common::cpu_seconds(), Instant::now());
    let report = rt.block_on(ivcd::jobs::scan::scan(&ctx, at, at, None)).expect("the scan");
    let (wall, cpu) = (start.elapsed().as_secs_f64(), common::cpu_seconds() - cpu0);
    scanning.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let requests = report.requests.as_ref().and_then(|r| r.get("tradier").copied()).unwrap_or(0);
    let refused = report
        .candidates
        .iter()
        .filter(|c| c.reason.as_deref().is_some_and(|r| r.contains("is not the requested")))
        .count();
    println!(
        "{} {wall} {cpu} {} {requests} {refused} {}",
        report.candidates.len(),
        common::memory_mib("self", "VmHWM"),
        peak_threads.load(std::sync::atomic::Ordering::Relaxed)
    );
}

fn spawn_role(role: &str, envs: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().expect("this bench"));
    cmd.env("IVCD_BENCH_ROLE", role).stdin(Stdio::piped()).stdout(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("a bench process")
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut line).expect("a line");
    line.trim().to_owned()
}

/// An idle daemon's resident memory: `ivcd run` on an empty database, with
/// no provider configured, after its timetable is armed.
fn idle_daemon_rss() -> (f64, f64, u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let socket = dir.path().join("status.sock");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_ivcd"));
    // The bench's own IVCD_BENCH_* settings are no configuration keys: the
    // daemon would refuse them as unknown.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("IVCD_") {
            daemon.env_remove(key);
        }
    }
    let mut daemon = daemon
        .arg("run")
        .env("IVCD_DATABASE", dir.path().join("idle.db"))
        .env("IVCD_DAEMON__STATUS_SOCKET", &socket)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ivcd run");
    let ready = Instant::now();
    while !socket.exists() && ready.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let it settle past start-up (alarms armed, catch-up planned).
    std::thread::sleep(Duration::from_secs(2));
    let pid = daemon.id().to_string();
    let figures = (
        common::memory_mib(&pid, "VmRSS"),
        common::memory_mib(&pid, "VmHWM"),
        common::status_number(&pid, "Threads").unwrap_or(0),
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    figures
}

fn main() {
    let role = std::env::var("IVCD_BENCH_ROLE").unwrap_or_default();
    let latency_ms: u64 = setting("IVCD_BENCH_LATENCY_MS", 50);
    match role.as_str() {
        "fake" => return fake(Duration::from_millis(latency_ms), setting("IVCD_BENCH_CHAIN_KIB", 0)),
        "scan" => {
            let url = std::env::var("IVCD_BENCH_URL").expect("IVCD_BENCH_URL");
            let (size, rate) = (setting("IVCD_BENCH_SIZE", 10), setting("IVCD_BENCH_RATE", 600));
            return scan(&url, size, rate, setting("IVCD_BENCH_CONCURRENCY", 8));
        }
        _ => {}
    }
    let sizes: Vec<usize> = std::env::var("IVCD_BENCH_SIZES")
        .unwrap_or_else(|_| "10,50,200,500".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rate: u32 = setting("IVCD_BENCH_RATE", 600);
    let pad_kib: usize = setting("IVCD_BENCH_CHAIN_KIB", 0);
    let mut fake = spawn_role(
        "fake",
        &[("IVCD_BENCH_LATENCY_MS", latency_ms.to_string()), ("IVCD_BENCH_CHAIN_KIB", pad_kib.to_string())],
    );
    let url = first_line(&mut fake);
    let padded = if pad_kib > 0 { format!(", chain answers padded to {pad_kib} KiB") } else { String::new() };
    println!("scan harness: fake Tradier at {url}, latency {latency_ms} ms{padded}");
    println!();
    println!(
        "| tickers | rate limit /min | scan.concurrency | wall s | requests | requests/ticker | achieved /min | lower bound s | wall / bound | peak RSS MiB | peak threads | CPU s | CPU ms/ticker |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    // The sizes at the rate limit with the default concurrency, then 100
    // tickers with no rate limit at the default and the highest concurrency.
    let concurrencies: Vec<usize> = std::env::var("IVCD_BENCH_CONCURRENCIES")
        .unwrap_or_else(|_| "8".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut runs: Vec<(usize, u32, usize)> =
        sizes.iter().flat_map(|&n| concurrencies.iter().map(move |&c| (n, rate, c))).collect();
    runs.extend([(100, UNLIMITED, 8), (100, UNLIMITED, 64)]);
    for (size, rate, concurrency) in runs {
        let mut child = spawn_role(
            "scan",
            &[
                ("IVCD_BENCH_URL", url.clone()),
                ("IVCD_BENCH_SIZE", size.to_string()),
                ("IVCD_BENCH_RATE", rate.to_string()),
                ("IVCD_BENCH_CONCURRENCY", concurrency.to_string()),
            ],
        );
        let line = first_line(&mut child);
        let _ = child.wait();
        let f: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let [candidates, wall, cpu, rss, requests, refused, threads] = f[..] else {
            println!("| {size} | scan failed: {line:?} |");
            continue;
        };
        assert_eq!(candidates as usize, size, "every bench ticker is a candidate");
        assert_eq!(refused as usize, size, "every bench ticker stops at the underlying check");
        let latency = latency_ms as f64 / 1000.0;
        let bound = ((requests - 1.0) / (f64::from(rate) / 60.0)).max(DEPENDENT_REQUESTS * latency);
        let shown_rate = if rate == UNLIMITED { "none".to_owned() } else { rate.to_string() };
        println!(
            "| {size} | {shown_rate} | {concurrency} | {wall:.2} | {requests} | {:.2} | {:.0} | {bound:.2} | {:.3} | {rss:.1} | {threads} | {cpu:.2} | {:.2} |",
            requests / size as f64,
            requests / wall * 60.0,
            wall / bound,
            cpu / size as f64 * 1000.0,
        );
    }
    drop(fake.stdin.take());
    let _ = fake.wait();
    let (rss, peak, threads) = idle_daemon_rss();
    println!();
    println!(
        "idle daemon (`ivcd run`, empty database, no provider): RSS {rss:.1} MiB, peak {peak:.1} MiB, {threads} threads"
    );
}
