//! The exchange's own calendar: read from Tradier, stored as overrides of
//! the rules, and the calendar the daemon and the commands use.

use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::calendar::NyseCalendar;
use crate::providers::tradier::client::TradierClient;
use crate::store::Store;

/// The calendar: the rules with the exchange's overrides stored in `store` applied.
///
/// # Errors
/// When the overrides cannot be read.
pub async fn calendar_from_store(store: &Store) -> Result<NyseCalendar> {
    let overrides = store.run(|db| db.calendar_overrides()).await?;
    let mut calendar = NyseCalendar::new();
    for o in overrides {
        if let Err(e) = calendar.with_override(o.date, o.exchange) {
            tracing::warn!(error = %e, "ignoring a stored calendar override");
        }
    }
    Ok(calendar)
}

/// Reads the exchange's calendar (Tradier `/v1/markets/calendar`) for this
/// month and the next two, stores the days that disagree with the rules,
/// and logs each. A month that cannot be read keeps what was stored for it.
pub async fn check_exchange_calendar(tradier: &TradierClient, store: &Store, now: DateTime<Utc>) {
    let today = crate::time::et_date(now);
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    for month in (0..3).filter_map(|i| first.checked_add_months(chrono::Months::new(i))) {
        let days = match tradier.market_calendar(month.year(), month.month()).await {
            Ok(days) => days,
            Err(e) => {
                tracing::warn!(error = %e, month = %month.format("%Y-%m"), "cannot read the exchange's calendar; the rules are used for that month");
                continue;
            }
        };
        let rows: Vec<_> = days
            .iter()
            .filter_map(|d| {
                let rules = NyseCalendar::rule_based_session(d.date).map(|s| (s.open.time(), s.close.time()));
                (rules != d.open).then_some((d.date, d.open, rules))
            })
            .collect();
        for (date, exchange, rules) in &rows {
            tracing::warn!(%date, exchange = ?exchange, rules = ?rules, "the exchange's calendar disagrees with the rules; the exchange's answer is used");
        }
        if let (Some(first), Some(last)) =
            (days.iter().map(|d| d.date).min(), days.iter().map(|d| d.date).max())
            && let Err(e) = store
                .run(move |db| {
                    db.replace_calendar_overrides(first, last, &rows, "tradier:/v1/markets/calendar", now)
                })
                .await
        {
            tracing::error!(error = %e, "cannot store the exchange's calendar");
        }
    }
}
