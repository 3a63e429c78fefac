//! Time-based one-time passwords (RFC 6238), as authenticator apps show them.
//!
//! The computation is [`totp-rs`](https://docs.rs/totp-rs)'s (HMAC-SHA1, dynamic truncation,
//! constant-time comparison); this module adds what a login flow needs around it:
//!
//! - a secret that never shows in `Debug` output and is wiped from memory when dropped;
//! - codes as users type them (`"123 456"` as well as `"123456"`), anything else refused as
//!   [`TotpError::Malformed`] before any HMAC work;
//! - replay protection: [`Totp::verify`] returns the time step a code belongs to, and refuses
//!   a code whose step is not later than the last one accepted for the account (RFC 6238
//!   section 5.2: a code is accepted once);
//! - the `otpauth://` URI an authenticator app reads from a QR code.
//!
//! ```
//! use auth_core::mfa::{Totp, TotpError, TotpSecret, TotpSettings};
//! use auth_core::random::OsRandom;
//!
//! # fn main() -> Result<(), TotpError> {
//! let settings = TotpSettings::new("Example");
//! let secret = TotpSecret::generate(&OsRandom);
//! let totp = Totp::new(&settings, secret, "ada@example.com")?;
//! assert!(totp.provisioning_uri()?.starts_with("otpauth://totp/Example:ada%40example.com?secret="));
//!
//! let now = 1_700_000_000;
//! let code = totp.code_at(now);
//! let step = totp.verify(&code, now, None)?;
//! // The same code again, once its step was recorded as the account's last one:
//! assert_eq!(totp.verify(&code, now, Some(step)), Err(TotpError::Replayed));
//! assert_eq!(totp.verify("12345", now, None), Err(TotpError::Malformed));
//! # Ok(()) }
//! ```

use std::fmt;

use totp_rs::{Algorithm, Builder, Secret};

use crate::random::Random;

/// The HMAC of the codes. SHA-1 is what every authenticator app supports (and what RFC 6238's
/// security rests on: HMAC-SHA-1 is not broken by SHA-1's collisions); SHA-256 and SHA-512
/// are supported by fewer apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1 (the default).
    #[default]
    #[serde(rename = "SHA1")]
    Sha1,
    /// HMAC-SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
    /// HMAC-SHA-512.
    #[serde(rename = "SHA512")]
    Sha512,
}

impl TotpAlgorithm {
    fn of_totp_rs(self) -> Algorithm {
        match self {
            Self::Sha1 => Algorithm::SHA1,
            Self::Sha256 => Algorithm::SHA256,
            Self::Sha512 => Algorithm::SHA512,
        }
    }
}

/// The parameters every account's authenticator shares: RFC 6238's defaults, which every
/// authenticator app supports, and the issuer name the app shows next to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpSettings {
    /// The service's name as authenticator apps show it (no `:`).
    pub issuer: String,
    /// Digits per code, 6 to 8. Default 6.
    pub digits: u8,
    /// Seconds per time step. Default 30.
    pub period_seconds: u64,
    /// Steps accepted either side of the current one, for clock drift and typing time.
    /// Default 1 (RFC 6238's recommendation): a code is good for up to 90 seconds.
    pub skew: u16,
    /// The HMAC. Default SHA-1.
    pub algorithm: TotpAlgorithm,
}

impl TotpSettings {
    /// RFC 6238 defaults (6 digits, 30-second steps, one step of skew) under `issuer`.
    #[must_use]
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            digits: 6,
            period_seconds: 30,
            skew: 1,
            algorithm: TotpAlgorithm::Sha1,
        }
    }
}

/// A TOTP shared secret: 160 random bits by default, as RFC 4226 recommends.
///
/// Its `Debug` output is redacted and its bytes are zeroed when it is dropped. Store it
/// encrypted; show it to the user only once, at enrolment ([`to_base32`](Self::to_base32) or
/// [`Totp::provisioning_uri`]).
#[derive(Clone)]
pub struct TotpSecret(Secret);

impl TotpSecret {
    /// Length of a generated secret in bytes.
    pub const GENERATED_LEN: usize = 20;
    /// The shortest secret accepted, in bytes (128 bits, RFC 4226's minimum).
    pub const MIN_LEN: usize = 16;

    /// A new secret of [`GENERATED_LEN`](Self::GENERATED_LEN) bytes from `random`.
    #[must_use]
    pub fn generate(random: &dyn Random) -> Self {
        let mut bytes = [0_u8; Self::GENERATED_LEN];
        random.fill(&mut bytes);
        let secret = Self(Secret::from(&bytes[..]));
        bytes.fill(0);
        secret
    }

    /// A secret from its raw bytes (as decrypted from storage).
    ///
    /// # Errors
    /// [`TotpError::SecretTooShort`] under [`MIN_LEN`](Self::MIN_LEN) bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(TotpError::SecretTooShort {
                bits: bytes.len() * 8,
            });
        }
        Ok(Self(Secret::from(bytes)))
    }

    /// A secret from the base32 text an authenticator app or another system shows.
    ///
    /// # Errors
    /// [`TotpError::InvalidSecret`] when `text` is not base32,
    /// [`TotpError::SecretTooShort`] when it decodes to fewer than
    /// [`MIN_LEN`](Self::MIN_LEN) bytes.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let secret = Secret::try_from_base32(text).map_err(|_| TotpError::InvalidSecret)?;
        if secret.len() < Self::MIN_LEN {
            return Err(TotpError::SecretTooShort {
                bits: secret.len() * 8,
            });
        }
        Ok(Self(secret))
    }

    /// The secret as unpadded base32, for users who type it into their app instead of
    /// scanning the QR code. It is the secret: show it once, never log it.
    #[must_use]
    pub fn to_base32(&self) -> String {
        self.0.to_base32()
    }

    /// The raw bytes, to encrypt for storage.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// One account's TOTP authenticator: its secret, the shared [`TotpSettings`] and the account
/// name shown in the app.
///
/// Verifying is a few HMACs and no I/O; recording the accepted step (for replay protection)
/// and limiting wrong guesses are the caller's, next to the account.
#[derive(Clone)]
pub struct Totp {
    inner: totp_rs::Totp,
}

impl Totp {
    /// The longest input [`verify`](Self::verify) looks at; longer ones are malformed.
    const MAX_INPUT_LEN: usize = 32;

    /// An authenticator for `account_name` (usually the email or username; no `:`).
    ///
    /// # Errors
    /// [`TotpError::InvalidDigits`], [`TotpError::InvalidPeriod`],
    /// [`TotpError::InvalidIssuer`] or [`TotpError::InvalidAccountName`] for settings or a
    /// name that authenticator apps cannot use.
    pub fn new(
        settings: &TotpSettings,
        secret: TotpSecret,
        account_name: &str,
    ) -> Result<Self, TotpError> {
        if account_name.is_empty() {
            return Err(TotpError::InvalidAccountName);
        }
        let issuer = (!settings.issuer.is_empty()).then_some(settings.issuer.as_str());
        let inner = Builder::new()
            .with_algorithm(settings.algorithm.of_totp_rs())
            .with_digits(settings.digits)
            .with_step_duration(settings.period_seconds)
            .with_skew(settings.skew)
            .with_secret(secret.0)
            .with_issuer(issuer)
            .with_account_name(account_name)
            .build()
            .map_err(TotpError::from_settings)?;
        Ok(Self { inner })
    }

    /// The `otpauth://totp/...` URI to show as a QR code at enrolment. It holds the secret.
    ///
    /// # Errors
    /// [`TotpError::InvalidSettings`] if the URI cannot be built (not expected for an
    /// authenticator [`new`](Self::new) accepted).
    pub fn provisioning_uri(&self) -> Result<String, TotpError> {
        self.inner.to_url().map_err(TotpError::from_settings)
    }

    /// The time step `now` (Unix seconds) falls in.
    #[must_use]
    pub fn step_at(&self, now: i64) -> u64 {
        unix_seconds(now) / self.inner.step()
    }

    /// The code an authenticator app shows at `now` (Unix seconds).
    #[must_use]
    pub fn code_at(&self, now: i64) -> String {
        self.inner.generate(unix_seconds(now)).to_string()
    }

    /// Checks `code` at `now` (Unix seconds) and returns the time step it belongs to.
    ///
    /// `last_step` is the step of the account's last accepted code: a code of that step or
    /// an earlier one is refused, so each code works once. Store the returned step as the
    /// new `last_step` when the login goes through.
    ///
    /// # Errors
    /// - [`TotpError::Malformed`]: not the configured number of digits (spaces are ignored);
    ///   no HMAC is computed;
    /// - [`TotpError::Mismatch`]: no step in the skew window gives this code;
    /// - [`TotpError::Replayed`]: the code is right but its step was already used.
    pub fn verify(&self, code: &str, now: i64, last_step: Option<u64>) -> Result<u64, TotpError> {
        let mut digits = [0_u8; 8];
        let code = normalize(code, usize::from(self.inner.digits()), &mut digits)
            .ok_or(TotpError::Malformed)?;
        let step = self
            .inner
            .check(code, unix_seconds(now))
            .ok_or(TotpError::Mismatch)?;
        if last_step.is_some_and(|last| step <= last) {
            return Err(TotpError::Replayed);
        }
        Ok(step)
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("account_name", &self.inner.account_name())
            .field("digits", &self.inner.digits())
            .field("period_seconds", &self.inner.step())
            .field("skew", &self.inner.skew())
            .finish_non_exhaustive()
    }
}

/// `code` without spaces, if what is left is exactly `digits` ASCII digits.
fn normalize<'a>(code: &str, digits: usize, buf: &'a mut [u8; 8]) -> Option<&'a str> {
    if code.len() > Totp::MAX_INPUT_LEN || digits > buf.len() {
        return None;
    }
    let mut len = 0;
    for &byte in code.as_bytes() {
        match byte {
            b' ' => {}
            b'0'..=b'9' if len < digits => {
                buf[len] = byte;
                len += 1;
            }
            _ => return None,
        }
    }
    if len != digits {
        return None;
    }
    std::str::from_utf8(&buf[..len]).ok()
}

/// Unix seconds as the unsigned count RFC 6238 uses; times before 1970 count as 0.
fn unix_seconds(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// Why a TOTP code or authenticator was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The input is not a code of the configured length.
    #[error("the code is not a one-time password of the expected length")]
    Malformed,
    /// No step in the accepted window gives this code.
    #[error("the one-time password does not match")]
    Mismatch,
    /// The code matches a step that was already used.
    #[error("the one-time password was already used")]
    Replayed,
    /// The secret is shorter than 128 bits.
    #[error("a TOTP secret needs at least 128 bits, this one has {bits}")]
    SecretTooShort {
        /// Length of the refused secret, in bits.
        bits: usize,
    },
    /// The text is not a base32 secret.
    #[error("the TOTP secret is not valid base32")]
    InvalidSecret,
    /// Codes must have 6 to 8 digits.
    #[error("TOTP codes have 6 to 8 digits, not {0}")]
    InvalidDigits(u8),
    /// The step duration is zero.
    #[error("the TOTP period must be at least one second")]
    InvalidPeriod,
    /// The issuer contains a `:`.
    #[error("the TOTP issuer must not contain `:`")]
    InvalidIssuer,
    /// The account name is empty or contains a `:`.
    #[error("the TOTP account name must be non-empty and must not contain `:`")]
    InvalidAccountName,
    /// Any other parameter totp-rs refuses.
    #[error("invalid TOTP settings")]
    InvalidSettings,
}

impl TotpError {
    fn from_settings(error: totp_rs::TotpError) -> Self {
        match error {
            totp_rs::TotpError::InvalidDigits { digits } => Self::InvalidDigits(digits),
            totp_rs::TotpError::InvalidStepZero => Self::InvalidPeriod,
            totp_rs::TotpError::SecretTooShort { bits } => Self::SecretTooShort { bits },
            totp_rs::TotpError::InvalidIssuer { .. } => Self::InvalidIssuer,
            totp_rs::TotpError::AccountNameNotSet
            | totp_rs::TotpError::InvalidAccountName { .. } => Self::InvalidAccountName,
            _ => Self::InvalidSettings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    /// RFC 6238 appendix B's SHA-1 secret: the ASCII digits "1234567890" repeated to 20 bytes.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn rfc_totp(digits: u8) -> Totp {
        let mut settings = TotpSettings::new("Example");
        settings.digits = digits;
        let secret = TotpSecret::from_bytes(RFC_SECRET).unwrap();
        Totp::new(&settings, secret, "ada@example.com").unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1 column (8 digits); 6 digits are their last six.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let eight = rfc_totp(8);
        let six = rfc_totp(6);
        for (time, code) in vectors {
            assert_eq!(eight.code_at(time), code, "8 digits at {time}");
            assert_eq!(six.code_at(time), &code[2..], "6 digits at {time}");
            assert_eq!(eight.verify(code, time, None), Ok(eight.step_at(time)));
        }
    }

    #[test]
    fn codes_match_the_sha256_and_sha512_vectors_too() {
        // RFC 6238 appendix B: the seed is "1234567890" repeated to the hash's length.
        let vectors = [
            (59, "46119246", "90693936"),
            (1_111_111_109, "68084774", "25091201"),
            (1_111_111_111, "67062674", "99943326"),
            (1_234_567_890, "91819424", "93441116"),
            (2_000_000_000, "90698825", "38618901"),
            (20_000_000_000, "77737706", "47863826"),
        ];
        let with = |algorithm, len| {
            let mut settings = TotpSettings::new("Example");
            settings.digits = 8;
            settings.algorithm = algorithm;
            let seed: Vec<u8> = b"1234567890".iter().copied().cycle().take(len).collect();
            Totp::new(&settings, TotpSecret::from_bytes(&seed).unwrap(), "ada").unwrap()
        };
        let sha256 = with(TotpAlgorithm::Sha256, 32);
        let sha512 = with(TotpAlgorithm::Sha512, 64);
        for (time, code256, code512) in vectors {
            assert_eq!(sha256.code_at(time), code256, "SHA-256 at {time}");
            assert_eq!(sha512.code_at(time), code512, "SHA-512 at {time}");
            assert_eq!(sha256.verify(code256, time, None), Ok(sha256.step_at(time)));
            assert_eq!(sha512.verify(code512, time, None), Ok(sha512.step_at(time)));
        }
        assert!(sha256
            .provisioning_uri()
            .unwrap()
            .contains("algorithm=SHA256"));
    }

    #[test]
    fn a_code_is_accepted_within_the_skew_window_only() {
        let totp = rfc_totp(6);
        let now = 1_700_000_000;
        let code = totp.code_at(now);
        let step = totp.step_at(now);
        // One step late or early (clock drift, typing time) still matches, and reports the
        // code's own step.
        assert_eq!(totp.verify(&code, now + 30, None), Ok(step));
        assert_eq!(totp.verify(&code, now - 30, None), Ok(step));
        assert_eq!(totp.verify(&code, now + 60, None), Err(TotpError::Mismatch));
        assert_eq!(totp.verify(&code, now - 60, None), Err(TotpError::Mismatch));
    }

    #[test]
    fn a_used_step_and_earlier_ones_are_refused() {
        let totp = rfc_totp(6);
        let now = 1_700_000_000;
        let code = totp.code_at(now);
        let step = totp.verify(&code, now, None).unwrap();
        assert_eq!(
            totp.verify(&code, now, Some(step)),
            Err(TotpError::Replayed)
        );
        // After a newer code was accepted, the older one (still in the window) is refused.
        assert_eq!(
            totp.verify(&code, now + 30, Some(step + 1)),
            Err(TotpError::Replayed)
        );
        // A code of a later step goes through.
        let next = totp.code_at(now + 30);
        assert_eq!(totp.verify(&next, now + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn wrong_and_malformed_codes_are_refused() {
        let totp = rfc_totp(6);
        let now = 1_700_000_000;
        let code = totp.code_at(now);
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(totp.verify(&wrong, now, None), Err(TotpError::Mismatch));
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        assert!(
            totp.verify(&spaced, now, None).is_ok(),
            "spaces are ignored"
        );
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "+12345",
            "-12345",
            "١٢٣٤٥٦",
            "123\t456",
            &"1".repeat(1000),
        ] {
            assert_eq!(
                totp.verify(bad, now, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn settings_and_secrets_are_validated() {
        let secret = || TotpSecret::from_bytes(RFC_SECRET).unwrap();
        let mut settings = TotpSettings::new("Example");
        settings.digits = 5;
        assert_eq!(
            Totp::new(&settings, secret(), "ada").unwrap_err(),
            TotpError::InvalidDigits(5)
        );
        let mut settings = TotpSettings::new("Example");
        settings.period_seconds = 0;
        assert_eq!(
            Totp::new(&settings, secret(), "ada").unwrap_err(),
            TotpError::InvalidPeriod
        );
        let settings = TotpSettings::new("Ex:ample");
        assert_eq!(
            Totp::new(&settings, secret(), "ada").unwrap_err(),
            TotpError::InvalidIssuer
        );
        let settings = TotpSettings::new("Example");
        for name in ["", "ada:admin"] {
            assert_eq!(
                Totp::new(&settings, secret(), name).unwrap_err(),
                TotpError::InvalidAccountName
            );
        }
        assert_eq!(
            TotpSecret::from_bytes(&[7; 15]).unwrap_err(),
            TotpError::SecretTooShort { bits: 120 }
        );
        assert_eq!(
            TotpSecret::from_base32("not base32!").unwrap_err(),
            TotpError::InvalidSecret
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBV").unwrap_err(),
            TotpError::SecretTooShort { bits: 40 }
        );
    }

    #[test]
    fn secrets_round_trip_and_never_show_in_debug() {
        let secret = TotpSecret::generate(&SeededRandom::new(1));
        assert_eq!(secret.expose_bytes().len(), TotpSecret::GENERATED_LEN);
        let text = secret.to_base32();
        let back = TotpSecret::from_base32(&text).unwrap();
        assert_eq!(back.expose_bytes(), secret.expose_bytes());
        assert_eq!(format!("{secret:?}"), "TotpSecret(..)");

        let totp = Totp::new(&TotpSettings::new("Example"), secret, "ada").unwrap();
        let debug = format!("{totp:?}");
        assert!(!debug.contains(&text), "{debug}");
        assert_eq!(
            totp.provisioning_uri().unwrap(),
            format!("otpauth://totp/Example:ada?secret={text}&issuer=Example")
        );
    }
}
