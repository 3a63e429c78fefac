//! Account lifecycle: the one-time tokens that password reset, email verification and email
//! change mail to a user, and the [`OneTimeTokenStore`] that keeps them.
//!
//! A token is 256 random bits, given to the user once (in a mail) and stored only as its
//! SHA-256 hash. It is single use and short-lived, a newer token of the same purpose for the
//! same user supersedes the older one, and every token of a user is void once the password
//! changes. A wrong, used, expired or superseded token are one and the same answer: no token.
//! The flows that use them live in `service/account/`.

use std::fmt;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::random::Random;
use crate::user::UserId;

/// What a one-time token is for; a token of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenPurpose {
    /// `POST /auth/password/reset`.
    PasswordReset,
    /// `POST /auth/verify-email`.
    VerifyEmail,
    /// `POST /auth/email/confirm`: the new address of an email change.
    ChangeEmail,
    /// `POST /auth/mfa/verify`: a login whose password was right, waiting for its second
    /// factor (the `mfa_token`).
    MfaLogin,
}

impl TokenPurpose {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::VerifyEmail => "verify_email",
            Self::ChangeEmail => "change_email",
            Self::MfaLogin => "mfa_login",
        }
    }

    /// The purpose of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "password_reset" => Some(Self::PasswordReset),
            "verify_email" => Some(Self::VerifyEmail),
            "change_email" => Some(Self::ChangeEmail),
            "mfa_login" => Some(Self::MfaLogin),
            _ => None,
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored one-time token: its hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OneTimeToken {
    /// SHA-256 of the token, base64url ([`hash_token`]).
    pub hash: String,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// Whose it is.
    pub user_id: UserId,
    /// When it was issued (seconds since the Unix epoch).
    pub issued_at: i64,
    /// When it stops working (seconds since the Unix epoch).
    pub expires_at: i64,
    /// What it carries: the new address of an email change.
    pub payload: Option<String>,
}

impl OneTimeToken {
    /// A record for `hash`.
    #[must_use]
    pub fn new(
        hash: String,
        purpose: TokenPurpose,
        user_id: UserId,
        issued_at: i64,
        expires_at: i64,
    ) -> Self {
        Self {
            hash,
            purpose,
            user_id,
            issued_at,
            expires_at,
            payload: None,
        }
    }

    /// Whether the token works for `purpose` at `now` (unexpired; it stops at `expires_at`).
    #[must_use]
    pub fn serves(&self, purpose: TokenPurpose, now: i64) -> bool {
        self.purpose == purpose && self.expires_at > now
    }

    /// The same token carrying `payload`.
    #[must_use]
    pub fn with_payload(mut self, payload: impl Into<String>) -> Self {
        self.payload = Some(payload.into());
        self
    }
}

/// A new token: the secret for the user's mail, and the hash to store.
#[must_use]
pub fn new_token(random: &dyn Random) -> (SecretString, String) {
    let token = random.token();
    let hash = hash_token(&token);
    (SecretString::from(token), hash)
}

/// The stored form of a token: SHA-256, base64url. The token carries 256 random bits, so a
/// plain hash is enough: nothing to guess, and a leaked table holds nothing usable.
#[must_use]
pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Persistence of one-time tokens. Every backend keeps at most one live token per user and
/// purpose, and consumes atomically: of two concurrent consumptions of one token, exactly one
/// gets it.
#[async_trait]
pub trait OneTimeTokenStore: Send + Sync + fmt::Debug + 'static {
    /// Stores `token`, replacing the user's token of the same purpose (which then no longer
    /// works).
    async fn issue(&self, token: &OneTimeToken) -> Result<(), StoreError>;

    /// Takes the token with this hash, if it exists, is for `purpose` and is unexpired at
    /// `now`: it is removed in the same step, so it works once. `None` otherwise, whatever the
    /// reason.
    async fn consume(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError>;

    /// The token with this hash, if it exists, is for `purpose` and is unexpired at `now`,
    /// left in place: for checks that must pass before the token is spent (a new password
    /// the policy refuses leaves a reset link usable). Only [`consume`](Self::consume)
    /// decides who gets it.
    async fn find(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeToken>, StoreError>;

    /// Removes every token of the user (after a password change); returns how many.
    async fn void_user(&self, user_id: &UserId) -> Result<u64, StoreError>;

    /// Removes at most `limit` tokens expired at `now`; returns how many (fewer than `limit`
    /// once none is left). A used token is gone already: [`consume`](Self::consume) removes
    /// it.
    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::{hash_token, new_token, TokenPurpose};
    use crate::random::SeededRandom;
    use secrecy::ExposeSecret;

    #[test]
    fn tokens_are_256_bits_and_stored_as_their_hash() {
        let random = SeededRandom::new(1);
        let (token, hash) = new_token(&random);
        assert_eq!(token.expose_secret().len(), 43, "32 bytes, base64url");
        assert_eq!(hash, hash_token(token.expose_secret()));
        assert_ne!(hash, token.expose_secret());
        let (other, _) = new_token(&random);
        assert_ne!(other.expose_secret(), token.expose_secret());
    }

    #[test]
    fn purposes_round_trip_their_names() {
        for purpose in [
            TokenPurpose::PasswordReset,
            TokenPurpose::VerifyEmail,
            TokenPurpose::ChangeEmail,
        ] {
            assert_eq!(TokenPurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(TokenPurpose::parse("login"), None);
    }
}
