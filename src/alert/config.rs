//! `[alerts]`: the reports pushed after each scan and review, and their
//! channels (`[alerts.email]`, `[alerts.slack]`, `[alerts.webhook]`,
//! `[alerts.discord]`), read by the outbox and the channels.

use serde::{Deserialize, Serialize};

use crate::redact::Secret;
use crate::settings::{Shown, url_problem};

/// `[alerts]`: the reports pushed after each scan, and where they go.
///
/// A channel is configured by its table (`[alerts.email]`, `[alerts.slack]`,
/// `[alerts.webhook]`, `[alerts.discord]`); without any, nothing is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The lowest tier listed as a setup (default `marginal`); ranked
    /// candidates below it get one line each (ticker, timing, VRP, tier).
    pub min_tier: crate::analysis::vrp::Tier,
    /// At most this many setups per report, best first (default 10).
    pub top_n: usize,
    /// Send a report when no candidate makes the cut (default true: silence
    /// would look like a dead daemon).
    pub send_empty: bool,
    /// A delivery still failing this many hours after its report was
    /// stored is given up, with an ERROR log and a status entry (default 12).
    pub give_up_after_hours: u32,
    /// The first retry waits this many seconds; each next one doubles, with
    /// jitter (default 30).
    pub initial_backoff_seconds: u64,
    /// The backoff doubles up to this many seconds (default 900); jitter
    /// adds up to as much again, and an HTTP `Retry-After` may ask for longer.
    pub max_backoff_seconds: u64,
    /// Per-attempt timeout of a send, in seconds (default 30).
    pub timeout_seconds: u64,
    /// Email through an SMTP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    /// A Slack incoming webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackConfig>,
    /// A generic JSON webhook (the `ivcd scan --json` document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    /// A Discord webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discord: Option<DiscordConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            min_tier: crate::analysis::vrp::Tier::Marginal,
            top_n: 10,
            send_empty: true,
            give_up_after_hours: 12,
            initial_backoff_seconds: 30,
            max_backoff_seconds: 900,
            timeout_seconds: 30,
            email: None,
            slack: None,
            webhook: None,
            discord: None,
        }
    }
}

impl AlertsConfig {
    /// The names of the configured channels (`email`, `slack`, `webhook`, `discord`), in that order.
    pub fn channel_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.email.is_some() {
            names.push("email");
        }
        if self.slack.is_some() {
            names.push("slack");
        }
        if self.webhook.is_some() {
            names.push("webhook");
        }
        if self.discord.is_some() {
            names.push("discord");
        }
        names
    }
}

impl AlertsConfig {
    /// The bounds of its counts and durations (see [`crate::settings::Bounded`]).
    pub fn bounds(&self, b: &mut crate::settings::Bounds) {
        b.int("alerts.top_n", self.top_n, 1, 100);
        b.int("alerts.give_up_after_hours", self.give_up_after_hours, 1, 168);
        b.int("alerts.initial_backoff_seconds", self.initial_backoff_seconds, 1, 3600);
        b.int("alerts.max_backoff_seconds", self.max_backoff_seconds, 1, 86_400);
        b.int("alerts.timeout_seconds", self.timeout_seconds, 1, 300);
        if let Some(port) = self.email.as_ref().and_then(|e| e.port) {
            b.int("alerts.email.port", port, 1, 65_535);
        }
    }

    /// The problems of this section, one message per problem, each naming the key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: String| {
            if !ok {
                problems.push(msg);
            }
        };
        check(
            self.max_backoff_seconds >= self.initial_backoff_seconds,
            "alerts.max_backoff_seconds must be at least alerts.initial_backoff_seconds".into(),
        );
        if let Some(e) = &self.email {
            check(!e.host.trim().is_empty(), "alerts.email.host must name the SMTP server".into());
            check((1..=50).contains(&e.to.len()), "alerts.email.to must list from 1 to 50 recipients".into());
            for (key, address) in std::iter::once(("alerts.email.from", &e.from))
                .chain(e.to.iter().map(|t| ("alerts.email.to", t)))
            {
                check(
                    address.parse::<lettre::message::Mailbox>().is_ok(),
                    format!("{key} = {address:?} is not an email address (e.g. \"ivcd <ivcd@example.com>\")"),
                );
            }
            check(
                e.username.is_some() == e.password.is_set(),
                "alerts.email.username and alerts.email.password go together (set both, or neither)".into(),
            );
        }
        let urls = [
            ("alerts.slack.webhook_url", self.slack.as_ref().and_then(|s| s.webhook_url.expose())),
            ("alerts.webhook.url", self.webhook.as_ref().map(|w| w.url.as_str())),
            ("alerts.discord.webhook_url", self.discord.as_ref().and_then(|d| d.webhook_url.expose())),
        ];
        let configured = [self.slack.is_some(), self.webhook.is_some(), self.discord.is_some()];
        for ((key, url), on) in urls.into_iter().zip(configured) {
            if !on {
                continue;
            }
            // Slack's and Discord's URLs are secrets: never echo them.
            let shown = if key == "alerts.webhook.url" { Shown::Value } else { Shown::Hidden };
            if let Some(problem) = url_problem(key, url.unwrap_or_default(), shown) {
                check(false, problem);
            }
        }
        problems
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption: only for a relay on localhost or a trusted network (port 25).
    None,
}

/// `[alerts.email]`: an SMTP server and the recipients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name (checked against its TLS certificate).
    pub host: String,
    /// The port; default 587 for `starttls`, 465 for `tls`, 25 for `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default = "default_smtp_tls")]
    pub tls: SmtpTls,
    /// The login, when the server requires authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password (secret; never logged).
    #[serde(default, skip_serializing_if = "Secret::is_unset")]
    pub password: Secret,
    /// The sender, e.g. `"ivcd <ivcd@example.com>"`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

fn default_smtp_tls() -> SmtpTls {
    SmtpTls::Starttls
}

impl EmailConfig {
    /// The port in use: the configured one or the TLS mode's standard port.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

/// `[alerts.slack]`: a Slack incoming webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The webhook URL (secret: it carries the token), `https://hooks.slack.com/services/...`.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub webhook_url: Secret,
}

/// `[alerts.webhook]`: a generic JSON webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the JSON is POSTed.
    pub url: String,
    /// A shared secret: when set, the body is signed with HMAC-SHA256 and the
    /// signature sent as `X-Ivcd-Signature: t=<unix seconds>,v1=<hex>` (the
    /// HMAC-SHA256 of `<t>.<body>`; see docs/alerts.md).
    #[serde(default, skip_serializing_if = "Secret::is_unset")]
    pub secret: Secret,
}

/// `[alerts.discord]`: a Discord webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The webhook URL (secret), `https://discord.com/api/webhooks/...`.
    #[serde(skip_serializing_if = "Secret::is_unset")]
    pub webhook_url: Secret,
}
