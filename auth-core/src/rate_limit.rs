//! Rate limits: how many requests a client address, or an account, may make to a group of
//! routes in a period, as a generic cell rate algorithm (GCRA: a burst of the whole quota, then
//! one request per `period / limit`).
//!
//! The auth routes are grouped ([`RouteGroup`]): `login`, `register`, `password` (forgot,
//! reset, change), `verify` (email verification and address changes) and `refresh`, each with
//! a quota per client address and one per account (the login name or address the request
//! names), set with `AUTH__RATE_LIMIT__<GROUP>__PER_IP` / `PER_ACCOUNT` (`"30/minute"`,
//! `"off"`). A service's own routes take the same limits as a tower layer (`auth-axum`'s
//! `RateLimitLayer`).
//!
//! Counting happens in this process ([`MemoryRateLimiter`], with `governor`) or, when
//! instances share Redis, in Redis with one script per check (so several instances count
//! together).
//!
//! ```
//! use auth_core::rate_limit::Quota;
//!
//! let quota: Quota = "30/minute".parse().unwrap();
//! assert_eq!((quota.limit(), quota.period().as_secs()), (30, 60));
//! assert_eq!(quota.to_string(), "30/minute");
//! assert!("off".parse::<Quota>().unwrap().is_off());
//! assert!("thirty a minute".parse::<Quota>().is_err());
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::StoreError;

/// How many requests per period; `off` (a limit of 0) allows any number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: u32,
    period: Duration,
}

impl Quota {
    /// No limit.
    pub const OFF: Self = Self {
        limit: 0,
        period: Duration::from_secs(1),
    };

    /// `limit` requests per `period` (a period under a second counts as one second).
    #[must_use]
    pub fn new(limit: u32, period: Duration) -> Self {
        Self {
            limit,
            period: period.max(Duration::from_secs(1)),
        }
    }

    /// `limit` requests per minute.
    #[must_use]
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` requests per hour.
    #[must_use]
    pub fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3_600))
    }

    /// Requests allowed per period (the burst).
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The period.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Whether this quota allows any number of requests.
    #[must_use]
    pub fn is_off(&self) -> bool {
        self.limit == 0
    }

    /// The time one request's allowance takes to come back: `period / limit`.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.period / self.limit.max(1)
    }
}

/// Why a quota could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a rate: write `<requests>/<second|minute|hour|day>` (e.g. `30/minute`) or `off`"
)]
pub struct QuotaError(String);

const UNITS: [(&str, u64); 4] = [
    ("second", 1),
    ("minute", 60),
    ("hour", 3_600),
    ("day", 86_400),
];

impl FromStr for Quota {
    type Err = QuotaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self::OFF);
        }
        let error = || QuotaError(text.to_owned());
        let (limit, unit) = text.split_once('/').ok_or_else(error)?;
        let limit: u32 = limit.trim().parse().map_err(|_| error())?;
        let unit = unit.trim().to_ascii_lowercase();
        if let Some(Ok(seconds)) = unit.strip_suffix('s').map(str::parse::<u64>) {
            return Ok(Self::new(limit, Duration::from_secs(seconds)));
        }
        let seconds = UNITS
            .iter()
            .find(|(name, _)| {
                unit == *name
                    || unit.strip_suffix('s') == Some(*name)
                    || unit == name[..1]
                    || (unit == "min" && *name == "minute")
            })
            .map(|(_, seconds)| *seconds)
            .ok_or_else(error)?;
        Ok(Self::new(limit, Duration::from_secs(seconds)))
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        let seconds = self.period.as_secs();
        match UNITS.iter().find(|(_, s)| *s == seconds) {
            Some((name, _)) => write!(f, "{}/{name}", self.limit),
            None => write!(f, "{}/{seconds}s", self.limit),
        }
    }
}

impl Serialize for Quota {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quota {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The answer to one request against a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Requests still allowed right now after this one.
    pub remaining: u32,
    /// When refused: how long until a request is allowed again.
    pub retry_after: Duration,
    /// How long until the whole quota is available again.
    pub reset_after: Duration,
}

/// Counts requests per key against one quota; see the [module documentation](self).
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// Counts one request for `key` and says whether it is allowed (a refused request is not
    /// counted).
    async fn check(&self, key: &str) -> Result<Decision, StoreError>;
}

/// Makes the [`RateLimiter`] of a quota on one backend: in memory, or in Redis.
pub trait RateLimiterBackend: Send + Sync + fmt::Debug + 'static {
    /// A limiter of `quota` whose keys are kept apart from other limiters' by `name`.
    fn limiter(&self, name: &str, quota: Quota) -> Arc<dyn RateLimiter>;
}

type Keyed = governor::DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// How many checks pass between two sweeps of idle keys.
const SWEEP_EVERY: u64 = 4_096;

/// A rate limiter in this process (governor's keyed GCRA): each instance counts alone.
pub struct MemoryRateLimiter {
    limiter: Keyed,
    quota: Quota,
    checks: AtomicU64,
}

impl fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("quota", &self.quota)
            .field("keys", &self.limiter.len())
            .finish_non_exhaustive()
    }
}

impl MemoryRateLimiter {
    /// A limiter of `quota` (at least one request per period).
    #[must_use]
    pub fn new(quota: Quota) -> Self {
        let burst = NonZeroU32::new(quota.limit).unwrap_or(NonZeroU32::MIN);
        let governed = governor::Quota::with_period(quota.interval())
            .unwrap_or_else(|| governor::Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            limiter: governor::RateLimiter::keyed(governed)
                .with_middleware::<StateInformationMiddleware>(),
            quota,
            checks: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, key: &str) -> Result<Decision, StoreError> {
        // Keys of clients that went quiet are dropped now and then, so memory stays bounded
        // by the clients of the last period.
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let interval = self.quota.interval();
        Ok(match self.limiter.check_key(&key.to_owned()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    remaining,
                    retry_after: Duration::ZERO,
                    reset_after: interval * self.quota.limit.saturating_sub(remaining),
                }
            }
            Err(not_until) => Decision {
                allowed: false,
                remaining: 0,
                retry_after: not_until.wait_time_from(self.limiter.clock().now()),
                reset_after: interval * self.quota.limit,
            },
        })
    }
}

/// Limiters in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl RateLimiterBackend for InProcess {
    fn limiter(&self, _name: &str, quota: Quota) -> Arc<dyn RateLimiter> {
        Arc::new(MemoryRateLimiter::new(quota))
    }
}

/// A group of auth routes sharing quotas (`AUTH__RATE_LIMIT__<GROUP>__*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteGroup {
    /// `POST /auth/login`.
    Login,
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/password/forgot`, `/reset` and `/change`.
    Password,
    /// `POST /auth/verify-email`, `/auth/verify-email/resend`, `/auth/email/change` and
    /// `/auth/email/confirm`.
    Verify,
    /// `POST /auth/refresh`.
    Refresh,
    /// `POST /auth/mfa/verify` and the other routes that take a second factor's code.
    Mfa,
}

impl RouteGroup {
    /// Every group.
    pub const ALL: [Self; 6] = [
        Self::Login,
        Self::Register,
        Self::Password,
        Self::Verify,
        Self::Refresh,
        Self::Mfa,
    ];

    /// Its name in settings and in the `RateLimit` headers.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Password => "password",
            Self::Verify => "verify",
            Self::Refresh => "refresh",
            Self::Mfa => "mfa",
        }
    }
}

/// What a quota counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// The client address.
    Ip,
    /// The account the request names (its login name or address, or the signed-in user).
    Account,
}

impl Scope {
    fn suffix(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Account => "account",
        }
    }
}

/// A request counted against a named quota, and what the count said: what the `RateLimit`
/// headers of the IETF httpapi draft report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitStatus {
    /// The quota's name (`login-ip`, or a service's own).
    pub policy: String,
    /// The quota.
    pub quota: Quota,
    /// The decision.
    pub decision: Decision,
}

impl RateLimitStatus {
    /// Whole seconds until a request is allowed again, rounded up, at least 1
    /// (`Retry-After`).
    #[must_use]
    pub fn retry_after_seconds(&self) -> u64 {
        ceil_seconds(self.decision.retry_after).max(1)
    }

    /// Whole seconds until the whole quota is back, rounded up.
    #[must_use]
    pub fn reset_seconds(&self) -> u64 {
        ceil_seconds(self.decision.reset_after)
    }
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// A named quota on a backend: what a route (or a service's own layer) checks.
#[derive(Debug, Clone)]
pub struct NamedLimiter {
    name: String,
    quota: Quota,
    limiter: Arc<dyn RateLimiter>,
}

impl NamedLimiter {
    /// `quota` named `name` on `backend`.
    #[must_use]
    pub fn new(name: &str, quota: Quota, backend: &dyn RateLimiterBackend) -> Self {
        Self {
            name: name.to_owned(),
            quota,
            limiter: backend.limiter(name, quota),
        }
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its quota.
    #[must_use]
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Counts a request of `key`: its status when allowed (for the `RateLimit` headers).
    ///
    /// # Errors
    /// [`AuthError::RateLimited`](crate::AuthError::RateLimited) when the quota is spent;
    /// [`AuthError::ServiceUnavailable`](crate::AuthError::ServiceUnavailable) when the
    /// backend cannot be asked (the request must not pass).
    pub async fn check(&self, key: &str) -> crate::error::Result<RateLimitStatus> {
        let status = RateLimitStatus {
            policy: self.name.clone(),
            quota: self.quota,
            decision: self.limiter.check(key).await?,
        };
        if status.decision.allowed {
            Ok(status)
        } else {
            Err(crate::AuthError::RateLimited(Box::new(status)))
        }
    }
}

/// The quotas of the auth routes, per [`RouteGroup`] and [`Scope`], on one backend.
#[derive(Debug, Clone)]
pub struct RateLimits {
    limiters: std::collections::HashMap<(RouteGroup, Scope), NamedLimiter>,
    backend: Arc<dyn RateLimiterBackend>,
}

impl RateLimits {
    /// The quotas of `config` on `backend`; none when `config.enabled` is false.
    #[must_use]
    pub fn new(
        config: &crate::config::RateLimitConfig,
        backend: Arc<dyn RateLimiterBackend>,
    ) -> Self {
        let mut limiters = std::collections::HashMap::new();
        if config.enabled {
            for group in RouteGroup::ALL {
                let limits = config.group(group);
                for (scope, quota) in [
                    (Scope::Ip, limits.per_ip),
                    (Scope::Account, limits.per_account),
                ] {
                    if !quota.is_off() {
                        let name = format!("{}-{}", group.name(), scope.suffix());
                        limiters.insert(
                            (group, scope),
                            NamedLimiter::new(&name, quota, backend.as_ref()),
                        );
                    }
                }
            }
        }
        Self { limiters, backend }
    }

    /// No quotas.
    #[must_use]
    pub fn none() -> Self {
        Self {
            limiters: std::collections::HashMap::new(),
            backend: Arc::new(InProcess),
        }
    }

    /// The quota of `group` counted by `scope`, when there is one.
    #[must_use]
    pub fn get(&self, group: RouteGroup, scope: Scope) -> Option<&NamedLimiter> {
        self.limiters.get(&(group, scope))
    }

    /// Counts a request of `key` against the quota of `group` by `scope`: `Ok(None)` without
    /// such a quota, `Ok(Some(status))` when allowed.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`](crate::AuthError::RateLimited) when refused;
    /// [`AuthError::ServiceUnavailable`](crate::AuthError::ServiceUnavailable) when the
    /// backend cannot be asked.
    pub async fn check(
        &self,
        group: RouteGroup,
        scope: Scope,
        key: &str,
    ) -> crate::error::Result<Option<RateLimitStatus>> {
        let Some(limiter) = self.get(group, scope) else {
            return Ok(None);
        };
        limiter.check(key).await.map(Some)
    }

    /// A quota of a service's own on the same backend (shared by instances when that is
    /// Redis), for `auth-axum`'s `RateLimitLayer` on its own routes.
    #[must_use]
    pub fn limiter(&self, name: &str, quota: Quota) -> NamedLimiter {
        NamedLimiter::new(name, quota, self.backend.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_read_and_print_as_rates() {
        for (text, limit, seconds) in [
            ("30/minute", 30, 60),
            ("30/min", 30, 60),
            ("5/s", 5, 1),
            ("5 / seconds", 5, 1),
            ("100/hour", 100, 3_600),
            ("100/h", 100, 3_600),
            ("1000/day", 1_000, 86_400),
            ("7/90s", 7, 90),
        ] {
            let quota: Quota = text.parse().unwrap();
            assert_eq!(
                (quota.limit(), quota.period().as_secs()),
                (limit, seconds),
                "{text}"
            );
            assert_eq!(quota.to_string().parse::<Quota>().unwrap(), quota, "{text}");
        }
        assert_eq!(Quota::per_minute(30).to_string(), "30/minute");
        assert_eq!(Quota::new(7, Duration::from_secs(90)).to_string(), "7/90s");
        assert!("OFF".parse::<Quota>().unwrap().is_off());
        assert_eq!(Quota::OFF.to_string(), "off");
        for bad in ["", "30", "30/fortnight", "-1/minute", "x/minute", "30/"] {
            assert!(bad.parse::<Quota>().is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_burst_of_the_quota_then_one_request_per_interval() {
        let limiter = MemoryRateLimiter::new(Quota::per_minute(3));
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let decision = limiter.check("10.0.0.1").await.unwrap();
            assert!(decision.allowed);
            remaining.push(decision.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check("10.0.0.1").await.unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // One request's allowance comes back after 20 s.
        assert!(refused.retry_after > Duration::from_secs(19), "{refused:?}");
        assert!(
            refused.retry_after <= Duration::from_secs(20),
            "{refused:?}"
        );
        // Keys count apart.
        assert!(limiter.check("10.0.0.2").await.unwrap().allowed);
    }

    #[tokio::test]
    async fn disabled_and_off_quotas_limit_nothing() {
        let mut config = crate::config::RateLimitConfig::default();
        config.login.per_account = Quota::OFF;
        let limits = RateLimits::new(&config, Arc::new(InProcess));
        assert!(limits.get(RouteGroup::Login, Scope::Account).is_none());
        assert_eq!(
            limits
                .get(RouteGroup::Login, Scope::Ip)
                .map(NamedLimiter::name),
            Some("login-ip")
        );
        config.enabled = false;
        let none = RateLimits::new(&config, Arc::new(InProcess));
        assert!(RouteGroup::ALL
            .iter()
            .all(|group| none.get(*group, Scope::Ip).is_none()));
        assert_eq!(
            none.check(RouteGroup::Login, Scope::Ip, "10.0.0.1")
                .await
                .unwrap(),
            None
        );
    }
}
