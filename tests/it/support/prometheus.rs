//! Prometheus text read as a scraper reads it (prometheus-parse).

use std::collections::BTreeMap;

use prometheus_parse::{Scrape, Value};

/// The samples of `text` by name and labels (`name{k="v",...}`, labels sorted).
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("valid Prometheus text");
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> =
                s.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            labels.sort();
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let key =
                if labels.is_empty() { s.metric } else { format!("{}{{{}}}", s.metric, labels.join(",")) };
            let value = match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                other => panic!("{key}: unexpected {other:?}"),
            };
            (key, value)
        })
        .collect()
}
