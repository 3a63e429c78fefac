//! Sessions: hashes `<prefix>session:<id>` expiring at the session's absolute end, indexed per
//! user by a sorted set scored by last use, and by cookie secret.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{number, pairs, unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::mfa::SatisfiedFactor;
use crate::session::{client_json, Device, Session, SessionStore};

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
        factors: match text(&mut fields, "factors") {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("session factors: {e}")))?,
            None => Vec::new(),
        },
        client: text(&mut fields, "client")
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("session client: {e}")))?,
        device: Device {
            user_agent: text(&mut fields, "user_agent"),
            ip: text(&mut fields, "ip"),
            name: text(&mut fields, "name"),
        },
    }))
}

/// Deletes a session hash and its cookie-secret index entry. Prepended to the scripts that
/// delete sessions.
const DROP_LUA: &str = r"
local function drop(sessions, secrets, id)
  local hash = redis.call('HGET', sessions .. id, 'secret_hash')
  if hash and hash ~= '' then redis.call('DEL', secrets .. hash) end
  return redis.call('DEL', sessions .. id)
end
";

/// KEYS: session hash, user index. ARGV: id, user, user_agent, ip, name, created_at,
/// last_seen, expires_at, idle_timeout, max (0 = no limit), session key prefix, secret hash
/// (or empty), secret key prefix, factors (JSON, or empty), OAuth client (JSON, or empty).
/// Returns the evicted ids.
const CREATE_LUA: &str = r"
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'user_agent', ARGV[3], 'ip', ARGV[4],
  'name', ARGV[5], 'created_at', ARGV[6], 'last_seen', ARGV[7], 'expires_at', ARGV[8],
  'idle_timeout', ARGV[9], 'secret_hash', ARGV[12], 'factors', ARGV[14],
  'client', ARGV[15])
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
const TOUCH_LUA: &str = r"
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
const DELETE_LUA: &str = r"
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
local user = redis.call('HGET', KEYS[1], 'user_id')
drop(ARGV[3], ARGV[4], ARGV[1])
redis.call('ZREM', ARGV[2] .. user, ARGV[1])
return fields
";

/// KEYS: user index. ARGV: id to keep (or empty), session key prefix, secret key prefix.
/// Returns deleted ids.
const DELETE_USER_LUA: &str = r"
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
const SET_SECRET_LUA: &str = r"
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

/// KEYS: session hash. ARGV: factors (JSON). Returns 1 when the session exists.
const SET_FACTORS_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'factors', ARGV[1])
return 1
";

/// Factors as the `factors` field holds them: JSON, or empty when there are none.
fn factors_json(factors: &[SatisfiedFactor]) -> String {
    if factors.is_empty() {
        String::new()
    } else {
        serde_json::to_string(factors).unwrap_or_default()
    }
}

/// A session script with [`DROP_LUA`] in front.
fn with_drop(script: &str) -> redis::Script {
    redis::Script::new(&format!("{DROP_LUA}{script}"))
}

static CREATE: Lua = Lua::new(|| with_drop(CREATE_LUA));
static TOUCH: Lua = Lua::new(|| redis::Script::new(TOUCH_LUA));
static DELETE: Lua = Lua::new(|| with_drop(DELETE_LUA));
static DELETE_USER: Lua = Lua::new(|| with_drop(DELETE_USER_LUA));
static SET_SECRET: Lua = Lua::new(|| redis::Script::new(SET_SECRET_LUA));
static SET_FACTORS: Lua = Lua::new(|| redis::Script::new(SET_FACTORS_LUA));

#[async_trait]
impl SessionStore for RedisStore {
    async fn create_session(
        &self,
        s: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        CREATE
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
            .arg(factors_json(&s.factors))
            .arg(client_json(s.client.as_ref()).unwrap_or_default())
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
        let found: i64 = TOUCH
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
        crate::store::memory::by_recent_use(&mut sessions);
        Ok(sessions)
    }

    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let flat: Vec<String> = DELETE
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
        DELETE_USER
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
        let found: i64 = SET_SECRET
            .key(self.session_key(id))
            .arg(id)
            .arg(secret_hash)
            .arg(self.secret_key(""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }

    async fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let found: i64 = SET_FACTORS
            .key(self.session_key(id))
            .arg(factors_json(factors))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }

    /// Redis expires the sessions itself, at the end of their absolute lifetime.
    async fn purge_ended_sessions(&self, _now: i64, _limit: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
