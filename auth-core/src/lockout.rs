//! Login lockout that cannot be turned against the account's owner: failed logins are counted
//! per login name *and* per (login name, client) pair, and each count past its threshold
//! delays the next attempt by an exponentially growing pause (a soft lock, as kanidm's),
//! never a hard lock.
//!
//! - **Per client.** After `AUTH__LOCKOUT__MAX_ATTEMPTS` failures of one login name from one
//!   client address, that client waits `BASE_DELAY_SECONDS`, then twice as long after each
//!   further failure, up to `LOCKOUT_MINUTES`. Someone hammering from one place slows that
//!   place only; the owner logging in from elsewhere is not affected. A successful login from
//!   the client ends its failures.
//! - **Per login name.** Failures from every client together past
//!   `AUTH__LOCKOUT__ACCOUNT_MAX_ATTEMPTS` (a higher threshold, against guessing spread over
//!   many addresses) delay every client, except the ones that logged in to the account
//!   successfully in the last `REMEMBER_CLIENTS_DAYS`: the owner's usual places keep working.
//! - Counts are forgotten `FORGET_MINUTES` after the last failure.
//!
//! Counting is keyed by the login name as compared ([`login_key`]), not by the user: an
//! unknown name is counted and delayed exactly like a real one, so a delay tells nothing about
//! whether an account exists. The check comes before any password hashing, and a delayed
//! attempt is refused whether or not its password was right.
//!
//! ```
//! use auth_core::lockout::{Backoff, Failures};
//!
//! // Five failures, then 2 s, 4 s, 8 s ... capped at 15 minutes.
//! let backoff = Backoff::new(5, 2, 900);
//! assert_eq!(backoff.blocked_until(&Failures { count: 4, last: 1_000 }), None);
//! assert_eq!(backoff.blocked_until(&Failures { count: 5, last: 1_000 }), Some(1_002));
//! assert_eq!(backoff.blocked_until(&Failures { count: 7, last: 1_000 }), Some(1_008));
//! assert_eq!(backoff.blocked_until(&Failures { count: 40, last: 1_000 }), Some(1_900));
//! ```
//!
//! Backends of [`LockoutStore`]: [`MemoryStore`](crate::store::MemoryStore),
//! [`SqlStore`](crate::store::SqlStore) and `RedisStore` (feature `redis`); with a shared
//! store, failures spread over several instances count together.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::config::LockoutConfig;
use crate::error::StoreError;
use crate::user::identifier::{email_key, username_key};

/// The failures of one key: how many, and when the last one was (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// Failures since the count last started (0 when none).
    pub count: u32,
    /// When the last one happened.
    pub last: i64,
}

impl Failures {
    /// The failures a store holds as `count` with the last at `last`, as they stand at `now`:
    /// none once `forget_after` seconds passed since the last one (the rule every
    /// [`LockoutStore`] reads by).
    #[must_use]
    pub fn as_of(count: i64, last: i64, now: i64, forget_after: i64) -> Self {
        if count > 0 && now - last <= forget_after {
            Self {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                last,
            }
        } else {
            Self::default()
        }
    }
}

/// What the store knows of a login name and one client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginRecord {
    /// Failures of the login name from every client.
    pub account: Failures,
    /// Failures of the login name from this client.
    pub client: Failures,
    /// When this client last logged in to the account successfully.
    pub client_success: Option<i64>,
}

/// Where failed logins are counted; see the [module documentation](self).
///
/// `account` is a [`login_key`]; `client` a client address, never empty. Failures whose last
/// one is more than `forget_after` seconds before `now` count as none, and a new failure
/// starts them again at 1. Every method is one atomic step: concurrent failures on several
/// instances all count.
#[async_trait]
pub trait LockoutStore: Send + Sync + std::fmt::Debug + 'static {
    /// The record of `account` and `client` at `now`.
    async fn record(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError>;

    /// Counts one failure of `account` from `client` at `now`, for the login name and for the
    /// pair; returns the record after it.
    async fn record_failure(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError>;

    /// A successful login of `account` from `client` at `now`: the pair's failures end, and the
    /// success is kept for `remember` seconds. The login name's count is left as it is.
    async fn record_success(
        &self,
        account: &str,
        client: &str,
        now: i64,
        remember: i64,
    ) -> Result<(), StoreError>;

    /// Forgets every failure of `account`, from every client (an administrator's unlock);
    /// the clients' successes are kept. Returns whether there was any.
    async fn forgive(&self, account: &str) -> Result<bool, StoreError>;

    /// Deletes at most `limit` records whose last failure is older than `failures_before`
    /// (forgotten) and whose last success, if any, is older than `successes_before` (no
    /// longer remembered); returns how many (fewer than `limit` once none is left). A backend
    /// whose entries expire by themselves may return 0.
    async fn purge_stale(
        &self,
        failures_before: i64,
        successes_before: i64,
        limit: u64,
    ) -> Result<u64, StoreError>;
}

pub use crate::client::client_key;

/// The longest login key stored as is; longer names are stored as their SHA-256.
const MAX_KEY_LEN: usize = 256;

/// The key a login name is counted under: the form it is compared by at login (an email
/// address when it holds `@`, otherwise a username), so `ADA`, `ａｄａ` and `ada` count as one.
/// Names longer than 256 bytes are counted by their SHA-256, so a key stays small.
#[must_use]
pub fn login_key(login: &str) -> String {
    let login = login.trim();
    let key = if login.contains('@') {
        email_key(login)
    } else {
        username_key(login)
    };
    if key.len() <= MAX_KEY_LEN {
        key
    } else {
        format!("sha256:{:x}", Sha256::digest(key.as_bytes()))
    }
}

/// Exponential back-off past a threshold: the `threshold`-th failure delays the next attempt
/// by `base` seconds, each further one doubles the delay, up to `ceiling` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    threshold: u32,
    base: i64,
    ceiling: i64,
}

impl Backoff {
    /// A back-off starting at `threshold` failures (at least 1) with `base` seconds, doubling
    /// up to `ceiling` seconds.
    #[must_use]
    pub fn new(threshold: u32, base: u64, ceiling: u64) -> Self {
        let ceiling = i64::try_from(ceiling).unwrap_or(i64::MAX);
        Self {
            threshold: threshold.max(1),
            base: i64::try_from(base).unwrap_or(i64::MAX).min(ceiling),
            ceiling,
        }
    }

    /// The failures at which the back-off starts.
    #[must_use]
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The longest delay, in seconds.
    #[must_use]
    pub fn ceiling(&self) -> i64 {
        self.ceiling
    }

    /// Until when (Unix seconds) these failures delay the next attempt, if they do.
    #[must_use]
    pub fn blocked_until(&self, failures: &Failures) -> Option<i64> {
        let past = failures.count.checked_sub(self.threshold)?;
        // 2^62 seconds is past any ceiling; the shift cannot overflow.
        let delay = self
            .base
            .saturating_mul(1_i64 << past.min(62))
            .min(self.ceiling);
        Some(failures.last.saturating_add(delay))
    }
}

/// The lockout rules of [`LockoutConfig`]; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Back-off of one login name from one client.
    pub client: Backoff,
    /// Back-off of one login name from every client, when there is one.
    pub account: Option<Backoff>,
    /// Seconds after the last failure when the counts start over.
    pub forget_after: i64,
    /// Seconds a successful login keeps its client exempt from the account back-off (0: none).
    pub remember_clients: i64,
}

impl LockoutPolicy {
    /// The policy of `config`; `None` when lockout is disabled.
    #[must_use]
    pub fn from_config(config: &LockoutConfig) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let ceiling = config.lockout_minutes.saturating_mul(60);
        Some(Self {
            client: Backoff::new(config.max_attempts, config.base_delay_seconds, ceiling),
            account: (config.account_max_attempts > 0).then(|| {
                Backoff::new(
                    config.account_max_attempts,
                    config.base_delay_seconds,
                    ceiling,
                )
            }),
            forget_after: seconds(config.forget_minutes.saturating_mul(60)),
            remember_clients: seconds(config.remember_clients_days.saturating_mul(86_400)),
        })
    }

    /// Until when (Unix seconds) `record` refuses a login at `now`, if it does.
    #[must_use]
    pub fn blocked_until(&self, record: &LoginRecord, now: i64) -> Option<i64> {
        let client = self.client.blocked_until(&record.client);
        let known = record
            .client_success
            .is_some_and(|at| self.remember_clients > 0 && now - at <= self.remember_clients);
        let account = self
            .account
            .filter(|_| !known)
            .and_then(|backoff| backoff.blocked_until(&record.account));
        client.max(account).filter(|until| *until > now)
    }

    /// Whether the failure that produced `record` just started a delay (of the client, or of
    /// the login name): the moment its owner is told.
    #[must_use]
    pub fn just_locked(&self, record: &LoginRecord) -> bool {
        record.client.count == self.client.threshold
            || self
                .account
                .is_some_and(|backoff| record.account.count == backoff.threshold)
    }
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            client: Backoff::new(3, 2, 60),
            account: Some(Backoff::new(10, 2, 60)),
            forget_after: 3_600,
            remember_clients: 86_400,
        }
    }

    #[test]
    fn the_delay_doubles_past_the_threshold_up_to_the_ceiling() {
        let backoff = Backoff::new(3, 2, 60);
        let at = |count| backoff.blocked_until(&Failures { count, last: 100 });
        assert_eq!(at(0), None);
        assert_eq!(at(2), None);
        assert_eq!(at(3), Some(102));
        assert_eq!(at(4), Some(104));
        assert_eq!(at(6), Some(116));
        assert_eq!(at(8), Some(160));
        assert_eq!(at(u32::MAX), Some(160));
        // A base above the ceiling is the ceiling.
        assert_eq!(
            Backoff::new(1, 600, 60).blocked_until(&Failures { count: 1, last: 0 }),
            Some(60)
        );
    }

    #[test]
    fn a_client_waits_for_its_own_failures_and_known_clients_skip_the_account_delay() {
        let policy = policy();
        let failures = |count| Failures { count, last: 1_000 };
        let record = LoginRecord {
            account: failures(3),
            client: failures(3),
            client_success: None,
        };
        assert_eq!(policy.blocked_until(&record, 1_000), Some(1_002));
        assert_eq!(policy.blocked_until(&record, 1_002), None);
        // Another client: the login name's 3 failures are below its threshold.
        let other = LoginRecord {
            client: Failures::default(),
            ..record
        };
        assert_eq!(policy.blocked_until(&other, 1_000), None);
        // Past the login name's threshold every client waits, except one that logged in lately.
        let spread = LoginRecord {
            account: failures(12),
            ..other
        };
        assert_eq!(policy.blocked_until(&spread, 1_000), Some(1_008));
        let known = LoginRecord {
            client_success: Some(900),
            ..spread
        };
        assert_eq!(policy.blocked_until(&known, 1_000), None);
        let long_ago = LoginRecord {
            client_success: Some(1_000 - 86_401),
            ..spread
        };
        assert_eq!(policy.blocked_until(&long_ago, 1_000), Some(1_008));
    }

    #[test]
    fn the_owner_is_told_once_when_a_delay_starts() {
        let policy = policy();
        let record = |client, account| LoginRecord {
            account: Failures {
                count: account,
                last: 0,
            },
            client: Failures {
                count: client,
                last: 0,
            },
            client_success: None,
        };
        assert!(!policy.just_locked(&record(2, 2)));
        assert!(policy.just_locked(&record(3, 3)));
        assert!(!policy.just_locked(&record(4, 4)));
        assert!(policy.just_locked(&record(1, 10)));
        assert!(!policy.just_locked(&record(1, 11)));
    }

    #[test]
    fn login_names_count_by_their_compared_form() {
        assert_eq!(login_key(" ADA "), "ada");
        assert_eq!(login_key("ＡＤＡ"), "ada");
        assert_eq!(login_key("Ada@Example.COM"), "ada@example.com");
        let long = "a".repeat(300);
        assert!(login_key(&long).starts_with("sha256:"));
        assert_eq!(login_key(&long).len(), 7 + 64);
        assert_eq!(client_key(None), "unknown");
        assert_eq!(client_key(Some("")), "unknown");
        assert_eq!(client_key(Some("10.0.0.1")), "10.0.0.1");
    }

    #[test]
    fn disabled_lockout_has_no_policy_and_zero_account_attempts_no_account_backoff() {
        let config = LockoutConfig {
            enabled: false,
            ..LockoutConfig::default()
        };
        assert_eq!(LockoutPolicy::from_config(&config), None);
        let config = LockoutConfig {
            account_max_attempts: 0,
            ..LockoutConfig::default()
        };
        let policy = LockoutPolicy::from_config(&config).unwrap();
        assert_eq!(policy.account, None);
        assert_eq!(policy.client.threshold(), 5);
    }
}
