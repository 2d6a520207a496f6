//! What every configuration section shares: settings with bounds
//! ([`Bounded`], collected by [`Bounds`]) and the check of a URL that
//! carries a secret ([`url_problem`]). Each section (`[tradier]`,
//! `[analysis]`, `[alerts]`, ...) is defined in the module that reads it and
//! checks its own values with these; `crate::config` assembles the sections
//! and reports every problem at once.

/// One duration, count or size setting with its valid range. Every load
/// (`ivcd check-config`, `ivcd run`, a reload) refuses a value outside the
/// range, so no setting can overflow the arithmetic it feeds;
/// docs/configuration.md states each range and `tests/it/docs.rs` checks
/// that it says what `Config::bounded_settings` says.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded {
    /// The key, e.g. `tradier.breaker.cool_down_seconds`.
    pub key: &'static str,
    /// The value as configured, as text (exact for any integer).
    pub value: String,
    /// Whether the value is within `min..=max` (false for NaN).
    pub ok: bool,
    /// The smallest valid value (in the key's unit).
    pub min: f64,
    /// The largest valid value (in the key's unit).
    pub max: f64,
    /// Whether the key takes an integer.
    pub integer: bool,
}

impl Bounded {
    /// The problem of a value out of its range, naming the key, the value
    /// and the range; `None` within it.
    pub fn problem(&self) -> Option<String> {
        (!self.ok).then(|| {
            format!(
                "{} = {} is out of range: it must be {}{}",
                self.key,
                self.value,
                if self.integer { "an integer from " } else { "a number from " },
                self.range_text()
            )
        })
    }

    /// The range as docs/configuration.md writes it: `1 to 86400`, `0.5 to 100`.
    pub fn range_text(&self) -> String {
        format!("{} to {}", self.min, self.max)
    }
}

/// Collects [`Bounded`] settings.
#[derive(Default)]
pub struct Bounds(pub Vec<Bounded>);

impl Bounds {
    /// An integer setting (`value` of any unsigned type up to 64 bits).
    pub fn int(&mut self, key: &'static str, value: impl TryInto<u64>, min: u64, max: u64) {
        let value: u64 = value.try_into().unwrap_or(u64::MAX);
        self.0.push(Bounded {
            key,
            value: value.to_string(),
            ok: (min..=max).contains(&value),
            min: min as f64,
            max: max as f64,
            integer: true,
        });
    }

    /// A number (fractional) setting.
    pub fn real(&mut self, key: &'static str, value: f64, min: f64, max: f64) {
        self.0.push(Bounded {
            key,
            value: value.to_string(),
            ok: (min..=max).contains(&value),
            min,
            max,
            integer: false,
        });
    }
}

/// Whether a problem with a URL may quote it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The URL is no secret: quote it.
    Value,
    /// The URL is a secret: name the key only.
    Hidden,
}

/// Why `url` (the value of `key`) may not be used for requests that carry a
/// secret (a token header, a key in the query, a webhook's own token or
/// signature): not an http(s) URL, plain `http` to a host other than this
/// machine (`localhost`, `127.0.0.0/8`, `::1`), which sends the secret in
/// clear text, or a user and password in the URL, which would print with it.
pub fn url_problem(key: &str, url: &str, shown: Shown) -> Option<String> {
    let quoted = if shown == Shown::Value { format!("{key} = {url:?}") } else { key.to_owned() };
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Some(format!("{quoted} is not an https URL"));
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" | "http" if !parsed.username().is_empty() || parsed.password().is_some() => Some(format!(
            "{key} holds a user name or password: remove it (credentials go in their own secret keys, which are never printed)"
        )),
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!(
            "{quoted} uses plain http to another machine, which would send its secret in clear text: use https \
             (plain http is accepted only for this machine: localhost, 127.0.0.1, ::1)"
        )),
        _ => Some(format!("{quoted} is not an https URL")),
    }
}
