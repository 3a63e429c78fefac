//! The keys that protect second factors at rest: TOTP secrets sealed with AES-256-GCM, backup
//! codes kept as HMAC-SHA256 tags. Both keys are derived (HKDF-SHA256, aws-lc-rs) from one
//! configured secret, `AUTH__MFA__ENCRYPTION_KEY`, with a label each, so neither can stand in
//! for the other.
//!
//! ```
//! use auth_core::mfa::MfaKeys;
//! use auth_core::random::OsRandom;
//!
//! let keys = MfaKeys::derive(b"0123456789abcdef0123456789abcdef-not-for-production");
//! let sealed = keys.seal(b"JBSWY3DPEHPK3PXP", "user-1", &OsRandom);
//! assert_eq!(keys.open(&sealed, "user-1").unwrap(), b"JBSWY3DPEHPK3PXP");
//! // Sealed for one user, it opens for no other (a row copied onto another account is useless).
//! assert!(keys.open(&sealed, "user-2").is_err());
//! ```

use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{hkdf, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::random::Random;

/// The sealed value is not one these keys sealed for this user (another key, another user,
/// damaged or not base64url).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stored second-factor secret cannot be opened with the configured MFA key")]
pub struct OpenError;

/// The derived keys. `Debug` shows nothing of them.
pub struct MfaKeys {
    seal: LessSafeKey,
    tag: hmac::Key,
}

impl fmt::Debug for MfaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaKeys(..)")
    }
}

/// Salt of the derivation: fixed, so every instance derives the same keys.
const SALT: &[u8] = b"auth-framework mfa keys";

fn expand(prk: &hkdf::Prk, label: &[u8]) -> [u8; 32] {
    let mut out = [0_u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 blocks: this cannot fail.
    if let Ok(okm) = prk.expand(&[label], hkdf::HKDF_SHA256) {
        let _ = okm.fill(&mut out);
    }
    out
}

impl MfaKeys {
    /// The keys derived from `secret` (at least 32 random bytes; configuration checks it).
    #[must_use]
    pub fn derive(secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret);
        let mut seal = expand(&prk, b"totp secret sealing v1");
        let mut tag = expand(&prk, b"backup code tags v1");
        // AES_256_GCM takes exactly 32 bytes: this cannot fail.
        let unbound = UnboundKey::new(&AES_256_GCM, &seal).unwrap_or_else(|_| unreachable!());
        let keys = Self {
            seal: LessSafeKey::new(unbound),
            tag: hmac::Key::new(hmac::HMAC_SHA256, &tag),
        };
        seal.fill(0);
        tag.fill(0);
        keys
    }

    /// `plaintext` sealed for `owner` (bound as associated data): a random nonce and the
    /// ciphertext with its tag, base64url.
    #[must_use]
    pub fn seal(&self, plaintext: &[u8], owner: &str, random: &dyn Random) -> String {
        let mut nonce = [0_u8; NONCE_LEN];
        random.fill(&mut nonce);
        let mut sealed = plaintext.to_vec();
        // Sealing into a Vec fails only for inputs of gigabytes; a TOTP secret is 20 bytes.
        let _ = self.seal.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(owner.as_bytes()),
            &mut sealed,
        );
        let mut out = nonce.to_vec();
        out.append(&mut sealed);
        let text = URL_SAFE_NO_PAD.encode(&out);
        out.fill(0);
        text
    }

    /// What [`seal`](Self::seal) sealed for `owner`.
    ///
    /// # Errors
    /// [`OpenError`] for anything these keys did not seal for `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut in_out)
            .map_err(|_| OpenError)?
            .to_vec();
        in_out.fill(0);
        Ok(plain)
    }

    /// The stored form of one of `owner`'s backup codes: HMAC-SHA256 over the owner and the
    /// code, base64url. Codes carry 50 bits; keyed, a stolen table alone cannot be searched.
    #[must_use]
    pub fn tag(&self, owner: &str, code: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.tag);
        ctx.update(&(owner.len() as u64).to_be_bytes());
        ctx.update(owner.as_bytes());
        ctx.update(code.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::{MfaKeys, OpenError};
    use crate::random::SeededRandom;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_owner() {
        let random = SeededRandom::new(7);
        let keys = MfaKeys::derive(&[1; 32]);
        let sealed = keys.seal(b"secret bytes", "u1", &random);
        assert!(!sealed.contains("secret"));
        assert_eq!(keys.open(&sealed, "u1").unwrap(), b"secret bytes");
        assert_eq!(keys.open(&sealed, "u2"), Err(OpenError));
        assert_eq!(
            MfaKeys::derive(&[2; 32]).open(&sealed, "u1"),
            Err(OpenError)
        );
        // Two seals of one secret differ (fresh nonce).
        assert_ne!(sealed, keys.seal(b"secret bytes", "u1", &random));
        // Damage anywhere is refused.
        let mut damaged = sealed.clone().into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert_eq!(keys.open(&damaged, "u1"), Err(OpenError));
        assert_eq!(keys.open("", "u1"), Err(OpenError));
        assert_eq!(keys.open("not base64 !", "u1"), Err(OpenError));
    }

    #[test]
    fn tags_depend_on_key_owner_and_code() {
        let keys = MfaKeys::derive(&[1; 32]);
        let tag = keys.tag("u1", "abcde12345");
        assert_eq!(tag, keys.tag("u1", "abcde12345"));
        assert_ne!(tag, keys.tag("u2", "abcde12345"));
        assert_ne!(tag, keys.tag("u1", "abcde12346"));
        assert_ne!(tag, MfaKeys::derive(&[2; 32]).tag("u1", "abcde12345"));
        // The owner's length is part of the input: `u1` + `2abc` is not `u12` + `abc`.
        assert_ne!(keys.tag("u1", "2abc"), keys.tag("u12", "abc"));
    }
}
