//! The built binary as systemd runs it: `ivcd run` spawned with its log on
//! a pipe, signalled, killed and waited for with limits, so that no test
//! hangs and no daemon outlives its test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cmd::ivcd_std;

/// A spawned `ivcd` whose stdout (its log, at `RUST_LOG=info`) is read line by line.
pub struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Daemon {
    /// Spawns `ivcd --config config args…` (e.g. `run --simulate-from …`).
    pub fn spawn(config: &Path, args: &[&str]) -> Self {
        let mut child = ivcd_std()
            .env("RUST_LOG", "info")
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ivcd");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a log line containing all of `parts`; fails after two minutes.
    pub fn wait_for(&self, parts: &[&str]) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if parts.iter().all(|p| line.contains(p)) => return line,
                Ok(_) => {}
                Err(e) => panic!("no log line with {parts:?}: {e}"),
            }
        }
    }

    /// SIGTERM, as systemd stops a service.
    pub fn terminate(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }

    /// SIGKILL: no drain, no chance to mark anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the exit, failing (and killing the process) after `limit`.
    pub fn exit_within(mut self, limit: Duration) -> ExitStatus {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let status = self.child.wait();
            let _ = tx.send(());
            (self.child, status)
        });
        if rx.recv_timeout(limit).is_err() {
            let (mut child, _) = handle.join().unwrap();
            let _ = child.kill();
            panic!("ivcd did not exit within {limit:?}");
        }
        handle.join().unwrap().1.unwrap()
    }

    /// SIGTERM, then the time until the process exited (measured from the
    /// signal with `Instant`), failing after `limit`.
    pub fn terminate_and_time(self, limit: Duration) -> (ExitStatus, Duration) {
        let signalled = Instant::now();
        self.terminate();
        let status = self.exit_within(limit);
        (status, signalled.elapsed())
    }
}

/// Kills the process `.0` when the test fails, so that no daemon outlives it.
pub struct KillOnPanic(pub u32);

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill").args(["-KILL", &self.0.to_string()]).status();
        }
    }
}

/// Runs `ivcd --config config args` to its end (log at `RUST_LOG=info`),
/// failing after `limit` (a second daemon that is not refused would run
/// forever).
pub fn ivcd_output(config: &Path, args: &[&str], limit: Duration) -> Output {
    let child = ivcd_std()
        .env("RUST_LOG", "info")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ivcd");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("ivcd {args:?} still ran after {limit:?}");
        }
    }
}
