//! Fault injection: a local fake HTTP server that answers each request by
//! script (slow, 429, 500, connection reset, truncated JSON, wrong types, an
//! HTML error page, an empty body, Tradier's used-up rate-limit window), and
//! what the clients and the scan make of each. The good answers are the real
//! recorded Tradier PLTR responses. Each test prints the faults it injected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use ivcd::clock::{Clock, FixedClock};
use ivcd::config::{Config, Secret};
use ivcd::domain::Ticker;
use ivcd::providers::resilience::BreakerState;
use ivcd::providers::tradier::client::TradierClient;
use ivcd::providers::{OptionChains, ProviderError, Quotes};

use crate::support::data::{TRADIER_OPENBB as TRADIER, read_data};
use crate::support::fakes::{Fault, FaultServer, config, failing_until_healthy};
use crate::support::values::at;

fn chain_body() -> String {
    read_data(&format!("{TRADIER}/chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"))
}

fn client(c: &Config, clock: Arc<dyn Clock>) -> TradierClient {
    TradierClient::new(&c.tradier, clock).unwrap()
}

fn pltr() -> Ticker {
    Ticker::new("PLTR").unwrap()
}

const EXPIRATION: (i32, u32, u32) = (2026, 6, 18);

fn june() -> NaiveDate {
    NaiveDate::from_ymd_opt(EXPIRATION.0, EXPIRATION.1, EXPIRATION.2).unwrap()
}

#[tokio::test]
async fn transient_faults_are_retried_until_the_real_answer_arrives() {
    let body = chain_body();
    // Each sequence fails, then answers with the recorded chain.
    let cases: Vec<(&str, Vec<Fault>)> = vec![
        ("500 twice", vec![Fault::Status(500), Fault::Status(503)]),
        ("connection reset", vec![Fault::Reset]),
        ("slow beyond the timeout", vec![Fault::Slow(Duration::from_secs(3))]),
        ("HTML 502 page", vec![Fault::Html]),
        ("429 with Retry-After", vec![Fault::TooMany(1)]),
    ];
    let mut injected = 0;
    for (name, faults) in cases {
        let (script_faults, ok) = (faults.clone(), body.clone());
        let server = FaultServer::start(move |_, n| {
            script_faults.get(n).cloned().unwrap_or_else(|| Fault::Ok(ok.clone()))
        })
        .await;
        let c = config(&server.uri);
        let client = client(&c, Arc::new(FixedClock::new(at("2024-06-28T19:00:00Z"))));
        let chain = client.chain(&pltr(), june(), at("2024-06-28T19:00:00Z")).await;
        let chain = chain.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(chain.contracts.len(), 22, "{name}: the recorded chain");
        let requests = server.requests();
        assert_eq!(requests.len(), faults.len() + 1, "{name}: one try per fault, then the answer");
        let health = client.health().snapshot();
        assert_eq!(health.retries as usize, faults.len(), "{name}");
        assert_eq!(health.breaker, Some(BreakerState::Closed { consecutive_failures: 0 }), "{name}");
        if let Fault::TooMany(secs) = faults[0] {
            let gap = requests[1].0 - requests[0].0;
            assert!(gap >= Duration::from_secs(secs), "{name}: waited {gap:?}, Retry-After said {secs}s");
        }
        injected += faults.len();
    }
    println!("faults injected (transient, recovered): {injected}");
}

#[tokio::test]
async fn permanent_faults_are_one_clear_error_and_no_retry() {
    let body = chain_body();
    let wrong_types = body.replacen("\"strike\":13.0", "\"strike\":{\"value\":13}", 1);
    assert_ne!(wrong_types, body, "the recorded body has the field to break");
    let cases: Vec<(&str, Fault, &str)> = vec![
        ("refused token", Fault::Status(401), "credentials refused"),
        ("truncated JSON", Fault::Truncated(body.clone()), "tradier"),
        ("wrong types", Fault::WrongTypes(wrong_types), "invalid type"),
        ("empty body", Fault::Empty, "tradier"),
        ("404", Fault::Status(404), "HTTP 404"),
    ];
    for (name, fault, says) in &cases {
        let f = fault.clone();
        let server = FaultServer::start(move |_, _| f.clone()).await;
        let c = config(&server.uri);
        let client = client(&c, Arc::new(FixedClock::new(at("2024-06-28T19:00:00Z"))));
        let err = client.chain(&pltr(), june(), at("2024-06-28T19:00:00Z")).await.unwrap_err();
        assert!(!err.is_transient(), "{name}: {err}");
        let text = err.to_string();
        assert!(text.contains(says), "{name}: {text}");
        assert!(!text.contains("test-token"), "{name}: {text}");
        assert_eq!(server.requests().len(), 1, "{name}: never retried");
    }
    println!("faults injected (permanent, not retried): {}", cases.len());
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_probes_after_the_cool_down_and_closes() {
    let (server, healthy) = failing_until_healthy().await;
    let mut c = config(&server.uri);
    c.tradier.retry.max_attempts = 2;
    c.tradier.breaker.failures = 3;
    c.tradier.breaker.cool_down_seconds = 60;
    let start = at("2024-06-28T19:00:00Z");
    let clock = Arc::new(FixedClock::new(start));
    let client = client(&c, clock.clone());
    for _ in 0..3 {
        let err = client.quotes(&[pltr()]).await.unwrap_err();
        assert!(matches!(err, ProviderError::Status { status: 500, .. }), "{err}");
    }
    assert_eq!(server.requests().len(), 6, "three calls of two tries each");
    assert_eq!(
        client.health().snapshot().breaker,
        Some(BreakerState::Open { until: start + chrono::Duration::seconds(60) })
    );
    // Open: the fourth call fails at once, without a request.
    let err = client.quotes(&[pltr()]).await.unwrap_err();
    assert!(matches!(err, ProviderError::CircuitOpen { .. }), "{err}");
    assert!(err.to_string().contains("circuit open"), "{err}");
    assert_eq!(server.requests().len(), 6);
    // After the cool-down one probe goes; the provider is back; the circuit closes.
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.set(start + chrono::Duration::seconds(61));
    let quotes = client.quotes(&[pltr()]).await.unwrap();
    assert_eq!(quotes.len(), 1);
    assert_eq!(server.requests().len(), 7);
    assert_eq!(client.health().snapshot().breaker, Some(BreakerState::Closed { consecutive_failures: 0 }));
    println!(
        "breaker: opened after 3 failed calls (6 requests), 1 call refused without a request, closed after 1 probe"
    );
}

#[tokio::test]
async fn a_used_up_tradier_window_makes_the_next_request_wait_for_it() {
    let ok = read_data(&format!("{TRADIER}/quotes_PLTR_2024-06-28.json"));
    // The window reopens one second after the answer (its Date).
    let now = at("2024-06-28T19:00:00Z");
    let expiry = (now + chrono::Duration::seconds(1)).timestamp_millis();
    let first = ok.clone();
    let server = FaultServer::start(move |_, n| {
        if n == 0 { Fault::WindowUsedUp(first.clone(), expiry) } else { Fault::Ok(ok.clone()) }
    })
    .await;
    let c = config(&server.uri);
    let client = client(&c, Arc::new(FixedClock::new(now)));
    client.quotes(&[pltr()]).await.unwrap();
    client.quotes(&[pltr()]).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // The vendor's Expiry read on our timeline through its Date, plus the
    // guard; not the minute a window may last.
    let gap = requests[1].0 - requests[0].0;
    assert!(gap >= Duration::from_millis(900) && gap < Duration::from_secs(10), "{gap:?}");
    assert_eq!(client.health().snapshot().rate_limit_waits, 1);
}

/// A scan over HTTP while Tradier fails in a different way for each
/// reporter of the real Alpha Vantage calendar (recorded 2026-05-17): the
/// scan completes, stores every candidate with the reason its fault gave,
/// retries only what can change, and keeps to the rate limit.
#[tokio::test]
async fn a_scan_completes_under_faults_and_says_what_failed_for_each_ticker() {
    const AV_CALENDAR: &str = "portfoliotree__alphavantage/specification/testdata/examples/fundamental/EARNINGS_CALENDAR_c674ae28.csv";
    let alpha = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .mount(&alpha)
        .await;
    let expirations = read_data(&format!("{TRADIER}/expirations_PLTR_2024-06-28.json"));
    // (fault, transient?, what the reason must say)
    let kinds: Vec<(Fault, bool, &str)> = vec![
        (Fault::Status(500), true, "HTTP 500"),
        (Fault::Reset, true, "failed"),
        (Fault::Html, true, "HTTP 502"),
        (Fault::TooMany(1), true, "rate limited"),
        (Fault::Truncated(expirations), false, "tradier"),
        (Fault::WrongTypes(r#"{"expirations":{"date":[20260618]}}"#.into()), false, "tradier"),
        (Fault::Empty, false, "tradier"),
        (Fault::Status(404), false, "HTTP 404"),
        (
            Fault::Huge { status: 200, bytes: HUGE, announced: false },
            false,
            "is larger than 256 KiB (tradier.max_body_kib.expirations)",
        ),
    ];
    let by_symbol: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (map, script_kinds) = (by_symbol.clone(), kinds.clone());
    let tradier = FaultServer::start(move |target, _| {
        if target.starts_with("/v1/markets/quotes") {
            return Fault::Status(500);
        }
        let symbol = target.split("symbol=").nth(1).unwrap_or("").split('&').next().unwrap_or("").to_owned();
        let mut map = map.lock().unwrap();
        let next = map.len();
        let i = *map.entry(symbol).or_insert(next);
        script_kinds[i % script_kinds.len()].0.clone()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&tradier.uri);
    config.database = dir.path().join("ivcd.db");
    config.tradier.requests_per_minute = 1200;
    config.tradier.breaker.failures = 0; // each ticker's own fault, not the breaker's
    config.alpha_vantage.base_url = alpha.uri();
    config.alpha_vantage.api_key = Secret::new("test-key");
    config.alpha_vantage.requests_per_minute = 6000;
    let clock = Arc::new(FixedClock::new(at("2026-05-17T22:00:00Z")));
    let ctx = ivcd::cli::live_context(&config, clock.clone()).unwrap();
    ivcd::jobs::refresh::refresh_calendar(&ctx, at("2026-05-17T22:00:00Z")).await.unwrap();
    let scan_at = at("2026-05-18T19:00:00Z");
    clock.set(scan_at);
    let report = ivcd::jobs::scan::scan(&ctx, scan_at, scan_at, None).await.unwrap();
    assert_eq!(report.candidates.len(), 24);

    let requests = tradier.requests();
    let symbols = by_symbol.lock().unwrap().clone();
    let max_attempts = config.tradier.retry.max_attempts as usize;
    for c in &report.candidates {
        let i = symbols[c.ticker.as_str()];
        let (fault, transient, says) = &kinds[i % kinds.len()];
        let reason = c.reason.as_deref().unwrap_or("");
        assert!(c.implied_move.is_none() && c.rank.is_none(), "{}", c.ticker);
        assert!(
            reason.starts_with("no chain") && reason.contains(says),
            "{} ({}): {reason}",
            c.ticker,
            fault.name()
        );
        assert!(!reason.contains("test-token"));
        let tries = requests.iter().filter(|r| r.1.contains(&format!("symbol={}", c.ticker))).count();
        assert_eq!(tries, if *transient { max_attempts } else { 1 }, "{} ({})", c.ticker, fault.name());
    }
    // Every 429 was the injected one, and each was counted as a refusal.
    let injected_429 = requests.iter().filter(|r| r.2 == "429").count() as u64;
    assert!(injected_429 > 0);
    let health = ctx.providers.health.iter().find(|h| h.provider() == "tradier").unwrap().snapshot();
    assert_eq!(health.rate_limit_refusals, injected_429);
    let stored = ctx.store.run(|db| db.latest_scan()).await.unwrap().unwrap();
    assert_eq!(stored, report);
    let huge = requests.iter().filter(|r| r.2 == "huge body").count();
    for (target, sent) in tradier.streamed_when(huge).await {
        assert!(sent < HUGE / 4, "{target}: {sent} bytes of the oversize answer were taken");
    }
    println!(
        "scan under faults: {} tickers, {} requests ({} quote requests), every candidate stored with its fault's reason",
        report.candidates.len(),
        requests.len(),
        requests.iter().filter(|r| r.1.starts_with("/v1/markets/quotes")).count()
    );
}

/// Chains that fail, as a connection reset does, for every ticker but one.
struct FailingExcept {
    inner: Arc<dyn OptionChains>,
    healthy: Ticker,
}

#[async_trait::async_trait]
impl OptionChains for FailingExcept {
    async fn expirations(
        &self,
        ticker: &Ticker,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<NaiveDate>, ProviderError> {
        if *ticker != self.healthy {
            return Err(ProviderError::Transport {
                provider: "tradier",
                request: format!("tradier /v1/markets/options/expirations {ticker}"),
                message: "connection reset by peer".into(),
                timeout: false,
            });
        }
        self.inner.expirations(ticker, as_of).await
    }

    async fn chain(
        &self,
        ticker: &Ticker,
        expiration: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> Result<ivcd::domain::ChainSnapshot, ProviderError> {
        self.inner.chain(ticker, expiration, as_of).await
    }
}

/// The CVNA day (real calendar, Yahoo bars, the Cboe chain) with every other
/// reporter's chain failing: the scan still ranks CVNA with exactly the
/// figures of a fault-free run, and says for each other ticker what failed.
#[tokio::test]
async fn the_healthy_ticker_is_ranked_as_without_faults_while_the_others_fail() {
    use ivcd::providers::files::recorded::{self, CalendarFormat, ChainFormat, RecordedProvider};
    let data = crate::support::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let clean = &crate::support::cvna().outcome;
    let clean_cvna = clean.scans[0].candidates.iter().find(|c| c.ticker.as_str() == "CVNA").unwrap().clone();

    let calendar = "pmak99__trading-desk-public/exports/earnings_calendar.csv";
    let events =
        recorded::load_calendar(&data, std::path::Path::new(calendar), CalendarFormat::TradingDesk).unwrap();
    let chain = recorded::load_chain(
        &data,
        std::path::Path::new("upstar7__Gamma-Ex/cvna_quotedata.csv"),
        ChainFormat::CboeCsv,
        None,
        None,
    )
    .unwrap();
    let provider = Arc::new(RecordedProvider::new(
        events,
        Some(data.join("Krzysztof-Smykla__Stock-Price-Dashboard/data")),
        vec![chain],
    ));
    let clock = Arc::new(FixedClock::new(at("2023-07-18T10:05:00Z")));
    let ctx = ivcd::jobs::JobContext {
        store: ivcd::store::Store::open(&dir.path().join("faults.db")).unwrap(),
        providers: ivcd::jobs::Providers {
            calendar: provider.clone(),
            calendar_source: "files".into(),
            history: Some(provider.clone()),
            history_source: "files".into(),
            bars: provider.clone(),
            bars_source: "files".into(),
            quotes: provider.clone(),
            chains: Arc::new(FailingExcept {
                inner: provider.clone(),
                healthy: Ticker::new("CVNA").unwrap(),
            }),
            end_of_day_chains: provider,
            sec: None,
            health: Vec::new(),
        },
        calendar: ivcd::calendar::NyseCalendar::new(),
        config: Arc::new(Config::default()),
        clock: clock.clone(),
        cancel: tokio_util::sync::CancellationToken::new(),
        queue_alerts: false,
    };
    ivcd::jobs::refresh::refresh_calendar(&ctx, at("2023-07-18T10:00:00Z")).await.unwrap();
    ivcd::jobs::run_backfill(&ctx, at("2023-07-18T10:05:00Z"), Vec::new(), &|_, _, _| {}).await.unwrap();
    let scan_at = at("2023-07-18T19:00:00Z");
    clock.set(scan_at);
    let report = ivcd::jobs::scan::scan(&ctx, scan_at, scan_at, None).await.unwrap();
    assert_eq!(report.candidates.len(), clean.scans[0].candidates.len());
    let cvna = report.candidates.iter().find(|c| c.ticker.as_str() == "CVNA").unwrap();
    assert_eq!(cvna.rank, Some(1));
    let comparable = |c: &ivcd::report::Candidate| {
        (
            c.implied_move,
            c.vrp,
            c.tier,
            c.score(),
            c.straddle,
            c.expiration,
            c.structures.len(),
            c.analysis.clone(),
        )
    };
    assert_eq!(
        comparable(cvna),
        comparable(&clean_cvna),
        "the healthy ticker's figures do not depend on the others' faults"
    );
    for c in report.candidates.iter().filter(|c| c.ticker.as_str() != "CVNA") {
        let reason = c.reason.as_deref().unwrap_or("");
        assert!(reason.contains("connection reset by peer"), "{}: {reason}", c.ticker);
    }
}

/// 100 MiB: the size of the body that took the process to 627 MB before
/// bodies were read within a limit.
const HUGE: u64 = 100 * 1024 * 1024;

/// An answer beyond its endpoint's limit, announced or not, is a clear error
/// for that request only, and is never read whole: the fake counts what the
/// client took of its 100 MiB. An error answer is read for its excerpt only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_answer_is_a_clear_error_for_its_ticker_only_and_is_never_read_whole() {
    let body = chain_body();
    let server = FaultServer::start(move |target, _| {
        if target.contains("symbol=BIGA") {
            Fault::Huge { status: 200, bytes: HUGE, announced: true }
        } else if target.contains("symbol=BIGS") {
            Fault::Huge { status: 200, bytes: HUGE, announced: false }
        } else if target.contains("symbol=FAIL") {
            Fault::Huge { status: 503, bytes: HUGE, announced: false }
        } else {
            Fault::Ok(body.clone())
        }
    })
    .await;
    let mut c = config(&server.uri);
    c.tradier.max_body_kib.chains = 256;
    c.tradier.breaker.failures = 0;
    let now = at("2024-06-28T19:00:00Z");
    let client = client(&c, Arc::new(FixedClock::new(now)));
    let [p, a, b, f] = ["PLTR", "BIGA", "BIGS", "FAIL"].map(|s| Ticker::new(s).unwrap());
    let (pltr, announced, streamed, failing) = tokio::join!(
        client.chain(&p, june(), now),
        client.chain(&a, june(), now),
        client.chain(&b, june(), now),
        client.chain(&f, june(), now),
    );
    assert_eq!(pltr.unwrap().contracts.len(), 22, "the healthy ticker gets its recorded chain");
    for (name, result) in [("announced", announced), ("streamed", streamed)] {
        let e = result.unwrap_err();
        assert!(
            matches!(
                e,
                ProviderError::TooLarge { limit_kib: 256, setting: "tradier.max_body_kib.chains", .. }
            ),
            "{name}: {e:?}"
        );
        let said = e.to_string();
        assert!(said.contains("is larger than 256 KiB (tradier.max_body_kib.chains)"), "{name}: {said}");
        assert!(!e.is_transient(), "{name}: an oversize answer is not retried");
    }
    let e = failing.unwrap_err();
    assert!(matches!(e, ProviderError::Status { status: 503, .. }), "{e:?}");
    let streamed = server.streamed_when(2 + c.tradier.retry.max_attempts as usize).await;
    assert_eq!(streamed.len(), 2 + c.tradier.retry.max_attempts as usize, "{streamed:?}");
    for (target, sent) in &streamed {
        // What the kernel's socket buffers held is counted too: far below the body.
        assert!(*sent < HUGE / 4, "{target}: the client took {sent} of {HUGE} bytes");
    }
    println!(
        "oversize answers: {} refused, bytes taken of each 100 MiB body: {:?}",
        streamed.len(),
        streamed.iter().map(|(_, n)| n).collect::<Vec<_>>()
    );
}

/// The same for an alert channel: a webhook that answers 500 with 100 MiB
/// is a transient failure with an excerpt, read within 64 KiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_channels_oversize_error_answer_is_read_within_its_limit() {
    let server = FaultServer::start(|_, _| Fault::Huge { status: 500, bytes: HUGE, announced: false }).await;
    let alerts = ivcd::config::AlertsConfig {
        webhook: Some(ivcd::config::WebhookConfig {
            url: format!("{}/hook", server.uri),
            secret: Secret::default(),
        }),
        ..ivcd::config::AlertsConfig::default()
    };
    let channels = ivcd::alert::channels::Channel::all(&alerts).unwrap();
    let now = at("2024-06-28T19:00:00Z");
    let message = ivcd::alert::render::test_message("test-host", now);
    let e = channels[0].send(&message, "test/key", now).await.unwrap_err();
    assert!(
        matches!(&e, ivcd::alert::channels::SendError::Transient { message, .. } if message.contains("HTTP 500")),
        "{e:?}"
    );
    let streamed = server.streamed_when(1).await;
    assert_eq!(streamed.len(), 1);
    assert!(streamed[0].1 < HUGE / 4, "the channel took {} of {HUGE} bytes", streamed[0].1);
}
