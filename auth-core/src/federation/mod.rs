//! Federation: signing in with an account elsewhere (OpenID Connect / OAuth 2 providers, SAML
//! identity providers, LDAP directories).
//!
//! What every protocol shares lives here: the [`identity`] that links an account of a
//! provider (its issuer and subject, never its email) to one user of this service. The
//! protocols come in rooms of their own, behind the features `oidc`, `saml` and `ldap`.

pub mod identity;

pub use self::identity::{FederatedIdentity, IdentityStore};
