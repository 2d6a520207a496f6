//! The timing audit of a ticker's past events (`ivcd moves TICKER`, issue
//! 23): the calendar's, the SEC filing's and the price gaps' timing of each
//! event, and what the filings change in the history's mean |gap|.

use super::format::{self, table};
use crate::analysis::timing_audit::TickerTimingAudit;
use crate::domain::Ticker;

/// The audit table, newest event first, then the verdict counts and the
/// change in the mean |gap move| (percentage points) where the filings
/// settle a timing and `[sec] history_uses_filing_timing` is on.
pub fn timing_audit(ticker: &Ticker, a: &TickerTimingAudit) -> String {
    if a.events.is_empty() {
        return format!("\n{ticker}: no past events to audit.\n");
    }
    let mut t = table(&[
        "report date",
        "calendar",
        "filing",
        "accepted (ET)",
        "rule",
        "gaps",
        "cal. vs filing",
        "cal. vs gaps",
        "verdict",
    ]);
    for e in a.events.iter().rev() {
        let (accepted, rule) = match &e.filing {
            Some(f) => {
                let away = e.filing_days_away.map(|d| format!(" ({d:+}d)")).unwrap_or_default();
                (
                    format!("{}{away}", f.filing.accepted_et().format("%Y-%m-%d %H:%M")),
                    f.timing.rule.to_string(),
                )
            }
            None => ("no 8-K item 2.02".to_owned(), String::new()),
        };
        t.add_row(vec![
            e.report_date.to_string(),
            format::timing(e.calendar_timing).to_owned(),
            format::timing(e.filing_timing()).to_owned(),
            accepted,
            rule,
            format::timing(e.gap_timing()).to_owned(),
            e.calendar_vs_filing.code().to_owned(),
            e.calendar_vs_gap.code().to_owned(),
            e.verdict.code().to_uppercase(),
        ]);
    }
    let count = |v| a.events.iter().filter(|e| e.verdict == v).count();
    use crate::analysis::timing_audit::Agreement;
    let mut out = format!(
        "\n{ticker}: timing audit of {} past events (calendar, SEC filing, price gaps): {} agree, {} disagree, \
         {} unknown\n{t}\n",
        a.events.len(),
        count(Agreement::Agree),
        count(Agreement::Disagree),
        count(Agreement::Unknown)
    );
    if a.changed.is_empty() {
        out.push_str("The filings change no event's timing in the history.\n");
    } else if !a.history_uses_filing_timing {
        out.push_str(&format!(
            "The filings would change {} event(s)' timing; not used ([sec] history_uses_filing_timing = false).\n",
            a.changed.len()
        ));
    } else {
        out.push_str(&format!(
            "The filings change {} event(s)' timing: mean |gap| {} with the calendar's timings, {} with the \
             filings' ({}).\n",
            a.changed.len(),
            format::pct(a.calendar_mean_abs_move),
            format::pct(a.settled_mean_abs_move),
            a.mean_abs_move_change.map_or_else(|| "n/a".to_owned(), |c| format!("{:+.2} points", c * 100.0)),
        ));
    }
    out
}
