//! The audit log.

use async_trait::async_trait;

use super::MemoryStore;
use crate::audit::{AuditEntry, AuditQuery, AuditStore};
use crate::error::StoreError;

/// Whether `entry` is one `query` selects.
fn selected(entry: &AuditEntry, query: &AuditQuery) -> bool {
    let event = &entry.event;
    query
        .user_id
        .as_deref()
        .is_none_or(|user| event.event.user_id() == Some(user))
        && query
            .kind
            .as_deref()
            .is_none_or(|kind| event.event.kind() == kind)
        && query.since.is_none_or(|since| event.at >= since)
        && query
            .before
            .as_ref()
            .is_none_or(|c| (event.at, entry.id.as_str()) < (c.at, c.id.as_str()))
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.state().audit.push(entry.clone());
        Ok(())
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries: Vec<AuditEntry> = self
            .state()
            .audit
            .iter()
            .filter(|entry| selected(entry, query))
            .cloned()
            .collect();
        entries.sort_by(|a, b| (b.event.at, &b.id).cmp(&(a.event.at, &a.id)));
        entries.truncate(query.limit);
        Ok(entries)
    }

    async fn purge_before(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let mut left = limit;
        let count = state.audit.len();
        state.audit.retain(|entry| {
            let old = entry.event.at < before && left > 0;
            left -= u64::from(old);
            !old
        });
        Ok((count - state.audit.len()) as u64)
    }
}
