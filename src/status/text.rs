//! The status report as text for people (`ivcd status`), times in ET.

use chrono::{DateTime, Utc};

use super::*;
use crate::store::CalendarOverride;
use crate::time::et;
use crate::timetable::Slot;

pub(super) fn et_short(at: DateTime<Utc>) -> String {
    et(at).format("%a %Y-%m-%d %H:%M %Z").to_string()
}

pub(super) fn slot_line(slot: &Slot) -> String {
    format!("{} {}", slot.job, et_short(slot.at))
}

pub(super) fn hours(h: Option<(chrono::NaiveTime, chrono::NaiveTime)>) -> String {
    h.map_or_else(|| "closed".into(), |(o, c)| format!("{}-{}", o.format("%H:%M"), c.format("%H:%M")))
}

pub(super) fn override_line(o: &CalendarOverride) -> String {
    format!(
        "{}: the exchange says {} ET, the rules say {}; the exchange's answer is used ({})",
        o.date,
        hours(o.exchange),
        hours(o.rules),
        o.source
    )
}

pub(super) fn counts_line(counts: &Option<serde_json::Value>) -> String {
    let Some(serde_json::Value::Object(map)) = counts else { return String::new() };
    map.iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Number(n) => Some(format!("{k}={n}")),
            serde_json::Value::Array(a) => Some(format!("{k}={}", a.len())),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The report as text for people; times in ET.
pub fn render_text(r: &StatusReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let state = match r.state {
        State::Healthy => "healthy",
        State::Degraded => "running with problems",
        State::Down => "not running",
    };
    match &r.daemon {
        Some(d) => {
            let uptime =
                crate::time::human_duration((r.generated_at - d.started_at).num_seconds().max(0) as f64);
            let _ = writeln!(
                out,
                "ivcd {}: {state} (pid {}, up {uptime}{})",
                d.version,
                d.pid,
                if d.stopping { ", stopping" } else { "" }
            );
            if let Some(file) = &d.config_file {
                let _ = writeln!(out, "Config: {file}");
            }
        }
        None => {
            let _ = writeln!(
                out,
                "ivcd {}: {state} (no daemon answers on the status socket)",
                env!("CARGO_PKG_VERSION")
            );
            let _ = writeln!(out, "What the database knows is shown below.");
        }
    }
    let _ = writeln!(out, "As of {}", et_short(r.generated_at));
    let m = &r.market;
    let _ = writeln!(
        out,
        "Market: {}; next open {}, next close {}",
        if m.open { "open" } else { "closed" },
        et_short(m.next_open),
        et_short(m.next_close)
    );
    if let Some(t) = &m.today
        && t.early_close
    {
        let _ = writeln!(out, "  today closes early at {}", et(t.close).format("%H:%M %Z"));
    }

    let _ = writeln!(out, "\nJobs:");
    let mut table =
        crate::present::format::table(&["job", "next run", "last slot", "outcome", "took", "counts / error"]);
    for j in &r.jobs {
        let next = j.next_run.map_or_else(|| "-".into(), et_short);
        let (slot, outcome, took, detail) = match (&j.running, &j.last_run) {
            (Some(run), _) => (
                et_short(run.slot),
                "running".to_owned(),
                format!("since {}", et(run.started_at).format("%H:%M:%S")),
                String::new(),
            ),
            (None, Some(run)) => (
                et_short(run.slot),
                run.outcome.code().to_owned(),
                run.duration_seconds().map_or_else(|| "-".into(), crate::time::human_duration),
                match &run.error {
                    Some(e) => e.chars().take(80).collect(),
                    None => counts_line(&run.counts),
                },
            ),
            (None, None) => ("never".into(), "-".into(), "-".into(), String::new()),
        };
        table.add_row(vec![j.job.name().to_owned(), next, slot, outcome, took, detail]);
    }
    let _ = writeln!(out, "{table}");

    let _ = writeln!(out, "\nStore: {}", r.store.database);
    match &r.store.counts {
        Some(c) => {
            let _ = writeln!(
                out,
                "  {} earnings events from {} to {} (the next {UPCOMING_SESSIONS} sessions); {} tickers with historical moves",
                c.upcoming_events, c.upcoming_from, c.upcoming_to, c.tickers_with_history
            );
            match &c.last_scan {
                Some(s) => {
                    let tiers: BTreeMap<&str, usize> =
                        s.by_tier.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                    let order = ["excellent", "good", "marginal", "skip", "unanalysed"];
                    let by_tier: Vec<String> =
                        order.iter().filter_map(|t| tiers.get(t).map(|n| format!("{n} {t}"))).collect();
                    let requests = s.requests.map(|n| format!("; {n} provider requests")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  last scan: {} (session {}): {} candidates: {}{requests}",
                        et_short(s.slot),
                        s.session_date,
                        s.candidates,
                        if by_tier.is_empty() { "none".into() } else { by_tier.join(", ") }
                    );
                }
                None => {
                    let _ = writeln!(out, "  no scan stored yet");
                }
            }
        }
        None => {
            let _ = writeln!(out, "  cannot read: {}", r.store.error.as_deref().unwrap_or("unknown error"));
        }
    }

    if !r.providers.is_empty() {
        let _ = writeln!(out, "\nProviders:");
        for p in &r.providers {
            let ok = p
                .last_success
                .map_or_else(|| "no success yet".into(), |t| format!("last success {}", et_short(t)));
            let _ = writeln!(
                out,
                "  {}: {ok}; {} requests sent, {} in the last minute (limit {}/min)",
                p.provider, p.requests_sent, p.requests_last_minute, p.requests_per_minute
            );
            if p.retries > 0 || p.rate_limit_waits > 0 {
                let _ = writeln!(
                    out,
                    "    {} retries, {} waits for the provider's rate-limit window",
                    p.retries, p.rate_limit_waits
                );
            }
            if p.rate_limit_refusals > 0 {
                let _ = writeln!(
                    out,
                    "    {} answers refused for the vendor's rate limit (another client on the same credentials?)",
                    p.rate_limit_refusals
                );
            }
            match p.breaker {
                Some(crate::providers::resilience::BreakerState::Open { until }) => {
                    let _ = writeln!(out, "    circuit OPEN until {}", et_short(until));
                }
                Some(crate::providers::resilience::BreakerState::HalfOpen) => {
                    let _ = writeln!(out, "    circuit half-open: a probe request is in flight");
                }
                Some(crate::providers::resilience::BreakerState::Closed { consecutive_failures })
                    if consecutive_failures > 0 =>
                {
                    let _ = writeln!(out, "    circuit closed, {consecutive_failures} failed calls in a row");
                }
                _ => {}
            }
            if let Some(e) = &p.last_error {
                let _ = writeln!(out, "    last error {}: {}", et_short(e.at), e.message);
            }
        }
    }

    if !r.alerts.is_empty() {
        let count = |state| r.alerts.iter().filter(|d| d.state == state).count();
        let last_sent = r.alerts.iter().filter_map(|d| d.delivered_at).max();
        let _ = writeln!(
            out,
            "\nAlerts (last {ALERT_HISTORY_DAYS} days): {} pending, {} sent, {} failed; last sent {}",
            count(DeliveryState::Pending) + count(DeliveryState::Sending),
            count(DeliveryState::Sent),
            count(DeliveryState::Failed),
            last_sent.map_or_else(|| "never".into(), et_short)
        );
    }

    if let Some(line) = &r.reviews {
        let _ = writeln!(out, "\nReviews: {line}");
    }

    if r.problems.is_empty() {
        let _ = writeln!(out, "\nProblems: none");
    } else {
        let _ = writeln!(out, "\nProblems:");
        for p in &r.problems {
            let _ = writeln!(out, "  - [{}] {}", p.kind, p.message);
        }
    }
    out
}
