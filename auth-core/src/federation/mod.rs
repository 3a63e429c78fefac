//! Federation: signing in with an account elsewhere (OpenID Connect / OAuth 2 providers, SAML
//! identity providers, LDAP directories).
//!
//! What every protocol shares lives here: the [`identity`] that links an account of a
//! provider (its issuer and subject, never its email) to one user of this service, the
//! [`profile`] a provider's answer is normalised into, and the [`FederationError`]s. The
//! protocols come in rooms of their own, behind features: `oidc` (Google, GitHub,
//! Microsoft, any OpenID Connect issuer), `ldap` (a directory's bind), `saml` (SAML 2.0
//! identity providers).
//!
//! The rules a sign-in follows (in the service's `federation` flow):
//!
//! - an identity already linked signs in its user (if active);
//! - a signed-in user who started the sign-in to link gets the identity linked (unless it
//!   is linked to someone else);
//! - otherwise an existing account with the provider's address is signed in (and linked)
//!   only when the provider says the address is verified **and** is configured to be
//!   trusted for it (`TRUST_EMAIL`); else the answer is `account_exists`, and the owner
//!   signs in and links explicitly;
//! - otherwise a new account is made (`ALLOW_SIGNUP`), verified when the address is.
//!
//! Unlinking refuses to remove the last way to sign in (no password, no passkey, no other
//! identity).

mod error;
pub mod identity;
#[cfg(feature = "ldap")]
pub mod ldap;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod profile;
#[cfg(feature = "saml")]
pub mod saml;

pub use self::error::FederationError;
pub use self::identity::{FederatedIdentity, IdentityStore};
pub use self::profile::ExternalProfile;

/// Whether `name` may name a provider in routes and settings (`google`, `corp-sso`): 1 to 64
/// lowercase letters, digits, `-` and `_`.
#[cfg_attr(not(any(feature = "oidc", feature = "saml")), allow(dead_code))]
pub(crate) fn valid_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
