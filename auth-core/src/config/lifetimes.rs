//! How long things live, as `Duration`s: what the flows take, derived once from the
//! configuration's minutes, days and seconds. Validation bounds every value
//! ([`MAX_LIFETIME`]), so the flows' arithmetic in seconds cannot overflow.

use std::time::Duration;

use super::AuthConfig;

/// The longest any lifetime may be configured: ten years.
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Every lifetime of the configuration, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetimes {
    /// Of an access token (`AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES`).
    pub access_token: Duration,
    /// Of a refresh token since it was issued (`AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS`).
    pub refresh_token: Duration,
    /// Of a login as a whole, never shorter than a refresh token
    /// (`AUTH__JWT__REFRESH_TOKEN_MAX_LIFETIME_DAYS`).
    pub refresh_family: Duration,
    /// Within which concurrent uses of one refresh token get the same successor
    /// (`AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS`).
    pub refresh_reuse_grace: Duration,
    /// Clock skew allowed for `exp`, `nbf` and `iat` (`AUTH__JWT__LEEWAY_SECONDS`).
    pub leeway: Duration,
    /// How long a retired key is still accepted
    /// (`AUTH__JWT__KEY_ROTATION_GRACE_PERIOD_SECONDS`).
    pub key_rotation_grace: Duration,
    /// Inactivity after which a cookie session ends (`AUTH__SESSION__TIMEOUT_MINUTES`).
    pub cookie_idle: Duration,
    /// How long a password-reset link works (`AUTH__ACCOUNT__RESET_TOKEN_MINUTES`).
    pub reset_token: Duration,
    /// How long an email-verification link works (`AUTH__ACCOUNT__VERIFY_TOKEN_HOURS`).
    pub verify_token: Duration,
}

/// `d` in whole seconds, for the flows' clock arithmetic; values are bounded by validation,
/// so the conversion is exact (it saturates rather than wraps for an unvalidated value).
#[must_use]
pub fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

impl AuthConfig {
    /// The lifetimes of this configuration, as `Duration`s.
    #[must_use]
    pub fn lifetimes(&self) -> Lifetimes {
        let jwt = &self.jwt;
        let refresh_token = Duration::from_secs(jwt.refresh_token_expire_days.saturating_mul(DAY));
        Lifetimes {
            access_token: Duration::from_secs(
                jwt.access_token_expire_minutes.saturating_mul(MINUTE),
            ),
            refresh_token,
            refresh_family: Duration::from_secs(
                jwt.refresh_token_max_lifetime_days.saturating_mul(DAY),
            )
            .max(refresh_token),
            refresh_reuse_grace: Duration::from_secs(jwt.refresh_reuse_grace_seconds),
            leeway: Duration::from_secs(jwt.leeway_seconds),
            key_rotation_grace: Duration::from_secs(jwt.key_rotation_grace_period_seconds),
            cookie_idle: Duration::from_secs(self.session.timeout_minutes.saturating_mul(MINUTE)),
            reset_token: Duration::from_secs(
                self.account.reset_token_minutes.saturating_mul(MINUTE),
            ),
            verify_token: Duration::from_secs(self.account.verify_token_hours.saturating_mul(HOUR)),
        }
    }
}
