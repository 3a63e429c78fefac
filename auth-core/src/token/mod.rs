//! Access tokens: issuing and verifying JWTs with a rotating key set.
//!
//! [`TokenManager`] signs with the current key of a [`KeySet`] and verifies against every key
//! still in its grace period. Verification is strict and ordered so that cheap rejections come
//! first:
//!
//! 1. size limit (`jwt.max_token_bytes`), before any parsing;
//! 2. header: `crit` refused (we implement no extensions, RFC 7515 section 4.1.11), `kid`
//!    required and known, `alg` equal to the algorithm bound to that key (so `none` and
//!    HS/RS confusion are impossible). A header byte for byte as one of our keys writes it
//!    skips the parse: it names that key and nothing else;
//! 3. an expired `exp` is refused before any signature work;
//! 4. signature, with aws-lc-rs and the key parsed once at start-up (an HMAC key, a key pair
//!    or a parsed public key; never per token);
//! 5. claims, read in the one shape this crate writes them without a general JSON parse (any
//!    other shape is parsed by `serde_json`, which decides), and checked with our
//!    [`crate::Clock`]: `exp` and `nbf` required and checked with a leeway of at most
//!    60 s, `iat` not in the future, `iss`/`aud` required when configured, `typ` equal to what
//!    the caller expects.
//!
//! A token that passed all of this is remembered in a bounded cache
//! (`jwt.verify_cache_entries`): presented again, it costs a hash and a comparison, and its
//! expiry (and its key's grace) are still checked.
//!
//! Revocation is keyed on the token id (`jti`), the session (`sid`) and the user's security
//! epoch, never on the token bytes (an ECDSA signature has more than one valid encoding).
//!
//! ```
//! use auth_core::config::{JwtAlgorithm, JwtConfig};
//! use auth_core::token::{JwtKey, KeySet, TokenManager, TokenSubject, TokenType};
//! use auth_core::SystemClock;
//! use std::sync::Arc;
//!
//! // A fresh random key; a configured one comes from `AUTH__JWT__SECRET_KEY`, where a
//! // guessable value (such as a run of hex digits) is refused at start-up.
//! let (key, _material) = JwtKey::generate(JwtAlgorithm::HS256)?;
//! let manager = TokenManager::new(KeySet::new(key)?, &JwtConfig::default(), Arc::new(SystemClock));
//! let issued = manager.issue(&TokenSubject::access("user-1").with_roles(["editor"]))?;
//! let claims = manager.verify(&issued.token, TokenType::Access)?;
//! assert_eq!(claims.sub, "user-1");
//! assert_eq!(claims.roles, ["editor"]);
//! # Ok::<(), auth_core::TokenError>(())
//! ```

mod cache;
mod claims;
mod error;
mod fast_json;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod header;
pub mod jwk;
pub mod keys;
pub mod refresh;
pub mod revocation;
mod revocation_view;
pub mod setup;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use self::cache::VerifiedCache;
pub use self::claims::{Audience, Claims, TokenSubject, TokenType};
pub use self::error::TokenError;
pub use self::keys::{JwtKey, KeySet};
pub use self::revocation_view::RevocationView;
use crate::clock::Clock;
use crate::config::{seconds, JwtAlgorithm, JwtConfig};
use crate::random::{OsRandom, Random};

/// A freshly signed token and what it says.
#[derive(Clone)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("claims", &self.claims)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The settings verification and issuing need, taken from [`JwtConfig`].
#[derive(Debug, Clone)]
struct Settings {
    issuer: Option<String>,
    audience: Option<String>,
    leeway: i64,
    access_ttl: i64,
    max_token_bytes: usize,
    grace: i64,
    include_roles: bool,
    include_permissions: bool,
}

/// Issues and verifies access tokens. Cheap to clone; clones share the key set.
#[derive(Clone)]
pub struct TokenManager {
    keys: Arc<ArcSwap<KeySet>>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    cache: Option<Arc<VerifiedCache>>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("keys", &self.keys.load().kids())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager over `keys`, configured by `config`, reading time from `clock`.
    #[must_use]
    pub fn new(keys: KeySet, config: &JwtConfig, clock: Arc<dyn Clock>) -> Self {
        let settings = Settings {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: i64::try_from(config.leeway_seconds.min(60)).unwrap_or(60),
            access_ttl: seconds(config.access_token_ttl()),
            max_token_bytes: config.max_token_bytes,
            grace: seconds(Duration::from_secs(
                config.key_rotation_grace_period_seconds,
            )),
            include_roles: config.include_roles,
            include_permissions: config.include_permissions,
        };
        Self {
            keys: Arc::new(ArcSwap::from_pointee(keys)),
            settings: Arc::new(settings),
            clock,
            random: Arc::new(OsRandom),
            cache: VerifiedCache::new(config.verify_cache_entries).map(Arc::new),
        }
    }

    /// Draws token ids from `random` instead of the operating system (tests).
    #[must_use]
    pub fn with_random(mut self, random: Arc<dyn Random>) -> Self {
        self.random = random;
        self
    }

    /// The current key set.
    #[must_use]
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// The key set to publish (`GET /.well-known/jwks.json`): the public keys tokens may be
    /// verified with now, the signing key first, then retired keys still in their grace
    /// period. HMAC keys are secrets and never published, so a service signing with HS256
    /// publishes an empty set.
    #[must_use]
    pub fn jwks(&self) -> jwk::JwkSet {
        let now = self.clock.now();
        let grace = self.settings.grace;
        let keys = self.keys.load();
        let live = |key: &&JwtKey| {
            key.retired_at()
                .is_none_or(|at| at.saturating_add(grace) >= now)
        };
        jwk::JwkSet {
            keys: keys
                .iter()
                .filter(live)
                .filter_map(JwtKey::public_jwk)
                .collect(),
        }
    }

    /// Makes `next` the signing key. Tokens signed with the previous key stay valid for the
    /// configured grace period (`jwt.key_rotation_grace_period_seconds`).
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] when `next` cannot sign.
    pub fn rotate(&self, next: JwtKey) -> Result<(), TokenError> {
        let rotated = self.keys.load().rotated(next, self.clock.now())?;
        self.keys.store(Arc::new(rotated));
        // After the store: a verification that read the new generation loads the new keys.
        if let Some(cache) = &self.cache {
            cache.clear();
        }
        Ok(())
    }

    /// The access-token lifetime in seconds.
    #[must_use]
    pub fn access_ttl(&self) -> i64 {
        self.settings.access_ttl
    }

    /// Issues a token for `subject` with the configured lifetime.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the key cannot sign.
    pub fn issue(&self, subject: &TokenSubject) -> Result<IssuedToken, TokenError> {
        let now = self.clock.now();
        let s = &self.settings;
        let claims = Claims {
            sub: subject.user_id.clone(),
            exp: now + s.access_ttl,
            iat: now,
            nbf: now,
            jti: self.random.uuid().simple().to_string(),
            iss: s.issuer.clone(),
            aud: s.audience.clone().map(Audience::One),
            sid: subject.session_id.clone(),
            typ: subject.token_type,
            epc: subject.security_epoch,
            auth_time: subject.auth_time,
            amr: subject.amr.clone(),
            roles: if s.include_roles {
                subject.roles.clone()
            } else {
                Vec::new()
            },
            permissions: if s.include_permissions {
                subject.permissions.clone()
            } else {
                Vec::new()
            },
            tenant: subject.tenant.clone(),
            client_id: subject.client_id.clone(),
            scope: subject.scope.clone(),
        };
        let token = self.sign(&claims)?;
        Ok(IssuedToken {
            token,
            claims,
            expires_in: u64::try_from(s.access_ttl).unwrap_or(0),
        })
    }

    /// Signs `claims` exactly as given, with the current key. Meant for tests and tools; the
    /// flows use [`issue`](Self::issue).
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the key cannot sign.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let payload = serde_json::to_vec(claims).map_err(|_| TokenError::Signing)?;
        self.sign_payload(claims.typ, &payload)
    }

    /// `payload` signed with the current key under its header for `typ`.
    fn sign_payload(&self, typ: TokenType, payload: &[u8]) -> Result<String, TokenError> {
        let keys = self.keys.load();
        let key = keys.current();
        let header = key.header(typ);
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 360);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = key.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// Signs any JSON `payload` (an ID token's claims) with the current key, under the header
    /// of tokens other than access tokens (`typ: JWT`), so that it can never pass for an
    /// access token.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the key cannot sign.
    pub fn sign_json<T: serde::Serialize>(&self, payload: &T) -> Result<String, TokenError> {
        let payload = serde_json::to_vec(payload).map_err(|_| TokenError::Signing)?;
        self.sign_payload(TokenType::Refresh, &payload)
    }

    /// Whether the signing key has a public key to publish (RS256, ES256, EdDSA): what
    /// others need to verify what it signs. HMAC keys do not.
    #[must_use]
    pub fn signs_publicly(&self) -> bool {
        self.keys.load().current().public_jwk().is_some()
    }

    /// Verifies `token` and returns its claims if it is a valid token of type `expected`.
    /// Revocation is not checked here (it needs a store); see
    /// [`AuthService::verify_access`](crate::AuthService::verify_access).
    ///
    /// # Errors
    /// The [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        if self.cache.is_none() {
            return self.verify_fully(token, expected).map(|(claims, _)| claims);
        }
        self.verify_shared(token, expected)
            .map(Arc::unwrap_or_clone)
    }

    /// As [`verify`](Self::verify), shared: a token verified before (and still within its
    /// time) is answered from the verification cache (`jwt.verify_cache_entries`) without
    /// repeating the signature and claims work.
    ///
    /// # Errors
    /// The [`TokenError`] naming the first check that failed.
    pub fn verify_shared(
        &self,
        token: &str,
        expected: TokenType,
    ) -> Result<Arc<Claims>, TokenError> {
        let Some(cache) = &self.cache else {
            return self
                .verify_fully(token, expected)
                .map(|(claims, _)| Arc::new(claims));
        };
        let cached = cache.get(token, self.clock.now());
        crate::telemetry::verify_cache(cached.is_some());
        if let Some(claims) = cached {
            if claims.typ != expected {
                return Err(TokenError::WrongTokenType {
                    expected,
                    found: claims.typ,
                });
            }
            return Ok(claims);
        }
        // Before the key set is loaded: if a rotation comes in between, the entry is stale
        // at once rather than living past the old key's grace.
        let generation = cache.generation();
        let (claims, deadline) = self.verify_fully(token, expected)?;
        let claims = Arc::new(claims);
        cache.insert(token, &claims, deadline, generation);
        Ok(claims)
    }

    /// Every check, no cache: the claims, and the first second at which the token stops
    /// being accepted (expiry plus leeway, or the end of its key's grace period).
    fn verify_fully(&self, token: &str, expected: TokenType) -> Result<(Claims, i64), TokenError> {
        let s = &self.settings;
        if token.len() > s.max_token_bytes {
            return Err(TokenError::TooLarge {
                max: s.max_token_bytes,
            });
        }
        let (signing_input, signature_b64) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        // A third `.` lands in the payload, whose base64 decode refuses it.
        let (header_b64, payload_b64) =
            signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        let keys = self.keys.load();
        // A header byte for byte as one of our keys writes it needs no parse.
        let key = match keys.by_header(header_b64) {
            Some(key) => key,
            None => self.key_for_header(&keys, header_b64)?,
        };
        let now = self.clock.now();
        let key_deadline = key.retired_at().map_or(i64::MAX, |retired_at| {
            retired_at.saturating_add(s.grace).saturating_add(1)
        });
        if now >= key_deadline {
            return Err(TokenError::KeyRetired);
        }
        // Typical claims fit on the stack; larger ones (up to the size limit) go to the heap.
        let (mut payload_stack, mut payload_heap) = ([0_u8; 512], Vec::new());
        let payload = decode_segment(payload_b64, &mut payload_stack, &mut payload_heap)?;
        // An expired token is refused before any signature work: the answer is a refusal
        // either way, and nothing is accepted before the signature is checked.
        if early_exp(payload).is_some_and(|exp| exp.saturating_add(s.leeway) <= now) {
            return Err(TokenError::Expired);
        }
        // Validated once here, so the claims parse below need not check each string again.
        let payload = std::str::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        // Unpadded base64 of at most `MAX_SIGNATURE_BYTES`.
        if signature_b64.len() > (MAX_SIGNATURE_BYTES * 4).div_ceil(3) {
            return Err(TokenError::Malformed);
        }
        // Up to RSA-4096 on the stack.
        let (mut signature_stack, mut signature_heap) = ([0_u8; 512], Vec::new());
        let signature = decode_segment(signature_b64, &mut signature_stack, &mut signature_heap)?;
        if !key.verifies(signing_input.as_bytes(), signature) {
            return Err(TokenError::BadSignature);
        }
        // Our own tokens are read in the one shape we write; anything else the general way.
        let claims = match fast_json::claims(payload) {
            Some(claims) => claims,
            None => serde_json::from_str::<Claims>(payload).map_err(|e| {
                missing_claim(&e.to_string())
                    .map_or(TokenError::Malformed, TokenError::MissingClaim)
            })?,
        };

        // A NumericDate before 1970 is nothing an issuer of ours writes (and jsonwebtoken
        // refuses it too).
        if claims.exp < 0 || claims.iat < 0 || claims.nbf < 0 {
            return Err(TokenError::Malformed);
        }
        if claims.exp.saturating_add(s.leeway) <= now {
            return Err(TokenError::Expired);
        }
        if claims.nbf.saturating_sub(s.leeway) > now {
            return Err(TokenError::NotYetValid);
        }
        if claims.iat.saturating_sub(s.leeway) > now {
            return Err(TokenError::IssuedInFuture);
        }
        if let Some(issuer) = &s.issuer {
            if claims.iss.as_deref() != Some(issuer.as_str()) {
                return Err(TokenError::WrongIssuer);
            }
        }
        if let Some(audience) = &s.audience {
            if !claims
                .aud
                .as_ref()
                .is_some_and(|aud| aud.contains(audience))
            {
                return Err(TokenError::WrongAudience);
            }
        }
        if claims.sub.is_empty() {
            return Err(TokenError::MissingClaim("sub"));
        }
        if claims.jti.is_empty() {
            return Err(TokenError::MissingClaim("jti"));
        }
        if claims.typ != expected {
            return Err(TokenError::WrongTokenType {
                expected,
                found: claims.typ,
            });
        }
        let deadline = claims.exp.saturating_add(s.leeway).min(key_deadline);
        Ok((claims, deadline))
    }

    /// Parses a header we did not write ourselves and finds its key: `crit` refused, `kid`
    /// required and known, `alg` equal to the key's.
    #[inline(never)] // off the hot path, which has recognised our own header
    fn key_for_header<'k>(
        &self,
        keys: &'k KeySet,
        header_b64: &str,
    ) -> Result<&'k JwtKey, TokenError> {
        let (mut stack, mut heap) = ([0_u8; 256], Vec::new());
        let header_json = decode_segment(header_b64, &mut stack, &mut heap)?;
        let header_json = std::str::from_utf8(header_json).map_err(|_| TokenError::Malformed)?;
        let header = header::parse(header_json)?;
        if header.crit.is_some() {
            return Err(TokenError::UnsupportedCritical);
        }
        let alg = match &*header.alg {
            "HS256" => JwtAlgorithm::HS256,
            "HS384" => JwtAlgorithm::HS384,
            "HS512" => JwtAlgorithm::HS512,
            "RS256" => JwtAlgorithm::RS256,
            "ES256" => JwtAlgorithm::ES256,
            "EdDSA" => JwtAlgorithm::EdDSA,
            _ => return Err(TokenError::AlgorithmNotAllowed),
        };
        let kid = header.kid.ok_or(TokenError::MissingKeyId)?;
        let key = keys.get(&kid).ok_or(TokenError::UnknownKeyId)?;
        if key.algorithm() != alg {
            return Err(TokenError::AlgorithmMismatch);
        }
        Ok(key)
    }
}

/// The largest signature we accept: RSA with an 8192-bit modulus.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// Decodes a base64url segment into `stack` when it surely fits, else into `heap`. (Only the
/// buffer used is written; a zeroed stack buffer is cheaper than an allocation.)
fn decode_segment<'b>(
    b64: &str,
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], TokenError> {
    if b64.len() / 4 * 3 + 3 <= stack.len() {
        let len = URL_SAFE_NO_PAD
            .decode_slice(b64, stack)
            .map_err(|_| TokenError::Malformed)?;
        stack.get(..len).ok_or(TokenError::Malformed)
    } else {
        URL_SAFE_NO_PAD
            .decode_vec(b64, heap)
            .map_err(|_| TokenError::Malformed)?;
        Ok(heap)
    }
}

/// The `exp` of a payload as this crate writes it (compact JSON, `"exp":` once, at the top
/// level), found without parsing the claims. Only ever used to refuse early: the claims are
/// parsed and checked in full after the signature.
fn early_exp(payload: &[u8]) -> Option<i64> {
    // From quote to quote: our tokens put `exp` second, a few quotes in.
    let mut rest = payload;
    let digits = loop {
        let quote = rest.iter().position(|&b| b == b'"')?;
        rest = &rest[quote + 1..];
        if let Some(digits) = rest.strip_prefix(b"exp\":") {
            break digits;
        }
    };
    if !digits.first()?.is_ascii_digit() {
        return None;
    }
    digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .try_fold(0_i64, |exp, b| {
            exp.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
}

/// Names the required claim a deserialization error complains about, if any.
fn missing_claim(message: &str) -> Option<&'static str> {
    ["exp", "nbf", "iat", "sub", "jti", "typ"]
        .into_iter()
        .find(|claim| message.contains(&format!("missing field `{claim}`")))
}
