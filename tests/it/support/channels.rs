//! The alert channels pointed at local receivers, and checks on what the
//! receivers got: the webhook's signature as docs/alerts.md tells a
//! receiver to check it, Slack's Block Kit schema and limits, the email.

use hmac::{KeyInit, Mac};
use ivcd::analysis::vrp::Tier;
use ivcd::config::{AlertsConfig, DiscordConfig, EmailConfig, Secret, SlackConfig, SmtpTls, WebhookConfig};
use mail_parser::MessageParser;

use super::data::data_dir;

/// The webhook's signing secret in [`alerts`].
pub const SIGNING_SECRET: &str = "a shared secret";

/// Every channel, pointed at the local receivers; setups down to `min_tier`.
pub fn alerts(smtp_port: u16, http: &str, min_tier: Tier) -> AlertsConfig {
    AlertsConfig {
        min_tier,
        initial_backoff_seconds: 60,
        max_backoff_seconds: 600,
        timeout_seconds: 10,
        email: Some(EmailConfig {
            host: "127.0.0.1".into(),
            port: Some(smtp_port),
            tls: SmtpTls::None,
            username: None,
            password: Secret::default(),
            from: "ivcd <ivcd@example.com>".into(),
            to: vec!["trader@example.com".into(), "Desk <desk@example.com>".into()],
        }),
        slack: Some(SlackConfig { webhook_url: Secret::new(&format!("{http}/slack")) }),
        webhook: Some(WebhookConfig { url: format!("{http}/hook"), secret: Secret::new(SIGNING_SECRET) }),
        discord: Some(DiscordConfig { webhook_url: Secret::new(&format!("{http}/discord")) }),
        ..AlertsConfig::default()
    }
}

/// `config` with every channel but `channel` removed.
pub fn only(config: AlertsConfig, channel: &str) -> AlertsConfig {
    AlertsConfig {
        email: config.email.filter(|_| channel == "email"),
        slack: config.slack.filter(|_| channel == "slack"),
        webhook: config.webhook.filter(|_| channel == "webhook"),
        discord: config.discord.filter(|_| channel == "discord"),
        ..config
    }
}

pub fn parse_email(raw: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default().parse(raw).expect("the email parses")
}

/// Checks a webhook request's `X-Ivcd-Signature: t=<unix seconds>,v1=<hex>`
/// as docs/alerts.md tells a receiver to, computed here independently: `v1`
/// is the HMAC-SHA256 of `<t>.<body>` under the secret, and `t` is the real
/// time of sending (within a minute of this test's clock), even when the
/// daemon's clock is a replay's. Returns `t`.
pub fn assert_signed(request: &wiremock::Request) -> i64 {
    let header = request.headers.get("x-ivcd-signature").expect("a signature").to_str().unwrap();
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("not t=..,v1=..: {header}"));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&request.body);
    assert_eq!(v1, hex::encode(mac.finalize().into_bytes()), "{header}");
    let t: i64 = t.parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - t).abs() <= 60, "t={t} is not the time of sending ({now})");
    t
}

pub fn slack_schema() -> jsonschema::Validator {
    let path = data_dir().join("TightknitAI__slack-block-kit-validator/src/slack-block-kit.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the Block Kit schema compiles")
}

/// Asserts a Slack message is valid Block Kit within Slack's limits.
pub fn assert_valid_slack(message: &serde_json::Value) {
    let blocks = &message["blocks"];
    let errors: Vec<String> =
        slack_schema().iter_errors(blocks).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "the Slack blocks break the Block Kit schema: {errors:#?}");
    let blocks = blocks.as_array().unwrap();
    assert!(blocks.len() <= 50, "{} blocks", blocks.len());
    fn texts(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(t)) = m.get("text") {
                    out.push(t.clone());
                }
                m.values().for_each(|v| texts(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| texts(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    texts(&serde_json::Value::Array(blocks.clone()), &mut all);
    for t in all {
        assert!(t.chars().count() <= 3000, "a text of {} characters", t.chars().count());
    }
}
