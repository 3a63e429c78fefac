//! Signing in through a SAML 2.0 identity provider (feature `saml`): the request's record
//! between the `AuthnRequest` and the response the provider posts back, and
//! [`AuthService`]'s methods that start and finish it.
//!
//! The record is kept in the pending store under the SHA-256 of the `RelayState` (256
//! bits), for `AUTH__SAML__REQUEST_MINUTES`, taken once; it holds the request's id (256
//! bits), which the response's `InResponseTo` must name. A response replayed, or posted
//! for another provider, finds no record.

use serde::{Deserialize, Serialize};

use super::linking::{LinkPolicy, Resolved};
use super::local_path;
use super::sign_in::{SignInOptions, SignInOutcome};
use crate::error::{AuthError, Result};
use crate::federation::FederationError;
use crate::oauth::client::secret_hash;
use crate::service::mfa::LoginMode;
use crate::session::Device;
use crate::AuthService;

/// The pending store's kind for SAML sign-ins.
const KIND: &str = "saml_sign_in";

/// What a SAML sign-in keeps between its request and the response.
#[derive(Serialize, Deserialize)]
struct PendingSamlRequest {
    provider: String,
    request_id: String,
    mode: LoginMode,
    return_to: String,
}

impl AuthService {
    /// This service's SAML metadata for the provider `provider` (XML), to register there.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`].
    pub fn saml_metadata(&self, provider: &str) -> Result<String> {
        self.federation().saml.get(provider)?.metadata_xml()
    }

    /// Starts a SAML sign-in: the URL that sends the browser to the provider with an
    /// `AuthnRequest` (its id and `RelayState` fresh, 256 bits each, the request kept
    /// server-side). `options.binding` is not used: the provider's answer comes back as a
    /// cross-site POST, which carries no `SameSite` cookie; the single-use request id binds
    /// it instead.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`]; [`AuthError::Validation`] for a `return_to`
    /// off this site.
    pub async fn start_saml_sign_in(
        &self,
        provider: &str,
        options: SignInOptions,
    ) -> Result<String> {
        let flows = self.federation();
        let provider = flows.saml.get(provider)?;
        let return_to = match options.return_to {
            Some(path) if local_path(&path) => path,
            Some(_) => {
                return Err(AuthError::invalid(
                    "return_to",
                    "must be a path on this site (`/account`)",
                ))
            }
            None => flows.default_return_to.clone(),
        };
        let random = self.inner.ctx.random.as_ref();
        let relay_state = random.token();
        let request_id = format!("id-{}", random.token());
        let url = provider.authn_request_url(&request_id, &relay_state)?;
        let record = PendingSamlRequest {
            provider: provider.name().to_owned(),
            request_id,
            mode: if options.tokens {
                LoginMode::Bearer
            } else {
                LoginMode::Cookie
            },
            return_to,
        };
        let record = serde_json::to_string(&record)
            .map_err(|e| AuthError::Internal(format!("SAML request record: {e}")))?;
        let expires = self.inner.ctx.clock.now().saturating_add(flows.saml_ttl);
        flows
            .pending
            .put(&secret_hash(&relay_state), KIND, &record, expires)
            .await?;
        Ok(url)
    }

    /// Finishes a SAML sign-in at the assertion consumer service: the request of
    /// `relay_state` taken (once), the `SAMLResponse` checked against it (see
    /// [`federation::saml`](crate::federation::saml)), the account resolved to a user by the
    /// linking rules, its roles attribute mapped, and the login ended as a password login.
    ///
    /// # Errors
    /// [`FederationError::InvalidState`] for an unknown, used or expired `RelayState`, or one
    /// of another provider; [`FederationError::InvalidAssertion`] naming the check that
    /// failed; the linking rules' and a login's refusals.
    pub async fn finish_saml_sign_in(
        &self,
        provider: &str,
        saml_response: &str,
        relay_state: &str,
        device: Device,
    ) -> Result<SignInOutcome> {
        let flows = self.federation();
        let provider = flows.saml.get(provider)?;
        let invalid = || AuthError::from(FederationError::InvalidState);
        if relay_state.is_empty() || relay_state.len() > 128 {
            return Err(invalid());
        }
        let now = self.inner.ctx.clock.now();
        let record = flows
            .pending
            .take(&secret_hash(relay_state), KIND, now)
            .await?
            .ok_or_else(invalid)?;
        let record: PendingSamlRequest = serde_json::from_str(&record)
            .map_err(|e| AuthError::Internal(format!("SAML request record: {e}")))?;
        if record.provider != provider.name() {
            return Err(invalid());
        }
        let account = provider.verify(saml_response, &record.request_id)?;
        let config = provider.config();
        let policy = LinkPolicy {
            trust_email: config.trust_email,
            allow_signup: config.allow_signup.unwrap_or(true),
        };
        let resolved = flows
            .resolve(policy, &account.profile, None, &self.inner.accounts)
            .await?;
        let resolved = match resolved {
            Resolved::SignIn(user) => Resolved::SignIn(
                self.sync_mapped_roles(user, &config.roles, &account.groups)
                    .await?,
            ),
            linked @ Resolved::Linked(_) => linked,
        };
        self.end_sign_in(resolved, record.mode, device, now, record.return_to)
            .await
    }
}
