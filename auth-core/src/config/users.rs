//! `[users]`: defaults for new users.

use serde::{Deserialize, Serialize};

/// Defaults for new users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct UsersConfig {
    /// `AUTH__USERS__DEFAULT_ROLES`: roles given to a user at registration. Default `["user"]`.
    pub default_roles: Vec<String>,
    /// `AUTH__USERS__REQUIRE_VERIFIED_EMAIL`: refuse logins (403 `email_not_verified`, after
    /// the password check) until the account's address is verified. Default false.
    pub require_verified_email: bool,
    /// `AUTH__USERS__ALLOW_MIXED_SCRIPTS`: accept usernames whose letters come from more than
    /// one script (`аdmin`, with a Cyrillic `а`). Default false; names that merely *look* like
    /// a taken one are refused either way (`auth_core::user::identifier`).
    pub allow_mixed_scripts: bool,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            default_roles: vec!["user".to_owned()],
            require_verified_email: false,
            allow_mixed_scripts: false,
        }
    }
}
