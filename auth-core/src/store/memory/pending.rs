//! Pending state of multi-step flows.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::pending::PendingStore;

#[async_trait]
impl PendingStore for MemoryStore {
    async fn put(
        &self,
        id: &str,
        kind: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.state().pending.insert(
            id.to_owned(),
            (kind.to_owned(), state.to_owned(), expires_at),
        );
        Ok(())
    }

    async fn take(&self, id: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        let mut state = self.state();
        let serves = state
            .pending
            .get(id)
            .is_some_and(|(k, _, expires_at)| k == kind && *expires_at > now);
        if !serves {
            return Ok(None);
        }
        Ok(state.pending.remove(id).map(|(_, value, _)| value))
    }

    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError> {
        let mut state = self.state();
        Ok(super::remove_at_most(
            &mut state.pending,
            limit,
            |(_, _, expires_at)| *expires_at <= now,
        ))
    }
}
