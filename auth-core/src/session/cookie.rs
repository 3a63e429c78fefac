//! The pieces of cookie authentication that are not HTTP: the cookie secret, what is stored
//! of it, and the CSRF token derived from it.
//!
//! A browser session is authenticated by a random 256-bit secret in an HttpOnly cookie. The
//! store keeps only its SHA-256, so a leaked database does not yield usable cookies. The CSRF
//! token is derived from the secret (SHA-256 with a domain label): a script on the site reads it
//! from a non-HttpOnly cookie or the login response and echoes it in `X-CSRF-Token`; a
//! cross-site page can do neither.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::random::Random;
use crate::token::refresh::RefreshTokenCodec;

/// The value of cookie `name` in a request's `Cookie` header values (`a=1; b=2`): the first
/// pair of that name, surrounding double quotes trimmed; an empty value counts as none.
///
/// ```
/// use auth_core::session::cookie::cookie_value;
///
/// assert_eq!(cookie_value(["theme=dark; session=abc"], "session"), Some("abc"));
/// assert_eq!(cookie_value(["a=1", " session = \"abc\" "], "session"), Some("abc"));
/// assert_eq!(cookie_value(["session="], "session"), None);
/// assert_eq!(cookie_value(["xsession=abc"], "session"), None);
/// ```
pub fn cookie_value<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Longest cookie secret accepted; anything longer is refused before hashing.
pub const MAX_SECRET_LEN: usize = 128;

/// A fresh cookie secret: 32 random bytes, base64url.
#[must_use]
pub fn new_secret(random: &dyn Random) -> String {
    random.token()
}

/// What the store keeps of a secret: its SHA-256, hex.
#[must_use]
pub fn secret_hash(secret: &str) -> String {
    RefreshTokenCodec::hash(secret)
}

/// The CSRF token that goes with a secret.
///
/// ```
/// use auth_core::session::cookie::{csrf_matches, csrf_token};
/// let token = csrf_token("the-cookie-secret");
/// assert!(csrf_matches("the-cookie-secret", &token));
/// assert!(!csrf_matches("another-secret", &token));
/// ```
#[must_use]
pub fn csrf_token(secret: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"auth-csrf:");
    digest.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// Whether `token` is the CSRF token of `secret`, compared in constant time.
#[must_use]
pub fn csrf_matches(secret: &str, token: &str) -> bool {
    csrf_token(secret).as_bytes().ct_eq(token.as_bytes()).into()
}
