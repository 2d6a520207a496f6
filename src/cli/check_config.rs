//! `ivcd check-config`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use super::EXIT_CONFIG;
use super::out::{note, say, say_part};
use crate::config::Config;

/// `ivcd check-config`: the effective configuration with secrets redacted
/// (and where each secret comes from), or every problem found (exit 78).
///
/// # Errors
/// When the configuration's layers cannot be read for the secrets' sources.
pub(super) fn check_config(file: Option<&Path>) -> Result<ExitCode> {
    match Config::load(file) {
        Ok(config) => {
            for warning in Config::warnings(file) {
                note!("warning: {warning}");
            }
            // Whether each secret is set and from where; never a value.
            say!("# Secrets (their values are never shown):");
            for line in Config::secret_sources(file)? {
                say!("#   {line}");
            }
            say_part!("{}", config.to_redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            note!("{e}");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
    }
}
