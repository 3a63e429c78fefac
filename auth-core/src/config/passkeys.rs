//! `[passkeys]`: the WebAuthn relying party.

use serde::{Deserialize, Serialize};

/// Passkeys (WebAuthn, feature `webauthn`): who the relying party is and which web origins
/// may run its ceremonies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PasskeyConfig {
    /// `AUTH__PASSKEYS__RP_ID`: the relying party id, the domain passkeys are bound to (the
    /// origin's host or a parent of it, e.g. `example.com`). Default `localhost`.
    pub rp_id: String,
    /// `AUTH__PASSKEYS__ORIGIN`: the web origin the ceremonies run on
    /// (`https://app.example.com`; `http://` only for `localhost`). Default
    /// `http://localhost:8080`.
    pub origin: String,
    /// `AUTH__PASSKEYS__EXTRA_ORIGINS`: further origins allowed (another front end). Default
    /// none.
    pub extra_origins: Vec<String>,
    /// `AUTH__PASSKEYS__RP_NAME`: the name authenticators show. Default `AUTH__MFA__ISSUER`,
    /// `AUTH__JWT__ISSUER`, else `auth-service`.
    pub rp_name: Option<String>,
    /// `AUTH__PASSKEYS__CEREMONY_MINUTES`: how long a started ceremony waits for its finish.
    /// Default 5.
    pub ceremony_minutes: u64,
}

impl Default for PasskeyConfig {
    fn default() -> Self {
        Self {
            rp_id: "localhost".to_owned(),
            origin: "http://localhost:8080".to_owned(),
            extra_origins: Vec::new(),
            rp_name: None,
            ceremony_minutes: 5,
        }
    }
}
