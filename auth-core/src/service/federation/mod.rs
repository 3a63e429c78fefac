//! Signing in with another provider's account (feature `oidc`): the sign-in's server-side
//! record between the authorization request and its callback, the account linked to a user
//! by the rules of [`federation`](crate::federation) (in `linking`), and the login that
//! follows, ended like a password login (tokens or a cookie session, the user's second
//! factor first if it has one). The facade's methods are in `api`.
//!
//! A sign-in's record is kept in the pending store under the SHA-256 of its `state` (256
//! bits), for `AUTH__OIDC__STATE_MINUTES`, taken once: a replayed callback finds nothing.
//! It holds the SHA-256 of the browser's binding secret (a cookie the HTTP layer sets
//! when the sign-in starts), so a callback carried to another browser (login CSRF, a
//! stolen callback URL) is refused before any code is exchanged.

mod api;
mod linking;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use self::api::{Callback, SignInOptions, SignInOutcome, SignInResult, SignInStart};

use super::mfa::LoginMode;
use super::Context;
use crate::config::ConfigError;
use crate::error::{AuthError, Result};
use crate::federation::oidc::{Providers, Secrets};
use crate::federation::{FederationError, IdentityStore};
use crate::mfa::passkey::PasskeyStore;
use crate::oauth::client::secret_hash;
use crate::pending::PendingStore;
use crate::user::UserStore;

/// The pending store's kind for sign-ins.
const KIND: &str = "federated_sign_in";

/// What a sign-in keeps between its start and its callback.
#[derive(Serialize, Deserialize)]
struct PendingSignIn {
    provider: String,
    /// SHA-256 of the browser's binding secret.
    binding: String,
    pkce_verifier: String,
    nonce: String,
    mode: LoginMode,
    return_to: String,
    /// The signed-in user who asked to link the account, for a link.
    link_user: Option<String>,
}

/// The federation flows.
#[derive(Clone)]
pub(super) struct FederationFlows {
    pub(super) providers: Arc<Providers>,
    pub(super) identities: Arc<dyn IdentityStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passkeys: Arc<dyn PasskeyStore>,
    pub(super) pending: Arc<dyn PendingStore>,
    /// Seconds a sign-in may take at the provider.
    pub(super) state_ttl: i64,
    /// Where a browser goes after a sign-in that named nowhere.
    pub(super) default_return_to: String,
    pub(super) ctx: Context,
}

/// The stores the federation flows are built from.
pub(super) struct FederationParts {
    pub(super) identities: Arc<dyn IdentityStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passkeys: Arc<dyn PasskeyStore>,
    pub(super) pending: Arc<dyn PendingStore>,
}

impl FederationFlows {
    /// The flows over the providers of `[oidc]`.
    ///
    /// # Errors
    /// [`ConfigError`] naming a provider that cannot be set up.
    pub(super) fn new(
        config: &crate::config::AuthConfig,
        parts: FederationParts,
        ctx: Context,
    ) -> Result<Self, ConfigError> {
        let oidc = &config.oidc;
        if !local_path(&oidc.default_return_to) {
            return Err(ConfigError::Invalid {
                var: "AUTH__OIDC__DEFAULT_RETURN_TO",
                reason: "must be a path on this site (`/`, `/account`)".to_owned(),
            });
        }
        Ok(Self {
            providers: Arc::new(Providers::from_config(config)?),
            identities: parts.identities,
            users: parts.users,
            passkeys: parts.passkeys,
            pending: parts.pending,
            state_ttl: i64::try_from(oidc.state_minutes.saturating_mul(60)).unwrap_or(600),
            default_return_to: oidc.default_return_to.clone(),
            ctx,
        })
    }
}

/// Whether `path` is somewhere on this site a sign-in may send the browser back to: an
/// absolute path, not a scheme-relative `//host` or a `/\host` that browsers read as one.
fn local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 2048
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

impl FederationFlows {
    /// Starts a sign-in with `provider`: its record kept, and the URL to send the browser
    /// to. `binding` is the browser's binding secret (made by the caller, kept in a cookie).
    async fn start(
        &self,
        provider: &str,
        binding: &str,
        mode: LoginMode,
        return_to: Option<&str>,
        link_user: Option<String>,
    ) -> Result<String> {
        let provider = self.providers.get(provider)?;
        let return_to = match return_to {
            Some(path) if local_path(path) => path.to_owned(),
            Some(_) => {
                return Err(AuthError::invalid(
                    "return_to",
                    "must be a path on this site (`/account`)",
                ))
            }
            None => self.default_return_to.clone(),
        };
        let random = self.ctx.random.as_ref();
        let secrets = Secrets {
            state: random.token(),
            pkce_verifier: random.token(),
            nonce: random.token(),
        };
        let url = provider.authorization_url(&secrets).await?;
        let record = PendingSignIn {
            provider: provider.name().to_owned(),
            binding: secret_hash(binding),
            pkce_verifier: secrets.pkce_verifier,
            nonce: secrets.nonce,
            mode,
            return_to,
            link_user,
        };
        let record = serde_json::to_string(&record)
            .map_err(|e| AuthError::Internal(format!("sign-in record: {e}")))?;
        let expires = self.ctx.clock.now().saturating_add(self.state_ttl);
        self.pending
            .put(&secret_hash(&secrets.state), KIND, &record, expires)
            .await?;
        Ok(url)
    }

    /// The record of the callback's `state`, taken (once), when it belongs to `provider`
    /// and to the browser presenting `binding`.
    async fn take(
        &self,
        provider: &str,
        state: &str,
        binding: Option<&str>,
    ) -> Result<PendingSignIn> {
        let invalid = || AuthError::from(FederationError::InvalidState);
        if state.is_empty() || state.len() > 128 {
            return Err(invalid());
        }
        let now = self.ctx.clock.now();
        let record = self
            .pending
            .take(&secret_hash(state), KIND, now)
            .await?
            .ok_or_else(invalid)?;
        let record: PendingSignIn = serde_json::from_str(&record)
            .map_err(|e| AuthError::Internal(format!("sign-in record: {e}")))?;
        let bound = binding.is_some_and(|b| {
            use subtle::ConstantTimeEq;
            bool::from(secret_hash(b).as_bytes().ct_eq(record.binding.as_bytes()))
        });
        if record.provider != provider || !bound {
            return Err(invalid());
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        for ok in ["/", "/account", "/a?b=c#d", "/a/b%2F"] {
            assert!(local_path(ok), "{ok}");
        }
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "account",
            "/a\nb",
            "javascript:alert(1)",
        ] {
            assert!(!local_path(bad), "{bad:?}");
        }
    }
}
