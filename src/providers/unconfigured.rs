//! A stand-in for a provider the configuration does not enable: every call
//! fails with an error that names the setting to fill in.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    DailyBars, EarningsCalendar, EarningsHistory, EndOfDayChains, OptionChains, ProviderError, Quotes,
};
use crate::domain::{ChainSnapshot, DailyBar, EarningsEvent, Ticker, UnderlyingQuote};

/// A provider that is not configured.
#[derive(Debug, Clone, Copy)]
pub struct Unconfigured {
    /// The configuration key that would enable it, e.g. `tradier.token`.
    pub setting: &'static str,
}

impl Unconfigured {
    fn err(&self) -> ProviderError {
        ProviderError::NotConfigured { setting: self.setting }
    }
}

#[async_trait]
impl EarningsCalendar for Unconfigured {
    async fn earnings_between(
        &self,
        _: NaiveDate,
        _: NaiveDate,
    ) -> Result<Vec<EarningsEvent>, ProviderError> {
        Err(self.err())
    }
}

#[async_trait]
impl EarningsHistory for Unconfigured {
    async fn past_earnings(&self, _: &Ticker) -> Result<Vec<EarningsEvent>, ProviderError> {
        Err(self.err())
    }
}

#[async_trait]
impl DailyBars for Unconfigured {
    async fn daily_bars(
        &self,
        _: &Ticker,
        _: NaiveDate,
        _: NaiveDate,
    ) -> Result<Vec<DailyBar>, ProviderError> {
        Err(self.err())
    }
}

#[async_trait]
impl Quotes for Unconfigured {
    async fn quotes(&self, _: &[Ticker]) -> Result<Vec<UnderlyingQuote>, ProviderError> {
        Err(self.err())
    }
}

#[async_trait]
impl OptionChains for Unconfigured {
    async fn expirations(&self, _: &Ticker, _: DateTime<Utc>) -> Result<Vec<NaiveDate>, ProviderError> {
        Err(self.err())
    }
    async fn chain(
        &self,
        _: &Ticker,
        _: NaiveDate,
        _: DateTime<Utc>,
    ) -> Result<ChainSnapshot, ProviderError> {
        Err(self.err())
    }
}

#[async_trait]
impl EndOfDayChains for Unconfigured {
    async fn end_of_day_chain(&self, _: &Ticker, _: NaiveDate) -> Result<ChainSnapshot, ProviderError> {
        Err(self.err())
    }
}
