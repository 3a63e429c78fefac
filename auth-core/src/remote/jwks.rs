//! Verification by the issuer's published keys: fetched when a token names a key id not seen
//! yet, at most once per cooldown (openidconnect-rs never refetches, and broke its users
//! when keys rotated; a flood of made-up key ids must not become a flood of fetches).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::Mutex;

use super::unavailable;
use crate::error::{AuthError, Result};
use crate::token::{Claims, TokenError, TokenType};

/// The clock-skew allowance for `exp` and `nbf`, as for the service's own tokens.
const LEEWAY_SECONDS: u64 = 30;

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Algorithm)>,
    /// When the set was last fetched (successfully or not).
    fetched: Option<Instant>,
}

/// The issuer's keys by id.
pub(super) struct KeyCache {
    http: reqwest::Client,
    url: String,
    cooldown: Duration,
    keys: Mutex<Keys>,
}

/// The algorithm a published key is for: its `alg`, else what its type implies (EdDSA for
/// OKP keys). Public-key algorithms only: a shared secret is never published.
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => alg.to_string().parse().ok()?,
        None => match jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            _ => return None,
        },
    };
    (!matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ))
    .then_some(algorithm)
}

impl KeyCache {
    pub(super) fn new(http: reqwest::Client, url: String, cooldown: Duration) -> Self {
        Self {
            http,
            url,
            cooldown,
            keys: Mutex::new(Keys {
                by_kid: HashMap::new(),
                fetched: None,
            }),
        }
    }

    /// The key `kid` names: known, or fetched now unless the last fetch is within the
    /// cooldown. `Ok(None)` for a key the issuer does not publish.
    async fn key(&self, kid: &str) -> Result<Option<(DecodingKey, Algorithm)>> {
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.by_kid.get(kid) {
            return Ok(Some(found.clone()));
        }
        if keys.fetched.is_some_and(|at| at.elapsed() < self.cooldown) {
            return Ok(None);
        }
        keys.fetched = Some(Instant::now());
        let set = self.fetch().await?;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            let (Some(id), Some(alg)) = (jwk.common.key_id.clone(), algorithm_of(jwk)) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                by_kid.insert(id, (key, alg));
            }
        }
        // Keys no longer published are dropped: a retired key past its grace is gone.
        keys.by_kid = by_kid;
        Ok(keys.by_kid.get(kid).cloned())
    }

    async fn fetch(&self) -> Result<JwkSet> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable("key set", e))?;
        if !response.status().is_success() {
            return Err(unavailable("key set", response.status()));
        }
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| unavailable("key set", e))
    }

    pub(super) async fn verify(&self, token: &str) -> Result<Arc<Claims>> {
        let invalid = AuthError::InvalidToken;
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid(TokenError::Malformed))?;
        // An access token of the issuer, not an ID token or another JWT of its.
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(invalid(TokenError::WrongTokenType {
                expected: TokenType::Access,
                found: TokenType::Refresh,
            }));
        }
        let kid = header.kid.ok_or(invalid(TokenError::MissingKeyId))?;
        let (key, algorithm) = self
            .key(&kid)
            .await?
            .ok_or(invalid(TokenError::UnknownKeyId))?;
        if header.alg != algorithm {
            return Err(invalid(TokenError::AlgorithmMismatch));
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            invalid(match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Malformed,
            })
        })?;
        if data.claims.typ != TokenType::Access {
            return Err(invalid(TokenError::WrongTokenType {
                expected: TokenType::Access,
                found: data.claims.typ,
            }));
        }
        Ok(Arc::new(data.claims))
    }
}
