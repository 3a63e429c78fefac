//! Rate-limit and lockout counters: a hash per key with its window start and count.

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::throttle::{window_start, CounterStore};

/// KEYS: the counter hash. ARGV: window start, window length. Returns the count after the hit.
const HIT_LUA: &str = r"
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

static HIT: Lua = Lua::new(|| redis::Script::new(HIT_LUA));

impl RedisStore {
    fn counter_key(&self, key: &str) -> String {
        format!("{}counter:{key}", self.prefix)
    }
}

#[async_trait]
impl CounterStore for RedisStore {
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        HIT.key(self.counter_key(key))
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

    /// Redis expires the counters itself, at the end of their window.
    async fn purge_stale(&self, _before: i64, _limit: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
