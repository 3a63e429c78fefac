//! Redis backend for the state several instances share: sessions and token revocations. One [`RedisStore`] is a multiplexed, self-reconnecting
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
//! and cut-off, like the SQL store.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::StoreError;
use crate::session::{Device, Session, SessionStore};
use crate::token::revocation::{
    Revocation, RevocationCheck, RevocationSet, RevocationStore, UserCutoff,
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
    let number = |fields: &HashMap<String, String>, name: &str| -> Result<i64, StoreError> {
        fields
            .get(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("session field `{name}`")))
    };
    let text = |fields: &mut HashMap<String, String>, name: &str| {
        fields.remove(name).filter(|v| !v.is_empty())
    };
    Ok(Some(Session {
        id: id.to_owned(),
        created_at: number(&fields, "created_at")?,
        last_seen: number(&fields, "last_seen")?,
        expires_at: number(&fields, "expires_at")?,
        idle_timeout: number(&fields, "idle_timeout")?,
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

/// KEYS: a revocation hash. ARGV: field, value, its expiry (the first `:`-separated number of
/// a user cut-off, or the value itself). Keeps whichever entry expires later, merging cut-offs
/// field by field.
const REVOKE: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
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
return 1
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
    async fn revoke(&self, what: &str, field: &str, value: String) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        Script::new(REVOKE)
            .key(self.revoked_key(what))
            .arg(field)
            .arg(value)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}

#[async_trait]
impl RevocationStore for RedisStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        self.revoke("tokens", jti, expires_at.to_string()).await
    }

    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<(), StoreError> {
        self.revoke("sessions", session_id, expires_at.to_string())
            .await
    }

    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<(), StoreError> {
        self.revoke("users", user_id, cutoff_value(&cutoff)).await
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

    async fn active(&self, now: i64) -> Result<RevocationSet, StoreError> {
        let mut conn = self.conn.clone();
        let (tokens, sessions, users): (
            HashMap<String, i64>,
            HashMap<String, i64>,
            HashMap<String, String>,
        ) = redis::pipe()
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
        Ok(set)
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
        let fields = flat
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        session_from(id, fields)
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
