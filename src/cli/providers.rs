//! `ivcd providers test`: one cheap request per configured provider, to say
//! which credentials work before the first scan needs them.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use clap::Subcommand;

use super::out::say;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Ticker;
use crate::providers::alpha_vantage::client::AlphaVantageClient;
use crate::providers::sec::client::SecClient;
use crate::providers::tradier::client::TradierClient;
use crate::providers::{EarningsHistory, ProviderError};

/// `ivcd providers` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Check each configured provider with one cheap request (Tradier's market clock, Alpha
    /// Vantage's IBM earnings, the SEC's company tickers file) and say which works, which is
    /// refused and why; never prints a secret. Exit 0 when every configured one works, 1 otherwise.
    Test,
}

/// What one provider's check came to, as a line.
struct Checked {
    line: String,
    ok: bool,
}

/// `ivcd providers test`.
///
/// # Errors
/// Never for a provider's answer (that is its line); only when output fails.
pub(super) async fn providers_command(
    config: &Config,
    clock: Arc<dyn Clock>,
    action: ProvidersCommand,
) -> Result<ExitCode> {
    let ProvidersCommand::Test = action;
    let mut checks = Vec::new();
    checks.push(if config.tradier.token.is_set() {
        match TradierClient::new(&config.tradier, clock.clone()) {
            Ok(client) => {
                check("tradier", &config.tradier.base_url, async {
                    client.market_clock().await.map(|c| format!("the market clock says {}", c.state))
                })
                .await
            }
            Err(e) => Checked { line: format!("tradier: cannot be set up: {e}"), ok: false },
        }
    } else {
        unset("tradier", "tradier.token (or IVCD_TRADIER__TOKEN)")
    });
    checks.push(if config.alpha_vantage.api_key.is_set() {
        match AlphaVantageClient::new(&config.alpha_vantage, clock.clone()) {
            Ok(client) => match Ticker::new("IBM") {
                Ok(ibm) => {
                    check("alpha_vantage", &config.alpha_vantage.base_url, async {
                        client.past_earnings(&ibm).await.map(|e| format!("{} past IBM reports read", e.len()))
                    })
                    .await
                }
                Err(e) => Checked { line: format!("alpha_vantage: {e}"), ok: false },
            },
            Err(e) => Checked { line: format!("alpha_vantage: cannot be set up: {e}"), ok: false },
        }
    } else {
        unset("alpha_vantage", "alpha_vantage.api_key (or IVCD_ALPHA_VANTAGE__API_KEY)")
    });
    checks.push(if config.sec.user_agent.trim().is_empty() {
        unset("sec", "sec.user_agent (your name and a contact e-mail, as the SEC asks)")
    } else {
        match SecClient::new(&config.sec, clock) {
            Ok(client) => {
                check("sec", &config.sec.tickers_url, async {
                    client
                        .company_tickers()
                        .await
                        .map(|t| format!("{} tickers in the company tickers file", t.len()))
                })
                .await
            }
            Err(e) => Checked { line: format!("sec: cannot be set up: {e}"), ok: false },
        }
    });
    let failed = checks.iter().filter(|c| !c.ok).count();
    for c in &checks {
        say!("{}", c.line);
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A provider that is not configured: not a failure, said as such.
fn unset(name: &str, setting: &str) -> Checked {
    Checked { line: format!("{name}: not configured (set {setting} to use it)"), ok: true }
}

/// Runs one request and words its outcome: `works` with what it read and
/// how long it took, or `FAILED` with the provider's error; either line
/// passes the redactor (a base URL may carry a credential).
async fn check(
    name: &str,
    base_url: &str,
    request: impl Future<Output = Result<String, ProviderError>>,
) -> Checked {
    let started = Instant::now();
    let outcome = request.await;
    let took = started.elapsed().as_millis();
    match outcome {
        Ok(what) => Checked {
            line: crate::redact::redact(&format!("{name}: works ({what}; {took} ms, {base_url})"))
                .into_owned(),
            ok: true,
        },
        Err(e) => Checked {
            line: crate::redact::redact(&format!("{name}: FAILED after {took} ms ({base_url}): {e}"))
                .into_owned(),
            ok: false,
        },
    }
}
