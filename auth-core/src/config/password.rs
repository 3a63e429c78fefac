//! `[password]` (Argon2id and the password policy) and `[lockout]`.

use serde::{Deserialize, Serialize};

/// Password hashing (Argon2id) and policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PasswordConfig {
    /// `AUTH__PASSWORD__MIN_LENGTH`: minimum length in characters. Default 8.
    pub min_length: usize,
    /// `AUTH__PASSWORD__MAX_LENGTH`: maximum length in characters, refused before hashing. Default 128.
    pub max_length: usize,
    /// `AUTH__PASSWORD__REQUIRE_LOWERCASE` / `REQUIRE_UPPERCASE` / `REQUIRE_DIGIT` /
    /// `REQUIRE_SYMBOL`: character classes a new password must contain. Default none
    /// (NIST SP 800-63B advises against composition rules; the strength floor does better).
    pub require_lowercase: bool,
    /// See `require_lowercase`.
    pub require_uppercase: bool,
    /// See `require_lowercase`.
    pub require_digit: bool,
    /// See `require_lowercase`.
    pub require_symbol: bool,
    /// `AUTH__PASSWORD__MIN_STRENGTH`: the lowest zxcvbn score (0 to 4) a new password may
    /// have, the username and email counting as known words. Default 3; 0 turns it off.
    pub min_strength: u8,
    /// `AUTH__PASSWORD__CHECK_BREACHED`: refuse the 100,000 most common passwords (a list
    /// shipped with the crate). Default true.
    pub check_breached: bool,
    /// `AUTH__PASSWORD__FORBID_IDENTIFIERS`: refuse a password containing the username or the
    /// address's local part. Default true.
    pub forbid_identifiers: bool,
    /// `AUTH__PASSWORD__HISTORY`: how many of the account's passwords, the current one
    /// included, a new one must differ from at change and reset. Default 5; 0 turns it off.
    pub history: usize,
    /// `AUTH__PASSWORD__MEMORY_KIB`: Argon2id memory cost. Default 19456 (19 MiB, OWASP).
    pub memory_kib: u32,
    /// `AUTH__PASSWORD__ITERATIONS`: Argon2id time cost. Default 2 (OWASP).
    pub iterations: u32,
    /// `AUTH__PASSWORD__PARALLELISM`: Argon2id lanes. Default 1 (OWASP).
    pub parallelism: u32,
    /// `AUTH__PASSWORD__MAX_MEMORY_KIB`: the most memory a *stored* hash may ask for; a hash
    /// asking for more is refused instead of verified. Default 262144 (256 MiB).
    pub max_memory_kib: u32,
    /// `AUTH__PASSWORD__MAX_ITERATIONS`: the most iterations a stored hash may ask for. Default 16.
    pub max_iterations: u32,
    /// `AUTH__PASSWORD__MAX_PARALLELISM`: the most lanes a stored hash may ask for. Default 16.
    pub max_parallelism: u32,
    /// `AUTH__PASSWORD__MAX_CONCURRENT_HASHES`: hashes computed at once; default the CPU count.
    pub max_concurrent_hashes: Option<usize>,
    /// `AUTH__PASSWORD__MAX_QUEUED_HASHES`: hashes that may wait for one of those slots; any
    /// more are refused at once (503 `overloaded`) instead of queueing without bound. Default
    /// four per slot.
    pub max_queued_hashes: Option<usize>,
    /// `AUTH__PASSWORD__HASH_THREAD_NICE`: the nice value of the hashing threads on Linux
    /// (0 to 19). Default 10: cheap requests get the CPU before password hashing does. 0
    /// keeps the process's priority.
    pub hash_thread_nice: i32,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
            min_strength: 3,
            check_breached: true,
            forbid_identifiers: true,
            history: 5,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_memory_kib: 262_144,
            max_iterations: 16,
            max_parallelism: 16,
            max_concurrent_hashes: None,
            max_queued_hashes: None,
            hash_thread_nice: 10,
        }
    }
}

/// Login lockout (`[lockout]`): exponential back-off per client and per login name; see
/// [`lockout`](crate::lockout). The defaults let a person mistype a password a few times, and
/// a test suite log in hundreds of times from 127.0.0.1: successful logins never count.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LockoutConfig {
    /// `AUTH__LOCKOUT__ENABLED`: count failed logins and delay the next attempts. Default true.
    pub enabled: bool,
    /// `AUTH__LOCKOUT__MAX_ATTEMPTS`: failed logins of one login name from one client address
    /// before that client waits. Default 5.
    pub max_attempts: u32,
    /// `AUTH__LOCKOUT__LOCKOUT_MINUTES`: the longest wait (the back-off's ceiling). Default 15.
    pub lockout_minutes: u64,
    /// `AUTH__LOCKOUT__BASE_DELAY_SECONDS`: the first wait, doubled by each further failure.
    /// Default 2.
    pub base_delay_seconds: u64,
    /// `AUTH__LOCKOUT__ACCOUNT_MAX_ATTEMPTS`: failed logins of one login name from every client
    /// together before every client waits (except those the owner logged in from lately);
    /// 0 turns it off. Default 50.
    pub account_max_attempts: u32,
    /// `AUTH__LOCKOUT__FORGET_MINUTES`: minutes without a failure after which the counts start
    /// over; at least `LOCKOUT_MINUTES`. Default 60.
    pub forget_minutes: u64,
    /// `AUTH__LOCKOUT__REMEMBER_CLIENTS_DAYS`: days a successful login keeps its client address
    /// exempt from the login name's wait; 0 exempts none. Default 30.
    pub remember_clients_days: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 5,
            lockout_minutes: 15,
            base_delay_seconds: 2,
            account_max_attempts: 50,
            forget_minutes: 60,
            remember_clients_days: 30,
        }
    }
}
