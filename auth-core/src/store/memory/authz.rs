//! Stored role definitions and service-scoped permissions.

use async_trait::async_trait;

use super::MemoryStore;
use crate::authz::services::{PermissionSpec, ServicePermissionStore};
use crate::authz::{RoleRecord, RoleStore};
use crate::error::StoreError;

#[async_trait]
impl RoleStore for MemoryStore {
    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError> {
        self.state().roles.insert(role.name.clone(), role.clone());
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.state().roles.remove(name).is_some())
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        Ok(self.state().roles.values().cloned().collect())
    }
}

#[async_trait]
impl ServicePermissionStore for MemoryStore {
    async fn schema(&self, service: &str) -> Result<Vec<PermissionSpec>, StoreError> {
        Ok(self
            .state()
            .service_permissions
            .iter()
            .filter(|((s, _), _)| s == service)
            .map(|(_, spec)| spec.clone())
            .collect())
    }

    async fn upsert_permission(
        &self,
        service: &str,
        spec: &PermissionSpec,
    ) -> Result<(), StoreError> {
        self.state()
            .service_permissions
            .insert((service.to_owned(), spec.name.clone()), spec.clone());
        Ok(())
    }

    async fn delete_permission(&self, service: &str, name: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .service_permissions
            .remove(&(service.to_owned(), name.to_owned()));
        state
            .service_values
            .retain(|(s, _, n), _| !(s == service && n == name));
        Ok(())
    }

    async fn user_values(
        &self,
        service: &str,
        user_id: &str,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>, StoreError> {
        Ok(self
            .state()
            .service_values
            .iter()
            .filter(|((s, u, _), _)| s == service && u == user_id)
            .map(|((_, _, n), v)| (n.clone(), v.clone()))
            .collect())
    }

    async fn set_user_value(
        &self,
        service: &str,
        user_id: &str,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.state().service_values.insert(
            (service.to_owned(), user_id.to_owned(), name.to_owned()),
            value.clone(),
        );
        Ok(())
    }

    async fn add_admin(&self, service: &str, user_id: &str) -> Result<(), StoreError> {
        self.state()
            .service_admins
            .insert((service.to_owned(), user_id.to_owned()));
        Ok(())
    }

    async fn is_admin(&self, service: &str, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .service_admins
            .contains(&(service.to_owned(), user_id.to_owned())))
    }
}
