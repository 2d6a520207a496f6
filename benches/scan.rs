//! The scan harness: ivcd's scan job, through the production composition,
//! against a local fake Tradier that enforces Tradier's rate limit as a fixed
//! window and answers every request after a set latency. Each row is one scan
//! in a child process (a fresh temporary database, deleted afterwards); the
//! harness prints one table row per scan: wall time against its bound,
//! requests, the fake's 429s, CPU and memory. Plus an idle daemon's memory.
//!
//! SYNTHETIC LOAD. No recorded chain exists for hundreds of reporters, and
//! ivcd never takes one ticker's data for another's: its chain parser
//! refuses the recorded PLTR chain for any other ticker. For this load
//! benchmark only, the fake rewrites the recorded PLTR answers of 2024-06-28
//! (OpenBB's Tradier fixtures) to the bench ticker asked for: the quote's
//! symbol, and in the chain every contract's `underlying`, `root_symbol`,
//! OCC `symbol` and `expiration_date` (the recorded contracts of 2026-06-18,
//! relabelled to the expiration asked for), so each bench ticker (`BENCH1`,
//! `BENCH2`, ...) costs what a real one costs: quotes, expirations, the
//! event's chain and the two term-structure chains, all parsed, the full
//! analysis, the structures, one transaction storing everything. The figures
//! this computes are meaningless (a two-year chain relabelled as a weekly)
//! and are never printed: the harness reports times, requests, CPU and
//! memory only, and how many tickers got through the full analysis. The
//! bench tickers have no stored history or bars, so VRP and the history's
//! parts are computed on nothing (`cargo bench --bench analysis` measures
//! those on real data).
//!
//! The fake's rate limit is Tradier's rule: a fixed window (60 s, or
//! `IVCD_BENCH_WINDOW_SECONDS`) opened by the first request after the last
//! one ended, the first R requests of a window served, every other answered
//! `429`; every answer carries `X-Ratelimit-Allowed/Used/Available/Expiry`
//! (epoch milliseconds) and a `Date`. The scan's client is configured with
//! the same R and window.
//!
//! Run: `cargo bench --bench scan`. Rows are the product of (environment):
//! `IVCD_BENCH_SIZES` (tickers, default `20,60,119,121,500`),
//! `IVCD_BENCH_RATES` (requests a window, default `120,60`) and
//! `IVCD_BENCH_LATENCIES_MS` (default `20,100`), plus
//! `IVCD_BENCH_UNLIMITED` (tickers of the rows with no rate limit at the
//! first latency, default `500`; empty for none). `IVCD_BENCH_WINDOW_SECONDS`
//! (default 60) scales both the fake's and the client's window down for a
//! quick run (rows are then labelled "scaled"); the 500-ticker rows at 60 a
//! minute take 34 windows by construction. `IVCD_BENCH_CONCURRENCY`
//! (`scan.concurrency`, default 0: sized to the window),
//! `IVCD_BENCH_CHAIN_KIB` (pad each chain answer with spaces to this size,
//! default 0), `IVCD_BENCH_LATER_EXPIRATIONS`
//! (`analysis.market_view.later_expirations`, default the configuration's:
//! the bench's chains price no event, so every ticker then fetches them, the
//! worst case; 0 measures a chain that prices its report), `IVCD_DATA_DIR`. docs/performance.md holds the latest table.

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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};
use ivcd::clock::{Clock, FixedClock};
use ivcd::config::{Config, Secret};
use ivcd::domain::{EarningsEvent, Ticker, Timing};

mod common;

const TRADIER: &str =
    "OpenBB-finance__OpenBB/openbb_platform/providers/tradier/tests/record/http/test_tradier_fetchers";
/// Requests of one ticker that depend on each other: its expirations, then
/// its event's chain, then the two term-structure chains.
const PER_TICKER: u64 = 4;
/// Symbols per quotes request (`tradier::client::QUOTE_BATCH`).
const QUOTE_BATCH: u64 = 100;
/// The "no rate limit" rows: the client allows this many a window and the
/// fake enforces nothing.
const UNLIMITED: u32 = 60_000;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

// ---------------------------------------------------------------------------
// The fake Tradier (role `fake`)
// ---------------------------------------------------------------------------

/// The fake's rate limit and latency, set by the harness before each row.
#[derive(Debug)]
struct Limit {
    /// Requests a window serves; 0: no limit and no rate-limit headers.
    allowance: u32,
    window: Duration,
    latency: Duration,
    /// The current window's start (opened by its first request) and count.
    opened: Option<Instant>,
    used: u32,
    requests: u64,
    refused: u64,
    windows: u64,
}

impl Limit {
    /// Counts a request arriving now: whether it is served, and the headers.
    fn admit(&mut self) -> (bool, Vec<(&'static str, String)>) {
        self.requests += 1;
        if self.allowance == 0 {
            return (true, Vec::new());
        }
        let now = Instant::now();
        let opened = match self.opened {
            Some(at) if now < at + self.window => at,
            _ => {
                self.opened = Some(now);
                self.used = 0;
                self.windows += 1;
                now
            }
        };
        let served = self.used < self.allowance;
        if served {
            self.used += 1;
        } else {
            self.refused += 1;
        }
        let epoch_ms =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("after 1970").as_millis();
        let expiry = epoch_ms + (opened + self.window - now).as_millis();
        let headers = vec![
            ("x-ratelimit-allowed", self.allowance.to_string()),
            ("x-ratelimit-used", self.used.to_string()),
            ("x-ratelimit-available", (self.allowance - self.used).to_string()),
            ("x-ratelimit-expiry", expiry.to_string()),
        ];
        (served, headers)
    }
}

/// The recorded answers and how the fake relabels them (synthetic load).
struct Recorded {
    quote: serde_json::Value,
    expirations: String,
    chain: serde_json::Value,
    pad_kib: usize,
}

impl Recorded {
    fn load(pad_kib: usize) -> Self {
        let read = |file: &str| {
            let path = common::data_dir().join(TRADIER).join(file);
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()))
        };
        let quotes: serde_json::Value =
            serde_json::from_str(&read("quotes_PLTR_2024-06-28.json")).expect("recorded quotes");
        Self {
            quote: quotes["quotes"]["quote"].clone(),
            expirations: read("expirations_PLTR_2024-06-28.json"),
            chain: serde_json::from_str(&read("chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"))
                .expect("recorded chain"),
            pad_kib,
        }
    }

    /// PLTR's quote once per symbol asked, under that symbol (synthetic load).
    fn quotes(&self, symbols: &str) -> String {
        let quotes: Vec<serde_json::Value> = symbols
            .split(',')
            .map(|symbol| {
                let mut q = self.quote.clone();
                q["symbol"] = symbol.into();
                q["root_symbols"] = symbol.into();
                q
            })
            .collect();
        serde_json::json!({ "quotes": { "quote": quotes } }).to_string()
    }

    /// PLTR's chain of 2026-06-18 relabelled as `symbol`'s chain of
    /// `expiration` (synthetic load): every contract's underlying, root, OCC
    /// symbol (root + YYMMDD + right and strike as recorded) and expiration.
    fn chain(&self, symbol: &str, expiration: &str) -> String {
        let mut chain = self.chain.clone();
        let yymmdd = NaiveDate::parse_from_str(expiration, "%Y-%m-%d")
            .map(|d| d.format("%y%m%d").to_string())
            .unwrap_or_default();
        if let Some(options) = chain["options"]["option"].as_array_mut() {
            for o in options {
                let occ = o["symbol"].as_str().unwrap_or_default();
                let right_and_strike = occ.get(occ.len().saturating_sub(9)..).unwrap_or_default().to_owned();
                o["symbol"] = format!("{symbol}{yymmdd}{right_and_strike}").into();
                o["underlying"] = symbol.into();
                o["root_symbol"] = symbol.into();
                o["expiration_date"] = expiration.into();
                o["description"] = format!("{symbol} synthetic load").into();
            }
        }
        let mut body = chain.to_string();
        if self.pad_kib * 1024 > body.len() {
            let pad = self.pad_kib * 1024 - body.len();
            body.push_str(&" ".repeat(pad));
        }
        body
    }
}

struct FakeTradier {
    limit: Arc<Mutex<Limit>>,
    recorded: Recorded,
}

impl wiremock::Respond for FakeTradier {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let (served, headers, latency) = {
            let mut limit = self.limit.lock().expect("limit");
            let (served, headers) = limit.admit();
            (served, headers, limit.latency)
        };
        let query = |key: &str| {
            request.url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned()).unwrap_or_default()
        };
        let (status, body) = if !served {
            (429, "Too Many Requests".to_owned())
        } else {
            match request.url.path() {
                "/v1/markets/quotes" => (200, self.recorded.quotes(&query("symbols"))),
                "/v1/markets/options/expirations" => (200, self.recorded.expirations.clone()),
                "/v1/markets/options/chains" => {
                    (200, self.recorded.chain(&query("symbol"), &query("expiration")))
                }
                _ => (404, r#"{"fault":"not served by the bench"}"#.to_owned()),
            }
        };
        let mut answer = wiremock::ResponseTemplate::new(status)
            .set_body_string(body)
            .insert_header("content-type", "application/json")
            .insert_header("x-ivcd-bench", "synthetic load")
            .set_delay(latency);
        for (name, value) in headers {
            answer = answer.insert_header(name, value.as_str());
        }
        answer
    }
}

/// Role `fake`: prints its address, then obeys the harness's lines on its
/// standard input until it closes: `limit ALLOWANCE WINDOW_MS LATENCY_MS`
/// (a fresh window and counters; answers `ok`) and `stats` (answers
/// `REQUESTS REFUSED WINDOWS`).
fn fake(pad_kib: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let server = wiremock::MockServer::builder().disable_request_recording().start().await;
        let limit = Arc::new(Mutex::new(Limit {
            allowance: 0,
            window: Duration::from_secs(60),
            latency: Duration::ZERO,
            opened: None,
            used: 0,
            requests: 0,
            refused: 0,
            windows: 0,
        }));
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .respond_with(FakeTradier { limit: limit.clone(), recorded: Recorded::load(pad_kib) })
            .mount(&server)
            .await;
        println!("{}", server.uri());
        std::io::stdout().flush().expect("stdout");
        tokio::task::spawn_blocking(move || {
            for line in std::io::stdin().lines() {
                let line = line.expect("a command");
                let words: Vec<u64> =
                    line.split_whitespace().skip(1).filter_map(|w| w.parse().ok()).collect();
                let mut l = limit.lock().expect("limit");
                if line.starts_with("limit") {
                    let [allowance, window_ms, latency_ms] = words[..] else {
                        panic!("bad command {line:?}")
                    };
                    *l = Limit {
                        allowance: u32::try_from(allowance).expect("allowance"),
                        window: Duration::from_millis(window_ms),
                        latency: Duration::from_millis(latency_ms),
                        opened: None,
                        used: 0,
                        requests: 0,
                        refused: 0,
                        windows: 0,
                    };
                    println!("ok");
                } else if line.starts_with("stats") {
                    println!("{} {} {}", l.requests, l.refused, l.windows);
                }
                std::io::stdout().flush().expect("stdout");
            }
        })
        .await
        .expect("stdin");
    });
}

// ---------------------------------------------------------------------------
// One scan (role `scan`)
// ---------------------------------------------------------------------------

/// Role `scan`: one scan of `size` bench tickers against the fake at `url`,
/// the client allowing `rate` requests a window of `window_seconds`; prints
/// its figures as one line.
fn scan(url: &str, size: usize, rate: u32, window_seconds: u64, concurrency: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config { database: dir.path().join("bench.db"), ..Config::default() };
    config.tradier.base_url = url.to_owned();
    config.tradier.token = Secret::new("bench-token");
    config.tradier.requests_per_minute = rate;
    config.tradier.window_seconds = window_seconds;
    config.scan.concurrency = concurrency;
    // The bench's chains price no event, so by default every ticker takes
    // the market view's later expirations too (the worst case); 0 measures
    // the common case of a chain that prices its report.
    config.analysis.market_view.later_expirations =
        setting("IVCD_BENCH_LATER_EXPIRATIONS", config.analysis.market_view.later_expirations);
    let in_flight = ivcd::jobs::scan::in_flight(&config);
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
    // The most threads (tasks, to systemd) the process had during the scan,
    // sampled every 5 ms by a thread whose own CPU time is taken out of the
    // scan's.
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
            common::thread_cpu_seconds()
        })
    };
    let (cpu0, start) = (common::cpu_seconds(), Instant::now());
    // As the daemon runs a job: a task on the runtime's workers.
    let ctx = Arc::new(ctx);
    let job = ctx.clone();
    let report = rt
        .block_on(async move {
            tokio::spawn(async move { ivcd::jobs::scan::scan(&job, at, at, None).await }).await
        })
        .expect("the scan task")
        .expect("the scan");
    let (wall, cpu) = (start.elapsed().as_secs_f64(), common::cpu_seconds() - cpu0);
    scanning.store(false, std::sync::atomic::Ordering::Relaxed);
    let cpu = cpu - sampler.join().unwrap_or(0.0);
    let requests = report.requests.as_ref().and_then(|r| r.get("tradier").copied()).unwrap_or(0);
    // How many tickers went through the whole analysis: a count, never a figure.
    let analysed = report.candidates.iter().filter(|c| c.analysis.is_some()).count();
    let health = ctx.providers.health.first().map(|h| h.snapshot());
    let seen_429 = health.as_ref().and_then(|h| h.requests_by_status.get("429").copied()).unwrap_or(0);
    println!(
        "{} {wall} {cpu} {} {requests} {} {analysed} {seen_429} {in_flight}",
        report.candidates.len(),
        common::memory_mib("self", "VmHWM"),
        peak_threads.load(std::sync::atomic::Ordering::Relaxed)
    );
    drop(ctx);
    drop(dir); // the temporary database is deleted
}

// ---------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------

fn spawn_role(role: &str, envs: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().expect("this bench"));
    cmd.env("IVCD_BENCH_ROLE", role).stdin(Stdio::piped()).stdout(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("a bench process")
}

fn read_line(from: &mut impl BufRead) -> String {
    let mut line = String::new();
    from.read_line(&mut line).expect("a line");
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

/// One row to run.
#[derive(Debug, Clone, Copy)]
struct Row {
    tickers: u64,
    /// Requests a window (the fake's and the client's); [`UNLIMITED`]: none.
    rate: u32,
    latency_ms: u64,
}

/// The bound a row's wall time is held to (docs/performance.md): a scan
/// that fits one window, `1.2 x (critical path + CPU)`; a larger one,
/// `1.05 x ((windows - 1) x window + the last window's critical path)`.
/// The critical path of `t` tickers at concurrency `c`: the quote batches
/// one after another, then `ceil(t / c)` rounds of a ticker's 4 dependent
/// requests.
fn bound(row: Row, requests: u64, window_s: f64, concurrency: u64, cpu_s: f64) -> (f64, f64, u64) {
    let latency = row.latency_ms as f64 / 1000.0;
    let rounds = |tickers: u64| tickers.div_ceil(concurrency.max(1)) as f64;
    let critical =
        |tickers: u64, quotes: u64| (quotes as f64 + PER_TICKER as f64 * rounds(tickers)) * latency;
    let quotes = row.tickers.div_ceil(QUOTE_BATCH);
    if row.rate == UNLIMITED || requests <= u64::from(row.rate) {
        return (critical(row.tickers, quotes) + cpu_s, 1.2, 1);
    }
    let windows = requests.div_ceil(u64::from(row.rate));
    let last = requests - (windows - 1) * u64::from(row.rate);
    let last_tickers = last.div_ceil(PER_TICKER);
    ((windows - 1) as f64 * window_s + critical(last_tickers, 0), 1.05, windows)
}

fn main() {
    let role = std::env::var("IVCD_BENCH_ROLE").unwrap_or_default();
    let pad_kib: usize = setting("IVCD_BENCH_CHAIN_KIB", 0);
    match role.as_str() {
        "fake" => return fake(pad_kib),
        "scan" => {
            let url = std::env::var("IVCD_BENCH_URL").expect("IVCD_BENCH_URL");
            return scan(
                &url,
                setting("IVCD_BENCH_SIZE", 10),
                setting("IVCD_BENCH_RATE", 120),
                setting("IVCD_BENCH_WINDOW_SECONDS", 60),
                setting("IVCD_BENCH_CONCURRENCY", 0),
            );
        }
        _ => {}
    }
    let sizes: Vec<u64> = list("IVCD_BENCH_SIZES", "20,60,119,121,500");
    let rates: Vec<u32> = list("IVCD_BENCH_RATES", "120,60");
    let latencies: Vec<u64> = list("IVCD_BENCH_LATENCIES_MS", "20,100");
    let unlimited: Vec<u64> = list("IVCD_BENCH_UNLIMITED", "500");
    let window_s: u64 = setting("IVCD_BENCH_WINDOW_SECONDS", 60);
    let concurrency: usize = setting("IVCD_BENCH_CONCURRENCY", 0);
    let mut rows: Vec<Row> = Vec::new();
    for &latency_ms in &latencies {
        for &rate in &rates {
            rows.extend(sizes.iter().map(|&tickers| Row { tickers, rate, latency_ms }));
        }
    }
    if let Some(&latency_ms) = latencies.first() {
        rows.extend(unlimited.iter().map(|&tickers| Row { tickers, rate: UNLIMITED, latency_ms }));
    }

    let mut fake = spawn_role("fake", &[("IVCD_BENCH_CHAIN_KIB", pad_kib.to_string())]);
    let mut fake_in = fake.stdin.take().expect("the fake's stdin");
    let mut fake_out = BufReader::new(fake.stdout.take().expect("the fake's stdout"));
    let url = read_line(&mut fake_out);
    let scaled = if window_s == 60 { String::new() } else { format!(" SCALED WINDOWS of {window_s} s,") };
    let padded = if pad_kib > 0 { format!(" chain answers padded to {pad_kib} KiB,") } else { String::new() };
    println!(
        "scan harness: SYNTHETIC LOAD (the recorded PLTR answers relabelled per bench ticker; no figure is shown), fake Tradier at {url},{scaled}{padded} fixed windows of {window_s} s, 429 past the allowance"
    );
    println!();
    println!(
        "| tickers | limit | latency ms | concurrency | wall s | bound s | wall / bound | goal | requests | requests/ticker | windows | 429s | analysed | CPU s | CPU ms/ticker | peak RSS MiB | peak threads |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let allowance = if row.rate == UNLIMITED { 0 } else { row.rate };
        writeln!(fake_in, "limit {allowance} {} {}", window_s * 1000, row.latency_ms).expect("the fake");
        assert_eq!(read_line(&mut fake_out), "ok", "the fake took the limit");
        let mut child = spawn_role(
            "scan",
            &[
                ("IVCD_BENCH_URL", url.clone()),
                ("IVCD_BENCH_SIZE", row.tickers.to_string()),
                ("IVCD_BENCH_RATE", row.rate.to_string()),
                ("IVCD_BENCH_WINDOW_SECONDS", window_s.to_string()),
                ("IVCD_BENCH_CONCURRENCY", concurrency.to_string()),
            ],
        );
        let line = read_line(&mut BufReader::new(child.stdout.as_mut().expect("stdout")));
        let _ = child.wait();
        writeln!(fake_in, "stats").expect("the fake");
        let stats: Vec<u64> =
            read_line(&mut fake_out).split_whitespace().filter_map(|w| w.parse().ok()).collect();
        let [received, refused, _windows] = stats[..] else { panic!("the fake's stats") };
        let f: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let [candidates, wall, cpu, rss, requests, threads, analysed, seen_429, in_flight] = f[..] else {
            println!("| {} | scan failed: {line:?} |", row.tickers);
            continue;
        };
        assert_eq!(candidates as u64, row.tickers, "every bench ticker is a candidate");
        assert_eq!(requests as u64, received, "the scan counted what the fake received");
        assert_eq!(seen_429 as u64, refused, "the client saw the fake's 429s");
        let (bound_s, goal, windows) = bound(row, received, window_s as f64, in_flight as u64, cpu);
        let limit = if row.rate == UNLIMITED {
            "none".to_owned()
        } else if window_s == 60 {
            format!("{}/min", row.rate)
        } else {
            format!("{}/{window_s} s (scaled)", row.rate)
        };
        let ratio = wall / bound_s;
        let met = if refused == 0 && ratio <= goal { "met" } else { "MISSED" };
        println!(
            "| {} | {limit} | {} | {in_flight} | {wall:.2} | {bound_s:.2} | {ratio:.3} | {goal} {met} | {received} | {:.2} | {windows} | {refused} | {analysed}/{} | {cpu:.2} | {:.2} | {rss:.1} | {threads} |",
            row.tickers,
            row.latency_ms,
            requests / row.tickers as f64,
            row.tickers,
            cpu / row.tickers as f64 * 1000.0,
        );
    }
    drop(fake_in);
    let _ = fake.wait();
    let (rss, peak, threads) = idle_daemon_rss();
    println!();
    println!(
        "idle daemon (`ivcd run`, empty database, no provider): RSS {rss:.1} MiB, peak {peak:.1} MiB, {threads} threads"
    );
}
