//! Rate-limit and lockout counters.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::throttle::{window_start, CounterStore};

#[async_trait]
impl CounterStore for MemoryStore {
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let start = window_start(now, window);
        let mut state = self.state();
        let entry = state.counters.entry(key.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }

    async fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError> {
        let start = window_start(now, window);
        Ok(self
            .state()
            .counters
            .get(key)
            .filter(|(at, _)| *at == start)
            .map_or(0, |(_, count)| *count))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.state().counters.remove(key);
        Ok(())
    }

    async fn purge_stale(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        Ok(super::remove_at_most(
            &mut self.state().counters,
            limit,
            |(start, _)| *start < before,
        ))
    }
}
