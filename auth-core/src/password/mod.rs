//! Password hashing with Argon2id.
//!
//! - OWASP parameters by default (19 MiB, 2 iterations, 1 lane), configurable.
//! - PHC strings, so a stored hash carries its own parameters; verification reports when a
//!   hash is outdated so the login flow can upgrade it.
//! - Hashing runs on `max_concurrent_hashes` threads of its own, never on the async runtime,
//!   each reusing its Argon2 memory, at a lower priority on Linux (`hash_thread_nice`). At
//!   most `max_queued_hashes` more wait for a slot; beyond that a hash is refused at once
//!   ([`PasswordError::Busy`]): a login storm gets fast refusals, not unbounded latency and
//!   memory (each running hash holds its Argon2 memory; a waiting one holds none).
//! - A hash keeps its slot until it has run, even when its requester goes away (a client
//!   that closes the connection right after sending a login): abandoned requests cannot
//!   queue work beyond the bound, and a hash whose requester is gone before a thread takes it
//!   is skipped ([`HashStats::abandoned`]).
//! - The parameters a *stored* hash asks for are capped: a planted hash asking for gigabytes of
//!   memory is refused, not computed.
//! - Over-long passwords are refused before any hashing (OWASP Password Storage Cheat Sheet:
//!   limit input to avoid denial of service).
//! - [`PasswordHasher::verify_dummy`] burns the same time as a real check, so a login for an
//!   unknown user takes as long as one with a wrong password.
//!
//! ```
//! use auth_core::config::PasswordConfig;
//! use auth_core::password::{PasswordHasher, Verification};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::password::PasswordError> {
//! let mut config = PasswordConfig::default();
//! config.memory_kib = 1024; // small, for the example
//! let hasher = PasswordHasher::new(&config)?;
//! let hash = hasher.hash("correct horse battery staple").await?;
//! assert!(hash.starts_with("$argon2id$"));
//! assert_eq!(hasher.verify("correct horse battery staple", &hash).await?, Verification::Valid { needs_rehash: false });
//! assert_eq!(hasher.verify("wrong", &hash).await?, Verification::Invalid);
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq as _;
use tokio::sync::{OnceCell, Semaphore, TryAcquireError};

pub use self::threads::HashStats;
use self::threads::{HashThreads, Memory};
use crate::config::PasswordConfig;

pub mod breached;
pub mod history;
#[cfg(feature = "legacy-hashes")]
mod legacy;
pub mod policy;
mod threads;

/// Why hashing or verifying failed (not "wrong password", which is [`Verification::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Shorter than the policy allows.
    #[error("password must be at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// Longer than the policy allows; refused before hashing.
    #[error("password must be at most {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// The configured parameters are not valid Argon2 parameters.
    #[error("invalid Argon2 parameters: {0}")]
    InvalidParams(String),
    /// The stored hash is not an Argon2 PHC string.
    #[error("the stored password hash is not a supported Argon2 PHC string")]
    UnsupportedHash,
    /// The stored hash asks for more memory, time or lanes than the caps allow.
    #[error("the stored password hash asks for parameters above the configured caps")]
    ParamsTooExpensive,
    /// Every hashing slot is busy and the queue is full; retry shortly.
    #[error("too many passwords are being checked at once")]
    Busy,
    /// The hashing task failed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` is true when the hash uses other parameters or
    /// another algorithm than the configured ones.
    Valid {
        /// Whether to store a fresh hash.
        needs_rehash: bool,
    },
    /// The password does not match.
    Invalid,
}

struct Inner {
    params: Params,
    min_length: usize,
    max_length: usize,
    caps: (u32, u32, u32),
    /// Hashing slots, one per thread; a job holds its slot until it has run.
    permits: Arc<Semaphore>,
    threads: HashThreads,
    /// Hashes waiting for a permit, and how many may.
    queued: AtomicUsize,
    max_queued: usize,
    dummy_hash: OnceCell<String>,
}

/// A place in the hashing queue, given up when dropped (also when the waiting request is
/// cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    /// Joins the queue unless `max` are already waiting.
    fn join(queued: &'a AtomicUsize, max: usize) -> Option<Self> {
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(queued))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("memory_kib", &self.inner.params.m_cost())
            .field("iterations", &self.inner.params.t_cost())
            .field("parallelism", &self.inner.params.p_cost())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with the configured parameters and policy.
    ///
    /// # Errors
    /// [`PasswordError::InvalidParams`] when Argon2 refuses the parameters.
    pub fn new(config: &PasswordConfig) -> Result<Self, PasswordError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
        let permits = config
            .max_concurrent_hashes
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
            })
            .max(1);
        let block_count = params.block_count();
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                min_length: config.min_length,
                max_length: config.max_length,
                caps: (
                    config.max_memory_kib,
                    config.max_iterations,
                    config.max_parallelism,
                ),
                permits: Arc::new(Semaphore::new(permits)),
                threads: HashThreads::start(permits, block_count, config.hash_thread_nice)?,
                queued: AtomicUsize::new(0),
                max_queued: config
                    .max_queued_hashes
                    .unwrap_or(permits.saturating_mul(4)),
                dummy_hash: OnceCell::new(),
            }),
        })
    }

    /// Checks the length policy (in characters after NFKC, as [`policy::PasswordPolicy`]
    /// counts them). Cheap; the last guard before hashing. The flows check the whole policy
    /// first.
    ///
    /// # Errors
    /// [`PasswordError::TooShort`] or [`PasswordError::TooLong`].
    pub fn check_policy(&self, password: &str) -> Result<(), PasswordError> {
        if self.length_within_max(password)? < self.inner.min_length {
            return Err(PasswordError::TooShort {
                min: self.inner.min_length,
            });
        }
        Ok(())
    }

    /// Refuses over-long input before any work: first by bytes (4 per character at most), then
    /// by characters after NFKC, as the policy counted them when the password was set (so a
    /// password the policy accepted always gets to its login).
    ///
    /// # Errors
    /// [`PasswordError::TooLong`].
    pub fn check_max(&self, password: &str) -> Result<(), PasswordError> {
        self.length_within_max(password).map(|_| ())
    }

    /// The length in characters after NFKC, once the bytes and then that length are known
    /// to be within the maximum.
    fn length_within_max(&self, password: &str) -> Result<usize, PasswordError> {
        use unicode_normalization::UnicodeNormalization as _;
        let max = self.inner.max_length;
        if password.len() > max.saturating_mul(4) {
            return Err(PasswordError::TooLong { max });
        }
        let length = password.nfkc().count();
        if length > max {
            return Err(PasswordError::TooLong { max });
        }
        Ok(length)
    }

    /// Refuses at once when every hashing slot is busy and the queue is full, so that a caller
    /// does no other work (a database lookup) for a login that would be refused anyway. A
    /// cheap early answer only: the hash itself still takes its slot or queue place.
    ///
    /// # Errors
    /// [`PasswordError::Busy`].
    pub fn check_capacity(&self) -> Result<(), PasswordError> {
        let inner = &self.inner;
        if inner.permits.available_permits() == 0
            && inner.queued.load(Ordering::Acquire) >= inner.max_queued
        {
            return Err(PasswordError::Busy);
        }
        Ok(())
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.inner.params.clone(),
        )
    }

    /// What the hashing threads have done since the hasher was built: hashes computed, and
    /// hashes skipped because their requester had gone away.
    #[must_use]
    pub fn stats(&self) -> HashStats {
        self.inner.threads.stats()
    }

    /// Runs `work` on a hashing thread once a slot is free; refused when the queue is full.
    /// The slot moves into the job, so it stays taken until the hash has run even if this
    /// future is dropped (OWASP Denial of Service Cheat Sheet: bound the work, not only the
    /// requests).
    async fn run_hash<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let permits = &self.inner.permits;
        let slot = match Arc::clone(permits).try_acquire_owned() {
            Ok(slot) => {
                crate::telemetry::hash_waited(std::time::Duration::ZERO);
                slot
            }
            Err(TryAcquireError::NoPermits) => {
                // A waiting request that is dropped leaves the queue with its place.
                let Some(waiting) = Waiting::join(&self.inner.queued, self.inner.max_queued) else {
                    crate::telemetry::hash_refused();
                    return Err(PasswordError::Busy);
                };
                crate::telemetry::hash_queue(self.inner.queued.load(Ordering::Relaxed));
                let since = std::time::Instant::now();
                let slot = Arc::clone(permits)
                    .acquire_owned()
                    .await
                    .map_err(|e| PasswordError::Hashing(e.to_string()))?;
                drop(waiting);
                crate::telemetry::hash_waited(since.elapsed());
                crate::telemetry::hash_queue(self.inner.queued.load(Ordering::Relaxed));
                slot
            }
            Err(e @ TryAcquireError::Closed) => return Err(PasswordError::Hashing(e.to_string())),
        };
        self.inner.threads.run(slot, work).await
    }

    /// Hashes `password` (policy checked first) into a PHC string.
    ///
    /// # Errors
    /// A policy error, or [`PasswordError::Hashing`].
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.check_policy(password)?;
        self.hash_unchecked(SecretString::from(password.to_owned()))
            .await
    }

    async fn hash_unchecked(&self, password: SecretString) -> Result<String, PasswordError> {
        let argon2 = self.argon2();
        self.run_hash(move |memory| {
            let failed = |e: argon2::password_hash::Error| PasswordError::Hashing(e.to_string());
            let params = argon2.params();
            let salt = SaltString::generate(&mut OsRng);
            let mut salt_bytes = [0_u8; 64];
            let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
            let mut out = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
            memory.hash_into(
                &argon2,
                params.block_count(),
                password.expose_secret().as_bytes(),
                salt_bytes,
                &mut out,
            )?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(params).map_err(failed)?,
                salt: Some(salt.as_salt()),
                hash: Some(Output::new(&out).map_err(failed)?),
            };
            Ok(hash.to_string())
        })
        .await?
    }

    /// Whether a stored hash is of a format this hasher verifies: an Argon2 PHC string, and
    /// with the `legacy-hashes` feature bcrypt and Django `pbkdf2_sha256`.
    #[must_use]
    pub fn can_verify(stored: &str) -> bool {
        #[cfg(feature = "legacy-hashes")]
        if legacy::Legacy::of(stored).is_some() {
            return true;
        }
        stored.starts_with("$argon2")
    }

    /// Verifies `password` against a stored PHC string.
    ///
    /// # Errors
    /// [`PasswordError::TooLong`] (refused before hashing), [`PasswordError::UnsupportedHash`],
    /// [`PasswordError::ParamsTooExpensive`] or [`PasswordError::Hashing`].
    pub async fn verify(
        &self,
        password: &str,
        stored: &str,
    ) -> Result<Verification, PasswordError> {
        self.check_max(password)?;
        #[cfg(feature = "legacy-hashes")]
        if let Some(legacy) = legacy::Legacy::of(stored) {
            if !legacy.within_caps(stored) {
                tracing::warn!(
                    ?legacy,
                    "refusing to verify a legacy password hash above the caps"
                );
                return Err(PasswordError::ParamsTooExpensive);
            }
            let (password, stored) = (SecretString::from(password.to_owned()), stored.to_owned());
            return self
                .run_hash(move |_| legacy.verify(password.expose_secret(), &stored))
                .await?;
        }
        let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::UnsupportedHash)?;
        let algorithm =
            Algorithm::try_from(parsed.algorithm).map_err(|_| PasswordError::UnsupportedHash)?;
        let params = Params::try_from(&parsed).map_err(|_| PasswordError::UnsupportedHash)?;
        let (max_m, max_t, max_p) = self.inner.caps;
        if params.m_cost() > max_m || params.t_cost() > max_t || params.p_cost() > max_p {
            tracing::warn!(
                memory_kib = params.m_cost(),
                iterations = params.t_cost(),
                parallelism = params.p_cost(),
                "refusing to verify a stored password hash whose parameters exceed the caps"
            );
            return Err(PasswordError::ParamsTooExpensive);
        }
        let version = parsed.version.unwrap_or(0x13);
        let ours = &self.inner.params;
        let needs_rehash = algorithm != Algorithm::Argon2id
            || version != 0x13
            || params.m_cost() != ours.m_cost()
            || params.t_cost() != ours.t_cost()
            || params.p_cost() != ours.p_cost();
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(PasswordError::UnsupportedHash);
        };
        let mut salt_bytes = [0_u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|_| PasswordError::UnsupportedHash)?
            .to_vec();
        let version = Version::try_from(version).map_err(|_| PasswordError::UnsupportedHash)?;
        let params = Params::new(
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            Some(expected.len()),
        )
        .map_err(|_| PasswordError::UnsupportedHash)?;
        let expected = expected.as_bytes().to_vec();
        let password = SecretString::from(password.to_owned());
        self.run_hash(move |memory| {
            let blocks = params.block_count();
            let argon2 = Argon2::new(algorithm, version, params);
            let mut out = vec![0_u8; expected.len()];
            memory.hash_into(
                &argon2,
                blocks,
                password.expose_secret().as_bytes(),
                &salt_bytes,
                &mut out,
            )?;
            Ok(if bool::from(out.ct_eq(&expected)) {
                Verification::Valid { needs_rehash }
            } else {
                Verification::Invalid
            })
        })
        .await?
    }

    /// Checks a login's password against the account's stored hash, spending the time of one
    /// verification whatever the account is like: without an account or a password
    /// (`stored` is `None`), and with a stored hash that cannot be checked (not an Argon2 PHC
    /// string, or parameters above the caps), a dummy verification runs and the answer is
    /// [`Verification::Invalid`]. No class of account is told apart by the time a login takes
    /// (OWASP Authentication Cheat Sheet: authentication responses).
    ///
    /// # Errors
    /// [`PasswordError::TooLong`] (refused before hashing, whatever the account),
    /// [`PasswordError::Busy`] or [`PasswordError::Hashing`].
    pub async fn verify_login(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verification, PasswordError> {
        let Some(stored) = stored else {
            return self.verify_dummy(password).await;
        };
        match self.verify(password, stored).await {
            Err(PasswordError::UnsupportedHash | PasswordError::ParamsTooExpensive) => {
                // Logged by `verify` when over the caps; such a hash can never be satisfied.
                self.verify_dummy(password).await
            }
            other => other,
        }
    }

    /// Spends the time of one verification against a hash of the configured parameters and
    /// always reports [`Verification::Invalid`]. Used when the user does not exist.
    ///
    /// # Errors
    /// [`PasswordError::Hashing`] if the dummy hash cannot be made.
    pub async fn verify_dummy(&self, password: &str) -> Result<Verification, PasswordError> {
        let dummy = self
            .inner
            .dummy_hash
            .get_or_try_init(|| async {
                let mut random = [0_u8; 24];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
                let password = SecretString::from(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    random,
                ));
                self.hash_unchecked(password).await
            })
            .await?;
        let _ = self.verify(password, dummy).await?;
        Ok(Verification::Invalid)
    }
}
