//! The channels an alert goes out on: email (SMTP through lettre), Slack and
//! Discord webhooks, and a generic JSON webhook. Each send either succeeds,
//! fails transiently (retry later) or fails permanently (give up now).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::render::Rendered;
use crate::config::{AlertsConfig, EmailConfig, SmtpTls};

/// The header carrying the generic webhook's signature: `sha256=<hex>`, the
/// HMAC-SHA256 of the raw body under `alerts.webhook.secret`.
pub const SIGNATURE_HEADER: &str = "X-Ivcd-Signature";
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
    /// A message naming the key when a channel cannot be built (bad address, TLS set-up).
    pub fn all(config: &AlertsConfig) -> Result<Vec<Self>, String> {
        let timeout = Duration::from_secs(config.timeout_seconds);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("ivcd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
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
    /// A message naming the key: an address that does not parse, a TLS set-up failure.
    pub fn new(config: &EmailConfig, timeout: Duration) -> Result<Self, String> {
        let host = config.host.as_str();
        let builder = match config.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
        }
        .map_err(|e| format!("alerts.email: cannot set up TLS for {host}: {e}"))?;
        let mut builder = builder.port(config.effective_port()).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, config.password.expose()) {
            builder = builder.credentials(Credentials::new(user.clone(), password.to_owned()));
        }
        let parse = |key: &str, a: &str| {
            a.parse::<Mailbox>().map_err(|e| format!("{key} = {a:?} is not an email address: {e}"))
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

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret` (RFC 2104).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl HttpChannel {
    async fn post(&self, what: &str, body: Vec<u8>, key: &str, now: DateTime<Utc>) -> Result<(), SendError> {
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, key);
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, &body));
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
    fn signature_matches_rfc_4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
