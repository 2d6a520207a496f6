//! No input makes ivcd panic: every subcommand, found by walking the clap
//! definition (so a new command or argument is covered without editing this
//! file), run with extreme values for each of its arguments (huge, negative,
//! out-of-range dates, empty, not UTF-8, absurd paths), and every bounded
//! setting at an extreme value. Each run must end with a clear message and
//! an exit code, never a panic (exit 101, "panicked" on stderr).
//!
//! Fast by construction: a tiny configuration with no provider and no alert
//! channel (nothing reaches the network), a status socket where no daemon
//! listens, and a fresh temporary database; no replay runs.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use clap::CommandFactory;

/// The extreme values tried for every argument.
fn extremes() -> Vec<OsString> {
    let mut values: Vec<OsString> = [
        "",
        " ",
        "0",
        "-1",
        "-9223372036854775809",
        "9223372036854775807",
        "18446744073709551616",
        "99999999999999999999999999999999",
        "1e20",
        "NaN",
        "-inf",
        "-100000-01-01",
        "+275760-09-13",
        "0000-00-00",
        "2023-02-30",
        "9999-12-31T23:59:59Z",
        "-100000-01-01T15:00:00-04:00",
        "1969-12-31T23:59:60Z",
        "ÄÖÜ🚀",
        "../../../../../../../../etc/passwd",
        "/dev/null",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    values.push(OsString::from("x".repeat(20_000)));
    values.push(OsString::from(format!("{}/y", "d".repeat(300))));
    // Not UTF-8.
    values.push(OsString::from_vec(vec![0xff, 0xfe, b'a', 0x80]));
    values
}

/// A valid value for a required argument, so that the argument under test
/// is the only extreme one.
fn placeholder(command: &[String], arg: &str) -> &'static str {
    match (command.join(" ").as_str(), arg) {
        (_, "tickers" | "ticker") => "CVNA",
        ("calendar", "from") => "2023-07-17",
        ("calendar", "to") => "2023-07-18",
        ("replay", "scenario") => "no-such-scenario.toml",
        ("db backup", "path") => "copy.db",
        ("generate man", "dir") => "man",
        ("generate completions", "shell") => "bash",
        (other, arg) => panic!("no placeholder for `{other}` argument {arg}: add one"),
    }
}

/// Every runnable command path (`["notify", "pending"]`, ...) with its clap definition.
fn leaves(command: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
    let subcommands: Vec<&clap::Command> =
        command.get_subcommands().filter(|s| s.get_name() != "help").collect();
    if subcommands.is_empty() {
        out.push((path, command.clone()));
        return;
    }
    for sub in subcommands {
        let mut p = path.clone();
        p.push(sub.get_name().to_owned());
        leaves(sub, p, out);
    }
}

/// The argument's words with `value`: `--name=VALUE` for an option (so a
/// value starting with `-` is not read as a flag), or the value after `--`
/// for a positional.
fn argument_words(arg: &clap::Arg, value: &OsString) -> (Vec<OsString>, Option<OsString>) {
    match arg.get_long() {
        Some(long) => {
            let mut word = OsString::from(format!("--{long}="));
            word.push(value);
            (vec![word], None)
        }
        None => (Vec::new(), Some(value.clone())),
    }
}

struct Setup {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ivcd.db");
        // A current, empty database (so `db` commands have one to work on).
        ivcd::store::Store::open(&db).unwrap();
        let config = dir.path().join("ivcd.toml");
        std::fs::write(
            &config,
            format!(
                "database = {db:?}\ndata_dir = {:?}\n[daemon]\nstatus_socket = {:?}\n",
                dir.path().join("data"),
                dir.path().join("nobody-listens.sock")
            ),
        )
        .unwrap();
        Self { dir, config }
    }

    fn command(&self) -> Command {
        let mut cmd = crate::support::cmd::ivcd_std();
        cmd.current_dir(self.dir.path()).stdin(Stdio::null()).env("RUST_BACKTRACE", "0");
        cmd
    }
}

/// Runs `cmd` with a deadline (a run that would go on, e.g. a daemon that
/// started, is a failure too) and returns its output.
fn run_bounded(mut cmd: Command, what: &str) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that `out` is an orderly end: no panic, an exit code, and words
/// for the user when it failed.
fn assert_orderly(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{what} panicked:\n{stderr}");
    let code = out.status.code();
    assert!(code.is_some(), "{what}: killed by a signal ({:?})\n{stderr}", out.status);
    assert_ne!(code, Some(101), "{what}: exit 101 (a panic)\n{stderr}");
    if code != Some(0) {
        assert!(
            !stderr.trim().is_empty() || !stdout.trim().is_empty(),
            "{what}: exit {code:?} without a word"
        );
    }
}

#[test]
fn every_subcommand_survives_extreme_values_of_every_argument() {
    let setup = Setup::new();
    let mut all = Vec::new();
    leaves(&ivcd::cli::Cli::command(), Vec::new(), &mut all);
    let values = extremes();
    let mut runs = 0;
    let mut refused = 0;
    for (path, command) in &all {
        let args: Vec<&clap::Arg> =
            command.get_arguments().filter(|a| a.get_action().takes_values() && !a.is_global_set()).collect();
        // The required positionals, in order, each with its placeholder.
        let positionals: Vec<&clap::Arg> = args.iter().copied().filter(|a| a.is_positional()).collect();
        for arg in &args {
            let id = arg.get_id().as_str();
            for value in &values {
                let (mut words, positional) = argument_words(arg, value);
                let mut rest: Vec<OsString> = Vec::new();
                for p in &positionals {
                    if p.get_id() == arg.get_id() {
                        rest.push(positional.clone().unwrap_or_default());
                    } else if p.is_required_set() {
                        rest.push(placeholder(path, p.get_id().as_str()).into());
                    }
                }
                if !rest.is_empty() {
                    words.push("--".into());
                    words.extend(rest);
                }
                let mut cmd = setup.command();
                cmd.arg("--config").arg(&setup.config).args(path).args(&words);
                let what = format!("ivcd {} ({id} = {:?})", path.join(" "), value.to_string_lossy());
                let out = run_bounded(cmd, &what);
                assert_orderly(&out, &what);
                runs += 1;
                refused += usize::from(out.status.code() != Some(0));
            }
        }
    }
    // The global --config FILE.
    for value in &values {
        let mut cmd = setup.command();
        let mut word = OsString::from("--config=");
        word.push(value);
        cmd.arg(word).arg("status");
        let what = format!("ivcd --config={:?} status", value.to_string_lossy());
        assert_orderly(&run_bounded(cmd, &what), &what);
        runs += 1;
    }
    println!("extremes: {runs} runs of {} commands, {refused} refused with a message, 0 panics", all.len());
    assert!(all.len() >= 19, "only {} commands found", all.len());
    assert!(runs >= 500, "only {runs} runs");
}

#[test]
fn every_bounded_setting_at_an_extreme_is_refused_by_check_config_and_run() {
    let setup = Setup::new();
    let config = ivcd::config::Config::default();
    let mut refused = 0;
    for b in config.bounded_settings() {
        let key = format!("IVCD_{}", b.key.to_uppercase().replace('.', "__"));
        let huge = if b.key == "timetable.review_retry_minutes" {
            "[9223372036854775807]"
        } else {
            "9223372036854775807"
        };
        for value in [huge, "9223372036854776", "-1", "1e308", "nan"] {
            for command in [&["check-config"][..], &["run"]] {
                let mut cmd = setup.command();
                cmd.arg("--config").arg(&setup.config).args(command).env(&key, value);
                let what = format!("{key}={value} ivcd {}", command.join(" "));
                let out = run_bounded(cmd, &what);
                assert_orderly(&out, &what);
                assert_eq!(out.status.code(), Some(78), "{what} was accepted");
                let said = String::from_utf8_lossy(&out.stderr);
                assert!(said.contains(b.key) || said.contains(&b.key.to_uppercase()), "{what}: {said}");
                refused += 1;
            }
        }
    }
    println!("extremes: {refused} extreme settings refused by check-config and run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_retry_after_from_a_webhook_is_bounded_not_a_panic() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    for value in ["1e20", "99999999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "-5", "NaN"] {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", value))
            .mount(&receiver)
            .await;
        let setup = Setup::new();
        let mut cmd = setup.command();
        cmd.arg("--config")
            .arg(&setup.config)
            .args(["notify", "test"])
            .env("IVCD_ALERTS__WEBHOOK__URL", format!("{}/hook", receiver.uri()));
        let what = format!("notify test against Retry-After: {value}");
        let out = tokio::task::spawn_blocking(move || run_bounded(cmd, &what)).await.unwrap();
        assert_orderly(&out, value);
        assert_eq!(out.status.code(), Some(1), "{value}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("webhook: FAILED") && said.contains("429"), "{value}: {said}");
    }
}
