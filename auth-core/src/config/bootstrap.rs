//! `[bootstrap]`: the first admin, created at the first start.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The first admin: created with the admin role when the service starts and no user of that
/// name exists (never changed afterwards: an existing account keeps its password).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BootstrapConfig {
    /// `AUTH__BOOTSTRAP__ADMIN_USERNAME`: the admin's username. Unset: no bootstrap.
    pub admin_username: Option<String>,
    /// `AUTH__BOOTSTRAP__ADMIN_PASSWORD`: the admin's password (the password policy applies).
    #[serde(skip_serializing)]
    pub admin_password: Option<SecretString>,
    /// `AUTH__BOOTSTRAP__ADMIN_EMAIL`: the admin's address. Default `<username>@localhost.invalid`.
    pub admin_email: Option<String>,
}
