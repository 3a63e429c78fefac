//! Randomness as a dependency, like [`Clock`](crate::Clock): token ids, session ids and refresh
//! tokens come from a [`Random`], so tests can make them reproducible.
//!
//! Production uses [`OsRandom`] (the operating system's CSPRNG). [`SeededRandom`] is for tests
//! only: its output is predictable by design.

use std::fmt;
use std::sync::Mutex;

use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng};

/// A source of random bytes.
pub trait Random: Send + Sync + fmt::Debug + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// 16 random bytes as a UUID (version 4 layout), for ids.
    fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0_u8; 16];
        self.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// 256 random bits in base64url (43 characters): a secret token (a refresh token, a
    /// cookie or client secret, a mailed link's token, an authorization code).
    fn token(&self) -> String {
        use base64::Engine as _;
        let mut bytes = [0_u8; 32];
        self.fill(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        OsRng.fill_bytes(buf);
    }
}

/// A deterministic generator for tests: the same seed gives the same ids and tokens.
///
/// # Warning
/// Never use it outside tests: anyone who knows the seed can predict every token.
///
/// ```
/// use auth_core::random::{Random, SeededRandom};
///
/// assert_eq!(SeededRandom::new(7).uuid(), SeededRandom::new(7).uuid());
/// ```
#[derive(Debug)]
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fill_bytes(buf);
    }
}
