//! The one presentation layer: how ivcd's records read as text. The command
//! line's tables, `ivcd status`, the email, Slack, Discord and webhook
//! alerts all format their figures here, so a move, a price or a reason
//! reads the same wherever it is shown.
//!
//! - [`format`]: single figures (percent, USD, counts, tiers, timing, dates)
//!   and the full analysis in labelled lines;
//! - [`scan`]: the ranked scan, a ticker's moves, the backtest;
//! - [`review`]: a review run, the scoreboard and its summary line;
//! - [`audit`]: a ticker's timing audit (`ivcd moves`);
//! - [`db`]: the alerts outbox and `ivcd db check`.
//!
//! It reads the records (`report`, `review`, `store`'s row types) and
//! writes text; it never reads the database or a clock itself.

pub mod audit;
pub mod db;
pub mod format;
pub mod review;
pub mod scan;

pub use audit::timing_audit;
pub use db::{db_check, outbox_table};
pub use review::{card_summary, report_card, review_table};
pub use scan::{backtest_table, moves_report, scan_table};
