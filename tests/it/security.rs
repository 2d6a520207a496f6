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

use crate::support::cmd::all_output;
use crate::support::data::AV_CALENDAR;
use crate::support::fakes::{Fault, FaultServer};
use crate::support::{data_dir, read_data};

const TOKEN: &str = "tok-7f3a9c-DO-NOT-PRINT";
const API_KEY: &str = "avk-51d2e8-DO-NOT-PRINT";
const HMAC_SECRET: &str = "hmac-0b9e44-DO-NOT-PRINT";

/// `ivcd` with every provider and the webhook at the fakes, through the
/// environment, each with a secret; ivcd's own rate limiters at 6000 a
/// minute (the default 120 only spaces the requests half a second apart).
fn ivcd(db: &Path, tradier: &str, alpha: &str, webhook: &str) -> Command {
    let mut cmd = crate::support::ivcd();
    cmd.env("IVCD_DATABASE", db)
        .env("IVCD_DATA_DIR", data_dir())
        .env("RUST_LOG", "debug")
        .env("IVCD_TRADIER__BASE_URL", tradier)
        .env("IVCD_TRADIER__TOKEN", TOKEN)
        .env("IVCD_TRADIER__RETRY__INITIAL_DELAY_MS", "5")
        .env("IVCD_TRADIER__TIMEOUT_SECONDS", "2")
        .env("IVCD_TRADIER__REQUESTS_PER_MINUTE", "6000")
        .env("IVCD_ALPHA_VANTAGE__BASE_URL", alpha)
        .env("IVCD_ALPHA_VANTAGE__API_KEY", API_KEY)
        .env("IVCD_ALPHA_VANTAGE__REQUESTS_PER_MINUTE", "6000")
        .env("IVCD_ALERTS__WEBHOOK__URL", webhook)
        .env("IVCD_ALERTS__WEBHOOK__SECRET", HMAC_SECRET)
        .env("IVCD_DAEMON__STATUS_SOCKET", db.with_extension("sock"));
    cmd
}

/// Whether `secret` is anywhere in the database file or its WAL beside it.
fn stored(db: &Path, secret: &str) -> bool {
    let mut files = vec![db.to_path_buf()];
    files.push(db.with_extension("db-wal"));
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .any(|bytes| bytes.windows(secret.len()).any(|w| w == secret.as_bytes()))
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

    let mut cmd = crate::support::ivcd();
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
    let mut cmd = crate::support::ivcd();
    let out = cmd.args(["check-config", config.to_str().unwrap()]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by every user"));
}

/// Vendors that echo the secret in their error answers ("invalid token
/// XYZ"): Tradier in a 400 body, in a 500 body and in a 200 fault body (a
/// parse error); Alpha Vantage in its `Error Message`; the webhook receiver
/// in its 500 body. The echoes reach what ivcd stores (candidate reasons,
/// `job_runs.error`, the delivery's error), prints (the scan table, `status`
/// in text and JSON, `notify pending`) and logs (at debug level): the secrets
/// appear in none of them, and the redaction shows where each was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_by_providers_and_a_webhook_are_redacted_everywhere() {
    let alpha = MockServer::start().await;
    // The first calendar answer is the real one; later ones are an error that
    // quotes the key, as Alpha Vantage's answers to a bad request do.
    Mock::given(query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read_data(AV_CALENDAR)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&alpha)
        .await;
    Mock::given(query_param("function", "EARNINGS_CALENDAR"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"Error Message": "Invalid API call: the apikey {API_KEY} is not valid for EARNINGS_CALENDAR."}}"#
        )))
        .with_priority(2)
        .mount(&alpha)
        .await;
    let tradier = FaultServer::start(|target, _| {
        let symbol = target.split("symbol=").nth(1).unwrap_or("").to_owned();
        if target.starts_with("/v1/markets/quotes") {
            Fault::Answer(500, format!(r#"{{"fault":{{"faultstring":"token {TOKEN} is over its quota"}}}}"#))
        } else if symbol.as_str() < "M" {
            Fault::Answer(400, format!("invalid token {TOKEN}"))
        } else {
            Fault::Ok(format!(r#"{{"fault":{{"faultstring":"Invalid Access Token {TOKEN}"}}}}"#))
        }
    })
    .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(format!("signature mismatch: expected HMAC under {HMAC_SECRET}")),
        )
        .mount(&receiver)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ivcd.db");
    let webhook = format!("{}/hook", receiver.uri());
    let run = |args: &[&str]| {
        let mut cmd = ivcd(&db, &tradier.uri, &alpha.uri(), &webhook);
        cmd.args(args);
        all_output(&mut cmd)
    };
    let mut transcript = String::new();
    for args in [
        &["refresh-calendar", "--as-of", "2026-05-17T18:00"][..],
        &["scan", "--as-of", "2026-05-18T15:00", "--notify"],
        &["scan", "--as-of", "2026-05-18T15:00", "--json"],
        &["refresh-calendar", "--as-of", "2026-05-18T18:00"],
        &["status"],
        &["status", "--json"],
        &["notify", "pending"],
        &["notify", "pending", "--json"],
    ] {
        transcript.push_str(&run(args));
    }

    // The echoes arrived and were redacted where they would have shown.
    for said in [
        "HTTP 400: invalid token <redacted>",
        "Invalid Access Token <redacted>",
        "token <redacted> is over its quota",
        "the apikey <redacted> is not valid",
        "expected HMAC under <redacted>",
    ] {
        assert!(transcript.contains(said), "{said:?} not in:\n{transcript}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let reasons: i64 = conn
        .query_row("SELECT count(*) FROM candidates WHERE reason LIKE '%<redacted>%'", [], |r| r.get(0))
        .unwrap();
    let job_errors: i64 = conn
        .query_row("SELECT count(*) FROM job_runs WHERE error LIKE '%apikey <redacted>%'", [], |r| r.get(0))
        .unwrap();
    let delivery_errors: i64 = conn
        .query_row("SELECT count(*) FROM alert_deliveries WHERE last_error LIKE '%<redacted>%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(conn);
    assert!(reasons >= 2, "{reasons} candidate reasons with a redacted echo");
    assert_eq!(job_errors, 1, "the failed refresh is stored with its redacted error");
    assert_eq!(delivery_errors, 1, "the failed delivery is stored with its redacted error");
    for secret in [TOKEN, API_KEY, HMAC_SECRET] {
        assert!(!transcript.contains(secret), "{secret} printed:\n{transcript}");
        assert!(!stored(&db, secret), "{secret} stored in the database");
    }
    println!(
        "secret search (echoing vendors): {} bytes of output and the database searched, 0 secrets found",
        transcript.len()
    );
}

#[test]
fn check_config_says_where_each_secret_comes_from_and_never_shows_one() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("tradier.token"), format!("{TOKEN}\n")).unwrap();
    let config = dir.path().join("ivcd.toml");
    std::fs::write(
        &config,
        "[alpha_vantage]\napi_key = \"\"\n[alerts.email]\nhost = \"smtp.example.com\"\n\
         from = \"ivcd@example.com\"\nto = [\"trader@example.com\"]\nusername = \"ivcd\"\npassword = \"\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = crate::support::ivcd();
    let out = cmd
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .env("IVCD_ALERTS__EMAIL__PASSWORD", HMAC_SECRET)
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "#   tradier.token: set, from a systemd credential (",
        "#   alpha_vantage.api_key: empty in the file ",
        "#   alerts.email.password: set, from the environment (IVCD_ALERTS__EMAIL__PASSWORD)",
        "#   alerts.slack.webhook_url: not set",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    // No secret's value, and no empty value either.
    assert!(!stdout.contains(TOKEN) && !stdout.contains(HMAC_SECRET), "{stdout}");
    assert!(!stdout.contains("= \"\""), "an empty secret is shown as a value:\n{stdout}");
    let toml: String = stdout.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    assert!(!toml.contains("api_key"), "an unset secret is left out of the TOML:\n{toml}");
    assert!(toml.contains("password = \"<redacted>\""), "{toml}");
}

#[test]
fn a_url_that_would_send_a_secret_in_clear_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ivcd.toml");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    for (body, key, accepted) in [
        ("[tradier]\nbase_url = \"http://api.tradier.com\"\n", "tradier.base_url", false),
        ("[alpha_vantage]\nbase_url = \"http://10.0.0.5:8080\"\n", "alpha_vantage.base_url", false),
        ("[alerts.webhook]\nurl = \"http://hooks.example.com/ivcd\"\n", "alerts.webhook.url", false),
        (
            "[alerts.slack]\nwebhook_url = \"http://hooks.slack.com/services/T/B/x\"\n",
            "alerts.slack.webhook_url",
            false,
        ),
        ("[tradier]\nbase_url = \"https://user:pw@api.tradier.com\"\n", "tradier.base_url", false),
        ("[tradier]\nbase_url = \"http://127.0.0.1:8080\"\n", "tradier.base_url", true),
        ("[tradier]\nbase_url = \"http://localhost:8080\"\n", "tradier.base_url", true),
        ("[alerts.webhook]\nurl = \"http://[::1]:9000/hook\"\n", "alerts.webhook.url", true),
    ] {
        std::fs::write(&config, body).unwrap();
        let mut cmd = crate::support::ivcd();
        let out = cmd.args(["check-config", config.to_str().unwrap()]).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        if accepted {
            assert!(out.status.success(), "{body}: {said}");
        } else {
            assert_eq!(out.status.code(), Some(78), "{body} was accepted");
            assert!(said.contains(key), "{body}: {said}");
            assert!(!said.contains("hooks.slack.com/services"), "a secret URL is quoted: {said}");
        }
    }
}
