//! Writing to the terminal without panicking: `say!` and `say_part!` write
//! to stdout through [`out`] (a closed pipe ends the output quietly),
//! `note!` to stderr through [`note_line`] (never fails).

use anyhow::{Context, Result};

/// Set once stdout is found closed (its reader, such as `head`, went away).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes `text` to stdout. Once the reader has gone (`ivcd moves CVNA |
/// head -1` closes the pipe), the rest of the output is dropped without a
/// word and the command finishes its work (a `scan --notify` still
/// delivers) with its own exit code.
///
/// # Errors
/// Any other write failure (a full disk under a redirection).
pub(crate) fn out(text: std::fmt::Arguments<'_>) -> Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// Writes `text` and a newline to stderr. A closed or failing stderr is
/// ignored: there is nowhere else to say it.
pub(crate) fn note_line(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.write_all(b"\n"));
}

/// `println!` through [`out`]: returns early from the enclosing function on
/// a write failure other than a closed pipe.
macro_rules! say {
    () => {
        $crate::cli::out::out(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::cli::out::out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` through [`out`] (see [`say!`]).
macro_rules! say_part {
    ($($arg:tt)*) => {
        $crate::cli::out::out(format_args!($($arg)*))?
    };
}

/// `eprintln!` through [`note_line`]: never fails, never panics.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::out::note_line(format_args!($($arg)*))
    };
}

pub(crate) use {note, say, say_part};
