//! Revocations: three hashes, `<prefix>{revoked}:tokens`, `:sessions` and `:users`, whose
//! entries carry their own expiry, and the revocation sequence `<prefix>{revoked}:sequence`:
//! one hash tag for the four, so that a Redis Cluster keeps them on one node (every instance
//! reads them all to build its revocation view).
//!
//! Before the hash tag the four were `<prefix>revoked-tokens` (and so on): on a single Redis
//! they are renamed at connect, so that an upgrade forgets no revocation.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationSnapshot, RevocationStore, UserCutoff,
};

/// KEYS: a revocation hash, the revocation sequence. ARGV: field, value. Keeps whichever
/// entry expires later, merging cut-offs field by field, and returns the revocation's number
/// in the sequence (taken in the same atomic step).
const REVOKE_LUA: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return redis.call('INCR', KEYS[2])
end
local function parts(v)
  local out = {}
  for n in string.gmatch(v, '[^:]+') do table.insert(out, tonumber(n)) end
  return out
end
local a, b = parts(current), parts(ARGV[2])
local merged = {}
for i = 1, #b do merged[i] = math.max(a[i] or b[i], b[i]) end
redis.call('HSET', KEYS[1], ARGV[1], table.concat(merged, ':'))
return redis.call('INCR', KEYS[2])
";

/// KEYS: the three revocation hashes. ARGV: now. Deletes entries that expired before `now`
/// (for cut-offs, the last number is the expiry); returns how many.
const PURGE_LUA: &str = r"
local purged = 0
local limit = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if purged >= limit then return purged end
    local last = tonumber(string.match(all[i + 1], '([^:]+)$'))
    if last < tonumber(ARGV[1]) then
      redis.call('HDEL', key, all[i])
      purged = purged + 1
    end
  end
end
return purged
";

/// KEYS: the sequence, the three revocation hashes. Reads them in one atomic step.
const ACTIVE_LUA: &str = r"
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
";

static ACTIVE: Lua = Lua::new(|| redis::Script::new(ACTIVE_LUA));
static REVOKE: Lua = Lua::new(|| redis::Script::new(REVOKE_LUA));
static PURGE: Lua = Lua::new(|| redis::Script::new(PURGE_LUA));

fn cutoff_value(c: &UserCutoff) -> String {
    format!("{}:{}:{}", c.issued_before, c.epoch_below, c.expires_at)
}

fn cutoff_from(value: &str) -> Result<UserCutoff, StoreError> {
    let mut parts = value.split(':').map(str::parse::<i64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(issued_before)), Some(Ok(epoch_below)), Some(Ok(expires_at))) => Ok(UserCutoff {
            issued_before,
            epoch_below,
            expires_at,
        }),
        _ => Err(StoreError::Corrupt("user revocation entry".to_owned())),
    }
}

/// The revocation keys' names before they shared a hash tag.
const UNTAGGED: [&str; 4] = ["tokens", "sessions", "users", "sequence"];

impl RedisStore {
    /// Renames the revocation keys of an earlier version (`<prefix>revoked-tokens`, ...) to
    /// the tagged names, on a single Redis, unless a tagged key exists already.
    pub(super) async fn move_revocations(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        for what in UNTAGGED {
            let old = format!("{}revoked-{what}", self.prefix);
            if conn.exists(&old).await.map_err(unavailable)? {
                let moved: bool = conn
                    .rename_nx(&old, self.revoked_key(what))
                    .await
                    .map_err(unavailable)?;
                if !moved {
                    tracing::warn!(key = %old, "revocations under an earlier key name left in place: the tagged key exists");
                }
            }
        }
        Ok(())
    }

    async fn revoke(&self, what: &str, field: &str, value: String) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        REVOKE
            .key(self.revoked_key(what))
            .key(self.revoked_key("sequence"))
            .arg(field)
            .arg(value)
            .invoke_async::<u64>(&mut conn)
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl RevocationStore for RedisStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError> {
        self.revoke("tokens", jti, expires_at.to_string()).await
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError> {
        self.revoke("sessions", session_id, expires_at.to_string())
            .await
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError> {
        self.revoke("users", user_id, cutoff_value(&cutoff)).await
    }

    async fn sequence(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let sequence: Option<u64> = conn
            .get(self.revoked_key("sequence"))
            .await
            .map_err(unavailable)?;
        Ok(sequence.unwrap_or(0))
    }

    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError> {
        // One round trip for the three rules.
        let mut conn = self.conn.clone();
        let (token, session, cutoff): (bool, bool, Option<String>) = redis::pipe()
            .hexists(self.revoked_key("tokens"), check.jti)
            .hexists(self.revoked_key("sessions"), check.session_id.unwrap_or(""))
            .hget(self.revoked_key("users"), check.user_id)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let by_user = match cutoff {
            Some(value) => {
                let c = cutoff_from(&value)?;
                check.issued_at < c.issued_before || check.epoch < c.epoch_below
            }
            None => false,
        };
        Ok(token || (session && check.session_id.is_some()) || by_user)
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let purged: u64 = PURGE
            .key(self.revoked_key("tokens"))
            .key(self.revoked_key("sessions"))
            .key(self.revoked_key("users"))
            .arg(now)
            .arg(limit.min(i64::MAX as u64))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(purged)
    }

    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError> {
        let mut conn = self.conn.clone();
        // One atomic step: the sequence number and the entries it counts.
        let (sequence, tokens, sessions, users): (
            u64,
            HashMap<String, i64>,
            HashMap<String, i64>,
            HashMap<String, String>,
        ) = ACTIVE
            .key(self.revoked_key("sequence"))
            .key(self.revoked_key("tokens"))
            .key(self.revoked_key("sessions"))
            .key(self.revoked_key("users"))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut set = RevocationSet::default();
        for (jti, expires_at) in tokens {
            set.insert(Revocation::Token { jti, expires_at });
        }
        for (id, expires_at) in sessions {
            set.insert(Revocation::Session { id, expires_at });
        }
        for (user_id, value) in users {
            set.insert(Revocation::User {
                user_id,
                cutoff: cutoff_from(&value)?,
            });
        }
        set.purge(now);
        Ok(RevocationSnapshot::new(set, sequence))
    }
}
