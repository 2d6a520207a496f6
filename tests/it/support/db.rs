//! Reading a database the way a person with `sqlite3` would, independently
//! of ivcd's store.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// Every row of `sql`, each value as text (`NULL` for null, `<blob>` for a blob).
pub fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map([], |row| {
        (0..n)
            .map(|i| {
                row.get_ref(i).map(|v| match v {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(i) => i.to_string(),
                    ValueRef::Real(f) => f.to_string(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(_) => "<blob>".to_owned(),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The integer `sql` selects (one row, one column), e.g. a `count(*)`.
pub fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `PRAGMA integrity_check`'s answer: `ok` for a sound database.
pub fn integrity(db: &Path) -> String {
    Connection::open(db).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

/// The newest migration applied (refinery's history).
pub fn schema_version(db: &Path) -> i64 {
    count(db, "SELECT max(version) FROM refinery_schema_history")
}

/// Another process holds the database's write lock: a `sqlite3` session
/// with an open write transaction, as a user inspecting the database might.
/// The lock goes with the connection.
pub fn hold_write_lock(db: &Path) -> Connection {
    let holder = Connection::open(db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
}
