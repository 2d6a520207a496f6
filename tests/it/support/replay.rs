//! The recorded scenarios (tests/scenarios/), replayed; and the CVNA replay
//! built once per test process and shared.
//!
//! Most tests of the CVNA day read the database its replay leaves and never
//! the replay itself: [`cvna`] replays it once, on its own thread with its
//! own runtime (so it serves sync tests and any test's runtime alike), into
//! a template nobody writes again; a test that writes takes a copy
//! ([`cvna_copy`], milliseconds). Tests whose subject is the replay (its
//! alerts, a re-run, a changed scenario, the binary's `replay` command)
//! still replay for themselves.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ivcd::config::Config;
use ivcd::replay::{self, ReplayOutcome, Scenario};

use super::data::{data_dir, repo};

/// The path of `tests/scenarios/<name>`.
pub fn scenario_path(name: &str) -> PathBuf {
    repo().join("tests/scenarios").join(name)
}

/// The scenario `tests/scenarios/<name>`, loaded.
pub fn scenario(name: &str) -> Scenario {
    Scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("scenario {name}: {e}"))
}

/// Replays `scenario` on the recorded data into `db` with `config`
/// (`notify`: queue the alerts, as `ivcd replay --notify`).
pub async fn replay_scenario(scenario: &Scenario, db: &Path, config: &Config, notify: bool) -> ReplayOutcome {
    replay::run(scenario, &data_dir(), db, config, notify).await.expect("replay runs")
}

/// Replays `tests/scenarios/<name>` into `db` with the default configuration.
pub async fn replay(name: &str, db: &Path) -> ReplayOutcome {
    replay_scenario(&scenario(name), db, &Config::default(), false).await
}

/// The CVNA replay of this test process (tests/scenarios/cvna-2023q2.toml:
/// the 15:00 scan on 2023-07-18 and the review at the next open, default
/// configuration, no alerts queued).
pub struct Cvna {
    /// The template database: read it, never write it (take [`cvna_copy`]).
    pub db: PathBuf,
    /// What the replay returned: its scans, reviews and log.
    pub outcome: ReplayOutcome,
}

static CVNA: OnceLock<Cvna> = OnceLock::new();

/// The shared CVNA replay, made by the first caller.
pub fn cvna() -> &'static Cvna {
    CVNA.get_or_init(|| std::thread::spawn(replay_cvna_template).join().expect("the shared CVNA replay"))
}

fn replay_cvna_template() -> Cvna {
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("it-shared");
    remove_dead_processes_templates(&shared);
    let dir = shared.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("cvna.db");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let outcome = runtime.block_on(replay("cvna-2023q2.toml", &db));
    // One file holds the whole database: a copy of it is a whole database.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).unwrap();
    drop(conn);
    Cvna { db, outcome }
}

/// Removes the templates of test processes that are gone.
fn remove_dead_processes_templates(shared: &Path) {
    let Ok(entries) = std::fs::read_dir(shared) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let alive = name.to_str().and_then(|n| n.parse::<u32>().ok()).is_some_and(|pid| {
            pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
        });
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A copy of the shared CVNA database at `dir/ivcd.db`, for a test that
/// writes. Each copy draws its own installation id, as its own replay
/// would (migration V9 draws one when a database is created).
pub fn cvna_copy(dir: &Path) -> PathBuf {
    let db = dir.join("ivcd.db");
    std::fs::copy(&cvna().db, &db).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE installation SET id = lower(hex(randomblob(16)))", [])
        .unwrap();
    db
}

/// Runs `ivcd calibrate` (default settings, the recorded data) into `store`
/// off the async workers, as of 2026-10-07 12:00 UTC; returns what it made.
pub async fn calibrate_into(store: &ivcd::store::Store) -> ivcd::calibration::Calibrated {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let settings = ivcd::calibration::Settings {
            data_dir: data_dir(),
            config: ivcd::calibration::CalibrationConfig::default(),
            analysis: ivcd::analysis::AnalysisParams::default(),
            calendar: ivcd::calendar::NyseCalendar::new(),
            now: chrono::DateTime::parse_from_rfc3339("2026-10-07T12:00:00Z").unwrap().into(),
        };
        ivcd::calibration::calibrate(&store, &settings).expect("calibrate runs on the recorded data")
    })
    .await
    .unwrap()
}
