use async_trait::async_trait;

use super::{RoleError, RoleHierarchy};
use crate::error::StoreError;

/// A role definition as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleRecord {
    /// The role name.
    pub name: String,
    /// Roles it inherits from.
    pub inherits: Vec<String>,
    /// Permissions it grants (wildcards allowed).
    pub permissions: Vec<String>,
}

impl RoleRecord {
    /// A definition.
    #[must_use]
    pub fn new(name: impl Into<String>, inherits: Vec<String>, permissions: Vec<String>) -> Self {
        Self {
            name: name.into(),
            inherits,
            permissions,
        }
    }
}

/// Role definitions managed at run time (the third source besides `#[derive(Roles)]` and
/// configuration). Assigning roles to users is a user update
/// ([`AuthService::assign_role`](crate::AuthService::assign_role)).
#[async_trait]
pub trait RoleStore: Send + Sync + std::fmt::Debug + 'static {
    /// Creates or replaces a role definition.
    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError>;

    /// Deletes a role definition; returns whether it existed.
    async fn delete_role(&self, name: &str) -> Result<bool, StoreError>;

    /// Every stored role, by name.
    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError>;
}

/// Why stored roles could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadRolesError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored roles, together with `base`, have a cycle or an unknown parent.
    #[error(transparent)]
    Roles(#[from] RoleError),
}

/// `base` (typed and configured roles) composed with every role in `store`.
///
/// # Errors
/// [`LoadRolesError`].
pub async fn load_roles(
    store: &dyn RoleStore,
    base: &RoleHierarchy,
) -> Result<RoleHierarchy, LoadRolesError> {
    Ok(compose_roles(base, &store.list_roles().await?)?)
}

/// `base` composed with `records` (stored role definitions).
///
/// # Errors
/// [`RoleError`] naming the roles of a cycle or an unknown parent.
pub fn compose_roles(
    base: &RoleHierarchy,
    records: &[RoleRecord],
) -> Result<RoleHierarchy, RoleError> {
    let mut builder = RoleHierarchy::builder();
    for role in records {
        let inherits: Vec<&str> = role.inherits.iter().map(String::as_str).collect();
        let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
        builder = builder.role(&role.name, &inherits, &permissions);
    }
    // Parents may live in `base`, so resolve only after composing.
    let stored = builder.definitions_unresolved();
    base.compose(&stored)
}
