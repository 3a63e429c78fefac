//! OAuth clients.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::oauth::{ClientStore, OAuthClient};

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.clients.contains_key(&client.client_id) {
            return Err(StoreError::Conflict { field: "client_id" });
        }
        state
            .clients
            .insert(client.client_id.clone(), client.clone());
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError> {
        Ok(self.state().clients.get(client_id).cloned())
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let mut clients: Vec<OAuthClient> = self.state().clients.values().cloned().collect();
        clients.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(clients)
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.state().clients.remove(client_id).is_some())
    }
}
