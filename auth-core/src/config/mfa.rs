//! `[mfa]`: second factors.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Second factors (see [`mfa`](crate::mfa)): authenticator apps, backup codes, the login
/// challenge, and the roles that demand a second factor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MfaConfig {
    /// `AUTH__MFA__ENCRYPTION_KEY`: the secret (at least 32 random bytes, the same on every
    /// instance) the keys sealing TOTP secrets and tagging backup codes are derived from.
    /// Unset, they are derived from `AUTH__JWT__REFRESH_TOKEN_SECRET` (with a label of their
    /// own); set it to rotate that secret without losing every authenticator.
    #[serde(skip_serializing)]
    pub encryption_key: Option<SecretString>,
    /// `AUTH__MFA__ISSUER`: the service's name as authenticator apps show it. Default
    /// `AUTH__JWT__ISSUER`, else `auth-service`.
    pub issuer: Option<String>,
    /// `AUTH__MFA__DIGITS`: digits per code, 6 to 8. Default 6.
    pub digits: u8,
    /// `AUTH__MFA__PERIOD_SECONDS`: seconds per code. Default 30.
    pub period_seconds: u64,
    /// `AUTH__MFA__SKEW`: codes accepted either side of the current one. Default 1.
    pub skew: u16,
    /// `AUTH__MFA__ALGORITHM`: `SHA1` (default; every authenticator app), `SHA256` or
    /// `SHA512`. Read with the `totp` feature.
    pub algorithm: String,
    /// `AUTH__MFA__BACKUP_CODES`: backup codes given at enrolment. Default 10.
    pub backup_codes: usize,
    /// `AUTH__MFA__CHALLENGE_MINUTES`: how long a login's `mfa_token` lasts. Default 5.
    pub challenge_minutes: u64,
    /// `AUTH__MFA__REAUTH_MINUTES`: how recent the caller's last authentication must be to add
    /// a second factor (TOTP enrolment, a passkey) or remove a passkey, so a stolen session
    /// cannot lock its owner out; older sessions answer `insufficient_user_authentication`
    /// and step up with the password. Default 15; 0 turns the check off.
    pub reauth_minutes: u64,
    /// `AUTH__MFA__REQUIRED_FOR_ROLES`: roles that count only with a second factor: a
    /// principal holding one without MFA is treated as not holding it (nor what it grants or
    /// inherits), and guards that need it answer `insufficient_user_authentication`. Default
    /// none.
    pub required_for_roles: Vec<String>,
    /// `AUTH__MFA__REQUIRED_FOR_TENANTS`: tenants whose roles count only with a second factor:
    /// without MFA, a `#[require_tenant_roles]` guard there answers
    /// `insufficient_user_authentication` where the roles would let the caller through.
    /// Default none.
    pub required_for_tenants: Vec<String>,
}

impl Default for MfaConfig {
    fn default() -> Self {
        Self {
            encryption_key: None,
            issuer: None,
            digits: 6,
            period_seconds: 30,
            skew: 1,
            algorithm: "SHA1".to_owned(),
            backup_codes: 10,
            challenge_minutes: 5,
            reauth_minutes: 15,
            required_for_roles: Vec::new(),
            required_for_tenants: Vec::new(),
        }
    }
}
