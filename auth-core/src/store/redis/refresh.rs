//! Refresh families: hashes `<prefix>family:<id>` and tokens `<prefix>refresh:<hash>`,
//! indexed per user and per family and by expiry for purging; rotation is one compare-and-set
//! script, so exactly one of many concurrent rotations wins.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{number, optional_number, pairs, unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};

/// KEYS: none (the keys derive from the prefix). ARGV: prefix, family id, user, created_at,
/// expires_at, token hash, token issued_at, token expires_at. Returns 0 on a conflict.
const CREATE_FAMILY_LUA: &str = r"
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
const FIND_TOKEN_LUA: &str = r"
local p = ARGV[1]
local token = redis.call('HGETALL', p .. 'refresh:' .. ARGV[2])
if #token == 0 then return {{}, {}} end
local family = redis.call('HGET', p .. 'refresh:' .. ARGV[2], 'family_id')
return {token, redis.call('HGETALL', p .. 'family:' .. family)}
";

/// ARGV: prefix, used hash, used_at, successor hash, family, issued_at, expires_at.
const ROTATE_LUA: &str = r"
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
const REVOKE_FAMILIES_LUA: &str = r"
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
const USER_FAMILIES_LUA: &str = r"
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'user-families:' .. ARGV[2])) do
  local fields = redis.call('HGETALL', p .. 'family:' .. id)
  if #fields > 0 then table.insert(out, {id, fields}) end
end
return out
";

/// ARGV: prefix, now, limit. Deletes at most `limit` families that ended before `now` with
/// all their tokens, and at most `limit` tokens that expired; returns how many records went.
const PURGE_FAMILIES_LUA: &str = r"
local p = ARGV[1]
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'families-by-expiry', '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])) do
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
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', p .. 'refresh-by-expiry', '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])) do
  local family = redis.call('HGET', p .. 'refresh:' .. hash, 'family_id')
  if family then redis.call('SREM', p .. 'family-tokens:' .. family, hash) end
  count = count + redis.call('DEL', p .. 'refresh:' .. hash)
  redis.call('ZREM', p .. 'refresh-by-expiry', hash)
end
return count
";

static CREATE_FAMILY: Lua = Lua::new(|| redis::Script::new(CREATE_FAMILY_LUA));
static FIND_TOKEN: Lua = Lua::new(|| redis::Script::new(FIND_TOKEN_LUA));
static ROTATE: Lua = Lua::new(|| redis::Script::new(ROTATE_LUA));
static REVOKE_FAMILIES: Lua = Lua::new(|| redis::Script::new(REVOKE_FAMILIES_LUA));
static USER_FAMILIES: Lua = Lua::new(|| redis::Script::new(USER_FAMILIES_LUA));
static PURGE_FAMILIES: Lua = Lua::new(|| redis::Script::new(PURGE_FAMILIES_LUA));

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
        let created: i64 = CREATE_FAMILY
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
        let (token, family): (Vec<String>, Vec<String>) = FIND_TOKEN
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
        let outcome: String = ROTATE
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
        let revoked: Vec<String> = REVOKE_FAMILIES
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
        REVOKE_FAMILIES
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
        let rows: Vec<(String, Vec<String>)> = USER_FAMILIES
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

    async fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        PURGE_FAMILIES
            .arg(&self.prefix)
            .arg(now)
            .arg(limit.min(i64::MAX as u64))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }
}
