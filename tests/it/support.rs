//! Shared test helpers: where the recorded real market data lives.

use std::path::PathBuf;

/// The directory of recorded real market data: `$IVCD_DATA_DIR` when set,
/// else `../shared/data` beside the repository (as CI lays it out).
pub fn data_dir() -> PathBuf {
    match std::env::var_os("IVCD_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

/// Reads a recorded file under [`data_dir`], panicking with the path on failure.
pub fn read_data(relative: &str) -> String {
    let path = data_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read recorded data {}: {e}", path.display()))
}

/// Replays the real CVNA scenario (tests/scenarios/cvna-2023q2.toml: the
/// 15:00 scan on 2023-07-18 and the review at the next open) into
/// `dir/ivcd.db` and returns its path.
pub async fn cvna_database(dir: &std::path::Path) -> PathBuf {
    use ivcd::replay::{self, Scenario};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/cvna-2023q2.toml");
    let db = dir.join("ivcd.db");
    replay::run(&Scenario::load(&path).unwrap(), &data_dir(), &db, &ivcd::config::Config::default(), false)
        .await
        .unwrap();
    db
}

/// Writes `dir/ivcd.toml` naming `database` and a status socket in `dir`
/// (where no daemon listens), and returns its path.
pub fn config_file(dir: &std::path::Path, database: &std::path::Path) -> PathBuf {
    let config = dir.join("ivcd.toml");
    std::fs::write(
        &config,
        format!("database = {database:?}\n[daemon]\nstatus_socket = {:?}\n", dir.join("status.sock")),
    )
    .unwrap();
    config
}

/// The `ivcd` binary with `--config config`, without the caller's `IVCD_*`
/// environment (which would override the file).
pub fn ivcd(config: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("ivcd").unwrap();
    for (key, _) in std::env::vars() {
        if key.starts_with("IVCD_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--config").arg(config);
    cmd
}
