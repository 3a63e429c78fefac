//! The WebAuthn relying party (feature `webauthn`): [`webauthn-rs`](https://docs.rs/webauthn-rs)
//! configured from `[passkeys]`, and the types of its ceremonies as they cross the wire.
//!
//! Every check of a ceremony (challenge, origin, relying party id, user verification,
//! signature, signature counter) is webauthn-rs's; this module only builds it.

use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

pub use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::config::{ConfigError, PasskeyConfig};

fn invalid(var: &'static str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.to_string(),
    }
}

/// The relying party of `config`, named `name` where the configuration names none.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the setting: an origin that is no URL, or a relying party
/// id that is not the origin's host nor a parent of it.
pub fn relying_party(config: &PasskeyConfig, name: &str) -> Result<Webauthn, ConfigError> {
    let origin = Url::parse(&config.origin).map_err(|e| invalid("AUTH__PASSKEYS__ORIGIN", e))?;
    let mut builder = WebauthnBuilder::new(&config.rp_id, &origin).map_err(|e| {
        invalid(
            "AUTH__PASSKEYS__RP_ID",
            format!("`{}` does not fit the origin `{origin}`: {e}", config.rp_id),
        )
    })?;
    for extra in &config.extra_origins {
        let url = Url::parse(extra).map_err(|e| invalid("AUTH__PASSKEYS__EXTRA_ORIGINS", e))?;
        builder = builder.append_allowed_origin(&url);
    }
    let rp_name = config.rp_name.as_deref().unwrap_or(name);
    builder
        .rp_name(rp_name)
        .build()
        .map_err(|e| invalid("AUTH__PASSKEYS__ORIGIN", e))
}
