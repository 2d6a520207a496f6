//! One candidate analysed: every figure the scan, the replay, the backtest
//! and `ivcd calibrate` compute for an earnings event, with its reasons, from
//! inputs the caller fetched. Pure: no I/O, no clock (the instant the chain
//! is judged at is an input).
//!
//! The steps (`docs/analysis.md`, `../shared/docs/domain.md` §1-6):
//! 1. the event's reference and reaction sessions ([`moves::event_sessions`]);
//! 2. the history window ([`HistoryWindow::select`]: the newest
//!    `window_events` measured moves reported before the event, suspect
//!    timings left out);
//! 3. the implied move: from a chain of the event's expiration
//!    ([`implied::implied_move`], spot from the chain's own quote, else a
//!    separate quote, or the reference close), or an implied move computed
//!    earlier or recorded by a third party ([`ChainInput::Stored`]), or why
//!    there is none ([`NoImplied`]);
//! 4. the verdict ([`super::judge`]: VRP, tier, edge score, or the reasons);
//! 5. with a chain: the proposed structures ([`structures::propose`]) and the
//!    full analysis ([`full::analyse`]: term structure, skew, liquidity,
//!    consistency, bounds, score); without one, the score from what history
//!    gives (VRP and consistency; the chain's components are missing, their
//!    weights dropped).
//!
//! Nothing is estimated in place of a missing input: a missing chain, spot
//! or history gives a reason and no figures.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::full::{self, Analysis};
use super::implied::{self, ImpliedMove, NoImpliedMove, SpotSource};
use super::liquidity::LiquidityVerdict;
use super::moves::{self, EventSessions, HistoricalMove};
use super::score::{self, Score, ScoreInputs};
use super::structures::{self, Structure};
use super::vrp::MoveStats;
use super::{AnalysisParams, HistoryWindow, Verdict, consistency};
use crate::calendar::NyseCalendar;
use crate::domain::{ChainSnapshot, DailyBar, Ticker, Timing};
use crate::time::human_age;

/// Why a candidate has no chain to compute its implied move from. The
/// texts are the reasons stored with the candidate (and shown in alerts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoChain {
    /// The timing (DMH, unknown) does not tell which session reacts.
    #[error("timing {0} does not tell the reaction session")]
    UnknownSessions(Timing),
    /// The provider has no chain for the ticker.
    #[error("no chain")]
    NoData,
    /// The provider failed; its error's text (already redacted).
    #[error("no chain: {0}")]
    Provider(String),
    /// No listed expiration is on or after the reaction session.
    #[error("no expiration on or after the reaction session {0}")]
    NoExpiration(NaiveDate),
    /// The chain asked for holds no contract of the event's expiration.
    #[error("the chain has no contracts expiring {0}")]
    NoContracts(NaiveDate),
    /// The backtest: no daily bar for the close the chain is valued at.
    #[error("no daily bar for the reference session {0}")]
    NoReferenceBar(NaiveDate),
    /// The backtest: the end-of-day chain of `date` could not be had; the
    /// provider's error text.
    #[error("no end-of-day chain for {date}: {message}")]
    NoEndOfDayChain {
        /// The reference session whose close was asked for.
        date: NaiveDate,
        /// The provider's error (already redacted).
        message: String,
    },
    /// The backtest: the end-of-day chain lists no expiration on or after
    /// the reaction session.
    #[error("the {date} chain has no expiration on or after {reaction_session}")]
    NoEndOfDayExpiration {
        /// The chain's session.
        date: NaiveDate,
        /// The event's reaction session.
        reaction_session: NaiveDate,
    },
}

/// Why a candidate has no implied move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoImplied {
    /// No chain.
    #[error(transparent)]
    Chain(#[from] NoChain),
    /// A chain, but neither it nor a separate quote gave a spot price.
    #[error("no usable spot price (no underlying quote)")]
    NoSpot,
    /// A chain and a spot, but no usable ATM straddle.
    #[error(transparent)]
    Straddle(#[from] NoImpliedMove),
}

/// The chain side of the inputs.
#[derive(Debug, Clone, Copy)]
pub enum ChainInput<'a> {
    /// A chain taken now (the scan) or at the close before the event (the
    /// backtest), with the event's expiration already chosen
    /// ([`implied::event_expiration`]). The snapshot may hold more
    /// expirations (the term structure's); each figure reads its own.
    Snapshot {
        /// The event's expiration.
        expiration: NaiveDate,
        /// The chain.
        snapshot: &'a ChainSnapshot,
    },
    /// An implied move computed earlier from a chain (the backtest's stored
    /// rows) or recorded by a third party (`ivcd calibrate`): no chain at
    /// hand, so no structures and no full analysis.
    Stored(StoredImplied),
    /// No chain, and why.
    Missing(&'a NoChain),
}

/// An implied move without its chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredImplied {
    /// The implied move, fraction.
    pub implied_move: f64,
    /// The expiration it was computed for, when known.
    pub expiration: Option<NaiveDate>,
    /// The spot it was computed with, USD, when known.
    pub spot: Option<Decimal>,
    /// The straddle, USD per share, when known.
    pub straddle: Option<Decimal>,
}

/// Where the spot of a chain's implied move comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotInput {
    /// The chain's own underlying quote, else this separate quote's spot
    /// (USD; `None` without one): the scan.
    ChainElseQuote(Option<Decimal>),
    /// The close of the reference session, USD, whatever the chain says:
    /// the backtest, whose end-of-day chains are valued at that close.
    ReferenceClose(Decimal),
}

/// What [`candidate`] reads.
#[derive(Debug, Clone, Copy)]
pub struct CandidateInputs<'a> {
    /// The reporting company.
    pub ticker: &'a Ticker,
    /// The report date (ET).
    pub report_date: NaiveDate,
    /// BMO or AMC (another timing has no sessions, so no figures).
    pub timing: Timing,
    /// The instant the candidate is judged at (UTC): the scan's as-of; a
    /// chain older than `max_chain_age` at it carries a warning.
    pub as_of: DateTime<Utc>,
    /// The chain, a stored implied move, or why there is none.
    pub chain: ChainInput<'a>,
    /// Where a chain's spot comes from.
    pub spot: SpotInput,
    /// Every measured move of the ticker (any order); the window is chosen here.
    pub moves: &'a [HistoricalMove],
    /// Daily bars of complete sessions before `as_of`, ascending (realized
    /// volatility and average volume).
    pub bars: &'a [DailyBar],
    /// Warnings from fetching the inputs, listed first (e.g. `term
    /// structure: no chain for 2023-08-18: ...`).
    pub fetch_warnings: &'a [String],
}

/// The settings [`candidate`] reads.
#[derive(Debug, Clone, Copy)]
pub struct CandidateParams<'a> {
    /// `[analysis]`.
    pub analysis: &'a AnalysisParams,
    /// `[review] wing_steps`: the iron condor's wings, in listed strikes.
    pub wing_steps: usize,
    /// `[scan] max_chain_age_minutes`: a chain older than this at `as_of`
    /// carries a warning.
    pub max_chain_age_minutes: u32,
}

/// Every figure of one candidate, with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateAnalysis {
    /// The reference and reaction sessions; `None` for a timing without them.
    pub sessions: Option<EventSessions>,
    /// The event's expiration, when a chain (or a stored move) names one.
    pub expiration: Option<NaiveDate>,
    /// The implied move, fraction, when there is one.
    pub implied_move: Option<f64>,
    /// The chain's implied move with its straddle, strikes and method (a
    /// chain's candidate only).
    pub straddle: Option<ImpliedMove>,
    /// Where the spot came from (with an implied move from a chain).
    pub spot_source: Option<SpotSource>,
    /// The spot, USD (a chain's, or a stored move's when known).
    pub spot: Option<Decimal>,
    /// The straddle price, USD per share (a chain's, or a stored move's when known).
    pub straddle_price: Option<Decimal>,
    /// Why there is no implied move.
    pub no_implied: Option<NoImplied>,
    /// The history window.
    pub history: HistoryWindow,
    /// Its statistics when it holds at least `min_events` events.
    pub stats: Option<MoveStats>,
    /// EWMA of the window's |gap moves| (`[analysis.consistency]`), fraction.
    pub ewma_move: Option<f64>,
    /// Whether the window's recent moves grow.
    pub moves_growing: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// The proposed structures (a chain's candidate with an implied move).
    pub structures: Vec<Structure>,
    /// The full analysis (a chain's candidate with an implied move).
    pub analysis: Option<Analysis>,
    /// The score: the full analysis's, or, without a chain, the score of
    /// the components history gives (when judged).
    pub score: Option<Score>,
    /// When the chain's quotes were taken (UTC).
    pub chain_as_of: Option<DateTime<Utc>>,
    /// The chain's age at `as_of`, seconds.
    pub chain_age_seconds: Option<i64>,
    /// Caveats, in this order: fetching, the chain's age, the implied move's,
    /// tail risk, the structures', timing-suspect events left out, the
    /// market's view of the report date, a liquidity rejection.
    pub warnings: Vec<String>,
}

impl CandidateAnalysis {
    /// Whether the candidate may be ranked: it has figures and its
    /// straddle's liquidity is not rejected (domain.md §6).
    pub fn tradeable(&self) -> bool {
        matches!(self.verdict, Verdict::Judged { .. }) && self.liquidity() != Some(LiquidityVerdict::Reject)
    }

    /// The liquidity verdict of the straddle's legs, when assessed.
    pub fn liquidity(&self) -> Option<LiquidityVerdict> {
        self.analysis.as_ref().and_then(|a| a.liquidity.as_ref()).map(|l| l.verdict)
    }
}

/// Analyses one candidate. Never fails: a missing input gives a reason and
/// no figures (see [`CandidateAnalysis`]).
pub fn candidate(
    inputs: &CandidateInputs<'_>,
    calendar: &NyseCalendar,
    params: &CandidateParams<'_>,
) -> CandidateAnalysis {
    let a = params.analysis;
    let sessions = moves::event_sessions(calendar, inputs.report_date, inputs.timing);
    let history = HistoryWindow::select(inputs.moves, inputs.report_date, a.window_events, &a.timing_check);
    let mut warnings: Vec<String> = inputs.fetch_warnings.to_vec();

    // The implied move: from the chain, a stored figure, or why there is none.
    let unknown_sessions = NoChain::UnknownSessions(inputs.timing);
    let chain = if sessions.is_none() { ChainInput::Missing(&unknown_sessions) } else { inputs.chain };
    let mut snapshot: Option<(NaiveDate, &ChainSnapshot)> = None;
    let mut straddle: Option<ImpliedMove> = None;
    let mut spot_source = None;
    let mut stored = None;
    let implied: Result<f64, NoImplied> = match chain {
        ChainInput::Missing(why) => Err(NoImplied::Chain(why.clone())),
        ChainInput::Stored(s) => {
            stored = Some(s);
            Ok(s.implied_move)
        }
        ChainInput::Snapshot { expiration, snapshot: chain } => {
            snapshot = Some((expiration, chain));
            let (spot, source) = match inputs.spot {
                SpotInput::ReferenceClose(close) => (Some(close), SpotSource::ReferenceClose),
                SpotInput::ChainElseQuote(quote) => {
                    match chain.underlying.as_ref().and_then(crate::domain::UnderlyingQuote::spot) {
                        Some(spot) => (Some(spot), SpotSource::Chain),
                        None => (quote, SpotSource::Quote),
                    }
                }
            };
            match spot {
                None => Err(NoImplied::NoSpot),
                // The event's expiration alone: the snapshot may hold the term structure's too.
                Some(spot) => match implied::implied_move(&chain.expiration(expiration), spot) {
                    Ok(m) => {
                        let implied_move = m.implied_move;
                        straddle = Some(m);
                        spot_source = Some(source);
                        Ok(implied_move)
                    }
                    Err(e) => Err(NoImplied::Straddle(e)),
                },
            }
        }
    };

    let chain_as_of = snapshot.map(|(_, s)| s.as_of);
    let chain_age_seconds = chain_as_of.map(|at| (inputs.as_of - at).num_seconds());
    if let Some(age) = chain_age_seconds
        && age > i64::from(params.max_chain_age_minutes) * 60
    {
        warnings.push(format!("chain is {} old at the scan", human_age(age)));
    }

    let verdict = super::judge(implied.as_ref().copied(), &history, a);
    if let Some(m) = &straddle {
        warnings.extend(m.warnings.iter().cloned());
    }
    if matches!(verdict, Verdict::Judged { .. })
        && let Some(tail) = super::tail_risk_warning(&history, a)
    {
        warnings.push(tail);
    }

    let structures = match (&straddle, snapshot) {
        (Some(m), Some((expiration, chain))) => {
            let proposals =
                structures::propose(&chain.expiration(expiration), m.spot, m.implied_move, params.wing_steps);
            warnings.extend(proposals.notes);
            proposals.structures
        }
        _ => Vec::new(),
    };
    if !history.excluded.is_empty() {
        let dates: Vec<String> = history.excluded.iter().map(ToString::to_string).collect();
        warnings.push(format!(
            "left out of the historical moves, timing suspect: {} (see ivcd moves {})",
            dates.join(", "),
            inputs.ticker
        ));
    }

    let gaps: Vec<f64> = history.moves.iter().map(|m| m.gap_move).collect();
    let ewma_move = consistency::ewma_abs_move(&gaps, a.consistency.half_life_events);
    let moves_growing =
        consistency::move_trend(&gaps, a.consistency.trend_growth_warning).is_some_and(|t| t.growing);
    let analysis = match (&straddle, snapshot) {
        (Some(m), Some((expiration, chain))) => Some(full::analyse(
            &full::AnalysisInputs {
                snapshot: chain,
                expiration,
                spot: m.spot,
                implied_move: Some(m.implied_move),
                atm_strike: m.atm_strike(),
                history: &history,
                bars: inputs.bars,
            },
            calendar,
            a,
        )),
        _ => None,
    };
    if let Some(view) = analysis.as_ref().and_then(|x| x.market_view.as_ref())
        && let Some(text) = view.warning()
    {
        warnings.push(format!("market view: {text}"));
    }
    if let Some(l) = analysis.as_ref().and_then(|x| x.liquidity.as_ref())
        && l.verdict == LiquidityVerdict::Reject
        && matches!(verdict, Verdict::Judged { .. })
    {
        warnings.push(format!("not ranked: liquidity rejected ({})", l.reasons.join("; ")));
    }
    let score = match (&analysis, stored, &verdict, history.stats.as_ref()) {
        (Some(full), _, _, _) => full.score.clone(),
        // Without a chain: the components history gives.
        (None, Some(s), Verdict::Judged { .. }, Some(stats)) => score::score(
            &ScoreInputs {
                implied_move: s.implied_move,
                mean_move: stats.mean,
                ewma_move,
                relative_mad: stats.relative_mad,
                moves_growing,
                liquidity: None,
                term_slope: None,
                negative_forward_variance: false,
            },
            &a.score,
        ),
        _ => None,
    };

    CandidateAnalysis {
        sessions,
        expiration: snapshot.map(|(e, _)| e).or(stored.and_then(|s| s.expiration)),
        spot: straddle.as_ref().map(|m| m.spot).or(stored.and_then(|s| s.spot)),
        straddle_price: straddle.as_ref().map(|m| m.straddle).or(stored.and_then(|s| s.straddle)),
        straddle,
        spot_source,
        implied_move: implied.as_ref().ok().copied(),
        no_implied: implied.err(),
        stats: history.stats_with(a.min_events).cloned(),
        history,
        ewma_move,
        moves_growing,
        verdict,
        structures,
        analysis,
        score,
        chain_as_of,
        chain_age_seconds,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::vrp::Tier;
    use rust_decimal_macros::dec;

    fn data_dir() -> std::path::PathBuf {
        match std::env::var_os("IVCD_DATA_DIR") {
            Some(dir) => dir.into(),
            None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        }
    }

    /// The recorded Cboe chain of CVNA, 2023-07-18 07:51 ET (bid 36.80, ask 36.86).
    fn cvna_chain() -> ChainSnapshot {
        let (text, shown) = crate::providers::files::recorded::read_recorded(
            &data_dir(),
            std::path::Path::new("upstar7__Gamma-Ex/cvna_quotedata.csv"),
        )
        .unwrap();
        crate::providers::files::cboe::parse_cboe_chain_csv(&text, &shown).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Four past AMC events with absolute gaps 4%, 5%, 6% and 5%: mean 5%.
    fn past() -> Vec<HistoricalMove> {
        [(2, 0.04), (5, -0.05), (8, 0.06), (11, -0.05)]
            .into_iter()
            .map(|(month, gap)| {
                let day = date(2022, month, 3);
                HistoricalMove {
                    report_date: day,
                    timing: Timing::Amc,
                    sessions: EventSessions {
                        reference_session: day,
                        reaction_session: date(2022, month, 4),
                    },
                    reference_close: dec!(10),
                    reaction_open: dec!(10),
                    reaction_high: dec!(10),
                    reaction_low: dec!(10),
                    reaction_close: dec!(10),
                    gap_move: gap,
                    close_to_close_move: gap,
                    other_session_gap_move: None,
                    timing_suspect: false,
                }
            })
            .collect()
    }

    fn run(chain: ChainInput<'_>, timing: Timing, moves: &[HistoricalMove]) -> CandidateAnalysis {
        let ticker = Ticker::new("CVNA").unwrap();
        let analysis = AnalysisParams::default();
        candidate(
            &CandidateInputs {
                ticker: &ticker,
                report_date: date(2023, 7, 19),
                timing,
                as_of: crate::time::et_instant(date(2023, 7, 18), crate::time::EtTime::hm(15, 0).0),
                chain,
                spot: SpotInput::ChainElseQuote(None),
                moves,
                bars: &[],
                fetch_warnings: &["fetched with a warning".to_owned()],
            },
            &NyseCalendar::new(),
            &CandidateParams { analysis: &analysis, wing_steps: 1, max_chain_age_minutes: 15 },
        )
    }

    #[test]
    fn a_chain_gives_the_implied_move_structures_and_the_full_analysis() {
        let chain = cvna_chain();
        let expiration = date(2023, 7, 21);
        let a = run(ChainInput::Snapshot { expiration, snapshot: &chain }, Timing::Bmo, &past());
        // implied::implied_move's worked example: 4.7745 / 36.83.
        assert!((a.implied_move.unwrap() - 0.129_636).abs() < 1e-5, "{:?}", a.implied_move);
        assert_eq!((a.spot, a.spot_source), (Some(dec!(36.83)), Some(SpotSource::Chain)));
        assert_eq!(a.expiration, Some(expiration));
        assert_eq!(a.structures.len(), 3, "straddle, strangle and condor");
        assert!(a.analysis.is_some() && a.score.is_some());
        // VRP = 0.1296 / 0.05 = 2.59: excellent.
        assert!(matches!(a.verdict, Verdict::Judged { tier: Tier::Excellent, .. }), "{:?}", a.verdict);
        assert_eq!(a.warnings.first().map(String::as_str), Some("fetched with a warning"));
        assert!(a.warnings.iter().any(|w| w.starts_with("chain is 7h 09m old")), "{:?}", a.warnings);
    }

    #[test]
    fn a_stored_move_is_judged_with_the_score_history_gives() {
        let stored = StoredImplied { implied_move: 0.10, expiration: None, spot: None, straddle: None };
        let a = run(ChainInput::Stored(stored), Timing::Bmo, &past());
        assert_eq!(a.verdict.tier(), Some(Tier::Excellent), "VRP 0.10 / 0.05 = 2");
        assert!(a.structures.is_empty() && a.analysis.is_none() && a.chain_as_of.is_none());
        let score = a.score.unwrap();
        let names: Vec<&str> = score.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["vrp", "consistency"], "without a chain, only history's components");
        assert_eq!(score.missing.len(), 2, "{:?}", score.missing);
    }

    #[test]
    fn a_missing_input_is_a_reason_never_a_figure() {
        let a = run(ChainInput::Missing(&NoChain::NoData), Timing::Bmo, &past()[..3]);
        assert_eq!(a.verdict.reason(), Some("no chain; 3 past events, need 4"));
        assert_eq!((a.implied_move, a.score.as_ref()), (None, None));
        assert_eq!(a.no_implied, Some(NoImplied::Chain(NoChain::NoData)));
        // A timing without sessions has no figures, whatever chain is at hand.
        let chain = cvna_chain();
        let a = run(
            ChainInput::Snapshot { expiration: date(2023, 7, 21), snapshot: &chain },
            Timing::Unknown,
            &past(),
        );
        assert_eq!(a.verdict.reason(), Some("timing UNKNOWN does not tell the reaction session"));
        assert!(a.implied_move.is_none() && a.structures.is_empty() && a.sessions.is_none());
    }
}
