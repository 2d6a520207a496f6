//! Secrets never leave: the one redactor every outside text passes through.
//!
//! A secret can reach a text ivcd stores, logs or sends only by coming back
//! from outside: a provider or a webhook that echoes the token in its error
//! answer ("invalid token XYZ"), an error that quotes a URL, an SMTP server
//! that repeats the login. ivcd never formats a secret itself ([`Secret`]
//! shows `<redacted>`). So the redactor sits where outside text enters:
//!
//! - every [`Secret`] registers its value here when it is read (from the
//!   file, the environment or a systemd credential, and on each reload), so
//!   the redactor knows every secret this process has held, including
//!   those a reload replaced;
//! - outside text is kept as [`Redacted`], whose only constructor replaces
//!   every registered secret (as is, percent-encoded, and the path of a
//!   secret URL) with `<redacted>`: the error bodies
//!   ([`crate::net::read_error_body`]), the parse errors of answers
//!   ([`crate::providers::ParseError`]), transport and SMTP error chains
//!   ([`Redacted::error_chain`]), and so every provider error, candidate
//!   reason, `job_runs.error`, delivery error and status entry built from
//!   them;
//! - the log writers pass every line through [`redact`] as well
//!   ([`RedactingWriter`]), so a log line cannot carry one either.
//!
//! Data answers (chains, bars) are parsed as received: redacting them could
//! change a figure.
//!

use std::borrow::Cow;
use std::fmt;
use std::sync::{LazyLock, RwLock};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// What a secret is replaced with.
pub const MASK: &str = "<redacted>";

/// Secret paths (the part of a webhook URL after the host) shorter than this
/// are not registered on their own: a short path such as `/hook` is no secret.
const MIN_SECRET_PATH: usize = 16;

/// The registered secret texts, longest first (so a secret that contains
/// another is replaced whole).
static SECRETS: LazyLock<RwLock<Vec<String>>> = LazyLock::new(RwLock::default);

/// Registers `secret` (and the forms it may come back in) for redaction.
/// Empty values are ignored; a value registered twice is kept once.
pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let mut forms = vec![secret.to_owned()];
    // As a query parameter (Alpha Vantage's key) it travels percent-encoded.
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    forms.push(encoded);
    // A webhook URL's token is its path: an echo may quote only that.
    if let Ok(url) = reqwest::Url::parse(secret) {
        let path = &url[url::Position::BeforePath..];
        if path.len() >= MIN_SECRET_PATH {
            forms.push(path.to_owned());
        }
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by [`MASK`] (borrowed when
/// there is none in it).
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

/// Text that came from outside ivcd, with every secret already replaced (see
/// the module docs). Its only constructors redact, so a field of this type
/// can never hold a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    /// `text`, redacted.
    pub fn new(text: &str) -> Self {
        Self(redact(text).into_owned())
    }

    /// An error and its sources, `a: b: c` (anyhow's alternate form), redacted.
    ///
    /// Each message is said once: a source whose text its parent's message
    /// already holds (lettre's SMTP errors repeat the server's answer that
    /// way) is not added again.
    pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            let part = cause.to_string();
            if !part.is_empty() && !text.contains(&part) {
                text.push_str(": ");
                text.push_str(&part);
            }
            source = cause.source();
        }
        Self::new(&text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Redacted {
    fn from(text: String) -> Self {
        match redact(&text) {
            Cow::Borrowed(_) => Self(text),
            Cow::Owned(clean) => Self(clean),
        }
    }
}

impl From<&str> for Redacted {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl std::fmt::Display for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for Redacted {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A log writer that redacts each line it is given (tracing-subscriber
/// writes one formatted event per `write`), for every log output.
#[derive(Debug)]
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A tracing `MakeWriter` whose writers are [`RedactingWriter`]s.
#[derive(Debug)]
pub struct Redacting<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for Redacting<M>
{
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// A secret value (token, API key, password). Never printed: `Debug` and
/// `Serialize` show `<redacted>`. Its value is registered with the redactor
/// (this module) as it is read, so an echo of it from outside is
/// redacted wherever it would be stored, logged or sent.
#[derive(Clone, Default)]
pub struct Secret(Option<SecretString>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Option::<String>::deserialize(d)?;
        if let Some(v) = &value {
            register(v);
        }
        Ok(Self(value.map(SecretString::from)))
    }
}

impl Secret {
    /// The secret's text, for the one place that sends it (a request header or query).
    pub fn expose(&self) -> Option<&str> {
        self.0.as_ref().map(ExposeSecret::expose_secret).filter(|s| !s.is_empty())
    }

    /// Whether a non-empty value is set.
    pub fn is_set(&self) -> bool {
        self.expose().is_some()
    }

    /// A secret holding `value` (for tests and programmatic configuration);
    /// registered with the redactor as any other.
    pub fn new(value: &str) -> Self {
        register(value);
        Self(Some(SecretString::from(value.to_owned())))
    }

    /// Whether no non-empty value is set (serde's `skip_serializing_if`:
    /// the printed configuration leaves an unset secret out rather than
    /// show it as `""`).
    pub fn is_unset(&self) -> bool {
        !self.is_set()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "<redacted>" } else { "<unset>" })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "<redacted>" } else { "<unset>" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_secret_is_replaced_in_every_form_it_comes_back_in() {
        register("unit-test-secret/with+odd&chars");
        register("https://hooks.example.com/services/T0001/B0001/unit-test-webhook-token");
        let echoed = "invalid token unit-test-secret/with+odd&chars (apikey=unit-test-secret%2Fwith%2Bodd%26chars), \
                      POST /services/T0001/B0001/unit-test-webhook-token refused";
        let clean = Redacted::new(echoed);
        assert!(!clean.contains("unit-test-secret") && !clean.contains("unit-test-webhook-token"), "{clean}");
        assert_eq!(clean.matches(MASK).count(), 3, "{clean}");
        assert!(matches!(redact("nothing to hide"), Cow::Borrowed(_)));
    }
}
