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
