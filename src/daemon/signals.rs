//! The one place that installs signal handlers: signal-hook turns SIGTERM,
//! SIGINT and SIGHUP into [`Control`] messages for the daemon's loop.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tokio::sync::mpsc;

use super::Control;

/// Installs the handlers and forwards each signal as a [`Control`] from a
/// dedicated thread: SIGTERM and SIGINT as [`Control::Shutdown`] (the
/// daemon treats a second one as "exit now"), SIGHUP as [`Control::Reload`].
///
/// # Errors
/// When the handlers cannot be installed.
pub fn forward_signals(controls: mpsc::UnboundedSender<Control>) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new().name("ivcd-signals".into()).spawn(move || {
        for signal in signals.forever() {
            let control = if signal == SIGHUP { Control::Reload } else { Control::Shutdown };
            if controls.send(control).is_err() {
                // The daemon's loop is gone: the process is exiting.
                break;
            }
        }
    })?;
    Ok(())
}
