//! Pending state of multi-step flows: one row per ceremony, deleted when taken.

use async_trait::async_trait;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::pending::PendingStore;

#[async_trait]
impl PendingStore for SqlStore {
    async fn put(
        &self,
        id: &str,
        kind: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_states (id, kind, state, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(kind)
        .bind(state)
        .bind(expires_at)
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn take(&self, id: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        // One statement decides: of two concurrent takes, one deletes the row and gets it.
        sqlx::query_scalar(
            "DELETE FROM pending_states WHERE id = $1 AND kind = $2 AND expires_at > $3 \
             RETURNING state",
        )
        .bind(id)
        .bind(kind)
        .bind(now)
        .fetch_optional(self.writes())
        .await
        .map_err(map_err)
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        self.delete_at_most("pending_states", "id", "expires_at <= $1", &[now], limit)
            .await
    }
}
