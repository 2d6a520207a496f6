//! What the benches share: where the recorded data is, and the process
//! figures they print (from Linux's `/proc`).

use std::path::PathBuf;

/// The recorded real market data: `$IVCD_DATA_DIR`, else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("IVCD_DATA_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"), PathBuf::from)
}

/// User plus system CPU seconds of this process (`/proc/self/stat`, clock
/// ticks of 1/100 s, the Linux default).
#[allow(dead_code, reason = "not every bench prints CPU time")]
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// User plus system CPU seconds of the calling thread (`/proc/thread-self/stat`).
#[allow(dead_code, reason = "not every bench samples from a thread of its own")]
pub fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// A memory figure (`VmHWM`, the peak RSS, or `VmRSS`) of `/proc/<pid>/status`
/// (`pid` may be `self`), in MiB.
#[allow(dead_code, reason = "not every bench prints memory")]
pub fn memory_mib(pid: &str, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// A number field of `/proc/<pid>/status` (`Threads`, ...); `pid` may be `self`.
#[allow(dead_code, reason = "not every bench counts threads")]
pub fn status_number(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').trim().parse().ok())
}
