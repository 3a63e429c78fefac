//! Signing in with an account elsewhere (features `oidc`, `ldap`, `saml`): the account linked to a
//! user by the rules of [`federation`](crate::federation) (in `linking`), and the login that
//! follows, ended like a password login (tokens or a cookie session, the user's second
//! factor first if it has one). `oidc` holds an OpenID Connect / OAuth 2 sign-in's
//! server-side record between the authorization request and its callback, `saml` a SAML
//! request's, `sign_in` how both end, `ldap` the directory's login, `api` the linked
//! identities.

mod api;
#[cfg(feature = "ldap")]
mod ldap;
mod linking;
#[cfg(feature = "oidc")]
mod oidc;
#[cfg(feature = "saml")]
mod saml;
#[cfg(any(feature = "oidc", feature = "saml"))]
mod sign_in;

use std::sync::Arc;

#[cfg(feature = "oidc")]
pub use self::oidc::Callback;
#[cfg(any(feature = "oidc", feature = "saml"))]
pub use self::sign_in::{SignInOptions, SignInOutcome, SignInResult, SignInStart};

use super::Context;
use crate::config::ConfigError;
use crate::federation::IdentityStore;
use crate::mfa::passkey::PasskeyStore;
use crate::pending::PendingStore;
use crate::user::UserStore;

/// The federation flows.
#[derive(Clone)]
pub(super) struct FederationFlows {
    /// The OpenID Connect / OAuth 2 providers.
    #[cfg(feature = "oidc")]
    pub(super) providers: Arc<crate::federation::oidc::Providers>,
    /// The directory, when `AUTH__LDAP__URL` names one.
    #[cfg(feature = "ldap")]
    pub(super) directory: Option<Arc<crate::federation::ldap::Directory>>,
    /// The SAML identity providers.
    #[cfg(feature = "saml")]
    pub(super) saml: Arc<crate::federation::saml::SamlProviders>,
    /// Seconds a SAML sign-in may take at the provider.
    #[cfg(feature = "saml")]
    pub(super) saml_ttl: i64,
    pub(super) identities: Arc<dyn IdentityStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passkeys: Arc<dyn PasskeyStore>,
    #[cfg_attr(not(any(feature = "oidc", feature = "saml")), allow(dead_code))]
    pub(super) pending: Arc<dyn PendingStore>,
    /// Seconds a sign-in may take at the provider.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(super) state_ttl: i64,
    /// Where a browser goes after a sign-in that named nowhere.
    #[cfg_attr(not(any(feature = "oidc", feature = "saml")), allow(dead_code))]
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
    /// The flows over the providers of `[oidc]` and the directory of `[ldap]`.
    ///
    /// # Errors
    /// [`ConfigError`] naming a provider or setting that cannot work.
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
            #[cfg(feature = "oidc")]
            providers: Arc::new(crate::federation::oidc::Providers::from_config(config)?),
            #[cfg(feature = "ldap")]
            directory: crate::federation::ldap::Directory::from_config(&config.ldap)?.map(Arc::new),
            #[cfg(feature = "saml")]
            saml: Arc::new(crate::federation::saml::SamlProviders::from_config(config)?),
            #[cfg(feature = "saml")]
            saml_ttl: i64::try_from(config.saml.request_minutes.saturating_mul(60)).unwrap_or(600),
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
pub(super) fn local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 2048
        && !path.chars().any(|c| c.is_control() || c == '\\')
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
