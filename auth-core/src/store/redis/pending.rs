//! Pending state of multi-step flows: a string `<prefix>pending:<id>` holding the kind, the
//! expiry and the state, taken by one script that checks both and deletes.

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{unavailable, Lua, RedisStore};
use crate::clock::{Clock, SystemClock};
use crate::error::StoreError;
use crate::pending::PendingStore;

/// KEYS: the state's key. ARGV: kind, now. Returns the state when it is of the kind and
/// unexpired (and deletes it), nothing otherwise.
const TAKE_LUA: &str = r"
local value = redis.call('GET', KEYS[1])
if not value then return false end
local kind, expires, state = string.match(value, '^([^\n]*)\n(%-?%d+)\n(.*)$')
if kind ~= ARGV[1] or tonumber(expires) <= tonumber(ARGV[2]) then return false end
redis.call('DEL', KEYS[1])
return state
";

static TAKE: Lua = Lua::new(|| redis::Script::new(TAKE_LUA));

/// Seconds Redis keeps a state past its expiry by its own clock (the expiry itself is checked
/// on the caller's clock when taken); only a bound on the memory of abandoned ceremonies.
const GRACE: i64 = 300;

impl RedisStore {
    fn pending_key(&self, id: &str) -> String {
        format!("{}pending:{id}", self.prefix)
    }
}

#[async_trait]
impl PendingStore for RedisStore {
    async fn put(
        &self,
        id: &str,
        kind: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let ttl = (expires_at - SystemClock.now()).clamp(0, 86_400) + GRACE;
        let mut conn = self.conn.clone();
        conn.set_ex::<_, _, ()>(
            self.pending_key(id),
            format!("{kind}\n{expires_at}\n{state}"),
            u64::try_from(ttl).unwrap_or(1),
        )
        .await
        .map_err(unavailable)
    }

    async fn take(&self, id: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        TAKE.key(self.pending_key(id))
            .arg(kind)
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Redis expires the keys itself.
    async fn purge_expired(&self, _now: i64, _limit: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
