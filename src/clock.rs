//! The only place that reads the wall clock.
//!
//! Everything below `main` takes the time it runs "as of" as an argument or
//! asks a [`Clock`]; tests and replays use [`FixedClock`], and the daemon's
//! tests and `ivcd run --simulate-from` use [`SimulatedClock`].

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest a [`Clock::sleep_until`] of the system clock sleeps before it
/// reads the clock again: a suspended machine or a stepped wall clock is
/// noticed within this.
const RECHECK: Duration = Duration::from_secs(30);

/// A source of the current instant (UTC), and a way to wait for one.
#[async_trait::async_trait]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Returns once [`Clock::now`] has reached `at` (at once when it has).
    /// The default sleeps in steps of at most 30 s of tokio time and reads
    /// the clock again after each, so it follows wall-clock steps.
    async fn sleep_until(&self, at: DateTime<Utc>) {
        loop {
            let left = at - self.now();
            let Ok(left) = left.to_std() else { return };
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(RECHECK)).await;
        }
    }
}

/// The system clock, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait::async_trait]
impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "the one reader of the wall clock")]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it was told: for tests and replays, which step it
/// through a recorded day with [`FixedClock::set`].
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at` (forwards or backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

#[async_trait::async_trait]
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that starts at a chosen instant and then runs with tokio's time:
/// at real speed in a normal runtime (`ivcd run --simulate-from`, a
/// rehearsal of a past day against recorded data), and instantly from timer
/// to timer in a runtime whose time is paused (`tokio::time::pause`), which
/// is how the daemon's tests live through a month without sleeping.
///
/// Create it inside the runtime it is used in.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedClock {
    origin: DateTime<Utc>,
    started: tokio::time::Instant,
}

impl SimulatedClock {
    /// A clock that reads `origin` now.
    pub fn starting_at(origin: DateTime<Utc>) -> Self {
        Self { origin, started: tokio::time::Instant::now() }
    }
}

#[async_trait::async_trait]
impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or(chrono::Duration::MAX);
        self.origin + elapsed
    }

    async fn sleep_until(&self, at: DateTime<Utc>) {
        let Ok(offset) = (at - self.origin).to_std() else { return };
        tokio::time::sleep_until(self.started + offset).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn simulated_clock_follows_paused_time() {
        let start = DateTime::parse_from_rfc3339("2025-11-02T05:30:00Z").unwrap().with_timezone(&Utc);
        let clock = SimulatedClock::starting_at(start);
        let later = start + chrono::TimeDelta::try_hours(30).unwrap();
        clock.sleep_until(later).await;
        assert_eq!(clock.now(), later, "paused time jumps straight to the timer");
        clock.sleep_until(start).await;
        assert_eq!(clock.now(), later, "an instant in the past returns at once");
    }
}
