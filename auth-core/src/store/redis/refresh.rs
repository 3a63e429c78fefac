//! Refresh families, every key of one family in its slot (hash tag `{f:<family>}`, so that a
//! Redis Cluster runs each script on one node): the family `<prefix>{f:<id>}:family`, its
//! tokens `<prefix>{f:<id>}:refresh:<hash>` and their set `<prefix>{f:<id>}:tokens`, each
//! expiring with what it holds. Rotation is one compare-and-set script, so exactly one of many
//! concurrent rotations wins. Kept elsewhere: the pointer from a token's hash to its family
//! `<prefix>refresh-family:<hash>` (written before the token, so one left by a failure points
//! at nothing), the user's families `<prefix>{u:<user>}:families`, and every family by expiry
//! `<prefix>{refresh}:families-by-expiry`, read by the purge.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{number, optional_number, pairs, unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};

/// KEYS: family hash, family token set, first token's hash (the family's slot). ARGV: user,
/// created_at, expires_at, token hash, token issued_at, token expires_at. Returns 0 on a
/// conflict.
const CREATE_FAMILY_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'created_at', ARGV[2], 'expires_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], math.max(1, tonumber(ARGV[3]) - tonumber(ARGV[2])))
redis.call('HSET', KEYS[3], 'issued_at', ARGV[5], 'expires_at', ARGV[6])
redis.call('EXPIRE', KEYS[3], math.max(1, tonumber(ARGV[6]) - tonumber(ARGV[5])))
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], math.max(1, tonumber(ARGV[3]) - tonumber(ARGV[2])))
return 1
";

/// KEYS: the token's hash, its family's hash. Returns the token's and the family's fields.
const FIND_TOKEN_LUA: &str = r"
local token = redis.call('HGETALL', KEYS[1])
if #token == 0 then return {{}, {}} end
return {token, redis.call('HGETALL', KEYS[2])}
";

/// KEYS: used token's hash, successor's hash, family token set (the family's slot), and on a
/// single Redis the successor's pointer (another slot; on a cluster the caller writes it
/// first). ARGV: used_at, successor hash, issued_at, expires_at, family id.
const ROTATE_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
local used = redis.call('HGET', KEYS[1], 'used_at')
if used and used ~= '' then return 'used:' .. used end
local ttl = math.max(1, tonumber(ARGV[4]) - tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'used_at', ARGV[1])
redis.call('HSET', KEYS[2], 'issued_at', ARGV[3], 'expires_at', ARGV[4])
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SADD', KEYS[3], ARGV[2])
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[5], 'EX', ttl) end
return 'rotated'
";

/// KEYS: the token's pointer. ARGV: the token key around the family, the family key around
/// the family. The family id, the token's and the family's fields in one round trip, on a
/// single Redis only.
const FIND_BY_POINTER_LUA: &str = r"
local family = redis.call('GET', KEYS[1])
if not family then return {'', {}, {}} end
local token = redis.call('HGETALL', ARGV[1] .. family .. ARGV[2])
if #token == 0 then return {family, {}, {}} end
return {family, token, redis.call('HGETALL', ARGV[3] .. family .. ARGV[4])}
";

/// KEYS: family hash. ARGV: at, reason. Returns 1 when it revoked a live family.
const REVOKE_FAMILY_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = redis.call('HGET', KEYS[1], 'revoked_at')
if at and at ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1], 'revoked_reason', ARGV[2])
return 1
";

/// KEYS: the user's family set. ARGV: family id, seconds it lives. Adds the family and keeps
/// the set at least that long.
const INDEX_FAMILY_LUA: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
";

/// KEYS: family hash, family token set. ARGV: the family's token key prefix. Deletes the
/// family and its tokens; returns `{records deleted, user, token hashes...}`.
const DROP_FAMILY_LUA: &str = r"
local user = redis.call('HGET', KEYS[1], 'user_id') or ''
local out = {0, user}
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  out[1] = out[1] + redis.call('DEL', ARGV[1] .. hash)
  table.insert(out, hash)
end
redis.call('DEL', KEYS[2])
out[1] = tostring(out[1] + redis.call('DEL', KEYS[1]))
return out
";

static CREATE_FAMILY: Lua = Lua::new(|| redis::Script::new(CREATE_FAMILY_LUA));
static FIND_TOKEN: Lua = Lua::new(|| redis::Script::new(FIND_TOKEN_LUA));
static FIND_BY_POINTER: Lua = Lua::new(|| redis::Script::new(FIND_BY_POINTER_LUA));
static ROTATE: Lua = Lua::new(|| redis::Script::new(ROTATE_LUA));
static REVOKE_FAMILY: Lua = Lua::new(|| redis::Script::new(REVOKE_FAMILY_LUA));
static INDEX_FAMILY: Lua = Lua::new(|| redis::Script::new(INDEX_FAMILY_LUA));
static DROP_FAMILY: Lua = Lua::new(|| redis::Script::new(DROP_FAMILY_LUA));

impl RedisStore {
    fn family_key(&self, family_id: &str) -> String {
        self.tagged(&format!("f:{family_id}"), "family")
    }

    fn family_tokens_key(&self, family_id: &str) -> String {
        self.tagged(&format!("f:{family_id}"), "tokens")
    }

    /// Token `hash` of the family (or, with an empty hash, the prefix of its tokens).
    fn refresh_key(&self, family_id: &str, hash: &str) -> String {
        self.tagged(&format!("f:{family_id}"), &format!("refresh:{hash}"))
    }

    /// The pointer from a token's hash to its family.
    fn refresh_family_key(&self, hash: &str) -> String {
        format!("{}refresh-family:{hash}", self.prefix)
    }

    fn user_families_key(&self, user_id: &str) -> String {
        self.tagged(&format!("u:{user_id}"), "families")
    }

    /// Every family by expiry, for the purge.
    fn families_by_expiry_key(&self) -> String {
        self.tagged("refresh", "families-by-expiry")
    }

    async fn family_fields(&self, family_id: &str) -> Result<HashMap<String, String>, StoreError> {
        let mut conn = self.conn.clone();
        conn.hgetall(self.family_key(family_id))
            .await
            .map_err(unavailable)
    }

    async fn revoke_one_family(
        &self,
        family_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let revoked: i64 = REVOKE_FAMILY
            .key(self.family_key(family_id))
            .arg(at)
            .arg(reason)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(revoked == 1)
    }

    /// Deletes one family, its tokens, the pointers to them and its entry of the expiry index;
    /// returns the records deleted (keys and the index entry).
    async fn drop_family(&self, family_id: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let dropped: Vec<String> = DROP_FAMILY
            .key(self.family_key(family_id))
            .key(self.family_tokens_key(family_id))
            .arg(self.refresh_key(family_id, ""))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut parts = dropped.into_iter();
        let count: u64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let user = parts.next().unwrap_or_default();
        let pointers: Vec<String> = parts.map(|hash| self.refresh_family_key(&hash)).collect();
        if !pointers.is_empty() {
            conn.del::<_, ()>(pointers).await.map_err(unavailable)?;
        }
        if !user.is_empty() {
            conn.srem::<_, _, ()>(self.user_families_key(&user), family_id)
                .await
                .map_err(unavailable)?;
        }
        // The index entry counts too: most families have expired by their time to live before
        // the purge comes, and a batch of them must still count as a full batch.
        let indexed: u64 = conn
            .zrem(self.families_by_expiry_key(), family_id)
            .await
            .map_err(unavailable)?;
        Ok(count + indexed)
    }
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
        let pointer = self.refresh_family_key(&first.token_hash);
        // The pointer first (unless it is another family's: a conflict); one left by a
        // failure below points at a token that is not there.
        let token_ttl = (first.expires_at - first.issued_at).max(1).unsigned_abs();
        let pointed: bool = redis::cmd("SET")
            .arg(&pointer)
            .arg(&family.id)
            .arg("NX")
            .arg("EX")
            .arg(token_ttl)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(unavailable)?
            .is_some();
        if !pointed {
            return Err(StoreError::Conflict { field: "id" });
        }
        let created: i64 = CREATE_FAMILY
            .key(self.family_key(&family.id))
            .key(self.family_tokens_key(&family.id))
            .key(self.refresh_key(&family.id, &first.token_hash))
            .arg(&family.user_id)
            .arg(family.created_at)
            .arg(family.expires_at)
            .arg(&first.token_hash)
            .arg(first.issued_at)
            .arg(first.expires_at)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if created != 1 {
            conn.del::<_, ()>(&pointer).await.map_err(unavailable)?;
            return Err(StoreError::Conflict { field: "id" });
        }
        let family_ttl = (family.expires_at - family.created_at).max(1);
        INDEX_FAMILY
            .key(self.user_families_key(&family.user_id))
            .arg(&family.id)
            .arg(family_ttl)
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(unavailable)?;
        conn.zadd::<_, _, _, ()>(self.families_by_expiry_key(), &family.id, family.expires_at)
            .await
            .map_err(unavailable)
    }

    async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError> {
        let mut conn = self.conn.clone();
        let (family_id, token, family): (String, Vec<String>, Vec<String>) = if self.cluster {
            let family_id: Option<String> = conn
                .get(self.refresh_family_key(token_hash))
                .await
                .map_err(unavailable)?;
            let Some(family_id) = family_id else {
                return Ok(None);
            };
            let (token, family) = FIND_TOKEN
                .key(self.refresh_key(&family_id, token_hash))
                .key(self.family_key(&family_id))
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
            (family_id, token, family)
        } else {
            FIND_BY_POINTER
                .key(self.refresh_family_key(token_hash))
                .arg(&self.tagged_around("f", &format!("refresh:{token_hash}")))
                .arg(&self.tagged_around("f", "family"))
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?
        };
        if token.is_empty() || family.is_empty() {
            return Ok(None);
        }
        let mut token = pairs(token);
        token.insert("family_id".to_owned(), family_id.clone());
        let record = record_from(token_hash, &token)?;
        let family = family_from(&family_id, &pairs(family))?;
        Ok(Some((record, family)))
    }

    async fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        let mut conn = self.conn.clone();
        let family_id = &successor.family_id;
        let ttl = (successor.expires_at - successor.issued_at)
            .max(1)
            .unsigned_abs();
        let pointer = self.refresh_family_key(&successor.token_hash);
        let mut rotation = ROTATE.key(self.refresh_key(family_id, used_hash));
        rotation
            .key(self.refresh_key(family_id, &successor.token_hash))
            .key(self.family_tokens_key(family_id))
            .arg(used_at)
            .arg(&successor.token_hash)
            .arg(successor.issued_at)
            .arg(successor.expires_at)
            .arg(family_id);
        if self.cluster {
            // The successor's pointer first: should the rotation lose, it points at nothing.
            conn.set_ex::<_, _, ()>(&pointer, family_id, ttl)
                .await
                .map_err(unavailable)?;
        } else {
            // One Redis: the script writes the pointer when it rotates.
            rotation.key(&pointer);
        }
        let outcome: String = rotation
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
        let fields = self.family_fields(family_id).await?;
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
        self.revoke_one_family(family_id, at, reason).await
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .smembers(self.user_families_key(user_id))
            .await
            .map_err(unavailable)?;
        // One script per family: each family is in a slot of its own.
        let mut revoked = Vec::new();
        for id in ids {
            if self.revoke_one_family(&id, at, reason).await? {
                revoked.push(id);
            }
        }
        revoked.sort();
        Ok(revoked)
    }

    async fn list_user_families(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RefreshFamily>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .smembers(self.user_families_key(user_id))
            .await
            .map_err(unavailable)?;
        let mut families = Vec::with_capacity(ids.len());
        for id in ids {
            let fields = self.family_fields(&id).await?;
            if !fields.is_empty() {
                families.push(family_from(&id, &fields)?);
            }
        }
        families.retain(|f| f.revoked_at.is_none() && f.expires_at > now);
        crate::token::refresh::newest_first(&mut families);
        Ok(families)
    }

    /// Families that ended before `now`, by the expiry index, each deleted with its tokens
    /// (tokens that expired in a live family expire in Redis by themselves).
    async fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let ended: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.families_by_expiry_key())
            .arg("-inf")
            .arg(format!("({now}"))
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit.min(i64::MAX as u64))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut purged = 0;
        for id in ended {
            purged += self.drop_family(&id).await?;
        }
        Ok(purged)
    }
}
