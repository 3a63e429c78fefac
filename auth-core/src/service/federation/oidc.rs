//! Signing in with an OpenID Connect or OAuth 2 provider (feature `oidc`): the sign-in's
//! record, and [`AuthService`]'s methods that start and finish it.
//!
//! A sign-in's record is kept in the pending store under the SHA-256 of its `state` (256
//! bits), for `AUTH__OIDC__STATE_MINUTES`, taken once: a replayed callback finds nothing.
//! It holds the SHA-256 of the browser's binding secret (a cookie the HTTP layer sets
//! when the sign-in starts), so a callback carried to another browser (login CSRF, a
//! stolen callback URL) is refused before any code is exchanged.

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::linking::LinkPolicy;
use super::sign_in::{SignInOptions, SignInOutcome, SignInStart};
use super::{local_path, FederationFlows};
use crate::error::{AuthError, Result};
use crate::federation::oidc::{ProviderInfo, Secrets};
use crate::federation::FederationError;
use crate::oauth::client::secret_hash;
use crate::principal::Principal;
use crate::service::mfa::LoginMode;
use crate::service::signed_in;
use crate::session::Device;
use crate::user::UserId;
use crate::AuthService;

/// The query of a provider's redirect back.
#[derive(Clone, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state the sign-in started with.
    pub state: Option<String>,
    /// The provider's error (`access_denied`).
    pub error: Option<String>,
    /// Its words.
    pub error_description: Option<String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

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

impl AuthService {
    /// The configured sign-in providers (`[oidc.providers]`).
    #[must_use]
    pub fn sign_in_providers(&self) -> Vec<ProviderInfo> {
        self.federation().providers.list()
    }

    /// The configured provider `name` (its redirect URI, its ID-token verification).
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`].
    pub fn sign_in_provider(
        &self,
        name: &str,
    ) -> Result<&std::sync::Arc<crate::federation::oidc::Provider>> {
        Ok(self.federation().providers.get(name)?)
    }

    /// Starts a sign-in with `provider`: the URL to send the browser to, with state, PKCE
    /// and nonce, and the binding secret its browser must keep (a cookie) for the callback.
    /// With `link_for`, the signed-in principal's account gets the provider account linked
    /// instead of a sign-in.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`]; [`AuthError::Validation`] for a `return_to`
    /// that is not a path on this site; [`AuthError::AuthServiceUnavailable`] when the
    /// provider's discovery document cannot be read; for `link_for`, an API key is
    /// [`AuthError::Forbidden`].
    pub async fn start_sign_in(
        &self,
        provider: &str,
        options: SignInOptions,
        link_for: Option<&Principal>,
    ) -> Result<SignInStart> {
        if let Some(principal) = link_for {
            signed_in(principal, "link sign-in providers")?;
        }
        let binding = match options.binding {
            Some(b) if (32..=128).contains(&b.len()) => b,
            _ => self.inner.ctx.random.token(),
        };
        let mode = if options.tokens {
            LoginMode::Bearer
        } else {
            LoginMode::Cookie
        };
        let flows = self.federation();
        let authorization_url = flows
            .start(
                provider,
                &binding,
                mode,
                options.return_to.as_deref(),
                link_for.map(|p| p.user_id.to_string()),
            )
            .await?;
        Ok(SignInStart {
            authorization_url,
            binding: SecretString::from(binding),
            expires_in: flows.state_ttl,
        })
    }

    /// Finishes a sign-in at the provider's redirect back: the state checked against the
    /// browser's `binding` (taken once), the code exchanged with the PKCE verifier, the ID
    /// token verified with the nonce, the account resolved to a user by the linking rules,
    /// and the login ended as a password login would be (its second factor first).
    ///
    /// # Errors
    /// [`FederationError::InvalidState`] for a callback that is not this browser's pending
    /// sign-in with `provider`; [`FederationError::Denied`] when the provider answered with
    /// an error; [`FederationError::CodeRejected`], [`FederationError::InvalidIdToken`],
    /// [`FederationError::AccountExists`], [`FederationError::IdentityLinkedElsewhere`],
    /// [`FederationError::SignupDisabled`], [`FederationError::EmailRequired`];
    /// [`AuthError::InvalidCredentials`] for a deactivated user; [`AuthError::EmailNotVerified`]
    /// and interceptors' refusals as at a password login.
    pub async fn finish_sign_in(
        &self,
        provider: &str,
        callback: &Callback,
        binding: Option<&str>,
        device: Device,
    ) -> Result<SignInOutcome> {
        let flows = self.federation();
        let provider = flows.providers.get(provider)?;
        let state = callback.state.as_deref().unwrap_or_default();
        // The record goes whatever happens next: a callback is good once.
        let record = flows.take(provider.name(), state, binding).await?;
        if let Some(error) = &callback.error {
            let detail: String = callback
                .error_description
                .as_deref()
                .map_or_else(|| error.clone(), |d| format!("{error}: {d}"))
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            return Err(FederationError::Denied(detail).into());
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .ok_or_else(|| FederationError::CodeRejected("the callback has no code".to_owned()))?;
        let secrets = Secrets {
            state: state.to_owned(),
            pkce_verifier: record.pkce_verifier,
            nonce: record.nonce,
        };
        let now = self.inner.ctx.clock.now();
        let profile = provider.finish(code, &secrets, now).await?;
        let link_user = record.link_user.map(UserId);
        let policy = LinkPolicy {
            trust_email: provider.trust_email,
            allow_signup: provider.allow_signup,
        };
        let resolved = flows
            .resolve(policy, &profile, link_user.as_ref(), &self.inner.accounts)
            .await?;
        let mode = record.mode;
        self.end_sign_in(resolved, mode, device, now, record.return_to)
            .await
    }
}
