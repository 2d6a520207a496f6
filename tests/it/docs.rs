//! The documentation against the program: every `ivcd` command in the docs
//! parses; the commands of docs/operations.md and docs/schema.md run against
//! the database the real CVNA replay leaves; schema.md documents every table,
//! view and column; configuration.md documents every key with the code's
//! default, as the example file sets it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Parser;

use crate::support::{cvna_copy, repo};

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The fenced blocks tagged `lang` in `markdown` (fences may be indented, as
/// in lists), each as its lines with the fence's indentation removed.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == format!("```{lang}") => current = Some((indent, String::new())),
            Some((_, text)) if trimmed == "```" => {
                out.push(std::mem::take(text));
                current = None;
            }
            Some((indent, text)) => {
                text.push_str(line.get(*indent..).unwrap_or(trimmed));
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

/// The shell commands of `sh` blocks: continuation lines joined, comments
/// and `$ ` prompts removed, `sudo -u ivcd` / `sudo` prefixes dropped.
fn shell_commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in blocks(markdown, "sh") {
        let joined = block.replace("\\\n", " ");
        for line in joined.lines() {
            let mut line = line.trim();
            line = line.strip_prefix("$ ").unwrap_or(line);
            for prefix in ["sudo -u ivcd ", "sudo "] {
                line = line.strip_prefix(prefix).unwrap_or(line);
            }
            if !line.is_empty() && !line.starts_with('#') {
                out.push(line.to_owned());
            }
        }
    }
    out
}

/// The words of an `ivcd` command line (`cargo run --` counts as `ivcd`), up
/// to a pipe, `&&`, a redirection or a comment; `None` when the line does not
/// run ivcd.
pub(crate) fn ivcd_argv(line: &str) -> Option<Vec<String>> {
    let line = match line.strip_prefix("cargo run -- ") {
        Some(rest) => format!("ivcd {rest}"),
        None => line.to_owned(),
    };
    if !line.starts_with("ivcd ") {
        return None;
    }
    let end = [" | ", " && ", " > ", " # ", "; "].iter().filter_map(|sep| line.find(sep)).min();
    let command = &line[..end.unwrap_or(line.len())];
    Some(shlex::split(command).unwrap_or_else(|| panic!("unbalanced quotes: {line}")))
}

#[test]
fn every_ivcd_command_in_the_docs_parses() {
    let mut files: Vec<String> = vec!["README.md".into(), "systemd/README.md".into()];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    let mut parsed = 0;
    for file in &files {
        for line in shell_commands(&read(file)) {
            let Some(argv) = ivcd_argv(&line) else { continue };
            match ivcd::cli::Cli::try_parse_from(&argv) {
                Ok(_) => {}
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => {}
                Err(e) => panic!("{file}: `{line}` does not parse:\n{e}"),
            }
            parsed += 1;
        }
    }
    println!("docs: {parsed} ivcd commands parse");
    assert!(parsed >= 12, "only {parsed} commands found: is the block parser broken?");
}

/// A scratch machine: the replayed CVNA database at `var/lib/ivcd/ivcd.db`
/// and a configuration naming it at `etc/ivcd/ivcd.toml`, under one
/// temporary root that stands in for `/`.
struct Scratch {
    root: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        // Not under /tmp: the docs' own /tmp/ paths are moved under the root.
        let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        for dir in ["var/lib/ivcd", "etc/ivcd", "run/ivcd", "tmp", "var/lib/prometheus/node-exporter"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        cvna_copy(&root.path().join("var/lib/ivcd"));
        let config = format!(
            "database = {:?}\n[daemon]\nstatus_socket = {:?}\n",
            root.path().join("var/lib/ivcd/ivcd.db"),
            root.path().join("run/ivcd/status.sock")
        );
        std::fs::write(root.path().join("etc/ivcd/ivcd.toml"), config).unwrap();
        Self { root }
    }

    fn db(&self) -> PathBuf {
        self.root.path().join("var/lib/ivcd/ivcd.db")
    }

    /// `word` with the absolute paths the docs use moved under the root.
    fn place(&self, word: &str) -> String {
        let root = self.root.path().display().to_string();
        let mut out = String::new();
        let mut rest = word;
        // One pass, left to right: a path starts the word or follows a character
        // that cannot be part of a path (a quote, `=`).
        let mut previous: Option<char> = None;
        while let Some(c) = rest.chars().next() {
            let starts_path = previous.is_none_or(|p| !(p.is_alphanumeric() || "._-/".contains(p)));
            let prefix = ["/etc/ivcd/", "/var/lib/ivcd", "/var/lib/prometheus/", "/tmp/"]
                .into_iter()
                .find(|p| starts_path && rest.starts_with(p));
            if let Some(prefix) = prefix {
                out.push_str(&root);
                out.push_str(prefix);
                rest = &rest[prefix.len()..];
                previous = prefix.chars().last();
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                previous = Some(c);
            }
        }
        out
    }
}

/// The subcommands a documentation example may run here: they read the
/// database or write only under the scratch root. The others call providers,
/// send alerts or start the daemon.
const RUNNABLE: [&str; 9] = [
    "check-config",
    "db",
    "status",
    "moves",
    "report",
    "calendar",
    "generate",
    "notify pending",
    "--version",
];

fn runnable(argv: &[String]) -> bool {
    let rest: Vec<&str> = argv[1..]
        .iter()
        .map(String::as_str)
        .skip_while(|w| w.starts_with("--config") || w.ends_with(".toml"))
        .collect();
    let joined = rest.join(" ");
    RUNNABLE.iter().any(|r| joined == *r || joined.starts_with(&format!("{r} ")))
}

#[test]
fn the_example_commands_of_operations_and_schema_run_on_a_replayed_database() {
    let scratch = Scratch::new();
    let mut ran = Vec::new();
    for file in ["docs/operations.md", "docs/schema.md"] {
        for line in shell_commands(&read(file)) {
            if let Some(argv) = ivcd_argv(&line) {
                if !runnable(&argv) {
                    continue;
                }
                let mut args: Vec<String> = argv[1..].iter().map(|w| scratch.place(w)).collect();
                if !args.iter().any(|a| a == "--config") {
                    let config = scratch.place("/etc/ivcd/ivcd.toml");
                    args.splice(0..0, ["--config".to_owned(), config]);
                }
                let out = crate::support::cmd::ivcd_std().args(&args).stdin(Stdio::null()).output().unwrap();
                // `ivcd status` exits 3 here: no daemon runs (it still reports the database).
                let status_text =
                    args.iter().any(|a| a == "status") && !args.iter().any(|a| a == "--prometheus");
                let expected = if status_text { 3 } else { 0 };
                assert_eq!(
                    out.status.code(),
                    Some(expected),
                    "{file}: `{line}`\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                ran.push(line);
            } else if line.starts_with("sqlite3 ") {
                run_sqlite3(&scratch, &line, file);
                ran.push(line);
            }
        }
    }
    println!("docs: {} example commands ran", ran.len());
    for must in ["db backup", "db check", "check-config", "status --prometheus", "sqlite3 "] {
        assert!(ran.iter().any(|l| l.contains(must)), "no `{must}` example ran: {ran:#?}");
    }
    // The backups the examples made are sound copies.
    let backup = scratch.root.path().join("var/lib/ivcd/ivcd-backup.db");
    let conn = rusqlite::Connection::open(&backup).unwrap();
    let events: i64 = conn.query_row("SELECT count(*) FROM earnings_events", [], |r| r.get(0)).unwrap();
    assert!(events > 0);
}

/// Runs a documented `sqlite3 [options] DB ['SQL']` line with the sqlite3
/// CLI (installed by .ci/run), or, where it is missing, its SQL through
/// rusqlite on the same file.
fn run_sqlite3(scratch: &Scratch, line: &str, file: &str) {
    let words: Vec<String> = shlex::split(line)
        .unwrap_or_else(|| panic!("{file}: unbalanced quotes: {line}"))
        .into_iter()
        .collect();
    let words: Vec<String> = words.iter().map(|w| scratch.place(w)).collect();
    let have_cli = Command::new("sqlite3").arg("-version").output().is_ok_and(|o| o.status.success());
    if have_cli {
        let mut cmd = Command::new("sqlite3");
        cmd.arg("-bail").args(&words[1..]).stdin(Stdio::null());
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{file}: `{line}`\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let positional: Vec<&String> = words[1..].iter().filter(|w| !w.starts_with('-')).collect();
    let db = positional.first().unwrap_or_else(|| panic!("{file}: no database in `{line}`"));
    let conn = rusqlite::Connection::open(db.as_str()).unwrap();
    if let Some(sql) = positional.get(1) {
        run_sql(&conn, sql).unwrap_or_else(|e| panic!("{file}: `{line}`: {e}"));
    }
}

/// Runs every statement of `sql`, stepping through the rows.
fn run_sql(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<usize> {
    let mut rows_seen = 0;
    let mut rest = sql.trim();
    while !rest.is_empty() {
        let end = rest.find(';').map_or(rest.len(), |i| i + 1);
        let statement = rest[..end].trim();
        rest = rest[end..].trim();
        if statement.trim_end_matches(';').trim().is_empty() {
            continue;
        }
        let mut stmt = conn.prepare(statement)?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {
            rows_seen += 1;
        }
    }
    Ok(rows_seen)
}

#[test]
fn schema_md_documents_every_table_view_and_column_and_its_queries_run() {
    let scratch = Scratch::new();
    let conn = rusqlite::Connection::open(scratch.db()).unwrap();
    let markdown = read("docs/schema.md");

    // Sections named like a table: `## name`.
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            current = name.chars().all(|c| c.is_ascii_lowercase() || c == '_').then(|| name.to_owned());
            if let Some(name) = &current {
                documented.insert(name.clone(), BTreeSet::new());
            }
        } else if let (Some(table), Some(cell)) = (&current, line.strip_prefix("| `")) {
            let column = cell.split('`').next().unwrap();
            documented.get_mut(table).unwrap().insert(column.to_owned());
        }
    }
    let mut actual: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')
             AND name NOT LIKE 'sqlite_%' AND name != 'refinery_schema_history'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for name in names {
        let columns: BTreeSet<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_xinfo('{name}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        actual.insert(name, columns);
    }
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "schema.md's table sections against the database"
    );
    for (table, columns) in &actual {
        assert_eq!(&documented[table], columns, "schema.md's columns of {table}");
    }

    let queries = blocks(&markdown, "sql");
    let mut with_rows = 0;
    for sql in &queries {
        let rows = run_sql(&conn, sql).unwrap_or_else(|e| panic!("schema.md query failed: {e}\n{sql}"));
        with_rows += usize::from(rows > 0);
    }
    println!("docs: {} schema.md queries ran, {with_rows} returned rows on the CVNA replay", queries.len());
    assert!(queries.len() >= 10 && with_rows >= queries.len() / 2, "{with_rows} of {}", queries.len());
}

/// A key's path in the configuration and its value as TOML.
fn leaves(value: &toml::Value, prefix: &str, out: &mut BTreeMap<String, toml::Value>) {
    match value {
        toml::Value::Table(table) => {
            for (key, v) in table {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                leaves(v, &path, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn parse_value(literal: &str) -> toml::Value {
    let table: toml::Table =
        toml::from_str(&format!("v = {literal}")).unwrap_or_else(|e| panic!("`{literal}` is not TOML: {e}"));
    table["v"].clone()
}

#[test]
fn configuration_md_documents_every_key_with_the_codes_default_as_the_example_sets_it() {
    // The documented keys and their Default and Valid values cells.
    let markdown = read("docs/configuration.md");
    let mut documented: BTreeMap<String, String> = BTreeMap::new();
    let mut valid: BTreeMap<String, String> = BTreeMap::new();
    for line in markdown.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let key = cells[0].trim_start_matches("| ").trim_matches('`').to_owned();
        assert!(documented.insert(key.clone(), cells[1].trim().to_owned()).is_none(), "{key} twice");
        valid.insert(key, cells[2].trim().to_owned());
    }

    // The example file's keys, set or commented out, with their values.
    let mut example: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in read("config/ivcd.example.toml").lines() {
        let (commented, text) = match line.strip_prefix('#') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, line.trim()),
        };
        if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.') {
                section = name.to_owned();
            }
            continue;
        }
        let Some((key, value)) = text.split_once(" = ") else { continue };
        if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        let path = if section.is_empty() { key.to_owned() } else { format!("{section}.{key}") };
        example.insert(path, (!commented).then(|| value.trim().to_owned()));
    }
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        example.keys().collect::<Vec<_>>(),
        "configuration.md's keys against config/ivcd.example.toml's"
    );

    // The code's defaults, with every alert channel configured (their
    // required keys given) so that the channels' own defaults show.
    let channels = r#"
        [alerts.email]
        host = "smtp.example.com"
        from = "ivcd <ivcd@example.com>"
        to = ["trader@example.com"]
        [alerts.slack]
        webhook_url = "https://hooks.slack.com/services/x"
        [alerts.webhook]
        url = "https://example.com/ivcd"
        [alerts.discord]
        webhook_url = "https://discord.com/api/webhooks/x"
    "#;
    let config: ivcd::config::Config =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(channels))
            .extract()
            .expect("the channels' required keys");
    let mut defaults = BTreeMap::new();
    leaves(&toml::Value::try_from(&config).unwrap(), "", &mut defaults);
    for given in ["alerts.email.host", "alerts.email.from", "alerts.email.to", "alerts.webhook.url"] {
        defaults.remove(given);
    }
    for secret in ["alerts.slack.webhook_url", "alerts.discord.webhook_url"] {
        defaults.remove(secret);
    }

    for (key, cell) in &documented {
        let code = defaults.get(key).filter(|v| v.as_str() != Some(""));
        if cell == "unset" {
            assert!(code.is_none(), "{key}: documented unset, the code's default is {code:?}");
            assert!(example[key].is_none(), "{key}: documented unset, the example sets it");
            continue;
        }
        let literal = cell.trim_matches('`');
        if key == "daemon.status_socket" {
            assert_eq!(literal, "$XDG_RUNTIME_DIR/ivcd/ivcd.sock");
            let default = ivcd::config::daemon::default_status_socket();
            assert_eq!(code, Some(&toml::Value::String(default.display().to_string())));
            assert!(default.ends_with("ivcd.sock"), "{}", default.display());
            continue;
        }
        if key == "database" {
            // The user's state directory, not a literal.
            assert_eq!(literal, "$XDG_STATE_HOME/ivcd/ivcd.db");
            let default = ivcd::config::default_database();
            assert_eq!(code, Some(&toml::Value::String(default.display().to_string())));
            assert!(default.ends_with("ivcd/ivcd.db"), "{}", default.display());
            continue;
        }
        let value = parse_value(literal);
        assert_eq!(Some(&value), code, "{key}: configuration.md says {literal}");
        if let Some(set) = &example[key] {
            assert_eq!(parse_value(set), value, "{key}: the example sets {set}");
        }
    }
    let undocumented: Vec<&String> = defaults.keys().filter(|k| !documented.contains_key(*k)).collect();
    assert!(undocumented.is_empty(), "keys the code has and configuration.md lacks: {undocumented:?}");
    println!("docs: {} configuration keys documented with the code's defaults", documented.len());

    // Every integer setting (a duration, count or size) has bounds that the
    // code enforces, and the Valid values cell states them.
    let with_port = {
        let mut c = config.clone();
        if let Some(email) = c.alerts.email.as_mut() {
            email.port = Some(587);
        }
        c
    };
    let port_key = "alerts.email.port".to_owned();
    let bounded = with_port.bounded_settings();
    let bounded_keys: BTreeSet<&str> = bounded.iter().map(|b| b.key).collect();
    let mut integers: Vec<&String> = defaults
        .iter()
        .filter(|(_, v)| match v {
            toml::Value::Integer(_) => true,
            toml::Value::Array(items) => items.iter().any(toml::Value::is_integer),
            _ => false,
        })
        .map(|(k, _)| k)
        .collect();
    integers.push(&port_key);
    for key in integers {
        assert!(bounded_keys.contains(key.as_str()), "{key} is an integer setting without bounds");
    }
    for b in &bounded {
        let cell = &valid[b.key];
        let kind = if b.integer { "integer" } else { "number" };
        assert!(cell.contains(kind), "{}: the Valid values cell does not say {kind}: {cell}", b.key);
        let range = b.range_text();
        let stated = cell.match_indices(&range).any(|(at, _)| {
            let before = cell[..at].chars().next_back();
            let after = cell[at + range.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
                && !after.is_some_and(|c| c.is_ascii_digit() || c == '.')
        });
        assert!(
            stated,
            "{}: the Valid values cell does not give the code's range {}: {cell}",
            b.key,
            b.range_text()
        );
        assert!(b.ok, "{}: the default {} is outside its own bounds", b.key, b.value);
    }
    println!("docs: {} bounded settings documented with the code's ranges", bounded_keys.len());
}
