//! The channels an alert goes out on: email (SMTP through lettre), Slack and
//! Discord webhooks, and a generic JSON webhook. Each send either succeeds,
//! fails transiently (retry later) or fails permanently (give up now).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::config::{AlertsConfig, EmailConfig, SmtpTls};
use super::render::Rendered;

/// The header carrying the generic webhook's signature, as Stripe signs its
/// webhooks: `t=<unix seconds>,v1=<hex>`, where `v1` is the HMAC-SHA256
/// (RFC 2104) of `<t>.<raw body>` under `alerts.webhook.secret`. A receiver
/// recomputes it and refuses a `t` outside its tolerance, so a captured
/// request cannot be replayed later ([`verify_signature`], docs/alerts.md).
pub const SIGNATURE_HEADER: &str = "X-Ivcd-Signature";

/// The tolerance docs/alerts.md advises receivers to apply to `t`: 5 minutes.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);
/// The header carrying a delivery's idempotency key on every webhook.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Why a send failed, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: connection refused or reset, a timeout, SMTP 4xx, HTTP 408, 429 or 5xx.
    #[error("{message}")]
    Transient {
        /// What happened (never a secret).
        message: String,
        /// How long the server asked us to wait (HTTP `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: SMTP 5xx, HTTP 4xx, a bad address or configuration.
    #[error("{message}")]
    Permanent {
        /// What happened (never a secret).
        message: String,
    },
}

impl SendError {
    // The message may quote a server's answer, which may echo a secret: both
    // constructors (and the one literal below) take it through the redactor.
    fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent { message: crate::redact::Redacted::from(message.into()).to_string() }
    }

    fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: crate::redact::Redacted::from(message.into()).to_string(),
            retry_after: None,
        }
    }
}

/// A configured channel.
#[derive(Clone)]
pub enum Channel {
    /// Email through SMTP.
    Email(Box<EmailChannel>),
    /// A Slack incoming webhook.
    Slack(HttpChannel),
    /// A generic JSON webhook.
    Webhook(HttpChannel),
    /// A Discord webhook.
    Discord(HttpChannel),
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Channel {
    /// `email`, `slack`, `webhook` or `discord`: the name in `alert_deliveries.channel`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Slack(_) => "slack",
            Self::Webhook(_) => "webhook",
            Self::Discord(_) => "discord",
        }
    }

    /// Every channel `config` configures, in the order of [`AlertsConfig::channel_names`].
    ///
    /// # Errors
    /// [`ChannelSetupError`] naming the key when a channel cannot be built
    /// (bad address, TLS set-up).
    pub fn all(config: &AlertsConfig) -> Result<Vec<Self>, ChannelSetupError> {
        let timeout = Duration::from_secs(config.timeout_seconds);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("ivcd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ChannelSetupError::HttpClient)?;
        let mut out = Vec::new();
        if let Some(e) = &config.email {
            out.push(Self::Email(Box::new(EmailChannel::new(e, timeout)?)));
        }
        let http = |url: Option<&str>, secret: Option<&str>| HttpChannel {
            client: client.clone(),
            url: url.unwrap_or_default().to_owned(),
            secret: secret.map(|s| s.as_bytes().to_vec()),
        };
        if let Some(s) = &config.slack {
            out.push(Self::Slack(http(s.webhook_url.expose(), None)));
        }
        if let Some(w) = &config.webhook {
            out.push(Self::Webhook(http(Some(&w.url), w.secret.expose())));
        }
        if let Some(d) = &config.discord {
            out.push(Self::Discord(http(d.webhook_url.expose(), None)));
        }
        Ok(out)
    }

    /// Sends `message`; `key` identifies the delivery (email Message-ID,
    /// `Idempotency-Key` header), so a receiver can drop a repeat. `now` (the
    /// caller's clock) is what an HTTP-date `Retry-After` is measured from.
    ///
    /// # Errors
    /// [`SendError`], transient or permanent.
    pub async fn send(&self, message: &Rendered, key: &str, now: DateTime<Utc>) -> Result<(), SendError> {
        match self {
            Self::Email(e) => e.send(message, key).await,
            Self::Slack(h) => {
                h.post("Slack", serde_json::to_vec(&message.slack).unwrap_or_default(), key, now).await
            }
            Self::Webhook(h) => h.post("webhook", message.webhook.clone(), key, now).await,
            Self::Discord(h) => {
                h.post("Discord", serde_json::to_vec(&message.discord).unwrap_or_default(), key, now).await
            }
        }
    }
}

/// Why the alert channels cannot be built (at start or at a reload).
#[derive(Debug, thiserror::Error)]
pub enum ChannelSetupError {
    /// The HTTP client of the webhooks cannot be built (the TLS backend failed).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(reqwest::Error),
    /// The SMTP transport's TLS cannot be set up for the host.
    #[error("alerts.email: cannot set up TLS for {host}: {error}")]
    Tls {
        /// `alerts.email.host`.
        host: String,
        /// lettre's error.
        error: lettre::transport::smtp::Error,
    },
    /// An address of `[alerts.email]` does not parse.
    #[error("{key} = {value:?} is not an email address: {error}")]
    Address {
        /// `alerts.email.from` or `alerts.email.to`.
        key: &'static str,
        /// The address as configured.
        value: String,
        /// Why it does not parse.
        error: lettre::address::AddressError,
    },
}

/// An SMTP server and the message's envelope.
#[derive(Clone)]
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    server: String,
}

impl EmailChannel {
    /// Builds the transport for `config`: STARTTLS (required), implicit TLS,
    /// or plain; with credentials when a username is set.
    ///
    /// # Errors
    /// [`ChannelSetupError`] naming the key: an address that does not parse,
    /// a TLS set-up failure.
    pub fn new(config: &EmailConfig, timeout: Duration) -> Result<Self, ChannelSetupError> {
        let host = config.host.as_str();
        let builder = match config.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
        }
        .map_err(|error| ChannelSetupError::Tls { host: host.to_owned(), error })?;
        let mut builder = builder.port(config.effective_port()).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, config.password.expose()) {
            builder = builder.credentials(Credentials::new(user.clone(), password.to_owned()));
        }
        let parse = |key: &'static str, a: &str| {
            a.parse::<Mailbox>().map_err(|error| ChannelSetupError::Address {
                key,
                value: a.to_owned(),
                error,
            })
        };
        Ok(Self {
            transport: builder.build(),
            from: parse("alerts.email.from", &config.from)?,
            to: config.to.iter().map(|t| parse("alerts.email.to", t)).collect::<Result<_, _>>()?,
            server: format!("{host}:{}", config.effective_port()),
        })
    }

    /// The message: `multipart/alternative` with the plain text first and
    /// the HTML second, and a Message-ID made from `key`.
    ///
    /// # Errors
    /// A permanent error when lettre cannot build the message.
    pub fn message(&self, m: &Rendered, key: &str) -> Result<lettre::Message, SendError> {
        let domain = self.from.email.domain().to_owned();
        let local: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '.' })
            .collect();
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(&m.subject)
            .message_id(Some(format!("<{local}@{domain}>")))
            .user_agent(concat!("ivcd/", env!("CARGO_PKG_VERSION")).to_owned());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(m.text.clone()))
                    .singlepart(SinglePart::html(m.html.clone())),
            )
            .map_err(|e| SendError::permanent(format!("cannot build the email: {e}")))
    }

    async fn send(&self, m: &Rendered, key: &str) -> Result<(), SendError> {
        let message = self.message(m, key)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let permanent = e.is_permanent() || e.is_client();
                let text = format!("SMTP {}: {}", self.server, error_chain(e));
                if permanent { Err(SendError::permanent(text)) } else { Err(SendError::transient(text)) }
            }
        }
    }
}

/// An error and its sources, `a: b: c`, redacted.
fn error_chain(e: impl std::error::Error + 'static) -> crate::redact::Redacted {
    crate::redact::Redacted::error_chain(&e)
}

/// A webhook endpoint (Slack, Discord or generic).
#[derive(Clone)]
pub struct HttpChannel {
    client: reqwest::Client,
    url: String,
    /// The HMAC key, for the generic webhook.
    secret: Option<Vec<u8>>,
}

/// The HMAC-SHA256 (RFC 2104) of `<timestamp>.<body>` under `secret`.
fn signed_mac(secret: &[u8], timestamp: i64, body: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    // HMAC takes a key of any length (RFC 2104 §3): `new_from_slice` cannot fail.
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The [`SIGNATURE_HEADER`] value for `body` sent at `timestamp` (Unix
/// seconds): `t=<timestamp>,v1=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(signed_mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Why a signed webhook request was refused by [`verify_signature`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix seconds>,v1=<hex>`.
    #[error("the signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// `t` is further from the receiver's clock than the tolerance: a
    /// replayed (or badly delayed) request.
    #[error("the signature's timestamp is {age_seconds} s away from now, beyond the tolerance")]
    Stale {
        /// Now minus `t`, in seconds (negative when `t` is in the future).
        age_seconds: i64,
    },
    /// No `v1` matches the body and timestamp under the secret.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The receiver's check of a signed webhook request, as docs/alerts.md
/// describes it: parse `t` and every `v1` from `header`, refuse a `t` more
/// than `tolerance` away from `now_unix` (the receiver's clock, Unix
/// seconds), and accept when some `v1` equals the HMAC-SHA256 of
/// `<t>.<body>` under `secret` (compared in constant time).
///
/// # Errors
/// [`SignatureError`]: malformed, stale (a replay) or not matching.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    let age_seconds = now_unix.saturating_sub(timestamp);
    if age_seconds.unsigned_abs() > tolerance.as_secs() {
        return Err(SignatureError::Stale { age_seconds });
    }
    if signatures.iter().any(|v| signed_mac(secret, timestamp, body).verify_slice(v).is_ok()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

impl HttpChannel {
    async fn post(&self, what: &str, body: Vec<u8>, key: &str, now: DateTime<Utc>) -> Result<(), SendError> {
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, key);
        if let Some(secret) = &self.secret {
            // The receiver checks `t` against its own clock: the real time,
            // even when the daemon runs on a simulated one (a replay).
            let sent_at = crate::clock::Clock::now(&crate::clock::SystemClock).timestamp();
            request = request.header(SIGNATURE_HEADER, signature(secret, sent_at, &body));
        }
        // reqwest's errors carry the URL, which for Slack and Discord is a secret.
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("{what}: {}", error_chain(e.without_url()))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let wait = crate::net::retry_after(response.headers(), now);
        let body = crate::net::read_error_body(response).await;
        // Redacted whole (read_error_body) before it is clipped.
        let message = format!("{what}: HTTP {status}: {}", super::render::clip(body.trim(), 200));
        if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
            Err(SendError::Transient { message, retry_after: wait })
        } else {
            Err(SendError::permanent(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_dot_body() {
        // The MAC covers the bytes "<t>.<body>", checked against the hmac
        // crate's MAC of exactly those bytes, whose own output is pinned to
        // RFC 4231 (test case 2) below.
        let body = br#"{"kind":"test"}"#;
        let header = signature(b"Jefe", 1_700_000_000, body);
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(br#"1700000000.{"kind":"test"}"#);
        assert_eq!(header, format!("t=1700000000,v1={}", hex::encode(mac.finalize().into_bytes())));
        // And the HMAC itself is RFC 4231's (test case 2).
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_documented_check_accepts_a_fresh_request_and_refuses_a_replay() {
        let (secret, body, sent) = (b"a shared secret", br#"{"scan_id":1}"#, 1_700_000_000);
        let header = signature(secret, sent, body);
        let check = |now: i64| verify_signature(secret, &header, body, now, SIGNATURE_TOLERANCE);
        assert_eq!(check(sent + 2), Ok(()));
        assert_eq!(check(sent + 300), Ok(()));
        // The same request replayed six minutes later, or from the future.
        assert_eq!(check(sent + 360), Err(SignatureError::Stale { age_seconds: 360 }));
        assert_eq!(check(sent - 301), Err(SignatureError::Stale { age_seconds: -301 }));
        // A body changed, or the timestamp moved to make it look fresh.
        assert_eq!(
            verify_signature(secret, &header, br#"{"scan_id":2}"#, sent, SIGNATURE_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        let moved = header.replace("t=1700000000", "t=1700000360");
        assert_eq!(
            verify_signature(secret, &moved, body, sent + 360, SIGNATURE_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"another", &header, body, sent, SIGNATURE_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "sha256=00", "t=x,v1=00", "t=1700000000", "t=1700000000,v1=zz"] {
            assert_eq!(
                verify_signature(secret, bad, body, sent, SIGNATURE_TOLERANCE),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_error_chain_says_each_message_once() {
        #[derive(Debug)]
        struct Inner;
        impl std::fmt::Display for Inner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("4.3.0 Mailbox busy")
            }
        }
        impl std::error::Error for Inner {}
        #[derive(Debug)]
        struct Outer(Inner);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "transient error (451): {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(error_chain(Outer(Inner)).as_str(), "transient error (451): 4.3.0 Mailbox busy");
        let io = std::io::Error::other(Inner);
        assert_eq!(error_chain(Outer2(io)).as_str(), "cannot connect: 4.3.0 Mailbox busy");

        #[derive(Debug)]
        struct Outer2(std::io::Error);
        impl std::fmt::Display for Outer2 {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("cannot connect")
            }
        }
        impl std::error::Error for Outer2 {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
    }
}
