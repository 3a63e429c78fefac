//! `[saml]`: signing in through a SAML 2.0 identity provider (feature `saml`), this service
//! being the service provider.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One identity provider (`[saml.providers.<name>]`; `AUTH__SAML__PROVIDERS__<NAME>__*`).
/// Its name is in its routes: `/auth/saml/<name>/metadata`, `/login` and `/acs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SamlProviderConfig {
    /// `METADATA_FILE`: the identity provider's metadata (XML, as Okta, Entra ID, Keycloak or
    /// ADFS offer it for download): its entity id, its sign-in URL and the certificate its
    /// signatures must verify with. Required; metadata without a signing certificate stops
    /// the start (nothing unsigned is ever accepted).
    pub metadata_file: PathBuf,
    /// `SP_ENTITY_ID`: this service's entity id at the provider, the audience its assertions
    /// must name. Default `{base}/auth/saml/<name>/metadata`.
    pub sp_entity_id: Option<String>,
    /// `DISPLAY_NAME`: what a sign-in page shows. Default the provider's name.
    pub display_name: Option<String>,
    /// `USERNAME_ATTRIBUTE`: the attribute a new user's name comes from; default the
    /// NameID's local part.
    pub username_attribute: Option<String>,
    /// `EMAIL_ATTRIBUTE`: the address. Default `email` (also tried: the `mail` OID and
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress`).
    pub email_attribute: Option<String>,
    /// `ROLES_ATTRIBUTE`: the attribute whose values `[saml.providers.<name>.roles]` maps
    /// (`groups`).
    pub roles_attribute: Option<String>,
    /// Attribute value to role (`Engineering = "editor"`); the managed roles are given and
    /// taken away at each sign-in as with a directory's groups.
    pub roles: BTreeMap<String, String>,
    /// `TRUST_EMAIL`: whether an address the provider asserts signs in the existing user who
    /// has it. Default false.
    pub trust_email: bool,
    /// `ALLOW_SIGNUP`: whether an account new here makes a user. Default true.
    pub allow_signup: Option<bool>,
}

/// The identity providers, and how their sign-ins go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SamlConfig {
    /// `AUTH__SAML__BASE_URL`: this service's public URL, under which its metadata and
    /// assertion consumer service are (`{base}/auth/saml/<name>/acs`). Default
    /// `AUTH__OIDC__REDIRECT_BASE`, else `AUTH__PROVIDER__ISSUER`, else `AUTH__JWT__ISSUER`,
    /// else `http://localhost:8080`.
    pub base_url: Option<String>,
    /// `AUTH__SAML__REQUEST_MINUTES`: how long a sign-in may take at the provider. Default 10.
    pub request_minutes: u64,
    /// `AUTH__SAML__CLOCK_SKEW_SECONDS`: how far the provider's clock may be off for
    /// `NotBefore` / `NotOnOrAfter`. Default 60.
    pub clock_skew_seconds: u64,
    /// The providers by name (`[saml.providers.corp]`).
    pub providers: BTreeMap<String, SamlProviderConfig>,
}

impl Default for SamlConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            request_minutes: 10,
            clock_skew_seconds: 60,
            providers: BTreeMap::new(),
        }
    }
}
