//! Multi-factor authentication: the factors a caller satisfied, and the second factors checked
//! after the password.
//!
//! | module | what |
//! |---|---|
//! | [`factor`] | factors as state ([`FactorKind`], [`SatisfiedFactor`]) and the assurance level they reach |
//! | `totp` (feature `totp`) | time-based one-time passwords (RFC 6238), the codes of authenticator apps |
//! | [`backup`] | single-use backup codes |
//! | [`keys`] | TOTP secrets sealed (AES-256-GCM) and backup codes tagged (HMAC) at rest |
//! | [`store`] | [`MfaStore`]: authenticators and backup codes, single use decided atomically |
//! | `qr` (feature `totp`) | QR codes of the `otpauth://` URI, SVG and PNG |
//! | [`passkey`] | [`PasskeyStore`](passkey::PasskeyStore): registered passkeys and their counters |
//! | `webauthn` (feature `webauthn`) | the relying party: passkey ceremonies over webauthn-rs |
//!
//! The flows (enrolment, the login challenge, step-up) live in the service
//! ([`AuthService::enroll_totp`](crate::AuthService) and the methods beside it), the routes in
//! `auth-axum`, the settings under `[mfa]` ([`MfaConfig`](crate::config::MfaConfig)).

pub mod backup;
pub mod factor;
pub mod keys;
pub mod passkey;
#[cfg(feature = "totp")]
pub mod qr;
pub mod store;
#[cfg(feature = "totp")]
pub mod totp;
#[cfg(feature = "webauthn")]
pub mod webauthn;

pub use self::factor::{Assurance, FactorKind, SatisfiedFactor};
pub use self::keys::{MfaKeys, OpenError};
pub use self::store::{MfaStore, TotpRecord};
#[cfg(feature = "totp")]
pub use self::totp::{Totp, TotpAlgorithm, TotpError, TotpSecret, TotpSettings};
