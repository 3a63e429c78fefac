//! Multi-factor authentication: second factors checked after the password.
//!
//! | module | factor |
//! |---|---|
//! | `totp` (feature `totp`) | time-based one-time passwords (RFC 6238), the codes of authenticator apps |
//!
//! This module holds the checks themselves, free of storage: enrolment, the encrypted secrets
//! at rest and the guards that ask for a second factor build on them.

#[cfg(feature = "totp")]
pub mod totp;

#[cfg(feature = "totp")]
pub use totp::{Totp, TotpError, TotpSecret, TotpSettings};
