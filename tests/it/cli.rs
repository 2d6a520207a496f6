//! The `ivcd` binary as a user runs it.

use crate::support::ivcd;

#[test]
fn check_config_exits_78_and_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[tradier]\nrequests_per_minute = 0\n[analysis]\nmin_events = 0\n").unwrap();
    let out = ivcd().args(["check-config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tradier.requests_per_minute") && err.contains("analysis.min_events"), "{err}");
}

/// Values that do not even read (a wrong type, an unknown key, a word that
/// is not a tier) are each listed, with values out of range, each with its
/// key as the file writes it and the file's line; a value from the
/// environment names its variable.
#[test]
fn check_config_lists_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = "database = 7\n[scan]\nconcurrency = \"many\"\n[analysis]\nmin_history = 3\n\
                [alerts]\nmin_tier = \"superb\"\n[tradier]\nrequests_per_minute = 0\n";
    std::fs::write(&bad, text).unwrap();
    let out = ivcd()
        .args(["check-config"])
        .arg(&bad)
        .env("IVCD_DAEMON__DRAIN_TIMEOUT_SECONDS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = bad.display();
    for (key, line) in [
        ("database", 1),
        ("scan.concurrency", 3),
        ("analysis.min_history", 5),
        ("alerts.min_tier", 7),
        ("tradier.requests_per_minute", 9),
    ] {
        let said = err
            .lines()
            .find(|l| l.starts_with(&format!("  - {key}")))
            .unwrap_or_else(|| panic!("{key}: {err}"));
        assert!(said.ends_with(&format!("({file}, line {line})")), "{key}: {said}");
    }
    assert!(err.contains("(from the environment: IVCD_DAEMON__DRAIN_TIMEOUT_SECONDS)"), "{err}");
    assert!(!err.contains("default."), "{err}");
}

#[test]
fn check_config_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ivcd.toml");
    std::fs::write(&file, "[tradier]\ntoken = \"tok-123-secret\"\n").unwrap();
    let out = ivcd()
        .arg("check-config")
        .arg(&file)
        .env("IVCD_ALPHA_VANTAGE__API_KEY", "av-456-secret")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("tok-123-secret") && !text.contains("av-456-secret"), "{text}");
    assert_eq!(text.matches("<redacted>").count(), 2, "{text}");
}

#[test]
fn calendar_json_has_the_documented_shape() {
    let out = ivcd().args(["calendar", "2023-11-22", "2023-11-27", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dates: Vec<&str> = v.as_array().unwrap().iter().map(|s| s["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2023-11-22", "2023-11-24", "2023-11-27"], "Thanksgiving closed, weekend skipped");
    assert_eq!(v[1]["close"], "2023-11-24T13:00:00-05:00");
    assert_eq!(v[1]["early_close"], true);
}

#[test]
fn replay_prints_the_cvna_setup_and_writes_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cvna.db");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/cvna-2023q2.toml");
    let out = ivcd()
        .args(["replay", scenario, "--data-dir"])
        .arg(crate::support::data_dir())
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let row = text.lines().find(|l| l.contains("CVNA") && l.contains("BMO")).expect("CVNA row");
    for figure in ["2023-07-21", "36.83", "4.77", "12.96%", "12.98%", "1.00", "skip", "7h 09m"] {
        assert!(row.contains(figure), "{figure} missing from {row}");
    }
    assert!(db.is_file());
}

#[test]
fn bad_scenario_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "name = \"x\"\n").unwrap();
    let out = ivcd().arg("replay").arg(&file).arg("--db").arg(dir.path().join("x.db")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.toml") && err.contains("missing field"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_reports_each_channel_and_the_exact_failure() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let http = MockServer::start().await;
    Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)).mount(&http).await;
    Mock::given(path("/slack-token-xyz"))
        .respond_with(ResponseTemplate::new(403).set_body_string("invalid_token"))
        .mount(&http)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ivcd.toml");
    let uri = http.uri();
    let db = dir.path().join("ivcd.db");
    std::fs::write(
        &file,
        format!(
            "database = {db:?}\n[alerts.webhook]\nurl = \"{uri}/hook\"\n[alerts.slack]\nwebhook_url = \"{uri}/slack-token-xyz\"\n"
        ),
    )
    .unwrap();

    let out = ivcd().arg("--config").arg(&file).args(["notify", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("webhook: sent"), "{stdout}");
    assert!(stdout.contains("slack: FAILED: Slack: HTTP 403 Forbidden: invalid_token"), "{stdout}");
    let printed = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!printed.contains("slack-token-xyz"), "the Slack URL is a secret: {printed}");
    let hooks: Vec<_> =
        http.received_requests().await.unwrap().into_iter().filter(|r| r.url.path() == "/hook").collect();
    let body: serde_json::Value = serde_json::from_slice(&hooks[0].body).unwrap();
    assert_eq!(body["kind"], "test");

    let only =
        ivcd().arg("--config").arg(&file).args(["notify", "test", "--channel", "webhook"]).output().unwrap();
    assert!(only.status.success(), "{}", String::from_utf8_lossy(&only.stdout));
    let missing =
        ivcd().arg("--config").arg(&file).args(["notify", "test", "--channel", "email"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not configured"));

    let shown = ivcd().arg("check-config").arg(&file).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("[alerts.slack]") && !shown.contains("slack-token-xyz"), "{shown}");
}

#[test]
fn every_argument_is_checked_before_a_database_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let config = crate::support::config_file(dir.path(), &db);
    let commands: [&[&str]; 8] = [
        &["scan", "--as-of", "yesterday"],
        &["review", "--as-of", "yesterday"],
        &["refresh-calendar", "--as-of", "2023-13-01T15:00"],
        &["backfill", "CVNA", "--as-of=-100000-01-01T15:00:00Z"],
        &["backtest", "CVNA", "--since", "tomorrow"],
        &["run", "--simulate-from", "2123-07-18T15:00"],
        &["report", "--since", "1066-10-14"],
        &["notify", "pending", "--days", "100000000"],
    ];
    for args in commands {
        let out = crate::support::ivcd_config(&config).current_dir(dir.path()).args(args).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: a usage error: {said}");
        assert!(said.contains("invalid value"), "{args:?}: {said}");
        assert!(!db.exists(), "{args:?} created the database before rejecting its argument");
    }
}

#[test]
fn a_calendar_range_beyond_the_rules_window_is_refused() {
    let out = ivcd().args(["calendar", "--", "-100000-01-01", "2020-01-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing listed");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("outside 1990-01-01..2099-12-31"), "{said}");
    // The whole window is accepted, and bounded.
    let out = ivcd().args(["calendar", "1990-01-01", "2099-12-31"]).output().unwrap();
    assert!(out.status.success());
    let sessions = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!((27_000..28_500).contains(&sessions), "{sessions} sessions in 110 years");
}

/// Runs `args` with stdout a pipe whose reader is gone before ivcd writes
/// (as `ivcd ... | head -0` would leave it), and returns the exit code and stderr.
fn with_closed_stdout(config: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = crate::support::cmd::ivcd_std()
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once: every write ivcd makes meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_stdout_ends_the_output_quietly_with_the_commands_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::cvna_copy(dir.path());
    let config = crate::support::config_file(dir.path(), &db);
    let cases: [(&[&str], i32); 8] = [
        (&["moves", "CVNA"], 0),
        (&["moves", "CVNA", "--json"], 0),
        (&["calendar", "1990-01-01", "2099-12-31"], 0),
        (&["calendar", "1990-01-01", "2099-12-31", "--json"], 0),
        (&["report"], 0),
        (&["generate", "completions", "bash"], 0),
        (&["check-config"], 0),
        // No daemon answers: `status` still exits 3, as it would on a terminal.
        (&["status", "--json"], 3),
    ];
    for (args, code) in cases {
        let (status, stderr) = with_closed_stdout(&config, args);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
    }
}

/// One case per row of docs/operations.md's exit-code table that a command
/// can reach without a daemon or a provider: the code, and the words that
/// say why.
#[test]
fn exit_codes_follow_the_documented_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let config = crate::support::config_file(dir.path(), &db);
    let run = |args: &[&str]| {
        let out = crate::support::cmd::ivcd_config(&config).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // 66: a command that only reads, before anything is stored; no file is made.
    let backup = dir.path().join("copy.db");
    let backup = backup.to_str().unwrap();
    let readers: [&[&str]; 5] = [
        &["moves", "CVNA"],
        &["report"],
        &["notify", "pending"],
        &["db", "check"],
        &["db", "backup", backup],
    ];
    for args in readers {
        let (code, _, stderr) = run(args);
        assert_eq!(code, Some(66), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("no database at {}", db.display())), "{args:?}: {stderr}");
        assert!(!db.exists(), "{args:?} created the database");
    }
    // 3: status without a daemon, which says there is no database.
    let (code, stdout, _) = run(&["status"]);
    assert_eq!(code, Some(3));
    assert!(stdout.contains("no database at"), "{stdout}");
    assert!(!db.exists());
    // 2: usage, before anything is opened.
    for args in [&["moves"][..], &["notify", "pending", "--days", "100000000"], &["no-such-command"]] {
        assert_eq!(run(args).0, Some(2), "{args:?}");
    }
    assert!(!db.exists());
    // 0: done.
    assert_eq!(run(&["calendar", "2025-01-02", "2025-01-03"]).0, Some(0));
    // 1: a backfill whose only ticker failed (no provider configured) says
    // so and exits 1; what ran is stored (the job's run).
    let (code, _, stderr) = run(&["backfill", "CVNA"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("1 of 1 tickers failed") && stderr.contains("CVNA: no provider configured"),
        "{stderr}"
    );
    let runs: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM job_runs WHERE job = 'backfill'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1);
    // Now the readers find the database.
    assert_eq!(run(&["report"]).0, Some(0));
    // 78: an invalid configuration.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "database = 7\n").unwrap();
    let out = crate::support::cmd::ivcd_config(&bad).arg("report").output().unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", String::from_utf8_lossy(&out.stderr));

    // The table lists every code checked here and in the daemon's tests (4, 75).
    let ops = std::fs::read_to_string(crate::support::data::repo().join("docs/operations.md")).unwrap();
    let table = ops.split("## Exit codes").nth(1).unwrap().split("\n## ").next().unwrap();
    for code in [0, 1, 2, 3, 4, 66, 75, 78] {
        assert!(table.contains(&format!("\n| {code} |")), "exit code {code} missing from docs/operations.md");
    }
}

/// A new user's first alert: the CVNA replay finds nothing at the default
/// `min_tier = marginal` (CVNA is `skip`), and `notify preview --min-tier
/// skip --out DIR` writes the scan's and the review's alert in every format,
/// with CVNA as the one setup.
#[test]
fn notify_preview_writes_every_format_of_the_first_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::replay::cvna_copy(dir.path());
    let out = dir.path().join("preview");
    let preview = |args: &[&str]| crate::support::cmd::stdout(ivcd().env("IVCD_DATABASE", &db).args(args));

    let default = preview(&["notify", "preview"]);
    assert!(default.contains("0 setups") && !default.contains("#1 CVNA"), "{default}");

    let listed = preview(&["notify", "preview", "--min-tier", "skip", "--out", out.to_str().unwrap()]);
    for kind in ["scan", "review"] {
        for file in ["email.html", "email.txt", "slack.json", "discord.json", "webhook.json"] {
            let path = out.join(format!("{kind}-{file}"));
            assert!(listed.contains(&path.display().to_string()), "{listed}");
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains("CVNA"), "{kind}-{file}");
            if file.ends_with(".json") {
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("{kind}-{file}: {e}"));
            }
        }
    }
    let email = std::fs::read_to_string(out.join("scan-email.txt")).unwrap();
    assert!(
        email.starts_with("Subject: ivcd: 1 setup for Tue 2023-07-18 (AMC) and Wed 2023-07-19 (BMO)"),
        "{email}"
    );
    assert!(email.contains("#1 CVNA  BMO  VRP 1.00 (skip)"), "{email}");
    let webhook: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scan-webhook.json")).unwrap()).unwrap();
    let cvna = webhook["candidates"].as_array().unwrap().iter().find(|c| c["ticker"] == "CVNA").unwrap();
    assert_eq!(cvna["tier"], "skip");
}

/// Every command's `--help` ends with examples that parse, and points at the
/// exit codes, which `ivcd --help` lists as docs/operations.md does.
#[test]
fn every_command_help_has_examples_that_parse_and_the_exit_codes() {
    use clap::{CommandFactory, Parser};
    let cli = ivcd::cli::Cli::command();
    let top = cli.get_after_help().map(ToString::to_string).unwrap_or_default();
    for code in ["0", "1", "2", "3", "4", "66", "75", "78"] {
        assert!(top.lines().any(|l| l.trim_start().starts_with(&format!("{code} "))), "exit {code}: {top}");
    }
    let mut examples = 0;
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub.get_after_help().map(ToString::to_string).unwrap_or_default();
        assert!(help.contains("Examples:") && help.contains("Exit codes"), "{}: {help}", sub.get_name());
        let block = help.lines().skip_while(|l| *l != "Examples:").skip(1).take_while(|l| !l.is_empty());
        for line in block.filter_map(|l| l.trim().split_once("ivcd ").map(|(_, rest)| format!("ivcd {rest}")))
        {
            let argv = crate::docs::ivcd_argv(&line).unwrap();
            assert_eq!(argv.get(1).map(String::as_str), Some(sub.get_name()), "{line}");
            ivcd::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("`{line}` does not parse: {e}"));
            examples += 1;
        }
    }
    assert!(examples >= 16, "{examples}");
}

/// Tables fit `COLUMNS` and wrap between words, never inside one: every
/// word of a narrow rendering is a word of the unbounded one (a pipe's), and
/// the status's jobs table fits 80 columns.
#[test]
fn tables_fit_the_terminal_and_never_cut_a_word() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::replay::cvna_copy(dir.path());
    let config = crate::support::config_file(dir.path(), &db);
    let show = |args: &[&str], columns: Option<&str>| {
        let mut cmd = crate::support::cmd::ivcd_config(&config);
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        String::from_utf8(cmd.args(args).output().unwrap().stdout).unwrap()
    };
    let words = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| c.is_whitespace() || "│┆║╞╪═╡┌┬┐└┴┘─├┼┤".contains(c))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for args in [&["status"][..], &["moves", "CVNA"], &["report"], &["notify", "pending"]] {
        let wide = words(&show(args, None));
        for columns in ["80", "100"] {
            let narrow = show(args, Some(columns));
            let cut: Vec<String> = words(&narrow).difference(&wide).cloned().collect();
            assert!(cut.is_empty(), "{args:?} at {columns} columns cut {cut:?}:\n{narrow}");
        }
    }
    let status = show(&["status"], Some("80"));
    let jobs = status.split("Jobs:").nth(1).unwrap();
    let table: Vec<&str> =
        jobs.lines().skip(1).take_while(|l| !l.is_empty() && !l.starts_with(' ')).collect();
    assert!(table.len() > 3, "{status}");
    for line in &table {
        assert!(line.chars().count() <= 80, "{} columns: {line}", line.chars().count());
    }
    // Unbounded into a pipe: one line per job.
    let piped = show(&["status"], None);
    assert!(
        piped.lines().any(|l| l.contains("refresh-calendar") && l.contains("with_timing=198")),
        "{piped}"
    );
}

/// Without `database` set, every command uses `ivcd.db` in the user's state
/// directory whatever the working directory, names it on stderr, and only a
/// command that writes creates it (and its directory, mode 700).
#[test]
fn the_default_database_is_in_the_users_state_directory() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let db = home.path().join(".local/state/ivcd/ivcd.db");
    let run = |args: &[&str], cwd: &std::path::Path| {
        ivcd()
            .env("HOME", home.path())
            .env_remove("XDG_STATE_HOME")
            .current_dir(cwd)
            .args(args)
            .output()
            .unwrap()
    };
    let said = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let out = run(&["moves", "CVNA"], elsewhere.path());
    assert_eq!(out.status.code(), Some(66), "{}", said(&out));
    assert!(said(&out).contains(&format!("ivcd: database {}", db.display())), "{}", said(&out));
    assert!(!db.parent().unwrap().exists(), "a command that only reads created the directory");

    let out = run(&["backfill", "CVNA"], home.path());
    assert_eq!(out.status.code(), Some(1), "no provider configured: {}", said(&out));
    assert!(db.is_file(), "the first command that writes creates {}", db.display());
    let mode = std::fs::metadata(db.parent().unwrap()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(!home.path().join("ivcd.db").exists() && !elsewhere.path().join("ivcd.db").exists());

    let out = run(&["report"], elsewhere.path());
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains(&format!("ivcd: database {}", db.display())), "{}", said(&out));
}

/// `ivcd providers test` asks each configured provider one cheap question
/// and says which works and which is refused, never printing a secret:
/// Tradier's market clock (tradier.rb's recorded clock.json) and Alpha
/// Vantage's IBM earnings (a recorded EARNINGS body) work; the SEC is not
/// configured; then a Tradier that refuses the token (401) fails with exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_test_says_which_credentials_work() {
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let tradier = MockServer::start().await;
    Mock::given(path("/v1/markets/clock"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(crate::support::data::read_data(
                "tradier__tradier.rb/spec/fixtures/clock.json",
            )),
        )
        .mount(&tradier)
        .await;
    let alpha = MockServer::start().await;
    Mock::given(path("/query"))
        .and(query_param("function", "EARNINGS"))
        .and(query_param("symbol", "IBM"))
        .respond_with(ResponseTemplate::new(200).set_body_string(crate::support::data::read_data(
            "portfoliotree__alphavantage/specification/testdata/examples/fundamental/EARNINGS_d56c999e.json",
        )))
        .mount(&alpha)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ivcd.toml");
    let write = |tradier_uri: &str| {
        std::fs::write(
            &config,
            format!(
                "database = {:?}\n[tradier]\nbase_url = {tradier_uri:?}\ntoken = \"tok-secret-123\"\n\
                 [alpha_vantage]\nbase_url = {:?}\napi_key = \"av-secret-456\"\n",
                dir.path().join("ivcd.db"),
                alpha.uri()
            ),
        )
        .unwrap();
    };
    write(&tradier.uri());
    let out = ivcd().arg("--config").arg(&config).args(["providers", "test"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("tradier: works (the market clock says closed"), "{text}");
    assert!(text.contains("alpha_vantage: works (") && text.contains("past IBM reports read"), "{text}");
    assert!(text.contains("sec: not configured (set sec.user_agent"), "{text}");

    let refusing = MockServer::start().await;
    Mock::given(path("/v1/markets/clock"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Invalid Access Token"))
        .mount(&refusing)
        .await;
    write(&refusing.uri());
    let out = ivcd().arg("--config").arg(&config).args(["providers", "test"]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("tradier: FAILED"), "{text}");
    assert!(text.contains("alpha_vantage: works"), "{text}");
    assert!(!text.contains("tok-secret-123") && !text.contains("av-secret-456"), "{text}");
}

/// `ivcd docs TOPIC` prints each topic's file of docs/ as it is in the tree
/// (built into the binary), so the configuration's keys and the JSON's
/// fields can be read where ivcd runs.
#[test]
fn docs_prints_each_topic_as_the_tree_has_it() {
    for (topic, file) in [
        ("config", "configuration.md"),
        ("json", "json.md"),
        ("schema", "schema.md"),
        ("alerts", "alerts.md"),
        ("operations", "operations.md"),
        ("analysis", "analysis.md"),
        ("review", "review.md"),
        ("calibration", "calibration.md"),
        ("timing-audit", "timing-audit.md"),
    ] {
        let printed = crate::support::cmd::stdout(ivcd().args(["docs", topic]));
        let tree = std::fs::read_to_string(crate::support::data::repo().join("docs").join(file)).unwrap();
        assert!(printed == tree, "ivcd docs {topic} differs from docs/{file}");
    }
    let out = ivcd().args(["docs", "nothing"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
