//! Tradier's JSON bodies as serde reads them: the private wire types of
//! each endpoint and the quirk-tolerant wrappers (`ListOrOne`, `Nullable`,
//! `WireDate`, `WireInstant`; see the parent module's list of quirks).

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};

#[derive(Deserialize)]
pub(super) struct QuotesBody {
    pub(super) quotes: Nullable<QuotesInner>,
}

#[derive(Deserialize)]
pub(super) struct QuotesInner {
    #[serde(default)]
    pub(super) quote: ListOrOne<WireQuote>,
}

#[derive(Deserialize)]
pub(super) struct WireQuote {
    pub(super) symbol: String,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) bid: Option<f64>,
    pub(super) ask: Option<f64>,
    pub(super) last: Option<f64>,
    pub(super) open: Option<f64>,
    pub(super) prevclose: Option<f64>,
    pub(super) volume: Option<u64>,
    #[serde(default)]
    pub(super) bid_date: WireInstant,
    #[serde(default)]
    pub(super) ask_date: WireInstant,
    #[serde(default)]
    pub(super) trade_date: WireInstant,
}

#[derive(Deserialize)]
pub(super) struct ExpirationsBody {
    pub(super) expirations: Nullable<ExpirationsInner>,
}

#[derive(Deserialize)]
pub(super) struct ExpirationsInner {
    #[serde(default)]
    pub(super) date: ListOrOne<WireDate>,
    #[serde(default)]
    pub(super) expiration: ListOrOne<WireExpiration>,
}

#[derive(Deserialize)]
pub(super) struct WireExpiration {
    pub(super) date: WireDate,
}

#[derive(Deserialize)]
pub(super) struct ChainBody {
    pub(super) options: Nullable<ChainInner>,
}

#[derive(Deserialize)]
pub(super) struct ChainInner {
    #[serde(default)]
    pub(super) option: ListOrOne<WireOption>,
}

#[derive(Deserialize)]
pub(super) struct WireOption {
    pub(super) symbol: String,
    pub(super) strike: f64,
    pub(super) bid: Option<f64>,
    pub(super) ask: Option<f64>,
    pub(super) last: Option<f64>,
    pub(super) volume: Option<u64>,
    pub(super) open_interest: Option<u64>,
    pub(super) underlying: Option<String>,
    pub(super) root_symbol: Option<String>,
    pub(super) option_type: Option<String>,
    pub(super) expiration_date: Option<WireDate>,
    pub(super) contract_size: Option<u32>,
    #[serde(default)]
    pub(super) greeks: Nullable<WireGreeks>,
}

#[derive(Deserialize, Default)]
pub(super) struct WireGreeks {
    pub(super) delta: Option<f64>,
    pub(super) mid_iv: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct HistoryBody {
    pub(super) history: Nullable<HistoryInner>,
}

#[derive(Deserialize)]
pub(super) struct HistoryInner {
    #[serde(default)]
    pub(super) day: ListOrOne<WireDay>,
}

#[derive(Deserialize)]
pub(super) struct WireDay {
    pub(super) date: WireDate,
    pub(super) open: Option<f64>,
    pub(super) high: Option<f64>,
    pub(super) low: Option<f64>,
    pub(super) close: Option<f64>,
    pub(super) volume: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct CalendarBody {
    pub(super) calendar: CalendarInner,
}

#[derive(Deserialize)]
pub(super) struct CalendarInner {
    pub(super) days: Nullable<DaysInner>,
}

#[derive(Deserialize)]
pub(super) struct DaysInner {
    #[serde(default)]
    pub(super) day: ListOrOne<WireCalendarDay>,
}

#[derive(Deserialize)]
pub(super) struct WireCalendarDay {
    pub(super) date: WireDate,
    pub(super) status: String,
    pub(super) open: Option<WireWindow>,
}

#[derive(Deserialize)]
pub(super) struct WireWindow {
    pub(super) start: String,
    pub(super) end: String,
}

#[derive(Deserialize)]
pub(super) struct ClockBody {
    pub(super) clock: WireClock,
}

#[derive(Deserialize)]
pub(super) struct WireClock {
    pub(super) date: WireDate,
    pub(super) state: String,
    pub(super) description: Option<String>,
    pub(super) next_state: Option<String>,
    pub(super) next_change: Option<String>,
    pub(super) timestamp: Option<i64>,
}

/// A list that Tradier may send as an array, a bare single element, `null`
/// or the string `"null"`.
pub(super) struct ListOrOne<T>(pub(super) Vec<T>);

impl<T> Default for ListOrOne<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListOrOne<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = ListOrOne<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array, a single element, null or \"null\"")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListOrOne(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListOrOne(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "null" {
                    return Ok(ListOrOne(Vec::new()));
                }
                T::deserialize(v.into_deserializer()).map(|one| ListOrOne(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ListOrOne(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|one| ListOrOne(vec![one]))
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// An object that Tradier may send as `null` or the string `"null"` instead.
pub(super) struct Nullable<T>(pub(super) Option<T>);

impl<T> Default for Nullable<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NullableVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for NullableVisitor<T> {
            type Value = Nullable<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object, null or \"null\"")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Nullable(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Nullable(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "null" {
                    Ok(Nullable(None))
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|value| Nullable(Some(value)))
            }
        }
        deserializer.deserialize_any(NullableVisitor(PhantomData))
    }
}

/// A `YYYY-MM-DD` date.
pub(super) struct WireDate(pub(super) NaiveDate);

impl<'de> Deserialize<'de> for WireDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl Visitor<'_> for DateVisitor {
            type Value = WireDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date as \"YYYY-MM-DD\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map(WireDate)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(DateVisitor)
    }
}

/// An instant that Tradier sends as epoch milliseconds (0 meaning never) or,
/// in 2013, as an ISO-8601 string with offset; `null` is never.
#[derive(Default)]
pub(super) struct WireInstant(pub(super) Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for WireInstant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InstantVisitor;
        impl Visitor<'_> for InstantVisitor {
            type Value = WireInstant;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds, an ISO-8601 date-time, or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(WireInstant(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(WireInstant(None))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v == 0 {
                    return Ok(WireInstant(None));
                }
                DateTime::from_timestamp_millis(v)
                    .map(|t| WireInstant(Some(t)))
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let signed =
                    i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
                self.visit_i64(signed)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // Integral milliseconds written with a decimal point; anything
                // else is not a time stamp.
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    #[allow(
                        clippy::cast_possible_truncation,
                        reason = "integral and within 9e15, so exact"
                    )]
                    return self.visit_i64(v as i64);
                }
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| WireInstant(Some(t.with_timezone(&Utc))))
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(InstantVisitor)
    }
}
