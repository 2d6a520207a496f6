//! The built `ivcd` binary, with the caller's environment kept out.

use std::path::Path;

use super::data::{data_dir, repo};

/// Whether an inherited environment variable would change what ivcd does:
/// its own `IVCD_*` settings, systemd's credentials and notify socket, and
/// the terminal's `COLUMNS` (tables are laid out to it).
fn inherited(key: &str) -> bool {
    key.starts_with("IVCD_") || key == "CREDENTIALS_DIRECTORY" || key == "NOTIFY_SOCKET" || key == "COLUMNS"
}

/// Keeps the caller's `IVCD_*` (the tests' own `IVCD_DATA_DIR`,
/// `IVCD_FUZZ_CASES`, `IVCD_CRASH_RUNS` among them), `CREDENTIALS_DIRECTORY`
/// and `NOTIFY_SOCKET` out of `cmd`: for any program that runs ivcd (the
/// packaged binary, a shell that limits it).
pub fn strip_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(inherited) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `ivcd` as a [`std::process::Command`] (to spawn, pipe or kill it), with
/// none of the caller's `IVCD_*`, `CREDENTIALS_DIRECTORY` or `NOTIFY_SOCKET`,
/// and `XDG_STATE_HOME` and `XDG_RUNTIME_DIR` under `target/tmp`.
pub fn ivcd_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("ivcd"));
    strip_env(&mut cmd);
    // A command without `database` set never writes into the real home's
    // ~/.local/state/ivcd: its default database is under target/tmp.
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    cmd.env("XDG_STATE_HOME", tmp.join("xdg-state")).env("XDG_RUNTIME_DIR", tmp.join("xdg-runtime"));
    cmd
}

/// `ivcd` without the caller's environment (see [`ivcd_std`]).
pub fn ivcd() -> assert_cmd::Command {
    assert_cmd::Command::from_std(ivcd_std())
}

/// `ivcd --config config` without the caller's environment (which would
/// override the file).
pub fn ivcd_config(config: &Path) -> assert_cmd::Command {
    let mut cmd = ivcd();
    cmd.arg("--config").arg(config);
    cmd
}

/// `ivcd` run from the repository's root with `IVCD_DATA_DIR` set, as the
/// README's commands run (relative scenario paths resolve).
pub fn ivcd_in_repo() -> assert_cmd::Command {
    let mut cmd = ivcd();
    cmd.env("IVCD_DATA_DIR", data_dir()).current_dir(repo());
    cmd
}

/// Runs `cmd`, asserts it succeeded, and returns its stdout.
pub fn stdout(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `cmd` and returns its stdout and stderr, one after the other.
pub fn all_output(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Writes `dir/ivcd.toml` naming `database` and a status socket in `dir`
/// (where no daemon listens), and returns its path.
pub fn config_file(dir: &Path, database: &Path) -> std::path::PathBuf {
    let config = dir.join("ivcd.toml");
    std::fs::write(
        &config,
        format!("database = {database:?}\n[daemon]\nstatus_socket = {:?}\n", dir.join("status.sock")),
    )
    .unwrap();
    config
}

/// `text` with the data directory's absolute path replaced by `[data]`, so
/// snapshots hold wherever the tree lives.
pub fn portable(text: &str) -> String {
    text.replace(&data_dir().display().to_string(), "[data]")
}
