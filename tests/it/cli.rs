//! The `ivcd` binary as a user runs it.

use assert_cmd::Command;

fn ivcd() -> Command {
    let mut cmd = Command::cargo_bin("ivcd").unwrap();
    // Keep the user's environment out of the test.
    for (key, _) in std::env::vars() {
        if key.starts_with("IVCD_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

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
