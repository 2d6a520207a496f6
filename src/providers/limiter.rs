//! The window-exact rate limiter every HTTP client sends through: a
//! vendor's allowance spent as fast as the requests come, and never more
//! requests in one of the vendor's windows than it allows.
//!
//! Vendors state their limits as fixed windows: Tradier serves R requests
//! per token in a one-minute window and answers the rest 429, reporting the
//! window's state on every answer (`X-Ratelimit-Allowed`, `-Used`,
//! `-Available`, `-Expiry` in epoch milliseconds); Alpha Vantage has a
//! per-minute and a per-day quota and the SEC 10 requests a second, neither
//! with headers. The limiter knows neither where a vendor's window starts
//! nor how the vendor's clock differs from ours, so it holds each request
//! against the vendor's windows by what it can prove:
//!
//! - **A request is live from its send until it provably cannot share a
//!   vendor window with a request sent now**, and at most `allowance`
//!   requests are live at once. The vendor counted a request at some
//!   instant between its send and its answer, so a request answered at `r`
//!   and one sent at `t >= r + window` are at least a window apart, in any
//!   window phase and under any clock offset: that is when a request
//!   without rate-limit headers is released. A request whose answer named
//!   its window (Tradier's `Expiry`) is released when that window has
//!   surely ended: at the earlier of `r_first + window` (`r_first`: the
//!   first answer of that window; the window holds that answer's arrival,
//!   so it ends within a window of it) and the `Expiry` read on our own
//!   timeline, plus `guard`. To read `Expiry` on our timeline the limiter
//!   keeps a lower bound of the vendor's clock minus ours, from the
//!   vendor's `Date` header (whole seconds, rounded down, so never ahead)
//!   and from window changes (an answer naming a later window was made
//!   after the earlier one ended); a lower bound only ever makes a window
//!   end later on our timeline, never earlier. Without a `Date` header the
//!   `Expiry` is not used at all. A request that got no answer (a timeout,
//!   a dropped call) is released a window plus `guard` (at least a second)
//!   after it was given up.
//! - **With the vendor's counts (Tradier), what the vendor says is left**:
//!   an answer saying `Available = V` for its request `q` bounds what may
//!   still be sent into that window by `V` minus every request of ours the
//!   vendor may not have counted yet (those in flight when `q` was sent, and
//!   those sent after it). When a window has ended and no answer has yet
//!   come from the next one (and at the start), one request goes alone and
//!   its answer says how much of the new window is left (another client of
//!   the same token may have used part of it).
//! - **A long quota** (Alpha Vantage's per day) is a second window of the
//!   same kind, without headers; a request that would wait longer than the
//!   short window for it is refused at once ([`Exhausted`]) instead.
//! - **A refusal** (HTTP 429, or a vendor's throttle notice) without usable
//!   headers holds every request for the vendor's `Retry-After`, or a
//!   window when it gives none.
//!
//! A token-bucket quota (governor's GCRA) with a burst equal to the
//! allowance is not enough by itself: it lets the full burst through at the
//! end of one vendor window and refills `allowance` more within the next 60
//! seconds, so up to twice the allowance can reach the vendor within one
//! minute, and it cannot take the vendor's counts in. governor keeps what
//! it fits: a vendor that states a steady rate (the SEC) has its sends
//! spaced by a GCRA of burst 1 ([`WindowLimit::spaced`]) on top of the
//! window count, which stays the bound. docs/performance.md says more, with
//! the bounds this gives a scan.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

/// A vendor's rate limit as the vendor states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// Requests the vendor serves in one window (at least 1).
    pub allowance: u32,
    /// The window's length (Tradier: 60 s; the SEC: 1 s).
    pub window: Duration,
    /// A second, longer quota (Alpha Vantage's per day), if any.
    pub long: Option<LongQuota>,
    /// Whether the vendor reports its window in `X-Ratelimit-*` headers (Tradier).
    pub vendor_headers: bool,
    /// The margin added after a window's end read from the vendor's `Expiry`.
    pub guard: Duration,
    /// Whether sends are also spaced evenly, one per `window / allowance`
    /// (governor's GCRA, burst 1), on top of the window count: for a vendor
    /// that states a steady rate (the SEC's 10 a second) rather than an
    /// allowance to spend at once. The window count alone is the bound.
    pub spaced: bool,
}

impl WindowLimit {
    /// `allowance` requests a window of `window`, no headers, no long quota,
    /// no guard.
    pub fn per_window(allowance: u32, window: Duration) -> Self {
        Self {
            allowance: allowance.max(1),
            window,
            long: None,
            vendor_headers: false,
            guard: Duration::ZERO,
            spaced: false,
        }
    }

    /// The same limit, with sends spaced evenly (see [`WindowLimit::spaced`]).
    pub fn spaced(self) -> Self {
        Self { spaced: true, ..self }
    }
}

/// governor's clock read from tokio's (so that paused time in tests moves it).
#[derive(Debug, Clone, Copy, Default)]
struct TokioClock;

impl governor::clock::Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        Instant::now().into_std()
    }
}

/// An even spacing of sends (governor's GCRA with a burst of 1).
type Spacing = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<std::time::Instant>,
>;

/// The spacing of `limit`, if it asks for one: one send per `window / allowance`.
fn spacing(limit: &WindowLimit) -> Option<Spacing> {
    if !limit.spaced {
        return None;
    }
    let period = limit.window.checked_div(limit.allowance.max(1))?;
    let quota = governor::Quota::with_period(period)?.allow_burst(std::num::NonZeroU32::MIN);
    Some(governor::RateLimiter::direct_with_clock(quota, TokioClock))
}

/// A long quota: `allowance` requests in any `window` (Alpha Vantage's per day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongQuota {
    /// Requests in one long window (at least 1).
    pub allowance: u32,
    /// The long window's length.
    pub window: Duration,
    /// The configuration key that sets it, for the refusal's message.
    pub setting: &'static str,
}

/// A request refused without being sent: the long quota is used up for
/// longer than the short window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// How long until the long quota lets one request through.
    pub wait: Duration,
    /// The configuration key of the long quota.
    pub setting: &'static str,
}

/// How long an acquisition waited, and for whom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waited {
    /// The time spent waiting.
    pub duration: Duration,
    /// Whether the vendor's window (its counts, or a refusal) held the
    /// request, rather than ivcd's own count.
    pub for_vendor: bool,
}

/// The window state the vendor's headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-Ratelimit-Allowed`: the window's allowance, when given.
    pub allowed: Option<u32>,
    /// What is left after this request: `X-Ratelimit-Available`, or
    /// `Allowed - Used`; the smaller when both are given.
    pub available: u32,
    /// `X-Ratelimit-Expiry`: the window's end, epoch milliseconds (the vendor's clock).
    pub expiry_ms: i64,
}

/// How much later than its giving up an unanswered request may still reach
/// the vendor, at least: a chosen margin (docs/performance.md), not a
/// figure the vendor publishes.
const ABANDONED_GUARD: Duration = Duration::from_secs(1);

/// The largest count believed from a header (far above any vendor's allowance).
const MAX_COUNT: i64 = 1_000_000;

/// Reads Tradier's `X-Ratelimit-*` headers (its documentation, "Rate
/// Limiting"): `None` without an `Expiry` or without a count. Values are
/// bounded: counts to 0..=1,000,000, anything unreadable is absent.
pub fn rate_headers(headers: &HeaderMap) -> Option<RateHeaders> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    let count = |name: &str| number(name).map(|n| n.clamp(0, MAX_COUNT));
    let expiry_ms = number("x-ratelimit-expiry")?;
    let allowed = count("x-ratelimit-allowed");
    let by_used = allowed.zip(count("x-ratelimit-used")).map(|(a, u)| (a - u).max(0));
    let available = match (count("x-ratelimit-available"), by_used) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(RateHeaders {
        allowed: allowed.and_then(|a| u32::try_from(a).ok()),
        available: u32::try_from(available).unwrap_or(0),
        expiry_ms,
    })
}

/// The vendor's clock when it made an answer, epoch milliseconds, rounded
/// down to its `Date` header's whole second.
fn date_ms(headers: &HeaderMap) -> Option<i64> {
    let text = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    let at = httpdate::parse_http_date(text).ok()?;
    let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

/// One of our requests, from its send until it is released.
#[derive(Debug)]
struct Entry {
    id: u64,
    release: Release,
}

/// When a request stops counting against the vendor's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// Not answered yet.
    InFlight,
    /// At this instant.
    At(Instant),
    /// When the vendor window it was counted in (by its key) has surely ended.
    Window(i64),
}

/// A vendor window seen in answers, keyed by the first `Expiry` read of it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The first answer of the window plus a window: it has ended by then.
    first_end: Instant,
    /// The latest and the earliest `Expiry` answers gave for it (epoch ms,
    /// the vendor's clock): its end is read from the latest, and a later
    /// window proves the vendor's clock past the earliest.
    expiry: i64,
    earliest: i64,
}

/// What the limiter knows of the vendor's current window (header vendors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    /// Nothing (the start, or the last known window has ended): one request
    /// at a time until an answer tells.
    Unknown,
    /// An answer came without rate-limit headers: our own count alone until then.
    Silent { until: Instant },
    /// The window of key `window`, of which the vendor said `available`
    /// were left at the latest of our answered requests to reach it: every
    /// answered request of ours in it is counted there, so what may still
    /// be sent into it is `available` minus our requests whose window is
    /// not known (in flight, or answered without headers).
    Known { window: i64, available: i64 },
}

#[derive(Debug)]
struct State {
    /// Our timeline's zero: our milliseconds are counted from it.
    anchor: Instant,
    next_id: u64,
    /// Live requests, by id.
    entries: Vec<Entry>,
    /// The long quota's answered requests: when each is released, in order.
    long: VecDeque<Instant>,
    vendor: Vendor,
    /// The key of the latest vendor window seen.
    latest: Option<i64>,
    /// The vendor windows that still matter, by key.
    seen: BTreeMap<i64, Seen>,
    /// A lower bound of (the vendor's clock - ours), milliseconds.
    offset_lo: Option<i64>,
    /// A refusal without usable headers holds every request until then.
    blocked_until: Option<Instant>,
    /// The vendor's stated allowance, when smaller than ours.
    vendor_allowed: Option<u32>,
}

/// What [`State::poll`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Decision {
    /// Send: the request's id.
    Go(u64),
    /// Wait until then (or until an answer arrives, which may free one earlier);
    /// `None`: until an answer arrives. `for_vendor`: the vendor's window holds it.
    Wait { until: Option<Instant>, for_vendor: bool },
    /// Refuse: the long quota frees one only after this wait.
    Refuse(Duration),
}

impl State {
    fn our_ms(&self, at: Instant) -> i64 {
        i64::try_from(at.saturating_duration_since(self.anchor).as_millis()).unwrap_or(i64::MAX)
    }

    fn raise_offset(&mut self, lo: i64) {
        self.offset_lo = Some(self.offset_lo.map_or(lo, |o| o.max(lo)));
    }

    fn end_of(&self, key: i64, guard: Duration) -> Option<Instant> {
        end_of(&self.seen, self.offset_lo, self.anchor, key, guard)
    }

    fn release_of(&self, release: Release, guard: Duration) -> Option<Instant> {
        release_of(&self.seen, self.offset_lo, self.anchor, release, guard)
    }

    fn in_flight(&self) -> u32 {
        u32::try_from(self.entries.iter().filter(|e| e.release == Release::InFlight).count())
            .unwrap_or(u32::MAX)
    }

    /// The earliest instant a live answered request is released.
    fn next_release(&self, guard: Duration) -> Option<Instant> {
        self.entries.iter().filter_map(|e| self.release_of(e.release, guard)).min()
    }

    fn prune(&mut self, now: Instant, guard: Duration) {
        // Each tracked window's end, worked out once (there are a few).
        let ends: Vec<(i64, Instant)> =
            self.seen.keys().map(|key| (*key, self.end_of(*key, guard).unwrap_or(self.anchor))).collect();
        let mut held = vec![false; ends.len()];
        self.entries.retain(|e| match e.release {
            Release::InFlight => true,
            Release::At(at) => at > now,
            Release::Window(key) => match ends.iter().position(|(k, _)| *k == key) {
                Some(i) if ends[i].1 > now => {
                    held[i] = true;
                    true
                }
                _ => false,
            },
        });
        while self.long.front().is_some_and(|r| *r <= now) {
            self.long.pop_front();
        }
        if self.blocked_until.is_some_and(|b| b <= now) {
            self.blocked_until = None;
        }
        // Keep the windows that still hold a request, and the latest.
        let latest = self.latest;
        let mut i = 0;
        self.seen.retain(|key, _| {
            let keep = Some(*key) == latest || held.get(i).copied().unwrap_or(false);
            i += 1;
            keep
        });
    }

    fn poll(&mut self, limit: &WindowLimit, now: Instant) -> Decision {
        self.prune(now, limit.guard);
        if let Some(until) = self.blocked_until {
            return Decision::Wait { until: Some(until), for_vendor: true };
        }
        let allowance = limit.allowance.min(self.vendor_allowed.unwrap_or(u32::MAX)).max(1);
        let in_flight = self.in_flight();
        if self.entries.len() >= allowance as usize {
            return Decision::Wait { until: self.next_release(limit.guard), for_vendor: false };
        }
        if let Some(long) = limit.long
            && in_flight as usize + self.long.len() >= long.allowance as usize
        {
            // Requests in flight end within their timeout; the answered ones
            // free the long quota in order.
            let until = self.long.front().copied();
            if let Some(at) = until
                && at.saturating_duration_since(now) > limit.window
            {
                return Decision::Refuse(at.saturating_duration_since(now));
            }
            return Decision::Wait { until, for_vendor: false };
        }
        if limit.vendor_headers {
            self.vendor = match self.vendor {
                Vendor::Known { window, .. }
                    if self.end_of(window, limit.guard).is_none_or(|end| end <= now) =>
                {
                    Vendor::Unknown
                }
                Vendor::Silent { until } if until <= now => Vendor::Unknown,
                v => v,
            };
            match self.vendor {
                Vendor::Unknown if in_flight > 0 => {
                    return Decision::Wait { until: self.next_release(limit.guard), for_vendor: true };
                }
                Vendor::Known { window, available } => {
                    let unplaced =
                        self.entries.iter().filter(|e| !matches!(e.release, Release::Window(_))).count();
                    if available <= i64::try_from(unplaced).unwrap_or(i64::MAX) {
                        return Decision::Wait { until: self.end_of(window, limit.guard), for_vendor: true };
                    }
                }
                Vendor::Unknown | Vendor::Silent { .. } => {}
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(Entry { id, release: Release::InFlight });
        Decision::Go(id)
    }

    /// Request `id` was answered at `now`.
    fn answered(
        &mut self,
        limit: &WindowLimit,
        id: u64,
        now: Instant,
        headers: &HeaderMap,
        refusal: Refusal,
    ) {
        let rate = if limit.vendor_headers { rate_headers(headers) } else { None };
        if let Some(date) = date_ms(headers).filter(|_| limit.vendor_headers) {
            self.raise_offset(date.saturating_sub(self.our_ms(now)));
        }
        if let Some(long) = limit.long {
            self.long.push_back(now + long.window);
        }
        if !self.entries.iter().any(|e| e.id == id) {
            return;
        }
        let Some(rate) = rate else {
            self.set_release(id, Release::At(now + limit.window));
            if let Refusal::Refused { retry_after } = refusal {
                self.block(now + retry_after.unwrap_or(limit.window));
            }
            if limit.vendor_headers && self.vendor == Vendor::Unknown {
                self.vendor = Vendor::Silent { until: now + limit.window };
            }
            return;
        };
        // Which window: a vendor may restate one window's `Expiry` a little
        // differently from answer to answer, but two windows' ends are at
        // least a window apart.
        let half = i64::try_from(limit.window.as_millis() / 2).unwrap_or(i64::MAX);
        let x = rate.expiry_ms;
        let key = match self.latest {
            Some(latest) if x.abs_diff(latest) < half.unsigned_abs() => latest,
            Some(latest) if x < latest => {
                // An answer from an older window: it has ended.
                self.set_release(id, Release::At(now));
                return;
            }
            Some(latest) => {
                // An answer from a later window was made after the earlier one ended.
                if let Some(seen) = self.seen.get(&latest) {
                    let ended = seen.earliest;
                    self.raise_offset(ended.saturating_sub(self.our_ms(now)));
                }
                x
            }
            None => x,
        };
        let seen =
            self.seen.entry(key).or_insert(Seen { first_end: now + limit.window, expiry: x, earliest: x });
        seen.first_end = seen.first_end.min(now + limit.window);
        seen.expiry = seen.expiry.max(x);
        seen.earliest = seen.earliest.min(x);
        self.set_release(id, Release::Window(key));
        if let Some(allowed) = rate.allowed.filter(|a| *a < limit.allowance)
            && self.vendor_allowed != Some(allowed)
        {
            tracing::warn!(
                vendor_allowance = allowed,
                configured = limit.allowance,
                "the vendor allows fewer requests a window than configured; keeping to the vendor's"
            );
            self.vendor_allowed = Some(allowed);
        }
        let mut available = i64::from(rate.available);
        if matches!(refusal, Refusal::Refused { .. }) {
            available = 0;
        }
        if self.latest != Some(key) {
            self.latest = Some(key);
            self.vendor = Vendor::Known { window: key, available };
            return;
        }
        self.vendor = match self.vendor {
            // The vendor's count only grows within a window: the least left wins.
            Vendor::Known { window, available: before } if window == key => {
                Vendor::Known { window, available: available.min(before) }
            }
            // Nothing known of it (taken for ended by a bound that is never
            // early, or not read yet): a reading of a window not yet ended.
            _ if self.end_of(key, limit.guard).is_some_and(|end| end > now) => {
                Vendor::Known { window: key, available }
            }
            v => v,
        };
    }

    /// Request `id` got no answer (failed, timed out, dropped) at `now`.
    fn abandoned(&mut self, limit: &WindowLimit, id: u64, now: Instant) {
        // It may still reach the vendor a little later.
        let late = limit.guard.max(ABANDONED_GUARD);
        self.set_release(id, Release::At(now + late + limit.window));
        if let Some(long) = limit.long {
            self.long.push_back(now + late + long.window);
        }
    }

    fn set_release(&mut self, id: u64, release: Release) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.release = release;
        }
    }

    fn block(&mut self, until: Instant) {
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

/// When the vendor window of key `key` has surely ended, on our timeline:
/// its first answer plus a window, or its `Expiry` read through the
/// offset's lower bound plus the guard, whichever is earlier. `None`: the
/// window is not tracked (it has ended).
fn end_of(
    seen: &BTreeMap<i64, Seen>,
    offset_lo: Option<i64>,
    anchor: Instant,
    key: i64,
    guard: Duration,
) -> Option<Instant> {
    let seen = seen.get(&key)?;
    let Some(offset) = offset_lo else { return Some(seen.first_end) };
    let ours = seen.expiry.saturating_sub(offset).max(0);
    let by_expiry = Duration::from_millis(u64::try_from(ours).unwrap_or(0));
    Some(match anchor.checked_add(by_expiry) {
        Some(at) => seen.first_end.min(at + guard),
        None => seen.first_end,
    })
}

/// When a request is released (`None`: in flight).
fn release_of(
    seen: &BTreeMap<i64, Seen>,
    offset_lo: Option<i64>,
    anchor: Instant,
    release: Release,
    guard: Duration,
) -> Option<Instant> {
    match release {
        Release::InFlight => None,
        Release::At(at) => Some(at),
        Release::Window(key) => Some(end_of(seen, offset_lo, anchor, key, guard).unwrap_or(anchor)),
    }
}

/// Whether the vendor refused a request for its rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Served (or refused for another reason).
    No,
    /// Refused for the rate limit (HTTP 429, a throttle notice), with the
    /// vendor's `Retry-After` when it gave one.
    Refused {
        /// The wait the vendor asked for.
        retry_after: Option<Duration>,
    },
}

/// One provider's limiter; share it through an `Arc`.
#[derive(Debug)]
pub struct Limiter {
    limit: WindowLimit,
    spacing: Option<Spacing>,
    state: Mutex<State>,
    changed: Notify,
}

impl Limiter {
    /// A limiter of `limit`, with nothing sent yet.
    pub fn new(limit: WindowLimit) -> Self {
        let limit = WindowLimit { allowance: limit.allowance.max(1), ..limit };
        Self {
            limit,
            spacing: spacing(&limit),
            state: Mutex::new(State {
                anchor: Instant::now(),
                next_id: 0,
                entries: Vec::new(),
                long: VecDeque::new(),
                vendor: Vendor::Unknown,
                latest: None,
                seen: BTreeMap::new(),
                offset_lo: None,
                blocked_until: None,
                vendor_allowed: None,
            }),
            changed: Notify::new(),
        }
    }

    /// The limit it keeps.
    pub fn limit(&self) -> WindowLimit {
        self.limit
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until one more request may be sent, and hands out its permit
    /// (with how long it waited, if it did). The permit must be told how the
    /// request ended ([`Permit::answered`]); dropping it unanswered counts
    /// the request as sent and unanswered.
    ///
    /// # Errors
    /// [`Exhausted`] when the long quota is used up for longer than one
    /// short window: nothing is sent.
    pub async fn acquire(self: &Arc<Self>) -> Result<(Permit, Option<Waited>), Exhausted> {
        let started = Instant::now();
        let mut waited: Option<bool> = None;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let decision = self.state().poll(&self.limit, Instant::now());
            match decision {
                Decision::Go(id) => {
                    // Counted from here: dropped while spaced, it is released as unanswered.
                    let permit = Permit { limiter: self.clone(), id, done: false };
                    if let Some(spacing) = &self.spacing {
                        while let Err(not_until) = spacing.check() {
                            waited = Some(waited.unwrap_or(false));
                            tokio::time::sleep(not_until.wait_time_from(Instant::now().into_std())).await;
                        }
                    }
                    let waited = waited.map(|for_vendor| Waited { duration: started.elapsed(), for_vendor });
                    return Ok((permit, waited));
                }
                Decision::Refuse(wait) => {
                    let setting = self.limit.long.map_or("", |l| l.setting);
                    return Err(Exhausted { wait, setting });
                }
                Decision::Wait { until, for_vendor } => {
                    waited = Some(waited.unwrap_or(false) || for_vendor);
                    match until {
                        Some(at) => {
                            tokio::select! {
                                () = &mut notified => {}
                                () = tokio::time::sleep_until(at) => {}
                            }
                        }
                        None => notified.await,
                    }
                }
            }
        }
    }

    /// A rate-limit refusal that came as a 2xx body (Alpha Vantage's
    /// throttle notice), after its permit was answered: holds every request
    /// for `retry_after`, or a window without one.
    pub fn refused(&self, retry_after: Option<Duration>) {
        let until = Instant::now() + retry_after.unwrap_or(self.limit.window);
        self.state().block(until);
        self.changed.notify_waiters();
    }
}

/// Leave to send one request; tell it how the request ended.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    id: u64,
    done: bool,
}

impl Permit {
    /// The request was answered now, with these headers; `refusal` says
    /// whether the vendor refused it for its rate limit.
    pub fn answered(mut self, headers: &HeaderMap, refusal: Refusal) {
        self.done = true;
        let limit = self.limiter.limit;
        self.limiter.state().answered(&limit, self.id, Instant::now(), headers, refusal);
        self.limiter.changed.notify_waiters();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            let limit = self.limiter.limit;
            self.limiter.state().abandoned(&limit, self.id, Instant::now());
            self.limiter.changed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    //! The limiter against a simulated vendor on paused tokio time: the
    //! vendor keeps fixed windows on its own clock (ahead of or behind
    //! ours), counts each request when it arrives, refuses (429) past its
    //! allowance, and answers with Tradier's headers and a `Date`.

    use std::sync::Mutex as StdMutex;

    use futures::StreamExt;
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    /// Where the vendor's windows start.
    #[derive(Debug, Clone, Copy)]
    enum Phase {
        /// At multiples of the window on the vendor's clock.
        Aligned,
        /// At the first request after the last window ended.
        FirstRequest,
    }

    #[derive(Debug)]
    struct Vendor {
        allowance: u32,
        window_ms: i64,
        phase: Phase,
        /// The vendor's clock at our start, epoch milliseconds.
        epoch_ms: i64,
        headers: bool,
        /// Each answer states its window's `Expiry` up to this many
        /// milliseconds off, either way (a vendor that restates it loosely).
        jitter_ms: i64,
        /// How far the clock that stamps `Date` is ahead of the one that
        /// keeps the windows (two machines of the vendor's), milliseconds.
        date_ahead_ms: i64,
        /// Our start.
        start: Instant,
        state: StdMutex<VendorState>,
    }

    #[derive(Debug, Default)]
    struct VendorState {
        /// The current window's start (vendor ms) and its count.
        window: Option<(i64, u32)>,
        served: u32,
        refused: u32,
    }

    impl Vendor {
        fn new(allowance: u32, window: Duration, phase: Phase, epoch_ms: i64) -> Self {
            Self {
                allowance,
                window_ms: i64::try_from(window.as_millis()).unwrap(),
                phase,
                epoch_ms,
                headers: true,
                jitter_ms: 0,
                date_ahead_ms: 0,
                start: Instant::now(),
                state: StdMutex::default(),
            }
        }

        fn now_ms(&self) -> i64 {
            self.epoch_ms + i64::try_from(self.start.elapsed().as_millis()).unwrap()
        }

        /// `used` requests of another client already in the current window.
        fn already_used(&self, used: u32) {
            let now = self.now_ms();
            let start = match self.phase {
                Phase::Aligned => now - now.rem_euclid(self.window_ms),
                Phase::FirstRequest => now - self.window_ms / 2,
            };
            self.state.lock().unwrap().window = Some((start, used));
        }

        /// Counts a request arriving now; the answer's headers and whether it was refused.
        fn arrive(&self) -> (HeaderMap, bool) {
            let now = self.now_ms();
            let mut s = self.state.lock().unwrap();
            let start = match (self.phase, s.window) {
                (Phase::Aligned, _) => now - now.rem_euclid(self.window_ms),
                (Phase::FirstRequest, Some((start, _))) if now < start + self.window_ms => start,
                (Phase::FirstRequest, _) => now,
            };
            let used = match s.window {
                Some((s0, used)) if s0 == start => used,
                _ => 0,
            };
            let refused = used >= self.allowance;
            let used = if refused { used } else { used + 1 };
            s.window = Some((start, used));
            if refused {
                s.refused += 1;
            } else {
                s.served += 1;
            }
            let mut headers = HeaderMap::new();
            let mut put = |name: &'static str, value: String| {
                headers.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
            };
            let date = std::time::UNIX_EPOCH
                + Duration::from_millis(u64::try_from(now + self.date_ahead_ms).unwrap());
            put("date", httpdate::fmt_http_date(date));
            if self.headers {
                put("x-ratelimit-allowed", self.allowance.to_string());
                put("x-ratelimit-used", used.to_string());
                put("x-ratelimit-available", (self.allowance - used).to_string());
                // A fixed pseudo-random spread: -jitter, 0, +jitter, ...
                let spread = (i64::from(s.served + s.refused) % 3 - 1) * self.jitter_ms;
                put("x-ratelimit-expiry", (start + self.window_ms + spread).to_string());
            }
            (headers, refused)
        }

        fn refused(&self) -> u32 {
            self.state.lock().unwrap().refused
        }

        fn served(&self) -> u32 {
            self.state.lock().unwrap().served
        }
    }

    /// What a run did: its duration and how many acquisitions waited.
    #[derive(Debug)]
    struct Run {
        elapsed: Duration,
        waits: usize,
    }

    /// `tickers` tickers of `per_ticker` dependent requests each, `in_flight`
    /// at a time, each request `up` to reach the vendor and `down` back.
    async fn scan(
        limiter: &Arc<Limiter>,
        vendor: &Vendor,
        tickers: usize,
        per_ticker: usize,
        in_flight: usize,
        up: Duration,
        down: Duration,
    ) -> Run {
        let started = Instant::now();
        let waits = std::sync::atomic::AtomicUsize::new(0);
        let one = || async {
            let (permit, waited) = limiter.acquire().await.unwrap();
            if waited.is_some() {
                waits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            tokio::time::sleep(up).await;
            let (headers, refused) = vendor.arrive();
            tokio::time::sleep(down).await;
            let refusal = if refused { Refusal::Refused { retry_after: None } } else { Refusal::No };
            permit.answered(&headers, refusal);
        };
        // The batched quotes first, as the scan does.
        one().await;
        futures::stream::iter(0..tickers)
            .map(|_| async {
                for _ in 0..per_ticker {
                    one().await;
                }
            })
            .buffer_unordered(in_flight)
            .collect::<Vec<()>>()
            .await;
        Run { elapsed: started.elapsed(), waits: waits.into_inner() }
    }

    fn tradier(allowance: u32, window: Duration) -> Arc<Limiter> {
        Arc::new(Limiter::new(WindowLimit {
            allowance,
            window,
            long: None,
            vendor_headers: true,
            guard: Duration::from_millis(500),
            spaced: false,
        }))
    }

    const MINUTE: Duration = Duration::from_secs(60);
    const MS: Duration = Duration::from_millis(1);
    /// A vendor clock: 2024-06-28 19:00:00 UTC plus the given milliseconds.
    const EPOCH: i64 = 1_719_601_200_000;

    #[tokio::test(start_paused = true)]
    async fn a_scan_that_fits_one_window_sends_as_fast_as_its_requests_depend() {
        // 20 tickers of 4 requests and the quotes: 81 of 120.
        let vendor = Vendor::new(120, MINUTE, Phase::FirstRequest, EPOCH);
        let limiter = tradier(120, MINUTE);
        let run = scan(&limiter, &vendor, 20, 4, 30, 10 * MS, 10 * MS).await;
        assert_eq!((vendor.refused(), vendor.served()), (0, 81));
        assert_eq!(run.waits, 0, "no request waited");
        // The critical path: the quotes, then one ticker's 4 requests, 20 ms each.
        assert_eq!(run.elapsed, 5 * 20 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_allowance_in_a_window_of_a_vendor_ahead_or_behind() {
        // Windows on the minute of the vendor's clock, which is 7.3 s ahead
        // or 4.6 s behind ours; our start falls 37.2 s into a window.
        for skew in [7_300, -4_600, 0] {
            for phase in [Phase::Aligned, Phase::FirstRequest] {
                let epoch = EPOCH + 37_200 + skew;
                let vendor = Vendor::new(120, MINUTE, phase, epoch);
                let limiter = tradier(120, MINUTE);
                // 121 tickers: 485 requests, 5 windows.
                let run = scan(&limiter, &vendor, 121, 4, 30, 8 * MS, 12 * MS).await;
                assert_eq!(vendor.refused(), 0, "skew {skew} ms, {phase:?}");
                assert_eq!(vendor.served(), 485);
                // 5 windows' worth: within the 5th window (4 full windows
                // after the first), plus a few round trips at each edge.
                assert!(run.elapsed < 4 * MINUTE + 5 * Duration::from_secs(2), "{phase:?} {:?}", run.elapsed);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_expiry_restated_loosely_within_the_guard_is_kept_to() {
        for phase in [Phase::Aligned, Phase::FirstRequest] {
            let mut vendor = Vendor::new(60, MINUTE, phase, EPOCH + 51_900);
            vendor.jitter_ms = 400;
            let limiter = tradier(60, MINUTE);
            scan(&limiter, &vendor, 60, 4, 15, 10 * MS, 30 * MS).await;
            assert_eq!((vendor.refused(), vendor.served()), (0, 241), "{phase:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_guard_absorbs_a_date_clock_ahead_of_the_windows_clock() {
        for (guard_ms, refused) in [(500, false), (0, true)] {
            let mut vendor = Vendor::new(60, MINUTE, Phase::Aligned, EPOCH + 42_650);
            vendor.date_ahead_ms = 300;
            let limiter = Arc::new(Limiter::new(WindowLimit {
                guard: Duration::from_millis(guard_ms),
                ..tradier(60, MINUTE).limit()
            }));
            scan(&limiter, &vendor, 60, 4, 15, 10 * MS, 30 * MS).await;
            assert_eq!(vendor.refused() > 0, refused, "guard {guard_ms} ms: {} refused", vendor.refused());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_start_one_request_asks_how_much_of_the_window_is_left() {
        // 30 requests at once into a window another client used 100 of 120:
        // the first goes alone, its answer says 19 are left.
        let vendor = Vendor::new(120, MINUTE, Phase::Aligned, EPOCH + 20_000);
        vendor.already_used(100);
        let limiter = tradier(120, MINUTE);
        let started = Instant::now();
        futures::stream::iter(0..30)
            .for_each_concurrent(30, |_| async {
                let (permit, _) = limiter.acquire().await.unwrap();
                tokio::time::sleep(5 * MS).await;
                let (headers, refused) = vendor.arrive();
                tokio::time::sleep(5 * MS).await;
                let refusal = if refused { Refusal::Refused { retry_after: None } } else { Refusal::No };
                permit.answered(&headers, refusal);
            })
            .await;
        assert_eq!((vendor.refused(), vendor.served()), (0, 30));
        // 20 in this window, 10 in the next, which starts 40 s after ours.
        assert!(started.elapsed() > Duration::from_secs(40), "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_partly_used_at_the_start_is_kept_to() {
        // Another client used 100 of the 120 of the current window (its
        // end in 30 s): ivcd's first answer says so, and it sends 19 more,
        // then waits for the next window.
        for phase in [Phase::Aligned, Phase::FirstRequest] {
            let vendor = Vendor::new(120, MINUTE, phase, EPOCH + 30_000);
            vendor.already_used(100);
            let limiter = tradier(120, MINUTE);
            let run = scan(&limiter, &vendor, 15, 4, 30, 10 * MS, 10 * MS).await;
            assert_eq!(vendor.refused(), 0, "{phase:?}");
            assert_eq!(vendor.served(), 61, "{phase:?}");
            assert!(run.waits > 0, "{phase:?}: the rest waited for the next window");
            assert!(run.elapsed >= Duration::from_secs(29), "{phase:?}: {:?}", run.elapsed);
            assert!(run.elapsed < Duration::from_secs(62), "{phase:?}: {:?}", run.elapsed);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_headers_the_configured_window_is_kept_in_any_phase() {
        // Alpha Vantage and the SEC send no counts: ivcd's own count, any
        // phase of the vendor's windows.
        for offset in [0, 13_700, 59_990] {
            let mut vendor = Vendor::new(75, MINUTE, Phase::Aligned, EPOCH + offset);
            vendor.headers = false;
            let limiter = Arc::new(Limiter::new(WindowLimit::per_window(75, MINUTE)));
            let run = scan(&limiter, &vendor, 50, 2, 20, 5 * MS, 40 * MS).await;
            assert_eq!((vendor.refused(), vendor.served()), (0, 101), "offset {offset}");
            // 101 requests at 75 a minute: the second window's 26 go one
            // minute (and a round trip) after the first answers.
            assert!(run.elapsed < MINUTE + Duration::from_secs(1), "{:?}", run.elapsed);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ten_a_second_for_the_sec() {
        let mut vendor = Vendor::new(10, Duration::from_secs(1), Phase::Aligned, EPOCH + 420);
        vendor.headers = false;
        let limiter = Arc::new(Limiter::new(WindowLimit::per_window(10, Duration::from_secs(1))));
        scan(&limiter, &vendor, 40, 1, 8, 20 * MS, 30 * MS).await;
        assert_eq!((vendor.refused(), vendor.served()), (0, 41));
    }

    #[tokio::test(start_paused = true)]
    async fn a_spaced_limit_sends_one_request_a_period_and_still_keeps_the_window() {
        // The SEC's 10 a second, spaced: one every 100 ms, not 10 at once.
        let limiter = Arc::new(Limiter::new(WindowLimit::per_window(10, Duration::from_secs(1)).spaced()));
        let started = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..12 {
            let (permit, _) = limiter.acquire().await.unwrap();
            sent.push(started.elapsed());
            permit.answered(&HeaderMap::new(), Refusal::No);
        }
        let expected: Vec<Duration> = (0..10).map(|i| i * 100 * MS).collect();
        assert_eq!(sent[..10], expected[..]);
        // The 11th is spaced, and the window count holds it until the
        // first answer is a window old.
        assert_eq!(sent[10], Duration::from_secs(1));
        assert!(sent.windows(2).all(|w| w[1] - w[0] >= 100 * MS), "{sent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_quota_used_up_refuses_at_once_instead_of_waiting_a_day() {
        let limiter = Arc::new(Limiter::new(WindowLimit {
            long: Some(LongQuota {
                allowance: 3,
                window: Duration::from_secs(86_400),
                setting: "alpha_vantage.requests_per_day",
            }),
            ..WindowLimit::per_window(5, MINUTE)
        }));
        for _ in 0..3 {
            let (permit, _) = limiter.acquire().await.unwrap();
            permit.answered(&HeaderMap::new(), Refusal::No);
        }
        let started = Instant::now();
        let refused = limiter.acquire().await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(refused.setting, "alpha_vantage.requests_per_day");
        assert!(refused.wait > Duration::from_secs(86_000), "{refused:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_without_headers_holds_every_request_for_its_retry_after_or_a_window() {
        for (retry_after, held) in [(Some(Duration::from_secs(5)), Duration::from_secs(5)), (None, MINUTE)] {
            let limiter = Arc::new(Limiter::new(WindowLimit::per_window(100, MINUTE)));
            let (permit, _) = limiter.acquire().await.unwrap();
            permit.answered(&HeaderMap::new(), Refusal::Refused { retry_after });
            let started = Instant::now();
            let (_permit, waited) = limiter.acquire().await.unwrap();
            assert_eq!(started.elapsed(), held);
            assert!(waited.is_some_and(|w| w.for_vendor));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_request_counts_until_a_window_after_it_was_given_up() {
        let limiter = Arc::new(Limiter::new(WindowLimit::per_window(1, MINUTE)));
        let (permit, _) = limiter.acquire().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(permit); // a timeout: no answer
        let started = Instant::now();
        limiter.acquire().await.unwrap();
        assert_eq!(started.elapsed(), MINUTE + ABANDONED_GUARD);
    }

    #[test]
    fn rate_headers_are_read_within_bounds() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(HeaderName::from_static(k), HeaderValue::from_str(v).unwrap());
            }
            h
        };
        let full = headers(&[
            ("x-ratelimit-allowed", "120"),
            ("x-ratelimit-used", "7"),
            ("x-ratelimit-available", "113"),
            ("x-ratelimit-expiry", "1719601260000"),
        ]);
        assert_eq!(
            rate_headers(&full),
            Some(RateHeaders { allowed: Some(120), available: 113, expiry_ms: 1_719_601_260_000 })
        );
        // Used beyond Available's word: the smaller is believed.
        let tighter = headers(&[
            ("x-ratelimit-allowed", "120"),
            ("x-ratelimit-used", "119"),
            ("x-ratelimit-available", "5"),
            ("x-ratelimit-expiry", "1"),
        ]);
        assert_eq!(rate_headers(&tighter).map(|r| r.available), Some(1));
        for junk in ["-5", "1e9", "", "99999999999999999999999"] {
            let h = headers(&[("x-ratelimit-available", junk), ("x-ratelimit-expiry", "1")]);
            assert!(rate_headers(&h).is_none_or(|r| r.available == 0), "{junk}");
        }
        assert_eq!(rate_headers(&headers(&[("x-ratelimit-available", "3")])), None, "no expiry");
    }
}
