//! Passkeys.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::mfa::passkey::{PasskeyRecord, PasskeyStore};
use crate::user::UserId;

#[async_trait]
impl PasskeyStore for MemoryStore {
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.passkeys.contains_key(&passkey.id) {
            return Ok(false);
        }
        state.passkeys.insert(passkey.id.clone(), passkey.clone());
        Ok(true)
    }

    async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        Ok(self.state().passkeys.get(id).cloned())
    }

    async fn passkeys_of(&self, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let mut keys: Vec<PasskeyRecord> = self
            .state()
            .passkeys
            .values()
            .filter(|k| &k.user_id == user_id)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn use_passkey(&self, id: &str, credential: &str, at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        Ok(state
            .passkeys
            .get_mut(id)
            .map(|k| {
                credential.clone_into(&mut k.credential);
                k.last_used_at = Some(at);
            })
            .is_some())
    }

    async fn delete_passkey(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .passkeys
            .get(id)
            .is_some_and(|k| &k.user_id == user_id)
        {
            state.passkeys.remove(id);
            return Ok(true);
        }
        Ok(false)
    }
}
