//! Linked identities: an account of a provider, named by its issuer and subject (stable and
//! unique there, unlike an email address, which can be reassigned or unverified), linked to
//! one user here. An identity links to one user only; a user may have several.

use async_trait::async_trait;
use serde::Serialize;

use crate::error::StoreError;
use crate::user::UserId;

/// A provider account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FederatedIdentity {
    /// Its id.
    pub id: String,
    /// The user it signs in.
    pub user_id: UserId,
    /// The configured provider it came through (`google`, `github`, `corp-saml`).
    pub provider: String,
    /// The provider's issuer (an OIDC `iss`, a SAML entity id, an LDAP server).
    pub issuer: String,
    /// The account's subject at the issuer (`sub`, a SAML NameID, an LDAP DN).
    pub subject: String,
    /// The address the provider gave when it was linked, if any (shown, never matched on).
    pub email: Option<String>,
    /// When it was linked (Unix seconds).
    pub created_at: i64,
    /// When it last signed the user in.
    pub last_used_at: Option<i64>,
}

impl FederatedIdentity {
    /// A new link of `issuer`'s `subject` (through `provider`) to `user_id`.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        user_id: UserId,
        provider: impl Into<String>,
        issuer: impl Into<String>,
        subject: impl Into<String>,
        created_at: i64,
    ) -> Self {
        Self {
            id: id.into(),
            user_id,
            provider: provider.into(),
            issuer: issuer.into(),
            subject: subject.into(),
            email: None,
            created_at,
            last_used_at: None,
        }
    }

    /// The same link, recording the address the provider gave.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// Where linked identities are kept.
#[async_trait]
pub trait IdentityStore: Send + Sync + std::fmt::Debug + 'static {
    /// Links a new identity; [`StoreError::Conflict`] (`identity`) when its issuer and
    /// subject are linked already, to anyone.
    async fn insert_identity(&self, identity: &FederatedIdentity) -> Result<(), StoreError>;

    /// The identity of `issuer`'s `subject`.
    async fn identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<FederatedIdentity>, StoreError>;

    /// A user's identities, oldest first.
    async fn identities_of(&self, user_id: &UserId) -> Result<Vec<FederatedIdentity>, StoreError>;

    /// Notes a sign-in through identity `id` at `at`; whether it exists.
    async fn touch_identity(&self, id: &str, at: i64) -> Result<bool, StoreError>;

    /// Unlinks `user_id`'s identity `id`; whether it was theirs.
    async fn delete_identity(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError>;
}
