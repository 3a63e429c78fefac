use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::maintenance::LeaseStore;

#[async_trait]
impl LeaseStore for MemoryStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let free = state
            .leases
            .get(name)
            .is_none_or(|(by, expires_at)| by == holder || *expires_at <= now);
        if free {
            state
                .leases
                .insert(name.to_owned(), (holder.to_owned(), until));
        }
        Ok(free)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.leases.get(name).is_some_and(|(by, _)| by == holder) {
            state.leases.remove(name);
        }
        Ok(())
    }
}
