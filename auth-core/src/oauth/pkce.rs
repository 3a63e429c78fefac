//! PKCE (RFC 7636), `S256` only: the client keeps a random verifier and sends its SHA-256 with
//! the authorization request; the code is exchanged only with the verifier.
//!
//! ```
//! use auth_core::oauth::pkce;
//!
//! // RFC 7636 appendix B.
//! let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
//! let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
//! assert!(pkce::verify_s256(verifier, challenge));
//! assert!(!pkce::verify_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", challenge));
//! assert!(!pkce::verify_s256("short", challenge));
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `text` has the shape of a verifier (or of an `S256` challenge, 43 characters):
/// 43 to 128 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
#[must_use]
pub fn well_formed(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The `S256` challenge of `verifier`: base64url of its SHA-256, unpadded.
#[must_use]
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is well formed and its `S256` challenge is `challenge`.
#[must_use]
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    well_formed(verifier)
        && bool::from(
            challenge_s256(verifier)
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}
