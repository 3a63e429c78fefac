//! [`AuthService`]'s methods over linked identities, whatever the protocol.

use crate::error::Result;
use crate::federation::FederatedIdentity;
use crate::principal::Principal;
use crate::service::signed_in;
use crate::AuthService;

impl AuthService {
    pub(super) fn federation(&self) -> &super::FederationFlows {
        &self.inner.federation
    }

    /// The signed-in principal's linked provider accounts, oldest first.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key; [`AuthError::ServiceUnavailable`].
    pub async fn identities(&self, principal: &Principal) -> Result<Vec<FederatedIdentity>> {
        signed_in(principal, "manage sign-in providers")?;
        let store = &self.federation().identities;
        Ok(store.identities_of(&principal.user_id).await?)
    }

    /// Unlinks one of the principal's provider accounts, unless it is the account's last way
    /// to sign in (no password, no passkey, no other linked account).
    ///
    /// # Errors
    /// [`FederationError::IdentityNotFound`] when it has no such identity;
    /// [`FederationError::LastSignInMethod`]; [`AuthError::Forbidden`] for an API key.
    pub async fn unlink_identity(&self, principal: &Principal, id: &str) -> Result<()> {
        signed_in(principal, "manage sign-in providers")?;
        self.federation().unlink(&principal.user_id, id).await
    }
}
