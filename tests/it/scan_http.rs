//! The live clients and the scan pipeline over HTTP, against local fakes
//! (wiremock) that serve real recorded Tradier and Alpha Vantage responses.
//!
//! No recorded Tradier chain belongs to a reporter in a recorded Alpha
//! Vantage calendar, so the end-to-end scan asserts that every candidate
//! without a chain is stored with its reason and no figure; the Tradier
//! client is checked separately on the recorded PLTR responses.

use std::sync::Arc;

use chrono::NaiveDate;
use ivcd::clock::{Clock, FixedClock};
use ivcd::config::{Config, Secret};
use ivcd::domain::{Ticker, Timing};
use ivcd::jobs::{self, JobContext};
use ivcd::providers::alpha_vantage::client::AlphaVantageClient;
use ivcd::providers::tradier::client::TradierClient;
use ivcd::providers::{EarningsCalendar, EarningsHistory, OptionChains, ProviderError, Quotes};
use rust_decimal_macros::dec;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::data::{AV_CALENDAR, TRADIER_OPENBB as TRADIER};
use crate::support::fakes::live_config as config;
use crate::support::read_data;
use crate::support::values::at;

#[tokio::test]
async fn tradier_client_reads_the_recorded_pltr_responses() {
    let server = MockServer::start().await;
    for (endpoint, file) in [
        ("/v1/markets/quotes", "quotes_PLTR_2024-06-28.json"),
        ("/v1/markets/options/expirations", "expirations_PLTR_2024-06-28.json"),
        ("/v1/markets/options/chains", "chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(endpoint))
            .and(header("authorization", "Bearer test-token"))
            .respond_with(ResponseTemplate::new(200).set_body_string(read_data(&format!("{TRADIER}/{file}"))))
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut c = Config::default();
    c.tradier.base_url = server.uri();
    c.tradier.token = Secret::new("test-token");
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(at("2024-06-28T19:00:00Z")));
    let client = TradierClient::new(&c.tradier, clock).unwrap();
    let pltr = Ticker::new("PLTR").unwrap();

    let quotes = client.quotes(std::slice::from_ref(&pltr)).await.unwrap();
    assert_eq!(quotes.len(), 1);
    // quotes_PLTR_2024-06-28.json: "bid":25.49,"ask":25.5
    assert_eq!(quotes[0].spot(), Some(dec!(25.495)));

    let expirations = client.expirations(&pltr, at("2024-06-28T19:00:00Z")).await.unwrap();
    let june_2026 = NaiveDate::from_ymd_opt(2026, 6, 18).unwrap();
    assert!(expirations.contains(&june_2026), "{expirations:?}");

    let chain = client.chain(&pltr, june_2026, at("2024-06-28T19:00:00Z")).await.unwrap();
    assert_eq!(chain.as_of, at("2024-06-28T19:00:00Z"), "live chains are stamped when they arrive");
    assert!(chain.contracts.iter().all(|c| c.expiration == june_2026));
    // The first contract of the file: the 13 put, "bid":0.0,"ask":1.41, mid_iv 0.590685.
    let put13 = chain
        .contracts
        .iter()
        .find(|c| c.strike == dec!(13) && c.right == ivcd::domain::OptionRight::Put)
        .unwrap();
    assert_eq!((put13.bid, put13.ask), (Some(dec!(0)), Some(dec!(1.41))));
    assert_eq!(put13.mid(), None, "a zero bid is not a usable quote");
    assert_eq!(client.requests_sent(), 3);
}

#[tokio::test]
async fn scan_over_http_stores_every_candidate_with_a_reason() {
    let tradier = MockServer::start().await; // knows no chain: answers 404 to everything
    let alpha = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/query"))
        .and(query_param("function", "EARNINGS_CALENDAR"))
        .and(query_param("apikey", "test-key"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .expect(1)
        .mount(&alpha)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&tradier, &alpha, &dir.path().join("ivcd.db"));
    // The calendar was recorded on Sun 2026-05-17; scan on Mon 2026-05-18 at 15:00 ET.
    let clock = Arc::new(FixedClock::new(at("2026-05-17T22:00:00Z")));
    let ctx = ivcd::cli::live_context(&config, clock.clone()).unwrap();

    let refreshed = jobs::refresh::refresh_calendar(&ctx, at("2026-05-17T22:00:00Z")).await.unwrap();
    assert!(refreshed.events > 0);

    let scan_at = at("2026-05-18T19:00:00Z");
    clock.set(scan_at);
    let report = jobs::scan::scan(&ctx, scan_at, scan_at, None).await.unwrap();
    // From the CSV: 4 post-market reports on 2026-05-18 and 20 pre-market on 2026-05-19.
    let amc = report.candidates.iter().filter(|c| c.timing == Timing::Amc).count();
    let bmo = report.candidates.iter().filter(|c| c.timing == Timing::Bmo).count();
    assert_eq!((amc, bmo), (4, 20));
    for c in &report.candidates {
        assert!(c.implied_move.is_none() && c.vrp.is_none() && c.rank.is_none(), "{}", c.ticker);
        let reason = c.reason.as_deref().unwrap_or("");
        assert!(reason.starts_with("no chain: tradier: request") && reason.contains("HTTP 404"), "{reason}");
        assert!(!reason.contains("test-token"));
    }
    let stored = ctx.store.run(|db| db.latest_scan()).await.unwrap().unwrap();
    assert_eq!(stored, report);

    // The fewest requests: one batched quote request for the 24 reporters,
    // then one expirations request each (the 404 ends each ticker), none repeated.
    let received = tradier.received_requests().await.unwrap();
    let quotes: Vec<_> = received.iter().filter(|r| r.url.path() == "/v1/markets/quotes").collect();
    assert_eq!(quotes.len(), 1);
    let symbols = quotes[0].url.query_pairs().find(|(k, _)| k == "symbols").map(|(_, v)| v.into_owned());
    assert_eq!(symbols.unwrap_or_default().split(',').count(), 24);
    let urls: std::collections::BTreeSet<String> = received.iter().map(|r| r.url.to_string()).collect();
    assert_eq!(urls.len(), received.len(), "no request repeated");
    assert_eq!(received.len(), 1 + 24);
    // The scan counted exactly the requests the fakes received (the refresh's came before it).
    let expected = [("alpha_vantage".to_owned(), 0), ("tradier".to_owned(), received.len() as u64)];
    assert_eq!(report.requests, Some(expected.into_iter().collect()));
    let day = NaiveDate::from_ymd_opt(2026, 5, 18).unwrap();
    let counts = ctx.store.run(move |db| db.store_counts(day, day)).await.unwrap();
    assert_eq!(counts.last_scan.and_then(|s| s.requests), Some(1 + 24), "shown by ivcd status");
}

#[tokio::test]
async fn alpha_vantage_throttle_is_a_rate_limit_not_data() {
    let alpha = MockServer::start().await;
    // The shape Alpha Vantage answers when throttled: HTTP 200 and a JSON note.
    Mock::given(method("GET"))
        .and(path("/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}"#,
        ))
        .mount(&alpha)
        .await;
    let mut c = Config::default();
    c.alpha_vantage.base_url = alpha.uri();
    c.alpha_vantage.api_key = Secret::new("sekrit-key");
    // A throttle holds the client for a window: one try here.
    c.alpha_vantage.retry.max_attempts = 1;
    let client = AlphaVantageClient::new(&c.alpha_vantage, Arc::new(ivcd::clock::SystemClock)).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 5, 18).unwrap();
    let err = client.earnings_between(day, day).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err}");
    assert!(err.is_transient());
    assert!(!err.to_string().contains("sekrit-key"), "{err}");
    assert_eq!(client.health().snapshot().rate_limit_refusals, 1, "counted as the vendor's refusal");
}

#[tokio::test]
async fn unreachable_provider_names_the_request_and_hides_the_key() {
    let mut c = Config::default();
    // Nothing listens on port 9 of localhost (discard): the connection is refused.
    c.alpha_vantage.base_url = "http://127.0.0.1:9".into();
    c.alpha_vantage.api_key = Secret::new("sekrit-key");
    let client = AlphaVantageClient::new(&c.alpha_vantage, Arc::new(ivcd::clock::SystemClock)).unwrap();
    let err = client.past_earnings(&Ticker::new("IBM").unwrap()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Transport { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("EARNINGS IBM"), "{text}");
    assert!(!text.contains("sekrit-key"), "{text}");
}

#[test]
fn live_context_without_credentials_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config { database: dir.path().join("x.db"), ..Config::default() };
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(at("2026-05-18T19:00:00Z")));
    let ctx: JobContext = ivcd::cli::live_context(&c, clock).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = rt.block_on(ctx.providers.calendar.earnings_between(
        NaiveDate::from_ymd_opt(2026, 5, 18).unwrap(),
        NaiveDate::from_ymd_opt(2026, 5, 19).unwrap(),
    ));
    assert!(err.unwrap_err().to_string().contains("alpha_vantage.api_key"));
}

/// `ivcd backtest IBM` against a fake Alpha Vantage serving IBM's recorded
/// EARNINGS, TIME_SERIES_DAILY (2025-12-22..2026-05-15) and its two real
/// HISTORICAL_OPTIONS chains (2025-11-07 and 2026-05-15). Neither chain is
/// from the close before an IBM report, so the backtest must ask for the
/// right closes, find nothing there, store why, and judge nothing: it never
/// borrows another day's chain.
#[tokio::test]
async fn backtest_asks_for_the_close_before_each_event_and_borrows_no_other_day() {
    const AV: &str = "portfoliotree__alphavantage/specification/testdata/examples";
    const AV_2025: &str = "portfoliotree__alphavantage/specification/testdata/examples/_versions_2025-11-08";
    let alpha = MockServer::start().await;
    let serve = |function: &'static str, body: String| {
        Mock::given(method("GET"))
            .and(path("/query"))
            .and(query_param("function", function))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
    };
    serve("EARNINGS", read_data(&format!("{AV}/fundamental/EARNINGS_d56c999e.json"))).mount(&alpha).await;
    serve("TIME_SERIES_DAILY", read_data(&format!("{AV}/time_series/TIME_SERIES_DAILY_42a08190.csv")))
        .mount(&alpha)
        .await;
    for (date, dir) in [("2025-11-07", AV_2025), ("2026-05-15", AV)] {
        Mock::given(method("GET"))
            .and(path("/query"))
            .and(query_param("function", "HISTORICAL_OPTIONS"))
            .and(query_param("date", date))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(read_data(&format!("{dir}/options/HISTORICAL_OPTIONS_6c0b1a36.csv"))),
            )
            .mount(&alpha)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { database: dir.path().join("ivcd.db"), ..Config::default() };
    config.alpha_vantage.base_url = alpha.uri();
    config.alpha_vantage.api_key = Secret::new("test-key");
    config.alpha_vantage.requests_per_minute = 6000;
    // The recordings were made on Sun 2026-05-17.
    let now = at("2026-05-17T22:00:00Z");
    let ctx = ivcd::cli::live_context(&config, Arc::new(FixedClock::new(now))).unwrap();
    let ibm = Ticker::new("IBM").unwrap();
    jobs::backfill::backfill(&ctx, now, std::slice::from_ref(&ibm), &|_, _, _| {}).await.unwrap();

    let report = jobs::backtest::backtest(&ctx, now, std::slice::from_ref(&ibm), None).await.unwrap();
    // The bars start 2025-12-22, so only the reports of 2026-01-28 and
    // 2026-04-22 (both after the close: the reference close is the report
    // date itself) have a reference close to ask a chain for.
    let asked: Vec<String> = alpha
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.query_pairs().any(|(k, v)| k == "function" && v == "HISTORICAL_OPTIONS"))
        .filter_map(|r| r.url.query_pairs().find(|(k, _)| k == "date").map(|(_, v)| v.into_owned()))
        .collect();
    assert_eq!(asked, ["2026-01-28", "2026-04-22"], "{report:#?}");
    assert_eq!(report.chains_requested, 2);
    let judged: Vec<_> = report.events.iter().filter(|e| e.implied_move.is_some()).collect();
    assert!(judged.is_empty(), "no chain exists at those closes: {judged:?}");
    assert!(report.tiers.is_empty());
    let late: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.report_date >= NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        .collect();
    assert_eq!(late.len(), 2);
    for e in &late {
        assert_eq!((e.timing, e.chain_date), (Timing::Amc, e.report_date));
        let reason = e.reason.as_deref().unwrap_or("");
        assert!(reason.starts_with(&format!("no end-of-day chain for {}", e.chain_date)), "{reason}");
        assert!(e.realized_gap.is_some(), "its own gap is measured from the stored bars");
    }
    for e in report.events.iter().filter(|e| e.report_date < NaiveDate::from_ymd_opt(2025, 12, 22).unwrap()) {
        let reason = e.reason.as_deref().unwrap_or("");
        assert!(reason.starts_with("no daily bar for the reference session"), "{}: {reason}", e.report_date);
    }
    // Every event is stored with its reason, and a re-run retries the
    // reasons (the vendor may have the chain by then) instead of reusing them.
    let stored = ctx.store.run(move |db| db.historical_implied(&ibm)).await.unwrap();
    assert_eq!(stored.len(), report.events.len());
    assert!(stored.iter().all(|r| r.implied_move.is_none() && r.reason.is_some()));
    let again = jobs::backtest::backtest(&ctx, now, &[Ticker::new("IBM").unwrap()], None).await.unwrap();
    assert_eq!((again.chains_requested, again.reused), (2, 0));
}

/// The response cache: within a chain's 30 s and the day's expirations, a
/// second ask (also after a restart: a new process on the same database)
/// sends no request; past the time to live it asks again.
#[tokio::test]
async fn the_response_cache_survives_a_restart_and_expires() {
    let server = MockServer::start().await;
    for (endpoint, file) in [
        ("/v1/markets/options/expirations", "expirations_PLTR_2024-06-28.json"),
        ("/v1/markets/options/chains", "chains_PLTR_2026-06-18_greeks_asof_2024-06-28.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(endpoint))
            .respond_with(ResponseTemplate::new(200).set_body_string(read_data(&format!("{TRADIER}/{file}"))))
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let mut c = Config { database: db.clone(), ..Config::default() };
    c.tradier.base_url = server.uri();
    c.tradier.token = Secret::new("test-token");
    let start = at("2024-06-28T19:00:00Z");
    let clock = Arc::new(FixedClock::new(start));
    let pltr = Ticker::new("PLTR").unwrap();
    let june = NaiveDate::from_ymd_opt(2026, 6, 18).unwrap();
    let cached = |store: ivcd::store::Store| {
        let client: Arc<dyn OptionChains> = Arc::new(TradierClient::new(&c.tradier, clock.clone()).unwrap());
        ivcd::providers::cache::CachedChains::new(client, "tradier", store, clock.clone(), c.cache.clone())
    };
    let requests = || async { server.received_requests().await.unwrap().len() };

    let first = cached(ivcd::store::Store::open(&db).unwrap());
    let expirations = first.expirations(&pltr, start).await.unwrap();
    let chain = first.chain(&pltr, june, start).await.unwrap();
    assert_eq!(requests().await, 2);
    assert_eq!(first.expirations(&pltr, start).await.unwrap(), expirations);
    assert_eq!(first.chain(&pltr, june, start + chrono::Duration::seconds(10)).await.unwrap(), chain);
    assert_eq!(requests().await, 2, "both from the cache");

    // A restart: a new store on the same file, 20 s later.
    drop(first);
    clock.set(start + chrono::Duration::seconds(20));
    let second = cached(ivcd::store::Store::open(&db).unwrap());
    assert_eq!(second.expirations(&pltr, start + chrono::Duration::seconds(20)).await.unwrap(), expirations);
    assert_eq!(second.chain(&pltr, june, start + chrono::Duration::seconds(20)).await.unwrap(), chain);
    assert_eq!(requests().await, 2, "nothing asked again after the restart");

    // Past the chain's 30 s the chain is asked for again; the expirations hold for the day.
    clock.set(start + chrono::Duration::seconds(45));
    second.chain(&pltr, june, start + chrono::Duration::seconds(45)).await.unwrap();
    second.expirations(&pltr, start + chrono::Duration::seconds(45)).await.unwrap();
    assert_eq!(requests().await, 3);
}

/// A fake Tradier that keeps Tradier's rule: fixed windows of `window`,
/// each opened by the first request after the last one ended, the first
/// `allowance` requests of a window served, every other answered 429; every
/// answer carries `X-Ratelimit-Allowed/Used/Available/Expiry`. It knows no
/// chain: what it serves is a 404.
#[derive(Clone)]
struct WindowedTradier(Arc<std::sync::Mutex<Windowed>>);

struct Windowed {
    allowance: u32,
    window: std::time::Duration,
    opened: Option<std::time::Instant>,
    used: u32,
    served: u32,
    refused: u32,
}

impl WindowedTradier {
    fn new(allowance: u32, window: std::time::Duration) -> Self {
        Self(Arc::new(std::sync::Mutex::new(Windowed {
            allowance,
            window,
            opened: None,
            used: 0,
            served: 0,
            refused: 0,
        })))
    }

    fn counts(&self) -> (u32, u32) {
        let w = self.0.lock().unwrap();
        (w.served, w.refused)
    }
}

impl wiremock::Respond for WindowedTradier {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let mut w = self.0.lock().unwrap();
        let now = std::time::Instant::now();
        let opened = match w.opened {
            Some(at) if now < at + w.window => at,
            _ => {
                w.used = 0;
                *w.opened.insert(now)
            }
        };
        let served = w.used < w.allowance;
        if served {
            w.used += 1;
            w.served += 1;
        } else {
            w.refused += 1;
        }
        let epoch_ms =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        let expiry = epoch_ms + (opened + w.window - now).as_millis();
        ResponseTemplate::new(if served { 404 } else { 429 })
            .set_body_string(r#"{"fault":"no such symbol here"}"#)
            .insert_header("x-ratelimit-allowed", w.allowance.to_string().as_str())
            .insert_header("x-ratelimit-used", w.used.to_string().as_str())
            .insert_header("x-ratelimit-available", (w.allowance - w.used).to_string().as_str())
            .insert_header("x-ratelimit-expiry", expiry.to_string().as_str())
    }
}

#[tokio::test]
async fn a_scan_larger_than_a_window_is_never_refused_for_the_rate_limit() {
    // The 24 reporters of the recorded calendar: 25 requests (the quotes,
    // then each ticker's expirations) against 10 a window of one second.
    let windowed = WindowedTradier::new(10, std::time::Duration::from_secs(1));
    let tradier = MockServer::start().await;
    Mock::given(method("GET")).respond_with(windowed.clone()).mount(&tradier).await;
    let alpha = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .mount(&alpha)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&tradier, &alpha, &dir.path().join("ivcd.db"));
    config.tradier.requests_per_minute = 10;
    config.tradier.window_seconds = 1;
    let clock = Arc::new(FixedClock::new(at("2026-05-17T22:00:00Z")));
    let ctx = ivcd::cli::live_context(&config, clock.clone()).unwrap();
    jobs::refresh::refresh_calendar(&ctx, at("2026-05-17T22:00:00Z")).await.unwrap();
    let scan_at = at("2026-05-18T19:00:00Z");
    clock.set(scan_at);
    let report = jobs::scan::scan(&ctx, scan_at, scan_at, None).await.unwrap();
    assert_eq!(report.candidates.len(), 24);
    assert_eq!(windowed.counts(), (25, 0), "every request served, none refused");
    let health = ctx.providers.health.iter().find(|h| h.provider() == "tradier").unwrap().snapshot();
    assert_eq!(health.rate_limit_refusals, 0);
    assert!(health.rate_limit_waits + health.limiter_waits > 0, "it waited for the next windows");
    for c in &report.candidates {
        let reason = c.reason.as_deref().unwrap_or("");
        assert!(reason.contains("HTTP 404"), "{}: {reason}", c.ticker);
    }
}
