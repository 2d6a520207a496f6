//! Bounded retries and a circuit breaker for one provider's HTTP calls.
//!
//! - **Retries** (`[PROVIDER.retry]`): only transient failures are retried
//!   (connect errors, timeouts, HTTP 408/429/5xx, Alpha Vantage's throttle
//!   note; [`ProviderError::is_transient`]), at most `max_attempts` tries in
//!   all, waiting an exponentially growing delay with full jitter between
//!   them (backon's exponential backoff, `initial_delay_ms` doubling up to
//!   `max_delay_seconds`). A 429's `Retry-After` replaces the computed delay
//!   when it is longer (capped at `max_delay_seconds`). Errors that will not
//!   change (refused credentials, a malformed body, a 404) are never retried.
//! - **Circuit breaker** (`[PROVIDER.breaker]`): after `failures` consecutive
//!   failed calls the circuit opens and every call fails at once with
//!   [`ProviderError::CircuitOpen`] for `cool_down_seconds`; then one call
//!   goes through as a probe (half-open). Its success closes the circuit,
//!   its failure opens it for another cool-down. A call counts as failed
//!   when it exhausted its retries on a transient error, or had its
//!   credentials refused; answers that say "no such data" (404, unknown
//!   symbol) show the provider is up and reset the count.
//!
//! The breaker reads time from the injected [`Clock`], so its cool-down
//! follows the daemon's clock (and tests' simulated one). Small circuit
//! breaker crates exist, but none takes an injected clock, and `ivcd status`
//! needs to read the state; this is the state machine only.

use std::sync::Mutex;
use std::time::Duration;

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProviderError;
use crate::settings::Bounds;

/// A provider's retry and breaker settings together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resilience {
    /// Retries of transient failures.
    pub retry: RetryConfig,
    /// The circuit breaker.
    pub breaker: BreakerConfig,
}

/// Retry settings of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Tries in all for one request, the first included (1 disables retries). Default 3.
    pub max_attempts: u32,
    /// The first backoff delay, milliseconds; it doubles per retry (with full jitter). Default 500.
    pub initial_delay_ms: u64,
    /// The longest wait between tries, seconds (also caps a `Retry-After`). Default 30.
    pub max_delay_seconds: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { max_attempts: 3, initial_delay_ms: 500, max_delay_seconds: 30 }
    }
}

impl RetryConfig {
    /// The bounds of its settings under `keys` (`<provider>.retry.max_attempts`,
    /// `.initial_delay_ms`, `.max_delay_seconds`): 1 to 10 tries, 1 ms to
    /// 60 s, 1 s to an hour.
    pub fn bounds(
        &self,
        b: &mut Bounds,
        [max_attempts, initial_delay_ms, max_delay_seconds]: [&'static str; 3],
    ) {
        b.int(max_attempts, self.max_attempts, 1, 10);
        b.int(initial_delay_ms, self.initial_delay_ms, 1, 60_000);
        b.int(max_delay_seconds, self.max_delay_seconds, 1, 3600);
    }

    /// The waits between the tries of one request: `max_attempts - 1`
    /// delays, exponential from `initial_delay_ms` with full jitter, each at
    /// most `max_delay_seconds`.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.initial_delay_ms))
            .with_max_delay(Duration::from_secs(self.max_delay_seconds))
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build()
    }

    /// The wait before the next try after `error`: the provider's
    /// `Retry-After` when it asks for longer than `computed`, capped at
    /// `max_delay_seconds`.
    pub fn wait_after(&self, error: &ProviderError, computed: Duration) -> Duration {
        let cap = Duration::from_secs(self.max_delay_seconds);
        match error {
            ProviderError::RateLimited { retry_after: Some(asked), .. } => (*asked).max(computed).min(cap),
            _ => computed.min(cap),
        }
    }
}

/// Circuit-breaker settings of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the circuit (0 disables the breaker). Default 5.
    pub failures: u32,
    /// How long the circuit stays open before one probe, seconds. Default 60.
    pub cool_down_seconds: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failures: 5, cool_down_seconds: 60 }
    }
}

impl BreakerConfig {
    /// The bounds of its settings under `keys` (`<provider>.breaker.failures`,
    /// `.cool_down_seconds`): 0 to 1,000 failures, 1 s to a day.
    pub fn bounds(&self, b: &mut Bounds, [failures, cool_down_seconds]: [&'static str; 2]) {
        b.int(failures, self.failures, 0, 1000);
        b.int(cool_down_seconds, self.cool_down_seconds, 1, 86_400);
    }
}

/// The breaker's state as `ivcd status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum BreakerState {
    /// Calls go through; `consecutive_failures` so far.
    Closed {
        /// Failed calls in a row.
        consecutive_failures: u32,
    },
    /// Calls fail at once until `until` (UTC).
    Open {
        /// When the probe may go (UTC).
        until: DateTime<Utc>,
    },
    /// One probe is in flight; other calls fail at once.
    HalfOpen,
}

/// What a finished call tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The provider answered (data, or "no such data").
    Answered,
    /// The provider failed (transient errors after retries, refused credentials).
    Failed,
}

impl CallOutcome {
    /// How a call's result counts.
    pub fn of<T>(result: &Result<T, ProviderError>) -> Self {
        match result {
            Ok(_) => CallOutcome::Answered,
            Err(e) if e.is_transient() || matches!(e, ProviderError::Unauthorized { .. }) => {
                CallOutcome::Failed
            }
            Err(ProviderError::Parse(_) | ProviderError::TooLarge { .. }) => CallOutcome::Failed,
            Err(_) => CallOutcome::Answered,
        }
    }
}

/// A circuit breaker (see the module docs).
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<BreakerState>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self { config, state: Mutex::new(BreakerState::Closed { consecutive_failures: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state now.
    pub fn state(&self) -> BreakerState {
        *self.lock()
    }

    /// Whether a call may go at `now`. An open circuit whose cool-down has
    /// passed lets this one call through as the probe.
    ///
    /// # Errors
    /// The instant until which the circuit stays open (for a half-open
    /// circuit, `now`: the probe's outcome decides).
    pub fn admit(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        if self.config.failures == 0 {
            return Ok(());
        }
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { .. } => Ok(()),
            BreakerState::Open { until } if now >= until => {
                *state = BreakerState::HalfOpen;
                Ok(())
            }
            BreakerState::Open { until } => Err(until),
            BreakerState::HalfOpen => Err(now),
        }
    }

    /// Records a finished call at `now`; returns the state after it.
    pub fn record(&self, outcome: CallOutcome, now: DateTime<Utc>) -> BreakerState {
        if self.config.failures == 0 {
            return self.state();
        }
        // Checked: a cool-down past chrono's range (which the configuration's
        // bounds refuse) is "open until the end of time", never a panic.
        let cool_down = crate::time::seconds(self.config.cool_down_seconds);
        let reopen =
            |now: DateTime<Utc>| now.checked_add_signed(cool_down).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut state = self.lock();
        *state = match (*state, outcome) {
            (_, CallOutcome::Answered) => BreakerState::Closed { consecutive_failures: 0 },
            (BreakerState::HalfOpen | BreakerState::Open { .. }, CallOutcome::Failed) => {
                BreakerState::Open { until: reopen(now) }
            }
            (BreakerState::Closed { consecutive_failures }, CallOutcome::Failed) => {
                let failures = consecutive_failures + 1;
                if failures >= self.config.failures {
                    BreakerState::Open { until: reopen(now) }
                } else {
                    BreakerState::Closed { consecutive_failures: failures }
                }
            }
        };
        *state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn opens_after_n_failures_probes_after_the_cool_down_and_closes_on_success() {
        let b = Breaker::new(BreakerConfig { failures: 3, cool_down_seconds: 60 });
        for i in 0..2 {
            assert!(b.admit(at(i)).is_ok());
            assert_eq!(
                b.record(CallOutcome::Failed, at(i)),
                BreakerState::Closed { consecutive_failures: (i + 1) as u32 }
            );
        }
        assert_eq!(b.record(CallOutcome::Failed, at(2)), BreakerState::Open { until: at(62) });
        assert_eq!(b.admit(at(30)), Err(at(62)), "open: fail fast");
        assert!(b.admit(at(62)).is_ok(), "the probe");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.admit(at(63)), Err(at(63)), "one probe at a time");
        assert_eq!(b.record(CallOutcome::Failed, at(64)), BreakerState::Open { until: at(124) });
        assert!(b.admit(at(124)).is_ok());
        assert_eq!(
            b.record(CallOutcome::Answered, at(125)),
            BreakerState::Closed { consecutive_failures: 0 }
        );
    }

    #[test]
    fn an_answer_resets_the_count_and_zero_disables() {
        let b = Breaker::new(BreakerConfig { failures: 2, cool_down_seconds: 60 });
        b.record(CallOutcome::Failed, at(0));
        b.record(CallOutcome::Answered, at(1));
        assert_eq!(b.record(CallOutcome::Failed, at(2)), BreakerState::Closed { consecutive_failures: 1 });
        let off = Breaker::new(BreakerConfig { failures: 0, cool_down_seconds: 60 });
        for i in 0..10 {
            off.record(CallOutcome::Failed, at(i));
            assert!(off.admit(at(i)).is_ok());
        }
    }

    #[test]
    fn a_cool_down_past_chronos_range_opens_the_circuit_for_good_without_panicking() {
        let b = Breaker::new(BreakerConfig { failures: 1, cool_down_seconds: 9_223_372_036_854_776 });
        assert_eq!(
            b.record(CallOutcome::Failed, at(0)),
            BreakerState::Open { until: DateTime::<Utc>::MAX_UTC }
        );
        assert!(b.admit(at(1_000_000_000)).is_err());
    }

    #[test]
    fn retry_delays_are_bounded_and_retry_after_wins_when_longer() {
        let r = RetryConfig { max_attempts: 4, initial_delay_ms: 100, max_delay_seconds: 2 };
        let delays: Vec<Duration> = r.delays().collect();
        assert_eq!(delays.len(), 3, "three waits between four tries");
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(4)), "{delays:?}");
        let limited = ProviderError::RateLimited {
            provider: "tradier",
            request: "x".into(),
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(r.wait_after(&limited, Duration::from_millis(100)), Duration::from_secs(1));
        let long = ProviderError::RateLimited {
            provider: "tradier",
            request: "x".into(),
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(r.wait_after(&long, Duration::from_millis(100)), Duration::from_secs(2), "capped");
        assert_eq!(RetryConfig { max_attempts: 1, ..r }.delays().count(), 0);
    }

    #[test]
    fn only_provider_failures_count() {
        let transport = ProviderError::Transport {
            provider: "tradier",
            request: "x".into(),
            message: "reset".into(),
            timeout: false,
        };
        assert_eq!(CallOutcome::of::<()>(&Err(transport)), CallOutcome::Failed);
        let missing = ProviderError::Status {
            provider: "tradier",
            request: "x".into(),
            status: 404,
            body: Default::default(),
        };
        assert_eq!(CallOutcome::of::<()>(&Err(missing)), CallOutcome::Answered);
        let refused = ProviderError::Unauthorized { provider: "tradier", request: "x".into(), status: 401 };
        assert_eq!(CallOutcome::of::<()>(&Err(refused)), CallOutcome::Failed);
    }
}
