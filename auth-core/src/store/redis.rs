//! Redis backend for the state several instances share: sessions, token revocations,
//! refresh-token families and rate-limit/lockout counters. One [`RedisStore`] is a multiplexed, self-reconnecting
//! connection ([`ConnectionManager`]); every key starts with the configured prefix
//! (`AUTH__REDIS__PREFIX`, default `auth:`).
//!
//! Sessions are hashes `<prefix>session:<id>` expiring at the session's absolute end (as a
//! time to live, so the Redis server's clock does not matter), indexed
//! per user by a sorted set `<prefix>user-sessions:<user>` scored by last use. Creation with
//! eviction, touch and deletion are Lua scripts, so each is atomic across instances. (The
//! scripts touch keys they derive, so they assume a single Redis, not a cluster.)
//!
//! Revocations are three hashes, `<prefix>revoked-tokens`, `-sessions` and `-users`, whose
//! entries carry their own expiry (purged by `purge_expired`); merging keeps the later expiry
//! and cut-off, like the SQL store. `<prefix>revoked-sequence` counts them (the revocation
//! sequence, taken in the same script as the write).
//!
//! Refresh families are hashes `<prefix>family:<id>` and tokens `<prefix>refresh:<hash>`,
//! indexed per user and per family and by expiry for purging; rotation is one compare-and-set
//! script, so exactly one of many concurrent rotations wins.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::StoreError;
use crate::session::{Device, Session, SessionStore};
use crate::throttle::{window_start, CounterStore};
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationSnapshot, RevocationStore, UserCutoff,
};

/// A Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`); keys start with `prefix`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// Answers when Redis does.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}user-sessions:{user_id}", self.prefix)
    }

    fn secret_key(&self, hash: &str) -> String {
        format!("{}session-secret:{hash}", self.prefix)
    }

    fn revoked_key(&self, what: &str) -> String {
        format!("{}revoked-{what}", self.prefix)
    }
}

fn session_from(
    id: &str,
    mut fields: HashMap<String, String>,
) -> Result<Option<Session>, StoreError> {
    if fields.is_empty() {
        return Ok(None);
    }
    let text = |fields: &mut HashMap<String, String>, name: &str| {
        fields.remove(name).filter(|v| !v.is_empty())
    };
    Ok(Some(Session {
        id: id.to_owned(),
        created_at: number(&fields, "created_at", "session")?,
        last_seen: number(&fields, "last_seen", "session")?,
        expires_at: number(&fields, "expires_at", "session")?,
        idle_timeout: number(&fields, "idle_timeout", "session")?,
        user_id: text(&mut fields, "user_id")
            .ok_or_else(|| StoreError::Corrupt("session field `user_id`".to_owned()))?,
        secret_hash: text(&mut fields, "secret_hash"),
        device: Device {
            user_agent: text(&mut fields, "user_agent"),
            ip: text(&mut fields, "ip"),
            name: text(&mut fields, "name"),
        },
    }))
}

/// Deletes a session hash and its cookie-secret index entry. Prepended to the scripts that
/// delete sessions.
const DROP: &str = r"
local function drop(sessions, secrets, id)
  local hash = redis.call('HGET', sessions .. id, 'secret_hash')
  if hash and hash ~= '' then redis.call('DEL', secrets .. hash) end
  return redis.call('DEL', sessions .. id)
end
";

/// KEYS: session hash, user index. ARGV: id, user, user_agent, ip, name, created_at,
/// last_seen, expires_at, idle_timeout, max (0 = no limit), session key prefix, secret hash
/// (or empty), secret key prefix. Returns the evicted ids.
const CREATE: &str = r"
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'user_agent', ARGV[3], 'ip', ARGV[4],
  'name', ARGV[5], 'created_at', ARGV[6], 'last_seen', ARGV[7], 'expires_at', ARGV[8],
  'idle_timeout', ARGV[9], 'secret_hash', ARGV[12])
-- Relative to the caller's clock, so Redis's own clock does not matter.
local ttl = math.max(1, tonumber(ARGV[8]) - tonumber(ARGV[7]))
redis.call('EXPIRE', KEYS[1], ttl)
if ARGV[12] ~= '' then redis.call('SET', ARGV[13] .. ARGV[12], ARGV[1], 'EX', ttl) end
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
local max = tonumber(ARGV[10])
local evicted = {}
if max == 0 then return evicted end
local all = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local others = {}
for i = 1, #all, 2 do
  local id = all[i]
  if id ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[11] .. id) == 1 then
      table.insert(others, {id = id, seen = tonumber(all[i + 1])})
    else
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
table.sort(others, function(a, b)
  if a.seen ~= b.seen then return a.seen > b.seen end
  return a.id < b.id
end)
for i = max, #others do
  local id = others[i].id
  drop(ARGV[11], ARGV[13], id)
  redis.call('ZREM', KEYS[2], id)
  table.insert(evicted, id)
end
return evicted
";

/// KEYS: session hash. ARGV: now, user index prefix, session key prefix. Returns 1 when the
/// session exists.
const TOUCH: &str = r"
local fields = redis.call('HMGET', KEYS[1], 'user_id', 'last_seen')
if not fields[1] then return 0 end
local now = tonumber(ARGV[1])
if now > tonumber(fields[2]) then
  redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
  redis.call('ZADD', ARGV[2] .. fields[1], ARGV[1], string.sub(KEYS[1], #ARGV[3] + 1))
end
return 1
";

/// KEYS: session hash. ARGV: id, user index prefix, session key prefix, secret key prefix.
/// Returns the deleted hash as a flat list.
const DELETE: &str = r"
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
local user = redis.call('HGET', KEYS[1], 'user_id')
drop(ARGV[3], ARGV[4], ARGV[1])
redis.call('ZREM', ARGV[2] .. user, ARGV[1])
return fields
";

/// KEYS: user index. ARGV: id to keep (or empty), session key prefix, secret key prefix.
/// Returns deleted ids.
const DELETE_USER: &str = r"
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local deleted = {}
for _, id in ipairs(ids) do
  if id ~= ARGV[1] then
    local existed = drop(ARGV[2], ARGV[3], id)
    redis.call('ZREM', KEYS[1], id)
    if existed == 1 then table.insert(deleted, id) end
  end
end
return deleted
";

/// KEYS: session hash. ARGV: id, new secret hash, secret key prefix. Returns 1 when the
/// session exists.
const SET_SECRET: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], 'secret_hash')
if old and old ~= '' then redis.call('DEL', ARGV[3] .. old) end
redis.call('HSET', KEYS[1], 'secret_hash', ARGV[2])
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then
  redis.call('SET', ARGV[3] .. ARGV[2], ARGV[1], 'EX', ttl)
else
  redis.call('SET', ARGV[3] .. ARGV[2], ARGV[1])
end
return 1
";

/// KEYS: a revocation hash, the revocation sequence. ARGV: field, value. Keeps whichever
/// entry expires later, merging cut-offs field by field, and returns the revocation's number
/// in the sequence (taken in the same atomic step).
const REVOKE: &str = r"
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
const PURGE: &str = r"
local purged = 0
for _, key in ipairs(KEYS) do
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local last = tonumber(string.match(all[i + 1], '([^:]+)$'))
    if last < tonumber(ARGV[1]) then
      redis.call('HDEL', key, all[i])
      purged = purged + 1
    end
  end
end
return purged
";

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

impl RedisStore {
    async fn revoke(&self, what: &str, field: &str, value: String) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Script::new(REVOKE)
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

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let purged: u64 = Script::new(PURGE)
            .key(self.revoked_key("tokens"))
            .key(self.revoked_key("sessions"))
            .key(self.revoked_key("users"))
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(purged)
    }

    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError> {
        let mut conn = self.conn.clone();
        // One transaction: the sequence number and the entries it counts.
        let (sequence, tokens, sessions, users): (
            Option<u64>,
            HashMap<String, i64>,
            HashMap<String, i64>,
            HashMap<String, String>,
        ) = redis::pipe()
            .atomic()
            .get(self.revoked_key("sequence"))
            .hgetall(self.revoked_key("tokens"))
            .hgetall(self.revoked_key("sessions"))
            .hgetall(self.revoked_key("users"))
            .query_async(&mut conn)
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
        Ok(RevocationSnapshot::new(set, sequence.unwrap_or(0)))
    }
}

fn with_drop(script: &str) -> Script {
    Script::new(&format!("{DROP}{script}"))
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create_session(
        &self,
        s: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        with_drop(CREATE)
            .key(self.session_key(&s.id))
            .key(self.user_key(&s.user_id))
            .arg(&s.id)
            .arg(&s.user_id)
            .arg(s.device.user_agent.as_deref().unwrap_or(""))
            .arg(s.device.ip.as_deref().unwrap_or(""))
            .arg(s.device.name.as_deref().unwrap_or(""))
            .arg(s.created_at)
            .arg(s.last_seen)
            .arg(s.expires_at)
            .arg(s.idle_timeout)
            .arg(max_per_user.unwrap_or(0))
            .arg(self.session_key(""))
            .arg(s.secret_hash.as_deref().unwrap_or(""))
            .arg(self.secret_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = conn
            .hgetall(self.session_key(id))
            .await
            .map_err(unavailable)?;
        session_from(id, fields)
    }

    async fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let found: i64 = Script::new(TOUCH)
            .key(self.session_key(id))
            .arg(now)
            .arg(self.user_key(""))
            .arg(self.session_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }

    async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrange(self.user_key(user_id), 0, -1)
            .await
            .map_err(unavailable)?;
        let mut sessions = Vec::with_capacity(ids.len());
        for id in ids {
            // Expired hashes are gone; their index entries go at the next login.
            if let Some(session) = self.get_session(&id).await? {
                sessions.push(session);
            }
        }
        super::memory::by_recent_use(&mut sessions);
        Ok(sessions)
    }

    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let flat: Vec<String> = with_drop(DELETE)
            .key(self.session_key(id))
            .arg(id)
            .arg(self.user_key(""))
            .arg(self.session_key(""))
            .arg(self.secret_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        session_from(id, pairs(flat))
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        with_drop(DELETE_USER)
            .key(self.user_key(user_id))
            .arg(keep.unwrap_or(""))
            .arg(self.session_key(""))
            .arg(self.secret_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn find_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let id: Option<String> = conn
            .get(self.secret_key(secret_hash))
            .await
            .map_err(unavailable)?;
        let Some(id) = id else { return Ok(None) };
        // The index is only a pointer: the session must still name this secret.
        Ok(self
            .get_session(&id)
            .await?
            .filter(|s| s.secret_hash.as_deref() == Some(secret_hash)))
    }

    async fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let found: i64 = Script::new(SET_SECRET)
            .key(self.session_key(id))
            .arg(id)
            .arg(secret_hash)
            .arg(self.secret_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }
}

/// KEYS: none (the keys derive from the prefix). ARGV: prefix, family id, user, created_at,
/// expires_at, token hash, token issued_at, token expires_at. Returns 0 on a conflict.
const CREATE_FAMILY: &str = r"
local p = ARGV[1]
if redis.call('EXISTS', p .. 'family:' .. ARGV[2]) == 1
  or redis.call('EXISTS', p .. 'refresh:' .. ARGV[6]) == 1 then return 0 end
redis.call('HSET', p .. 'family:' .. ARGV[2], 'user_id', ARGV[3], 'created_at', ARGV[4],
  'expires_at', ARGV[5])
redis.call('SADD', p .. 'user-families:' .. ARGV[3], ARGV[2])
redis.call('ZADD', p .. 'families-by-expiry', ARGV[5], ARGV[2])
redis.call('HSET', p .. 'refresh:' .. ARGV[6], 'family_id', ARGV[2], 'issued_at', ARGV[7],
  'expires_at', ARGV[8])
redis.call('SADD', p .. 'family-tokens:' .. ARGV[2], ARGV[6])
redis.call('ZADD', p .. 'refresh-by-expiry', ARGV[8], ARGV[6])
return 1
";

/// ARGV: prefix, token hash. Returns the token's and its family's fields.
const FIND_TOKEN: &str = r"
local p = ARGV[1]
local token = redis.call('HGETALL', p .. 'refresh:' .. ARGV[2])
if #token == 0 then return {{}, {}} end
local family = redis.call('HGET', p .. 'refresh:' .. ARGV[2], 'family_id')
return {token, redis.call('HGETALL', p .. 'family:' .. family)}
";

/// ARGV: prefix, used hash, used_at, successor hash, family, issued_at, expires_at.
const ROTATE: &str = r"
local p = ARGV[1]
local key = p .. 'refresh:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 'not_found' end
local used = redis.call('HGET', key, 'used_at')
if used and used ~= '' then return 'used:' .. used end
redis.call('HSET', key, 'used_at', ARGV[3])
redis.call('HSET', p .. 'refresh:' .. ARGV[4], 'family_id', ARGV[5], 'issued_at', ARGV[6],
  'expires_at', ARGV[7])
redis.call('SADD', p .. 'family-tokens:' .. ARGV[5], ARGV[4])
redis.call('ZADD', p .. 'refresh-by-expiry', ARGV[7], ARGV[4])
return 'rotated'
";

/// ARGV: prefix, at, reason, family ids... Revokes the live ones; returns their ids.
const REVOKE_FAMILIES: &str = r"
local p = ARGV[1]
local revoked = {}
for i = 4, #ARGV do
  local key = p .. 'family:' .. ARGV[i]
  if redis.call('EXISTS', key) == 1 then
    local at = redis.call('HGET', key, 'revoked_at')
    if not at or at == '' then
      redis.call('HSET', key, 'revoked_at', ARGV[2], 'revoked_reason', ARGV[3])
      table.insert(revoked, ARGV[i])
    end
  end
end
return revoked
";

/// ARGV: prefix, user. Revokes nothing; returns `{id, fields}` of each of the user's families.
const USER_FAMILIES: &str = r"
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'user-families:' .. ARGV[2])) do
  local fields = redis.call('HGETALL', p .. 'family:' .. id)
  if #fields > 0 then table.insert(out, {id, fields}) end
end
return out
";

/// ARGV: prefix, now. Deletes families that ended before `now` with all their tokens, and
/// tokens that expired; returns how many records went.
const PURGE_FAMILIES: &str = r"
local p = ARGV[1]
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'families-by-expiry', '-inf', '(' .. ARGV[2])) do
  local user = redis.call('HGET', p .. 'family:' .. id, 'user_id')
  if user then redis.call('SREM', p .. 'user-families:' .. user, id) end
  for _, hash in ipairs(redis.call('SMEMBERS', p .. 'family-tokens:' .. id)) do
    count = count + redis.call('DEL', p .. 'refresh:' .. hash)
    redis.call('ZREM', p .. 'refresh-by-expiry', hash)
  end
  redis.call('DEL', p .. 'family-tokens:' .. id)
  count = count + redis.call('DEL', p .. 'family:' .. id)
  redis.call('ZREM', p .. 'families-by-expiry', id)
end
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', p .. 'refresh-by-expiry', '-inf', '(' .. ARGV[2])) do
  local family = redis.call('HGET', p .. 'refresh:' .. hash, 'family_id')
  if family then redis.call('SREM', p .. 'family-tokens:' .. family, hash) end
  count = count + redis.call('DEL', p .. 'refresh:' .. hash)
  redis.call('ZREM', p .. 'refresh-by-expiry', hash)
end
return count
";

fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    flat.chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

fn number(fields: &HashMap<String, String>, name: &str, what: &str) -> Result<i64, StoreError> {
    fields
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{what} field `{name}`")))
}

fn optional_number(fields: &HashMap<String, String>, name: &str) -> Option<i64> {
    fields.get(name).and_then(|v| v.parse().ok())
}

fn family_from(id: &str, fields: &HashMap<String, String>) -> Result<RefreshFamily, StoreError> {
    let mut family = RefreshFamily::new(
        id.to_owned(),
        fields
            .get("user_id")
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("family field `user_id`".to_owned()))?,
        number(fields, "created_at", "family")?,
        number(fields, "expires_at", "family")?,
    );
    family.revoked_at = optional_number(fields, "revoked_at");
    family.revoked_reason = fields.get("revoked_reason").cloned();
    Ok(family)
}

fn record_from(
    hash: &str,
    fields: &HashMap<String, String>,
) -> Result<RefreshTokenRecord, StoreError> {
    let mut record = RefreshTokenRecord::new(
        hash.to_owned(),
        fields
            .get("family_id")
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("refresh token field `family_id`".to_owned()))?,
        number(fields, "issued_at", "refresh token")?,
        number(fields, "expires_at", "refresh token")?,
    );
    record.used_at = optional_number(fields, "used_at");
    Ok(record)
}

#[async_trait]
impl RefreshTokenStore for RedisStore {
    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let created: i64 = Script::new(CREATE_FAMILY)
            .arg(&self.prefix)
            .arg(&family.id)
            .arg(&family.user_id)
            .arg(family.created_at)
            .arg(family.expires_at)
            .arg(&first.token_hash)
            .arg(first.issued_at)
            .arg(first.expires_at)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if created == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict { field: "id" })
        }
    }

    async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError> {
        let mut conn = self.conn.clone();
        let (token, family): (Vec<String>, Vec<String>) = Script::new(FIND_TOKEN)
            .arg(&self.prefix)
            .arg(token_hash)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if token.is_empty() || family.is_empty() {
            return Ok(None);
        }
        let record = record_from(token_hash, &pairs(token))?;
        let family = family_from(&record.family_id, &pairs(family))?;
        Ok(Some((record, family)))
    }

    async fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        let mut conn = self.conn.clone();
        let outcome: String = Script::new(ROTATE)
            .arg(&self.prefix)
            .arg(used_hash)
            .arg(used_at)
            .arg(&successor.token_hash)
            .arg(&successor.family_id)
            .arg(successor.issued_at)
            .arg(successor.expires_at)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        match outcome.as_str() {
            "rotated" => Ok(RotateOutcome::Rotated),
            "not_found" => Ok(RotateOutcome::NotFound),
            other => other
                .strip_prefix("used:")
                .and_then(|at| at.parse().ok())
                .map(|used_at| RotateOutcome::AlreadyUsed { used_at })
                .ok_or_else(|| StoreError::Corrupt("refresh token `used_at`".to_owned())),
        }
    }

    async fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = conn
            .hgetall(format!("{}family:{family_id}", self.prefix))
            .await
            .map_err(unavailable)?;
        if fields.is_empty() {
            return Ok(None);
        }
        family_from(family_id, &fields).map(Some)
    }

    async fn revoke_family(
        &self,
        family_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let revoked: Vec<String> = Script::new(REVOKE_FAMILIES)
            .arg(&self.prefix)
            .arg(at)
            .arg(reason)
            .arg(family_id)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(!revoked.is_empty())
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .smembers(format!("{}user-families:{user_id}", self.prefix))
            .await
            .map_err(unavailable)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Script::new(REVOKE_FAMILIES)
            .arg(&self.prefix)
            .arg(at)
            .arg(reason)
            .arg(ids)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn list_user_families(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RefreshFamily>, StoreError> {
        let mut conn = self.conn.clone();
        let rows: Vec<(String, Vec<String>)> = Script::new(USER_FAMILIES)
            .arg(&self.prefix)
            .arg(user_id)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut families = rows
            .into_iter()
            .map(|(id, flat)| family_from(&id, &pairs(flat)))
            .collect::<Result<Vec<_>, _>>()?;
        families.retain(|f| f.revoked_at.is_none() && f.expires_at > now);
        crate::token::refresh::newest_first(&mut families);
        Ok(families)
    }

    async fn purge_expired_families(&self, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Script::new(PURGE_FAMILIES)
            .arg(&self.prefix)
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }
}

/// KEYS: the counter hash. ARGV: window start, window length. Returns the count after the hit.
const HIT: &str = r"
local start = redis.call('HGET', KEYS[1], 'start')
local count
if start == ARGV[1] then
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
else
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'count', 1)
  count = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return count
";

impl RedisStore {
    fn counter_key(&self, key: &str) -> String {
        format!("{}counter:{key}", self.prefix)
    }
}

#[async_trait]
impl CounterStore for RedisStore {
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Script::new(HIT)
            .key(self.counter_key(key))
            .arg(window_start(now, window))
            .arg(window.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let (start, count): (Option<i64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.counter_key(key))
            .arg("start")
            .arg("count")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(match (start, count) {
            (Some(start), Some(count)) if start == window_start(now, window) => count,
            _ => 0,
        })
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.counter_key(key))
            .await
            .map_err(unavailable)
    }
}
