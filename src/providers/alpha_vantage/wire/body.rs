//! Alpha Vantage's JSON bodies as serde reads them: the wire types of each
//! endpoint, the notice keys and `Entries` (an object read in its order).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// The notice keys of a body; fails (cheaply) at the first other key.
pub(super) struct NoticeKeys {
    pub(super) note: Option<String>,
    pub(super) information: Option<String>,
    pub(super) error: Option<String>,
}

impl<'de> Deserialize<'de> for NoticeKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NoticeVisitor;
        impl<'de> Visitor<'de> for NoticeVisitor {
            type Value = NoticeKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of Note / Information / Error Message")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = NoticeKeys { note: None, information: None, error: None };
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "Note" => &mut keys.note,
                        "Information" => &mut keys.information,
                        "Error Message" => &mut keys.error,
                        _ => return Err(de::Error::custom("a data key: not a notice")),
                    };
                    let value: serde_json::Value = map.next_value()?;
                    *slot = Some(match value {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    });
                }
                if keys.note.is_none() && keys.information.is_none() && keys.error.is_none() {
                    return Err(de::Error::custom("an empty object: not a notice"));
                }
                Ok(keys)
            }
        }
        deserializer.deserialize_map(NoticeVisitor)
    }
}

#[derive(Deserialize)]
pub(super) struct EarningsBody {
    pub(super) symbol: Option<String>,
    #[serde(rename = "quarterlyEarnings")]
    pub(super) quarterly_earnings: Option<Vec<WireQuarter>>,
}

#[derive(Deserialize)]
pub(super) struct WireQuarter {
    #[serde(rename = "reportedDate")]
    pub(super) reported_date: String,
    #[serde(rename = "reportTime")]
    pub(super) report_time: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct DailyBody {
    #[serde(rename = "Time Series (Daily)")]
    pub(super) series: Option<Entries<WireDailyBar>>,
}

#[derive(Deserialize)]
pub(super) struct WireDailyBar {
    #[serde(rename = "1. open")]
    pub(super) open: Option<String>,
    #[serde(rename = "2. high")]
    pub(super) high: Option<String>,
    #[serde(rename = "3. low")]
    pub(super) low: Option<String>,
    #[serde(rename = "4. close")]
    pub(super) close: Option<String>,
    #[serde(rename = "5. volume")]
    pub(super) volume: Option<String>,
    #[serde(rename = "6. volume")]
    pub(super) volume_adjusted: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct HistoricalBody {
    pub(super) message: Option<String>,
    pub(super) data: Option<Vec<WireHistoricalRow>>,
}

#[derive(Deserialize)]
pub(super) struct WireHistoricalRow {
    #[serde(rename = "contractID")]
    pub(super) contract_id: Option<String>,
    pub(super) symbol: Option<String>,
    pub(super) expiration: Option<String>,
    pub(super) strike: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) date: Option<String>,
    pub(super) last: Option<String>,
    pub(super) bid: Option<String>,
    pub(super) ask: Option<String>,
    pub(super) volume: Option<String>,
    pub(super) open_interest: Option<String>,
    pub(super) implied_volatility: Option<String>,
    pub(super) delta: Option<String>,
}

/// A JSON object's entries in body order, duplicates kept (a map type
/// would silently keep only the last of a repeated key).
pub(super) struct Entries<V>(pub(super) Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}
