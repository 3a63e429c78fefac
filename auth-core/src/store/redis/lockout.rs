//! Failed-login counts of the lockout, every key of one login name in its slot (hash tag
//! `{l:<login>}`, so that a Redis Cluster runs each script on one node): a hash
//! `<prefix>{l:<login>}:lockout:a` per login name and
//! `<prefix>{l:<login>}:lockout:c:<client length>:<client>` per login name and client (the
//! length keeps the client apart from what follows), each with fields `n` (failures), `t`
//! (the last one) and, per client, `ok` (the last successful login); and a set
//! `<prefix>{l:<login>}:lockout:clients` of the clients with failures, for the unlock. Failure
//! keys expire when forgotten; a client's success is kept as long as it is remembered.

use async_trait::async_trait;

use super::{unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::lockout::{Failures, LockoutStore, LoginRecord};

/// KEYS: the login name's hash, the client's hash, the clients set. ARGV: now, the cut-off
/// (failures last counted before it are forgotten), seconds to keep, the client. Returns the
/// two counts and the client's last success.
const FAILURE_LUA: &str = r"
local function keep(key)
  if redis.call('TTL', key) < tonumber(ARGV[3]) then redis.call('EXPIRE', key, ARGV[3]) end
end
local function bump(key)
  local h = redis.call('HMGET', key, 'n', 't')
  local n = tonumber(h[1]) or 0
  local t = tonumber(h[2]) or 0
  if n > 0 and t >= tonumber(ARGV[2]) then n = n + 1 else n = 1 end
  redis.call('HSET', key, 'n', n, 't', ARGV[1])
  keep(key)
  return n
end
local account = bump(KEYS[1])
local client = bump(KEYS[2])
redis.call('SADD', KEYS[3], ARGV[4])
keep(KEYS[3])
return {account, client, redis.call('HGET', KEYS[2], 'ok')}
";

/// KEYS: the client's hash. ARGV: now, seconds to remember. Ends the client's failures and
/// keeps its success.
const SUCCESS_LUA: &str = r"
redis.call('HSET', KEYS[1], 'n', 0, 'ok', ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
";

/// KEYS: the login name's hash, the clients set. ARGV: the login name's client key prefix
/// (`<prefix>{l:<login>}:lockout:c:`). Zeroes every count; returns 1 when one was set.
const FORGIVE_LUA: &str = r"
local forgiven = 0
local function zero(key)
  if (tonumber(redis.call('HGET', key, 'n')) or 0) > 0 then
    redis.call('HSET', key, 'n', 0)
    forgiven = 1
  end
end
zero(KEYS[1])
for _, client in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  zero(ARGV[1] .. string.len(client) .. ':' .. client)
end
redis.call('DEL', KEYS[2])
return forgiven
";

static FAILURE: Lua = Lua::new(|| redis::Script::new(FAILURE_LUA));
static SUCCESS: Lua = Lua::new(|| redis::Script::new(SUCCESS_LUA));
static FORGIVE: Lua = Lua::new(|| redis::Script::new(FORGIVE_LUA));

impl RedisStore {
    fn lockout_account_key(&self, account: &str) -> String {
        self.tagged(&format!("l:{account}"), "lockout:a")
    }

    fn lockout_client_prefix(&self, account: &str) -> String {
        self.tagged(&format!("l:{account}"), "lockout:c:")
    }

    fn lockout_client_key(&self, account: &str, client: &str) -> String {
        format!(
            "{}{}:{client}",
            self.lockout_client_prefix(account),
            client.len()
        )
    }

    fn lockout_clients_key(&self, account: &str) -> String {
        self.tagged(&format!("l:{account}"), "lockout:clients")
    }
}

/// The failures of stored fields `n` and `t`, none once forgotten.
fn current(count: Option<i64>, last: Option<i64>, now: i64, forget_after: i64) -> Failures {
    Failures::as_of(count.unwrap_or(0), last.unwrap_or(0), now, forget_after)
}

#[async_trait]
impl LockoutStore for RedisStore {
    async fn record(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        let mut conn = self.conn.clone();
        type Fields = (Option<i64>, Option<i64>, Option<i64>);
        let ((count, last), (client_count, client_last, success)): (
            (Option<i64>, Option<i64>),
            Fields,
        ) = redis::pipe()
            .cmd("HMGET")
            .arg(self.lockout_account_key(account))
            .arg("n")
            .arg("t")
            .cmd("HMGET")
            .arg(self.lockout_client_key(account, client))
            .arg("n")
            .arg("t")
            .arg("ok")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(LoginRecord {
            account: current(count, last, now, forget_after),
            client: current(client_count, client_last, now, forget_after),
            client_success: success,
        })
    }

    async fn record_failure(
        &self,
        account: &str,
        client: &str,
        now: i64,
        forget_after: i64,
    ) -> Result<LoginRecord, StoreError> {
        let mut conn = self.conn.clone();
        let (count, client_count, success): (i64, i64, Option<i64>) = FAILURE
            .key(self.lockout_account_key(account))
            .key(self.lockout_client_key(account, client))
            .key(self.lockout_clients_key(account))
            .arg(now)
            .arg(now.saturating_sub(forget_after))
            .arg(forget_after.max(1))
            .arg(client)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(LoginRecord {
            account: current(Some(count), Some(now), now, forget_after),
            client: current(Some(client_count), Some(now), now, forget_after),
            client_success: success,
        })
    }

    async fn record_success(
        &self,
        account: &str,
        client: &str,
        now: i64,
        remember: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.lockout_client_key(account, client);
        if remember <= 0 {
            return redis::cmd("DEL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(unavailable);
        }
        SUCCESS
            .key(key)
            .arg(now)
            .arg(remember)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn forgive(&self, account: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let forgiven: i64 = FORGIVE
            .key(self.lockout_account_key(account))
            .key(self.lockout_clients_key(account))
            .arg(self.lockout_client_prefix(account))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(forgiven == 1)
    }

    /// Redis expires the records itself.
    async fn purge_stale(
        &self,
        _failures_before: i64,
        _successes_before: i64,
        _limit: u64,
    ) -> Result<u64, StoreError> {
        Ok(0)
    }
}
