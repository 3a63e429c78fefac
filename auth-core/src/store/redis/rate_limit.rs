//! Rate limits shared by instances: one GCRA script per check over a key
//! `<prefix>rate:<quota name>:<key>` holding the theoretical arrival time, in Redis's own
//! clock (`TIME`), so instances with skewed clocks still count together.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{unavailable, Lua, RedisStore};
use crate::error::StoreError;
use crate::rate_limit::{Decision, Quota, RateLimiter, RateLimiterBackend};

/// KEYS: the key. ARGV: the interval of one request and the burst's tolerance, in
/// microseconds. Returns allowed (1/0), remaining, retry after and reset after (µs).
const GCRA_LUA: &str = r"
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return {1, math.floor((now + tolerance - next_tat) / interval), 0, next_tat - now}
";

static GCRA: Lua = Lua::new(|| redis::Script::new(GCRA_LUA));

/// A quota counted in Redis.
#[derive(Debug)]
struct RedisRateLimiter {
    store: RedisStore,
    prefix: String,
    interval: u64,
    tolerance: u64,
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str) -> Result<Decision, StoreError> {
        let mut conn = self.store.conn.clone();
        let (allowed, remaining, retry_after, reset_after): (i64, i64, i64, i64) = GCRA
            .key(format!("{}{key}", self.prefix))
            .arg(self.interval)
            .arg(self.tolerance)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let duration = |us: i64| Duration::from_micros(u64::try_from(us).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining).unwrap_or(0),
            retry_after: duration(retry_after),
            reset_after: duration(reset_after),
        })
    }
}

impl RateLimiterBackend for RedisStore {
    fn limiter(&self, name: &str, quota: Quota) -> Arc<dyn RateLimiter> {
        let interval = micros(quota.interval()).max(1);
        Arc::new(RedisRateLimiter {
            store: self.clone(),
            prefix: format!("{}rate:{name}:", self.prefix),
            interval,
            tolerance: interval.saturating_mul(u64::from(quota.limit().max(1))),
        })
    }
}
