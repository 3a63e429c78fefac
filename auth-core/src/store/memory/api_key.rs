//! API keys.

use async_trait::async_trait;

use super::MemoryStore;
use crate::api_key::{ApiKey, ApiKeyStore};
use crate::error::StoreError;
use crate::user::UserId;

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.state().api_keys.insert(key.hash.clone(), key.clone());
        Ok(())
    }

    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(self.state().api_keys.get(hash).cloned())
    }

    async fn keys_of(&self, user_id: &UserId) -> Result<Vec<ApiKey>, StoreError> {
        let mut keys: Vec<ApiKey> = self
            .state()
            .api_keys
            .values()
            .filter(|k| &k.user_id == user_id)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(keys)
    }

    async fn revoke_key(&self, user_id: &UserId, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = state
            .api_keys
            .values_mut()
            .find(|k| k.id == id && &k.user_id == user_id && k.revoked_at.is_none());
        Ok(key.map(|k| k.revoked_at = Some(at)).is_some())
    }

    async fn touch_key(&self, id: &str, at: i64, ip: Option<&str>) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = state
            .api_keys
            .values_mut()
            .find(|k| k.id == id && k.last_used_at.is_none_or(|last| last <= at - 60));
        Ok(key
            .map(|k| {
                k.last_used_at = Some(at);
                k.last_used_ip = ip.map(str::to_owned);
            })
            .is_some())
    }

    async fn purge_dead_keys(&self, before: i64, limit: u64) -> Result<u64, StoreError> {
        Ok(super::remove_at_most(
            &mut self.state().api_keys,
            limit,
            |k| {
                k.revoked_at.is_some_and(|at| at < before)
                    || k.expires_at.is_some_and(|at| at < before)
            },
        ))
    }
}
