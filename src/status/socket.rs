//! The status socket: bound by the daemon, written to each client, read by
//! `ivcd status`.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::StatusReport;

/// Why the status socket could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Another process answers on the socket: a second daemon must not steal it.
    #[error("status socket {path}: another ivcd daemon is answering on it; stop that one first")]
    InUse {
        /// The socket path.
        path: String,
    },
    /// The socket could not be created.
    #[error("status socket {path}: {source}; set daemon.status_socket to a writable path")]
    Io {
        /// The socket path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Binds the status socket at `path` with mode 0660, replacing a stale
/// socket file that nothing answers on.
///
/// # Errors
/// [`SocketError::InUse`] when a daemon answers there; [`SocketError::Io`] otherwise.
pub async fn bind(path: &Path) -> Result<tokio::net::UnixListener, SocketError> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display().to_string();
    let io = |source| SocketError::Io { path: shown.clone(), source };
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(SocketError::InUse { path: shown });
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = tokio::net::UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

/// Writes `report` as JSON to one connected client and closes the
/// connection; nothing is read from it.
///
/// # Errors
/// I/O errors of that one connection.
pub async fn send(mut stream: tokio::net::UnixStream, report: &StatusReport) -> std::io::Result<()> {
    let json = serde_json::to_vec(report).map_err(std::io::Error::other)?;
    stream.write_all(&json).await?;
    stream.shutdown().await
}

/// Reads the daemon's snapshot from the socket at `path`: `Ok(None)` when no
/// daemon answers (no socket, or nobody listening).
///
/// # Errors
/// When a daemon answered with something unreadable or too slowly (5 s).
pub async fn fetch(path: &Path) -> anyhow::Result<Option<StatusReport>> {
    use anyhow::Context;
    let mut stream = match tokio::net::UnixStream::connect(path).await {
        Ok(s) => s,
        Err(e)
            if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("status socket {}: cannot connect (are you in the ivcd group?)", path.display())
            });
        }
    };
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut body))
        .await
        .with_context(|| format!("status socket {}: no answer within 5 s", path.display()))?
        .with_context(|| format!("status socket {}: read failed", path.display()))?;
    let report = serde_json::from_slice(&body).with_context(|| {
        format!("status socket {}: not a status report (a different ivcd version?)", path.display())
    })?;
    Ok(Some(report))
}
