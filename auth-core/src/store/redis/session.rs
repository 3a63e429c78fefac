//! Sessions, each kept in its user's slot (hash tag `{u:<user>}`, so that a Redis Cluster runs
//! every script on one node): hashes `<prefix>{u:<user>}:session:<id>` expiring at the
//! session's absolute end, indexed by a sorted set `<prefix>{u:<user>}:sessions` scored by last
//! use. Two pointers, each in a slot of its own, find a session without its user:
//! `<prefix>session-user:<id>` (the owner) and `<prefix>session-secret:<hash>` (a hash of `id`
//! and `user`, for the cookie). Pointers are written before the session and deleted after it;
//! one left behind points at nothing (a found session must still name the secret) and expires
//! with the session it pointed at.

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

/// Deletes a session hash; returns whether it existed and the secret hash it named, so that
/// the caller can delete the pointers (`session-user`, `session-secret`) kept in other slots.
/// Prepended to the scripts that delete sessions.
const DROP_LUA: &str = r"
local function drop(sessions, id)
  local hash = redis.call('HGET', sessions .. id, 'secret_hash') or ''
  return {redis.call('DEL', sessions .. id), hash}
end
";

/// KEYS: session hash, user index (one user's slot). ARGV: id, user, user_agent, ip, name,
/// created_at, last_seen, expires_at, idle_timeout, max (0 = no limit), the user's session key
/// prefix, secret hash (or empty), factors (JSON, or empty), OAuth client (JSON, or empty).
/// Returns the evicted sessions as `id, secret hash` pairs.
const CREATE_LUA: &str = r"
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'user_agent', ARGV[3], 'ip', ARGV[4],
  'name', ARGV[5], 'created_at', ARGV[6], 'last_seen', ARGV[7], 'expires_at', ARGV[8],
  'idle_timeout', ARGV[9], 'secret_hash', ARGV[12], 'factors', ARGV[13],
  'client', ARGV[14])
-- Relative to the caller's clock, so Redis's own clock does not matter.
local ttl = math.max(1, tonumber(ARGV[8]) - tonumber(ARGV[7]))
redis.call('EXPIRE', KEYS[1], ttl)
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
  local dropped = drop(ARGV[11], id)
  redis.call('ZREM', KEYS[2], id)
  table.insert(evicted, id)
  table.insert(evicted, dropped[2])
end
return evicted
";

/// KEYS: session hash, user index. ARGV: now, id. Returns 1 when the session exists.
const TOUCH_LUA: &str = r"
local seen = redis.call('HGET', KEYS[1], 'last_seen')
if not seen then return 0 end
if tonumber(ARGV[1]) > tonumber(seen) then
  redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
end
return 1
";

/// KEYS: session hash, user index. ARGV: id, the user's session key prefix. Returns the
/// deleted hash as a flat list.
const DELETE_LUA: &str = r"
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
drop(ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return fields
";

/// KEYS: user index. ARGV: id to keep (or empty), the user's session key prefix. Returns the
/// deleted sessions as `id, secret hash` pairs.
const DELETE_USER_LUA: &str = r"
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local deleted = {}
for _, id in ipairs(ids) do
  if id ~= ARGV[1] then
    local dropped = drop(ARGV[2], id)
    redis.call('ZREM', KEYS[1], id)
    if dropped[1] == 1 then
      table.insert(deleted, id)
      table.insert(deleted, dropped[2])
    end
  end
end
return deleted
";

/// KEYS: session hash. ARGV: new secret hash. Returns `{found, old secret hash, ttl}`.
const SET_SECRET_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, '', 0} end
local old = redis.call('HGET', KEYS[1], 'secret_hash') or ''
redis.call('HSET', KEYS[1], 'secret_hash', ARGV[1])
return {1, old, redis.call('TTL', KEYS[1])}
";

/// KEYS: the session's owner pointer. ARGV: the session key around the user. The session in
/// one round trip, on a single Redis only (the session's key is in another slot).
const GET_BY_POINTER_LUA: &str = r"
local user = redis.call('GET', KEYS[1])
if not user then return {} end
return redis.call('HGETALL', ARGV[1] .. user .. ARGV[2])
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
static GET_BY_POINTER: Lua = Lua::new(|| redis::Script::new(GET_BY_POINTER_LUA));
static SET_FACTORS: Lua = Lua::new(|| redis::Script::new(SET_FACTORS_LUA));

/// `id, secret hash` pairs as the deleting scripts return them.
fn id_hash_pairs(flat: Vec<String>) -> Vec<(String, String)> {
    flat.chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

impl RedisStore {
    /// The session's owner, from the pointer kept beside it (the session's own keys are in
    /// its user's slot).
    async fn session_owner(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        conn.get(self.session_user_key(id))
            .await
            .map_err(unavailable)
    }

    async fn read_session(&self, user_id: &str, id: &str) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = conn
            .hgetall(self.session_key(user_id, id))
            .await
            .map_err(unavailable)?;
        session_from(id, fields)
    }

    /// Points the cookie secret's hash at the session, for `ttl` seconds.
    async fn point_secret(
        &self,
        secret_hash: &str,
        user_id: &str,
        id: &str,
        ttl: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.secret_key(secret_hash);
        redis::pipe()
            .hset_multiple(&key, &[("id", id), ("user", user_id)])
            .ignore()
            .expire(&key, ttl.max(1))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Deletes the pointers of ended sessions: `session-user` and, when not empty, the
    /// secret's. The sessions are gone already, so a pointer left by a failure here points at
    /// nothing and expires with it.
    async fn drop_pointers(&self, ended: &[(String, String)]) -> Result<(), StoreError> {
        let mut keys = Vec::with_capacity(ended.len() * 2);
        for (id, secret_hash) in ended {
            keys.push(self.session_user_key(id));
            if !secret_hash.is_empty() {
                keys.push(self.secret_key(secret_hash));
            }
        }
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(keys).await.map_err(unavailable)
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create_session(
        &self,
        s: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError> {
        let ttl = (s.expires_at - s.last_seen).max(1);
        // The pointers first: one left by a failure below points at nothing.
        let mut conn = self.conn.clone();
        conn.set_ex::<_, _, ()>(self.session_user_key(&s.id), &s.user_id, ttl.unsigned_abs())
            .await
            .map_err(unavailable)?;
        if let Some(secret_hash) = &s.secret_hash {
            self.point_secret(secret_hash, &s.user_id, &s.id, ttl)
                .await?;
        }
        let evicted: Vec<String> = CREATE
            .key(self.session_key(&s.user_id, &s.id))
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
            .arg(self.session_key(&s.user_id, ""))
            .arg(s.secret_hash.as_deref().unwrap_or(""))
            .arg(factors_json(&s.factors))
            .arg(client_json(s.client.as_ref()).unwrap_or_default())
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let evicted = id_hash_pairs(evicted);
        self.drop_pointers(&evicted).await?;
        Ok(evicted.into_iter().map(|(id, _)| id).collect())
    }

    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        if !self.cluster {
            let mut conn = self.conn.clone();
            let flat: Vec<String> = GET_BY_POINTER
                .key(self.session_user_key(id))
                .arg(&self.tagged_around("u", &format!("session:{id}")))
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
            return session_from(id, pairs(flat));
        }
        match self.session_owner(id).await? {
            Some(user_id) => self.read_session(&user_id, id).await,
            None => Ok(None),
        }
    }

    async fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let Some(user_id) = self.session_owner(id).await? else {
            return Ok(false);
        };
        let mut conn = self.conn.clone();
        let found: i64 = TOUCH
            .key(self.session_key(&user_id, id))
            .key(self.user_key(&user_id))
            .arg(now)
            .arg(id)
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
            if let Some(session) = self.read_session(user_id, &id).await? {
                sessions.push(session);
            }
        }
        crate::store::memory::by_recent_use(&mut sessions);
        Ok(sessions)
    }

    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let Some(user_id) = self.session_owner(id).await? else {
            return Ok(None);
        };
        let mut conn = self.conn.clone();
        let flat: Vec<String> = DELETE
            .key(self.session_key(&user_id, id))
            .key(self.user_key(&user_id))
            .arg(id)
            .arg(self.session_key(&user_id, ""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let deleted = session_from(id, pairs(flat))?;
        if let Some(session) = &deleted {
            let secret_hash = session.secret_hash.clone().unwrap_or_default();
            self.drop_pointers(&[(id.to_owned(), secret_hash)]).await?;
        }
        Ok(deleted)
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let deleted: Vec<String> = DELETE_USER
            .key(self.user_key(user_id))
            .arg(keep.unwrap_or(""))
            .arg(self.session_key(user_id, ""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let deleted = id_hash_pairs(deleted);
        self.drop_pointers(&deleted).await?;
        Ok(deleted.into_iter().map(|(id, _)| id).collect())
    }

    async fn find_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.conn.clone();
        let (id, user_id): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.secret_key(secret_hash))
            .arg("id")
            .arg("user")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let (Some(id), Some(user_id)) = (id, user_id) else {
            return Ok(None);
        };
        // The index is only a pointer: the session must still name this secret.
        Ok(self
            .read_session(&user_id, &id)
            .await?
            .filter(|s| s.secret_hash.as_deref() == Some(secret_hash)))
    }

    async fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError> {
        let Some(user_id) = self.session_owner(id).await? else {
            return Ok(false);
        };
        let mut conn = self.conn.clone();
        let (found, old, ttl): (i64, String, i64) = SET_SECRET
            .key(self.session_key(&user_id, id))
            .arg(secret_hash)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if found != 1 {
            return Ok(false);
        }
        // Until this pointer is written the new secret finds nothing, and the old pointer no
        // longer matches the session: the change never lets both secrets in.
        self.point_secret(secret_hash, &user_id, id, ttl).await?;
        if !old.is_empty() && old != secret_hash {
            conn.del::<_, ()>(self.secret_key(&old))
                .await
                .map_err(unavailable)?;
        }
        Ok(true)
    }

    async fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError> {
        let Some(user_id) = self.session_owner(id).await? else {
            return Ok(false);
        };
        let mut conn = self.conn.clone();
        let found: i64 = SET_FACTORS
            .key(self.session_key(&user_id, id))
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
