//! Fake providers and receivers on loopback: a scripted HTTP server
//! ([`FaultServer`]: slow, 429, 500, reset, truncated, huge answers), the
//! wiremock fakes of Alpha Vantage and Tradier that serve real recorded
//! answers, the alert receivers, and the provider settings pointing at them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ivcd::config::{Config, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::data::{AV_CALENDAR, TRADIER_OPENBB, read_data};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 200 with this body (JSON).
    Ok(String),
    /// 200 with this body and Tradier's headers saying the window is used up
    /// until `expiry_ms` (epoch milliseconds), answered (its `Date`) one
    /// second before that.
    WindowUsedUp(String, i64),
    /// This status with a short JSON body.
    Status(u16),
    /// This status with this body (an error answer that says something).
    Answer(u16, String),
    /// 429 with `Retry-After: seconds`.
    TooMany(u64),
    /// The connection is reset without an answer.
    Reset,
    /// No answer for this long (longer than the client's timeout).
    Slow(Duration),
    /// 200 with the first half of this body.
    Truncated(String),
    /// 200 with this body whose types are wrong.
    WrongTypes(String),
    /// 502 with an HTML error page, as a proxy answers.
    Html,
    /// 200 with an empty body.
    Empty,
    /// The other answer, after a delay.
    Delayed(Duration, Box<Fault>),
    /// This status with a body of `bytes` spaces, streamed, with its
    /// `Content-Length` when `announced`, else delimited by the close; the
    /// bytes the client took are counted ([`FaultServer::streamed`]).
    Huge { status: u16, bytes: u64, announced: bool },
}

impl Fault {
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Ok(_) => "ok",
            Fault::WindowUsedUp(..) => "window used up",
            Fault::Status(_) => "status",
            Fault::Answer(..) => "answer",
            Fault::TooMany(_) => "429",
            Fault::Reset => "reset",
            Fault::Slow(_) => "slow",
            Fault::Truncated(_) => "truncated JSON",
            Fault::WrongTypes(_) => "wrong types",
            Fault::Html => "HTML page",
            Fault::Empty => "empty body",
            Fault::Delayed(_, inner) => inner.name(),
            Fault::Huge { .. } => "huge body",
        }
    }
}

type Script = dyn Fn(&str, usize) -> Fault + Send + Sync;

/// Each request: when it arrived, its target, the fault answered.
type RequestLog = Arc<Mutex<Vec<(tokio::time::Instant, String, &'static str)>>>;

/// A fake server: `script(target, n)` answers the n-th request (from 0) for
/// `target` (path and query).
pub struct FaultServer {
    pub uri: String,
    log: RequestLog,
    streamed: Arc<Mutex<Vec<(String, u64)>>>,
}

impl FaultServer {
    pub async fn start(script: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let log: RequestLog = Arc::default();
        let streamed: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
        let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let (log2, counts2, streamed2) = (log.clone(), counts.clone(), streamed.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (log, counts, script, streamed) =
                    (log2.clone(), counts2.clone(), script.clone(), streamed2.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head);
                    let target = text.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let n = {
                        let mut c = counts.lock().unwrap();
                        let n = c.entry(target.clone()).or_insert(0);
                        *n += 1;
                        *n - 1
                    };
                    let mut fault = script(&target, n);
                    while let Fault::Delayed(d, inner) = fault {
                        tokio::time::sleep(d).await;
                        fault = *inner;
                    }
                    log.lock().unwrap().push((tokio::time::Instant::now(), target.clone(), fault.name()));
                    if let Fault::Huge { status, bytes, announced } = fault {
                        let length =
                            if announced { format!("Content-Length: {bytes}\r\n") } else { String::new() };
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
                        );
                        let _ = socket.write_all(head.as_bytes()).await;
                        // Spaces, 64 KiB at a time, until all are sent or the client hangs up.
                        let chunk = vec![b' '; 64 * 1024];
                        let mut sent = 0u64;
                        while sent < bytes {
                            let n = chunk.len().min(usize::try_from(bytes - sent).unwrap_or(usize::MAX));
                            if socket.write_all(&chunk[..n]).await.is_err() {
                                break;
                            }
                            sent += n as u64;
                        }
                        let _ = socket.shutdown().await;
                        streamed.lock().unwrap().push((target, sent));
                        return;
                    }
                    let (status, body, extra): (u16, String, String) = match fault {
                        Fault::Ok(body) => (200, body, String::new()),
                        Fault::WindowUsedUp(body, expiry) => {
                            let date = std::time::UNIX_EPOCH
                                + Duration::from_millis(u64::try_from(expiry - 1000).unwrap_or(0));
                            (
                                200,
                                body,
                                format!(
                                    "X-Ratelimit-Allowed: 120\r\nX-Ratelimit-Used: 120\r\nX-Ratelimit-Available: 0\r\nX-Ratelimit-Expiry: {expiry}\r\nDate: {}\r\n",
                                    httpdate::fmt_http_date(date)
                                ),
                            )
                        }
                        Fault::Status(code) => (code, r#"{"fault":"injected"}"#.into(), String::new()),
                        Fault::Answer(code, body) => (code, body, String::new()),
                        Fault::TooMany(secs) => (429, "Too Many Requests".into(), format!("Retry-After: {secs}\r\n")),
                        Fault::Reset => {
                            // SO_LINGER 0 makes the close an RST, which is the fault wanted.
                            #[allow(deprecated, reason = "set_linger is the one way to send an RST")]
                            let _ = socket.set_linger(Some(Duration::ZERO));
                            return; // dropped: RST
                        }
                        Fault::Slow(d) => {
                            tokio::time::sleep(d).await;
                            return;
                        }
                        Fault::Truncated(body) => (200, body[..body.len() / 2].to_owned(), String::new()),
                        Fault::WrongTypes(body) => (200, body, String::new()),
                        Fault::Html => (
                            502,
                            "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
                                .into(),
                            String::new(),
                        ),
                        Fault::Empty => (200, String::new(), String::new()),
                        Fault::Delayed(..) | Fault::Huge { .. } => unreachable!("answered above"),
                    };
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { uri, log, streamed }
    }

    /// For each huge body answered: the target and how many of its bytes
    /// the client took before it hung up (all of them if it read them all).
    pub fn streamed(&self) -> Vec<(String, u64)> {
        self.streamed.lock().unwrap().clone()
    }

    /// [`FaultServer::streamed`] once `n` huge bodies have ended (the
    /// server notices a hang-up only at its next write), waiting at most 30 s.
    pub async fn streamed_when(&self, n: usize) -> Vec<(String, u64)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.streamed.lock().unwrap().len() < n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.streamed()
    }

    /// The requests received: (when, target, the fault answered).
    pub fn requests(&self) -> Vec<(tokio::time::Instant, String, &'static str)> {
        self.log.lock().unwrap().clone()
    }
}

/// A Tradier fake that answers 500 to everything until the flag is set, then
/// PLTR's recorded quote (2024-06-28).
pub async fn failing_until_healthy() -> (FaultServer, Arc<std::sync::atomic::AtomicBool>) {
    let ok = read_data(&format!("{TRADIER_OPENBB}/quotes_PLTR_2024-06-28.json"));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let server = FaultServer::start(move |_, _| {
        if h.load(std::sync::atomic::Ordering::SeqCst) { Fault::Ok(ok.clone()) } else { Fault::Status(500) }
    })
    .await;
    (server, healthy)
}

/// A configuration with Tradier at `uri`: a token, no rate limit to speak of,
/// 1 s timeouts and short retry delays.
pub fn config(uri: &str) -> Config {
    let mut c = Config::default();
    c.tradier.base_url = uri.to_owned();
    c.tradier.token = Secret::new("test-token");
    c.tradier.requests_per_minute = 6000;
    c.tradier.timeout_seconds = 1;
    c.tradier.retry.initial_delay_ms = 10;
    c.tradier.retry.max_delay_seconds = 2;
    c
}

/// A configuration with Tradier and Alpha Vantage at the fakes `tradier`
/// and `alpha` (credentials, no rate limit to speak of) and the database
/// `db`.
pub fn live_config(tradier: &MockServer, alpha: &MockServer, db: &std::path::Path) -> Config {
    let mut c = Config { database: db.to_path_buf(), ..Config::default() };
    c.tradier.base_url = tradier.uri();
    c.tradier.token = Secret::new("test-token");
    c.tradier.requests_per_minute = 6000;
    c.alpha_vantage.base_url = alpha.uri();
    c.alpha_vantage.api_key = Secret::new("test-key");
    c.alpha_vantage.requests_per_minute = 6000;
    c
}

/// A free TCP port on loopback (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fake Alpha Vantage serving the real earnings calendar recorded on
/// 2026-05-17 ([`AV_CALENDAR`]) for `function=EARNINGS_CALENDAR`.
pub async fn alpha_vantage_with_calendar() -> MockServer {
    let alpha = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/query"))
        .and(query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .mount(&alpha)
        .await;
    alpha
}

/// A fake Tradier that knows no chain: 404 to every request, after `delay`.
pub async fn tradier_without_chains(delay: Duration) -> MockServer {
    let tradier = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_delay(delay))
        .mount(&tradier)
        .await;
    tradier
}

/// Alert receivers (Slack, webhook, Discord) that accept every POST with 200.
pub async fn receivers() -> MockServer {
    let http = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&http)
        .await;
    http
}

/// The requests `http` received on `route`.
pub async fn requests_to(http: &MockServer, route: &str) -> Vec<wiremock::Request> {
    http.received_requests().await.unwrap().into_iter().filter(|r| r.url.path() == route).collect()
}

/// The provider fakes of a spawned daemon or command: Alpha Vantage serves
/// the recorded calendar ([`alpha_vantage_with_calendar`]); Tradier knows
/// no chain ([`tradier_without_chains`]).
pub struct Fakes {
    pub tradier: MockServer,
    pub alpha: MockServer,
}

impl Fakes {
    /// Starts both; Tradier answers each request after `delay`.
    pub async fn start(delay: Duration) -> Self {
        Self { tradier: tradier_without_chains(delay).await, alpha: alpha_vantage_with_calendar().await }
    }

    /// Writes `dir/ivcd.toml` for the fakes, with `extra` TOML tables after
    /// the providers'; returns the file and the database path. ivcd's own
    /// rate limiters are set to 6000 a minute: at the default 120, the
    /// limiter alone spaces a scan's requests half a second apart, a wait
    /// that tests nothing here.
    pub fn write_config(&self, dir: &Path, extra: &str) -> (PathBuf, PathBuf) {
        let db = dir.join("ivcd.db");
        let config = dir.join("ivcd.toml");
        let text = format!(
            "database = {db:?}\n\
             [tradier]\nbase_url = {:?}\ntoken = \"test-token\"\nrequests_per_minute = 6000\n\
             [alpha_vantage]\nbase_url = {:?}\napi_key = \"test-key\"\nrequests_per_minute = 6000\n\
             [daemon]\nstatus_socket = {:?}\n",
            self.tradier.uri(),
            self.alpha.uri(),
            dir.join("status.sock"),
        );
        std::fs::write(&config, format!("{text}{extra}")).unwrap();
        (config, db)
    }
}
