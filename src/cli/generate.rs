//! `ivcd generate man` and `ivcd generate completions`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::Cli;
use super::out::say_part;

/// `ivcd generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write the man pages (ivcd.1 and one per command, roff) into DIR.
    Man {
        /// The directory to write them in (created if missing).
        dir: PathBuf,
    },
    /// Print the completion script for SHELL on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `ivcd generate`: man pages and completion scripts from the clap definition.
pub(super) fn generate(what: &GenerateCommand) -> Result<ExitCode> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    match what {
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        GenerateCommand::Completions { shell } => {
            // Into memory first: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "ivcd", &mut script);
            say_part!("{}", String::from_utf8_lossy(&script));
        }
    }
    Ok(ExitCode::SUCCESS)
}
