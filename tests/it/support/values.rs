//! Values written the short way: dates, instants, tickers, clocks.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use ivcd::clock::FixedClock;
use ivcd::domain::Ticker;

/// `YYYY-MM-DD`.
pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap_or_else(|e| panic!("not a date {text:?}: {e}"))
}

/// An RFC 3339 instant with its offset, as UTC.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not an RFC 3339 instant {text:?}: {e}"))
        .with_timezone(&Utc)
}

/// The instant of a New York wall-clock time (`y-m-d hour:minute` ET).
pub fn et(y: i32, m: u32, d: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    New_York.with_ymd_and_hms(y, m, d, hour, minute, 0).single().unwrap().with_timezone(&Utc)
}

/// A valid ticker.
pub fn ticker(text: &str) -> Ticker {
    Ticker::new(text).unwrap_or_else(|e| panic!("not a ticker {text:?}: {e}"))
}

/// A clock that stands at `t` until moved.
pub fn clock_at(t: DateTime<Utc>) -> Arc<FixedClock> {
    Arc::new(FixedClock::new(t))
}
