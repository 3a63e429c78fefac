use async_trait::async_trait;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::throttle::{window_start, CounterStore};

#[async_trait]
impl CounterStore for SqlStore {
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO counters (key, window_start, count) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             count = CASE WHEN counters.window_start = excluded.window_start \
               THEN counters.count + 1 ELSE 1 END, \
             window_start = excluded.window_start \
             RETURNING count",
        )
        .bind(key)
        .bind(window_start(now, window))
        .fetch_one(self.writes())
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT count FROM counters WHERE key = $1 AND window_start = $2")
                .bind(key)
                .bind(window_start(now, window))
                .fetch_optional(self.pool())
                .await
                .map_err(map_err)?;
        Ok(count.map_or(0, |c| u64::try_from(c).unwrap_or(0)))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM counters WHERE key = $1")
            .bind(key)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn purge_stale(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most("counters", "key", "window_start < $1", &[before], limit)
            .await
    }
}
