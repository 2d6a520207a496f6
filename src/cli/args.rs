//! The command line's dates and instants, parsed and bounded by clap
//! before anything is opened.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The largest `ivcd notify pending --days`: ten years.
pub const MAX_PENDING_DAYS: i64 = 3650;

/// Why a command-line date or instant is refused (clap prints it as the
/// usage error: `invalid value '<text>' for '--as-of <TIME>': <this>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Neither RFC 3339 nor an ET local date-time.
    #[error("{0:?}: expected RFC 3339 (2023-07-18T15:00:00-04:00) or ET local time (2023-07-18T15:00)")]
    NotAnInstant(String),
    /// An ET local time that does not exist or happens twice (daylight saving).
    #[error("{0}: not a single instant in America/New_York (daylight-saving change)")]
    NotOneInstant(String),
    /// Not a date YYYY-MM-DD.
    #[error("{0:?}: expected a date YYYY-MM-DD (2023-07-18)")]
    NotADate(String),
    /// A date outside the calendar's window.
    #[error(
        "{0}: outside {first}..{last}, the dates the NYSE calendar rules are meant for",
        first = crate::calendar::FIRST_DATE,
        last = crate::calendar::LAST_DATE
    )]
    OutsideWindow(String),
}

/// Parses an instant given on the command line (`--as-of`,
/// `--simulate-from`): RFC 3339 with an offset, or a local ET date-time
/// (`2023-07-18T15:00` or `2023-07-18 15:00`), whose ET date lies within
/// [`crate::calendar::FIRST_DATE`]..=[`crate::calendar::LAST_DATE`]. Used
/// as clap's value parser, so a bad value is a usage error before anything
/// is opened.
///
/// # Errors
/// [`ArgError`] naming the text when it is neither form, is an ET time that
/// does not exist (a daylight-saving gap), or lies outside the window.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, ArgError> {
    let at = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else {
        let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .ok_or_else(|| ArgError::NotAnInstant(text.to_owned()))?;
        local
            .and_local_timezone(crate::time::NEW_YORK)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ArgError::NotOneInstant(text.to_owned()))?
    };
    if in_window(crate::time::et_date(at)) { Ok(at) } else { Err(ArgError::OutsideWindow(text.to_owned())) }
}

/// Parses a date given on the command line (YYYY-MM-DD), within
/// [`crate::calendar::FIRST_DATE`]..=[`crate::calendar::LAST_DATE`].
///
/// # Errors
/// [`ArgError`] naming the text when it is not a date or lies outside the window.
pub fn parse_date(text: &str) -> Result<NaiveDate, ArgError> {
    let date =
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ArgError::NotADate(text.to_owned()))?;
    if in_window(date) { Ok(date) } else { Err(ArgError::OutsideWindow(text.to_owned())) }
}

/// Whether `date` lies within the calendar's window.
fn in_window(date: NaiveDate) -> bool {
    (crate::calendar::FIRST_DATE..=crate::calendar::LAST_DATE).contains(&date)
}
