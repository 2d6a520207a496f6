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
