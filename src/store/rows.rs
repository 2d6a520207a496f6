//! How rows are read: one named row struct per query shape, its fields the
//! columns' SQLite values read by column name ([`row_struct!`]), and one
//! mapping from it to the domain type, which parses each text with
//! [`Fields`] and names the table and column of any value that does not
//! parse ([`StoreError::Corrupt`]).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{Db, StoreError};
use crate::domain::Ticker;

/// Declares a row struct: one field per result column, of the column's
/// SQLite type (`String`, `i64`, `f64`, or their `Option` where the column
/// may be NULL), read by the column's name, and `COLUMNS`, the names in
/// the fields' order for a `SELECT`.
macro_rules! row_struct {
    ($(#[$meta:meta])* struct $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        struct $name {
            $($field: $ty,)*
        }

        impl $name {
            /// The result columns, in the fields' order.
            #[allow(dead_code, reason = "not every row struct is selected by its own column list")]
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Reads one result row by column name.
            fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(Self { $($field: row.get(stringify!($field))?,)* })
            }
        }
    };
}
pub(crate) use row_struct;

/// The columns of a row struct as a `SELECT` list, each prefixed with
/// `prefix` (a table alias and a dot, or nothing).
pub(crate) fn select_list(columns: &[&str], prefix: &str) -> String {
    columns.iter().map(|c| format!("{prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// Parses the texts of one table's row, naming the table and the column
/// of a value that does not parse.
pub(crate) struct Fields<'d, 'c> {
    db: &'d Db<'c>,
    table: &'static str,
}

impl<'d, 'c> Fields<'d, 'c> {
    /// The parser of `table`'s values.
    pub(crate) fn new(db: &'d Db<'c>, table: &'static str) -> Self {
        Self { db, table }
    }

    /// The corrupt-value error for `column`.
    pub(crate) fn corrupt(&self, column: &'static str, value: &str) -> StoreError {
        self.db.corrupt(self.table, column, value)
    }

    /// A date, `YYYY-MM-DD`.
    pub(crate) fn date(&self, column: &'static str, text: &str) -> Result<NaiveDate, StoreError> {
        NaiveDate::from_str(text).map_err(|_| self.corrupt(column, text))
    }

    /// A date that may be NULL.
    pub(crate) fn opt_date(
        &self,
        column: &'static str,
        text: Option<String>,
    ) -> Result<Option<NaiveDate>, StoreError> {
        text.map(|t| self.date(column, &t)).transpose()
    }

    /// An instant, RFC 3339.
    pub(crate) fn instant(&self, column: &'static str, text: &str) -> Result<DateTime<Utc>, StoreError> {
        parse_instant(self.db, self.table, column, text)
    }

    /// An instant that may be NULL.
    pub(crate) fn opt_instant(
        &self,
        column: &'static str,
        text: Option<String>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        text.map(|t| self.instant(column, &t)).transpose()
    }

    /// Money or a price, exact decimal text.
    pub(crate) fn decimal(&self, column: &'static str, text: &str) -> Result<Decimal, StoreError> {
        Decimal::from_str(text).map_err(|_| self.corrupt(column, text))
    }

    /// A decimal that may be NULL.
    pub(crate) fn opt_decimal(
        &self,
        column: &'static str,
        text: Option<String>,
    ) -> Result<Option<Decimal>, StoreError> {
        text.map(|t| self.decimal(column, &t)).transpose()
    }

    /// A ticker.
    pub(crate) fn ticker(&self, column: &'static str, text: &str) -> Result<Ticker, StoreError> {
        Ticker::new(text).map_err(|_| self.corrupt(column, text))
    }

    /// A code read by `parse` (a tier, a timing, a status...).
    pub(crate) fn code<T>(
        &self,
        column: &'static str,
        text: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        parse(text).ok_or_else(|| self.corrupt(column, text))
    }

    /// A code that may be NULL.
    pub(crate) fn opt_code<T>(
        &self,
        column: &'static str,
        text: Option<String>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        text.map(|t| self.code(column, &t, &parse)).transpose()
    }

    /// A stored JSON document.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
        text: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|_| self.corrupt(column, text))
    }

    /// A count stored as an integer that must fit `T` (a size, a count).
    pub(crate) fn count<T: TryFrom<i64>>(&self, column: &'static str, value: i64) -> Result<T, StoreError> {
        T::try_from(value).map_err(|_| self.corrupt(column, &value.to_string()))
    }
}

/// An instant as stored (RFC 3339), or the corrupt-value error naming the
/// table and column.
pub(crate) fn parse_instant(
    db: &Db<'_>,
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| db.corrupt(table, column, text))
}
