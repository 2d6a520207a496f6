//! `ivcd docs TOPIC`: the user documentation built into the binary, so the
//! configuration's keys, the JSON's fields and the database's tables can be
//! read where ivcd runs, offline and at the version that runs.

use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;

use super::out::say_part;

/// A topic of `ivcd docs`: one file of `docs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Topic {
    /// Every configuration key: default, valid values, units (docs/configuration.md).
    Config,
    /// The JSON of every `--json` output and of the webhook (docs/json.md).
    Json,
    /// Every table, view and column of the database, with queries (docs/schema.md).
    Schema,
    /// The alert channels, their limits and the webhook's signature (docs/alerts.md).
    Alerts,
    /// Install, first start, exit codes, upgrades, backups, metrics, logs (docs/operations.md).
    Operations,
    /// The figures: sessions, moves, implied move, VRP, score, term structure (docs/analysis.md).
    Analysis,
    /// The post-crush review and its P&L (docs/review.md).
    Review,
    /// How the tiers were judged on recorded past reports (docs/calibration.md).
    Calibration,
    /// BMO/AMC from SEC filings, the timing audit and date changes (docs/timing-audit.md).
    TimingAudit,
}

impl Topic {
    /// The file's text, as built into this binary.
    pub fn text(self) -> &'static str {
        match self {
            Self::Config => include_str!("../../docs/configuration.md"),
            Self::Json => include_str!("../../docs/json.md"),
            Self::Schema => include_str!("../../docs/schema.md"),
            Self::Alerts => include_str!("../../docs/alerts.md"),
            Self::Operations => include_str!("../../docs/operations.md"),
            Self::Analysis => include_str!("../../docs/analysis.md"),
            Self::Review => include_str!("../../docs/review.md"),
            Self::Calibration => include_str!("../../docs/calibration.md"),
            Self::TimingAudit => include_str!("../../docs/timing-audit.md"),
        }
    }

    /// The file under `docs/` it is.
    pub fn file(self) -> &'static str {
        match self {
            Self::Config => "configuration.md",
            Self::Json => "json.md",
            Self::Schema => "schema.md",
            Self::Alerts => "alerts.md",
            Self::Operations => "operations.md",
            Self::Analysis => "analysis.md",
            Self::Review => "review.md",
            Self::Calibration => "calibration.md",
            Self::TimingAudit => "timing-audit.md",
        }
    }
}

/// `ivcd docs TOPIC`: prints the topic's Markdown (pipe it to a pager).
///
/// # Errors
/// Never; the text is in the binary.
pub(super) fn docs(topic: Topic) -> Result<ExitCode> {
    say_part!("{}", topic.text());
    Ok(ExitCode::SUCCESS)
}
