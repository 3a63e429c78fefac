//! Where passkeys are kept: one record per credential, under its credential id, holding what
//! webauthn-rs needs to check the next assertion (the public key and the signature counter)
//! as JSON, and what the owner sees (a name, when it was added and last used).
//!
//! The ceremonies themselves are in the service (feature `webauthn`); their state between
//! start and finish waits in a [`PendingStore`](crate::pending::PendingStore).

use async_trait::async_trait;
use serde::Serialize;

use crate::error::StoreError;
use crate::user::UserId;

/// A registered passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PasskeyRecord {
    /// The credential id, base64url: how an assertion names it.
    pub id: String,
    /// The owner.
    #[serde(skip)]
    pub user_id: UserId,
    /// The WebAuthn user handle the passkey was created under (a UUID).
    #[serde(skip)]
    pub user_handle: String,
    /// The owner's name for it ("Laptop").
    pub name: String,
    /// The credential as webauthn-rs serializes it (public key, counter, flags); no secret.
    #[serde(skip)]
    pub credential: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it last signed a login.
    pub last_used_at: Option<i64>,
}

impl PasskeyRecord {
    /// A new record, never used.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        user_id: UserId,
        user_handle: impl Into<String>,
        name: impl Into<String>,
        credential: impl Into<String>,
        created_at: i64,
    ) -> Self {
        Self {
            id: id.into(),
            user_id,
            user_handle: user_handle.into(),
            name: name.into(),
            credential: credential.into(),
            created_at,
            last_used_at: None,
        }
    }
}

/// Persistence of passkeys; one conformance suite holds every backend to it.
#[async_trait]
pub trait PasskeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new passkey; `false` when its credential id is registered already (to anyone).
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, StoreError>;

    /// The passkey with this credential id.
    async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>, StoreError>;

    /// The user's passkeys, oldest first.
    async fn passkeys_of(&self, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError>;

    /// Records a use: the credential as the assertion left it (its counter) and the time.
    /// Returns whether the passkey exists.
    async fn use_passkey(&self, id: &str, credential: &str, at: i64) -> Result<bool, StoreError>;

    /// Removes one of the user's passkeys; whether the user had it.
    async fn delete_passkey(&self, user_id: &UserId, id: &str) -> Result<bool, StoreError>;
}
