//! API keys: long-lived credentials a user (or a service account) creates for scripts and
//! other services, sent as `Authorization: ApiKey <key>` or `X-API-Key: <key>`.
//!
//! A key is `ak_`, 43 base62 characters (256 random bits) and a 6-character checksum of them
//! (base62 of the first four bytes of their SHA-256), so secret scanners can recognise one
//! and a mistyped key is refused without a look-up. Only its SHA-256 is stored (a key has
//! full entropy, so a fast hash is enough, as for the one-time tokens); the key itself is
//! shown once, when created.
//!
//! A key acts for its owner, bounded by its scopes: a permission check passes only when the
//! owner holds the permission now *and* a scope covers it (wildcards allowed, `*` for
//! everything); role checks pass only for keys scoped `*`. A key never grants what its owner
//! lacks, and loses what the owner loses (roles are read at use, a deactivated owner's keys
//! stop working).
//!
//! ```
//! use auth_core::api_key::{checksum_ok, generate};
//! use auth_core::random::SeededRandom;
//!
//! let key = generate(&SeededRandom::new(7));
//! assert!(key.starts_with("ak_") && key.len() == 3 + 43 + 6);
//! assert!(checksum_ok(&key));
//! let mut typo = key.clone();
//! typo.replace_range(10..11, if &key[10..11] == "a" { "b" } else { "a" });
//! assert!(!checksum_ok(&typo));
//! ```

use async_trait::async_trait;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::random::Random;
use crate::user::UserId;

/// The prefix of every key.
pub const PREFIX: &str = "ak_";
/// Base62 characters of a key's random part (256 bits).
const BODY: usize = 43;
/// Base62 characters of its checksum.
const CHECKSUM: usize = 6;
/// How much of a key is kept in clear to tell keys apart in listings (`ak_` and 8 characters).
const SHOWN: usize = PREFIX.len() + 8;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The checksum of a key's random part: base62 of the first four bytes of its SHA-256.
fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [b'0'; CHECKSUM];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new key from `random`: 43 uniformly drawn base62 characters (bytes of 248 and above are
/// drawn again, so that every character is equally likely) and their checksum.
#[must_use]
pub fn generate(random: &dyn Random) -> String {
    let mut body = String::with_capacity(BODY);
    let mut buf = [0_u8; 64];
    while body.len() < BODY {
        random.fill(&mut buf);
        for byte in buf {
            if byte < 248 && body.len() < BODY {
                body.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
    }
    let sum = checksum(&body);
    format!("{PREFIX}{body}{sum}")
}

/// Whether `key` has the shape of a key and its checksum matches.
#[must_use]
pub fn checksum_ok(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != BODY + CHECKSUM || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, sum) = rest.split_at(BODY);
    checksum(body) == sum
}

/// The stored form of a key (hex SHA-256).
#[must_use]
pub fn hash(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// The part of a key shown in listings.
#[must_use]
pub fn shown(key: &str) -> String {
    key.chars().take(SHOWN).collect()
}

/// A stored key, never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiKey {
    /// Its id.
    pub id: String,
    /// Its owner.
    pub user_id: UserId,
    /// The name its owner gave it.
    pub name: String,
    /// The permissions it is limited to (wildcards allowed; `*` for all of the owner's).
    pub scopes: Vec<String>,
    /// Its first characters (`ak_` and 8), to tell keys apart.
    pub prefix: String,
    /// The SHA-256 of the key.
    #[serde(skip)]
    pub hash: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it was last used (written at most once a minute).
    pub last_used_at: Option<i64>,
    /// The client address of that use.
    pub last_used_ip: Option<String>,
}

impl ApiKey {
    /// A new, unused key record.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        user_id: UserId,
        name: impl Into<String>,
        scopes: Vec<String>,
        key: &str,
        created_at: i64,
        expires_at: Option<i64>,
    ) -> Self {
        Self {
            id: id.into(),
            user_id,
            name: name.into(),
            scopes,
            prefix: shown(key),
            hash: hash(key),
            created_at,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
        }
    }
}

/// Where keys are kept.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new key.
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError>;

    /// The key with this hash, revoked or expired ones included.
    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError>;

    /// The keys of a user, newest first, revoked ones included.
    async fn keys_of(&self, user_id: &UserId) -> Result<Vec<ApiKey>, StoreError>;

    /// Revokes `user_id`'s key `id` at `at`; whether it was theirs and not revoked yet.
    async fn revoke_key(&self, user_id: &UserId, id: &str, at: i64) -> Result<bool, StoreError>;

    /// Notes a use of key `id` at `at` from `ip`, unless one was noted in the minute before;
    /// whether it was noted.
    async fn touch_key(&self, id: &str, at: i64, ip: Option<&str>) -> Result<bool, StoreError>;

    /// Deletes at most `limit` keys revoked or expired before `before` (kept until then so
    /// their owners still see them listed); returns how many (fewer than `limit` once none is
    /// left).
    async fn purge_dead_keys(&self, before: i64, limit: u64) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn keys_are_uniform_base62_with_a_checksum() {
        let random = SeededRandom::new(1);
        let a = generate(&random);
        let b = generate(&random);
        assert_ne!(a, b);
        for key in [&a, &b] {
            assert!(checksum_ok(key), "{key}");
            assert_eq!(shown(key).len(), 11);
            assert_eq!(hash(key).len(), 64);
        }
        assert!(!checksum_ok("ak_short"));
        assert!(!checksum_ok(&a.replacen("ak_", "xx_", 1)));
        assert!(!checksum_ok(&format!("{a}0")));
        let mut wrong_sum = a.clone();
        wrong_sum.pop();
        wrong_sum.push(if a.ends_with('0') { '1' } else { '0' });
        assert!(!checksum_ok(&wrong_sum));
        assert!(!checksum_ok(&a.replace(&a[5..6], "-")));
    }
}
