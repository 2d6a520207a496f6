//! The database's own tables: the alerts outbox (`ivcd notify pending`)
//! and `ivcd db check`.

use comfy_table::{Cell, CellAlignment};

use super::format::table;
use crate::time::et;

/// The alerts outbox: one row per delivery, newest report first.
pub fn outbox_table(rows: &[crate::store::Delivery]) -> String {
    if rows.is_empty() {
        return "The outbox is empty.\n".into();
    }
    let mut t = table(&[
        "report",
        "channel",
        "state",
        "attempts",
        "next attempt (ET)",
        "delivered (ET)",
        "last error",
    ]);
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or_else(|| "-".into(), |at| et(at).format("%m-%d %H:%M:%S").to_string())
    };
    for d in rows {
        let pending = matches!(d.state, crate::store::DeliveryState::Pending);
        t.add_row(vec![
            Cell::new(&d.report_key),
            Cell::new(&d.channel),
            Cell::new(d.state.code()),
            Cell::new(d.attempts).set_alignment(CellAlignment::Right),
            Cell::new(if pending { when(Some(d.next_attempt_at)) } else { "-".into() }),
            Cell::new(when(d.delivered_at)),
            Cell::new(d.last_error.as_deref().unwrap_or("")),
        ]);
    }
    format!("{t}\n")
}

/// `ivcd db check` as text: one line per finding, then the verdict.
pub fn db_check(r: &crate::store::CheckReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "database        {} ({:.1} MiB)", r.database, r.bytes as f64 / (1024.0 * 1024.0));
    let version = match r.schema_version {
        None => "none recorded: not an ivcd database yet (ivcd creates the schema on first start)".to_owned(),
        Some(v) if v > r.supported_version => format!(
            "{v}, NEWER than this ivcd knows ({}): written by a newer ivcd; install it again or restore \
             the backup taken before the upgrade",
            r.supported_version
        ),
        Some(v) if r.pending_migrations.is_empty() => format!("{v} (current)"),
        Some(v) => format!(
            "{v}; this ivcd migrates it to {} on start ({}), after backing it up",
            r.supported_version,
            r.pending_migrations.join(", ")
        ),
    };
    let _ = writeln!(out, "schema version  {version}");
    let _ = writeln!(out, "integrity       {}", r.integrity.join("; "));
    let _ = writeln!(out, "foreign keys    {} violation(s)", r.foreign_key_violations);
    let _ = writeln!(out, "{}", if r.ok() { "ok" } else { "PROBLEMS: see above" });
    out
}
