//! Secrets never leave the process in what people or logs read: a scan
//! against failing providers, a failing alert delivery, `ivcd status` and
//! `ivcd check-config`, all with the built binary at debug log level, and the
//! database they leave, are searched for every secret value. Secrets also
//! arrive from systemd credentials, and a world-readable configuration file
//! that holds one is warned about.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::faults::{Fault, FaultServer};
use crate::support::{data_dir, read_data};

const TOKEN: &str = "tok-7f3a9c-DO-NOT-PRINT";
const API_KEY: &str = "avk-51d2e8-DO-NOT-PRINT";
const HMAC_SECRET: &str = "hmac-0b9e44-DO-NOT-PRINT";
const AV_CALENDAR: &str =
    "portfoliotree__alphavantage/specification/testdata/examples/fundamental/EARNINGS_CALENDAR_c674ae28.csv";

fn ivcd(db: &Path, tradier: &str, alpha: &str, webhook: &str) -> Command {
    let mut cmd = Command::cargo_bin("ivcd").unwrap();
    for (key, _) in std::env::vars() {
        if key.starts_with("IVCD_") || key == "CREDENTIALS_DIRECTORY" {
            cmd.env_remove(key);
        }
    }
    cmd.env("IVCD_DATABASE", db)
        .env("IVCD_DATA_DIR", data_dir())
        .env("RUST_LOG", "debug")
        .env("IVCD_TRADIER__BASE_URL", tradier)
        .env("IVCD_TRADIER__TOKEN", TOKEN)
        .env("IVCD_TRADIER__RETRY__INITIAL_DELAY_MS", "5")
        .env("IVCD_TRADIER__TIMEOUT_SECONDS", "2")
        .env("IVCD_ALPHA_VANTAGE__BASE_URL", alpha)
        .env("IVCD_ALPHA_VANTAGE__API_KEY", API_KEY)
        .env("IVCD_ALERTS__WEBHOOK__URL", webhook)
        .env("IVCD_ALERTS__WEBHOOK__SECRET", HMAC_SECRET)
        .env("IVCD_DAEMON__STATUS_SOCKET", db.with_extension("sock"));
    cmd
}

fn all_output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

// Multi-threaded: the binary runs blocking while the fake Tradier answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_logs_output_errors_or_the_database() {
    let alpha = MockServer::start().await;
    Mock::given(query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .mount(&alpha)
        .await;
    // Tradier refuses the token for some requests, resets others, and
    // answers 500 to the rest; the webhook receiver fails every delivery.
    let tradier = FaultServer::start(|target, _| {
        if target.contains("expirations") && target.contains("symbol=A") {
            Fault::Status(401)
        } else if target.contains("expirations") {
            Fault::Reset
        } else {
            Fault::Status(500)
        }
    })
    .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&receiver).await;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let webhook = format!("{}/hook", receiver.uri());
    let run = |args: &[&str]| {
        let mut cmd = ivcd(&db, &tradier.uri, &alpha.uri(), &webhook);
        cmd.args(args);
        all_output(&mut cmd)
    };
    let mut transcript = String::new();
    transcript.push_str(&run(&["refresh-calendar", "--as-of", "2026-05-17T18:00"]));
    transcript.push_str(&run(&["scan", "--as-of", "2026-05-18T15:00", "--notify"]));
    transcript.push_str(&run(&["status"]));
    transcript.push_str(&run(&["status", "--json"]));
    transcript.push_str(&run(&["notify", "pending"]));
    transcript.push_str(&run(&["check-config"]));

    // The run did what it should, so the search covers real output.
    assert!(transcript.contains("credentials refused"), "{transcript}");
    assert!(transcript.contains("retrying"), "debug logs with the retries: {transcript}");
    assert!(transcript.contains("HTTP 500"), "the failing delivery: {transcript}");
    assert!(!receiver.received_requests().await.unwrap().is_empty(), "a delivery was attempted");
    assert!(transcript.contains("<redacted>"), "check-config shows that secrets are set");
    let database = std::fs::read(&db).unwrap();
    for secret in [TOKEN, API_KEY, HMAC_SECRET] {
        assert!(!transcript.contains(secret), "{secret} printed:\n{transcript}");
        assert!(
            !database.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} stored in the database"
        );
    }
    // The signature is sent, the secret is not.
    for request in receiver.received_requests().await.unwrap() {
        let headers = format!("{:?}", request.headers);
        assert!(headers.contains("t=") && headers.contains(",v1="), "{headers}");
        assert!(
            !headers.contains(HMAC_SECRET) && !String::from_utf8_lossy(&request.body).contains(HMAC_SECRET)
        );
    }
    println!(
        "secret search: {} bytes of output and {} bytes of database searched, 0 secrets found",
        transcript.len(),
        database.len()
    );
}

#[test]
fn secrets_come_from_systemd_credentials_and_a_readable_file_with_one_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("tradier.token"), format!("{TOKEN}\n")).unwrap();
    let config = dir.path().join("ivcd.toml");
    std::fs::write(&config, format!("[alpha_vantage]\napi_key = \"{API_KEY}\"\n")).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut cmd = Command::cargo_bin("ivcd").unwrap();
    for (key, _) in std::env::vars() {
        if key.starts_with("IVCD_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Both secrets are set (shown redacted), neither is printed.
    let tradier = stdout.split("[tradier]").nth(1).unwrap_or("");
    assert!(tradier.contains("token = \"<redacted>\""), "{stdout}");
    assert!(!stdout.contains(TOKEN) && !stdout.contains(API_KEY) && !stderr.contains(TOKEN));
    assert!(stderr.contains("readable by every user") && stderr.contains("chmod o-r"), "{stderr}");

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = Command::cargo_bin("ivcd").unwrap();
    let out = cmd
        .env_remove("CREDENTIALS_DIRECTORY")
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by every user"));
}
