//! Linked identities.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::federation::{FederatedIdentity, IdentityStore};
use crate::user::UserId;

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn insert_identity(&self, identity: &FederatedIdentity) -> Result<(), StoreError> {
        let mut state = self.state();
        let taken = state.identities.values().any(|i| {
            i.id == identity.id || (i.issuer == identity.issuer && i.subject == identity.subject)
        });
        if taken {
            return Err(StoreError::Conflict { field: "identity" });
        }
        state
            .identities
            .insert(identity.id.clone(), identity.clone());
        Ok(())
    }

    async fn identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<FederatedIdentity>, StoreError> {
        Ok(self
            .state()
            .identities
            .values()
            .find(|i| i.issuer == issuer && i.subject == subject)
            .cloned())
    }

    async fn identities_of(&self, user_id: &UserId) -> Result<Vec<FederatedIdentity>, StoreError> {
        let mut found: Vec<FederatedIdentity> = self
            .state()
            .identities
            .values()
            .filter(|i| &i.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn touch_identity(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        Ok(state
            .identities
            .get_mut(id)
            .map(|i| i.last_used_at = Some(at))
            .is_some())
    }

    async fn delete_identity(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .identities
            .get(id)
            .is_some_and(|i| &i.user_id == user_id)
        {
            state.identities.remove(id);
            return Ok(true);
        }
        Ok(false)
    }
}
