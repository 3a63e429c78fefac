//! `[rate_limit]`: quotas of the auth routes per client address and per account.

use serde::{Deserialize, Serialize};

use crate::rate_limit::{Quota, RouteGroup};

/// The quotas of one group of routes (`AUTH__RATE_LIMIT__<GROUP>__PER_IP` / `PER_ACCOUNT`),
/// each `"<requests>/<second|minute|hour|day>"` or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteLimits {
    /// Requests from one client address.
    pub per_ip: Quota,
    /// Requests naming one account (its login name or address, or from the signed-in user).
    pub per_account: Quota,
}

impl RouteLimits {
    /// `per_ip` and `per_account`.
    #[must_use]
    pub fn new(per_ip: Quota, per_account: Quota) -> Self {
        Self {
            per_ip,
            per_account,
        }
    }
}

/// Rate limits of the auth routes; see [`rate_limit`](crate::rate_limit). The defaults stop
/// floods and scripted guessing but never an ordinary client, nor a test suite's hundreds of
/// logins from 127.0.0.1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// `AUTH__RATE_LIMIT__ENABLED`: apply the quotas. Default true.
    pub enabled: bool,
    /// `AUTH__RATE_LIMIT__LOGIN__*`: `POST /auth/login`. Default 300/minute per address,
    /// 120/minute per login name.
    pub login: RouteLimits,
    /// `AUTH__RATE_LIMIT__REGISTER__*`: `POST /auth/register`. Default 300/hour per address,
    /// 10/hour per address registered.
    pub register: RouteLimits,
    /// `AUTH__RATE_LIMIT__PASSWORD__*`: forgot, reset and change. Default 60/minute per
    /// address, 20/hour per account.
    pub password: RouteLimits,
    /// `AUTH__RATE_LIMIT__VERIFY__*`: email verification and address changes. Default
    /// 60/minute per address, 20/hour per account.
    pub verify: RouteLimits,
    /// `AUTH__RATE_LIMIT__REFRESH__*`: `POST /auth/refresh`. Default 600/minute per address,
    /// none per account.
    pub refresh: RouteLimits,
    /// `AUTH__RATE_LIMIT__MFA__*`: second-factor codes (`POST /auth/mfa/verify`, step-up,
    /// confirm). Default 60/minute per address, 30/minute per account (the lockout slows
    /// wrong codes long before).
    pub mfa: RouteLimits,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            login: RouteLimits::new(Quota::per_minute(300), Quota::per_minute(120)),
            register: RouteLimits::new(Quota::per_hour(300), Quota::per_hour(10)),
            password: RouteLimits::new(Quota::per_minute(60), Quota::per_hour(20)),
            verify: RouteLimits::new(Quota::per_minute(60), Quota::per_hour(20)),
            refresh: RouteLimits::new(Quota::per_minute(600), Quota::OFF),
            mfa: RouteLimits::new(Quota::per_minute(60), Quota::per_minute(30)),
        }
    }
}

impl RateLimitConfig {
    /// The quotas of `group`.
    #[must_use]
    pub fn group(&self, group: RouteGroup) -> RouteLimits {
        match group {
            RouteGroup::Login => self.login,
            RouteGroup::Register => self.register,
            RouteGroup::Password => self.password,
            RouteGroup::Verify => self.verify,
            RouteGroup::Refresh => self.refresh,
            RouteGroup::Mfa => self.mfa,
        }
    }
}
