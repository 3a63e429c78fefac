//! `[users]`: defaults for new users.

use serde::{Deserialize, Serialize};

/// Defaults for new users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct UsersConfig {
    /// `AUTH__USERS__DEFAULT_ROLES`: roles given to a user at registration. Default `["user"]`.
    pub default_roles: Vec<String>,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            default_roles: vec!["user".to_owned()],
        }
    }
}
