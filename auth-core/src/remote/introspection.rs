//! Verification by asking the issuer (RFC 7662, as a registered client), the answer kept a
//! few seconds: revocations reach the resource server within that time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::unavailable;
use crate::error::{AuthError, Result};
use crate::token::{Audience, Claims, TokenError, TokenType};

/// The most answers kept; the cache starts over beyond.
const CACHE_ENTRIES: usize = 10_000;

/// What the issuer's introspection answers (its extension members included: roles,
/// permissions, tenant, amr, auth_time).
#[derive(Deserialize)]
struct Answer {
    active: bool,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default)]
    auth_time: Option<i64>,
}

/// Answers by the SHA-256 of their token, with when they were got.
type Answers = HashMap<[u8; 32], (Arc<Claims>, Instant)>;

pub(super) struct Introspector {
    http: reqwest::Client,
    url: String,
    client_id: String,
    client_secret: SecretString,
    cache_for: Duration,
    cache: Mutex<Answers>,
}

/// The time, by the crate's clock.
fn now() -> i64 {
    crate::clock::Clock::now(&crate::clock::SystemClock)
}

impl Introspector {
    pub(super) fn new(
        http: reqwest::Client,
        url: String,
        client_id: String,
        client_secret: SecretString,
        cache_for: Duration,
    ) -> Self {
        Self {
            http,
            url,
            client_id,
            client_secret,
            cache_for,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn verify(&self, token: &str) -> Result<Arc<Claims>> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some((claims, at)) = self.cache.lock().await.get(&key) {
            if at.elapsed() < self.cache_for && claims.exp > now() {
                return Ok(Arc::clone(claims));
            }
        }
        let claims = Arc::new(self.ask(token).await?);
        if !self.cache_for.is_zero() {
            let mut cache = self.cache.lock().await;
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, (Arc::clone(&claims), Instant::now()));
        }
        Ok(claims)
    }

    async fn ask(&self, token: &str) -> Result<Claims> {
        let response = self
            .http
            .post(&self.url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| unavailable("introspection", e))?;
        if !response.status().is_success() {
            // Our credentials refused, or the issuer failing: either way nothing passes.
            return Err(unavailable("introspection", response.status()));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| unavailable("introspection", e))?;
        let invalid = AuthError::InvalidToken;
        if !answer.active {
            return Err(invalid(TokenError::Revoked));
        }
        // A refresh token is active too, and must never authenticate a request.
        if answer.token_type.as_deref() != Some("Bearer") {
            return Err(invalid(TokenError::WrongTokenType {
                expected: TokenType::Access,
                found: TokenType::Refresh,
            }));
        }
        let (Some(sub), Some(exp)) = (answer.sub, answer.exp) else {
            return Err(invalid(TokenError::MissingClaim("sub")));
        };
        let iat = answer.iat.unwrap_or_else(now);
        Ok(Claims {
            sub,
            exp,
            iat,
            nbf: iat,
            jti: answer.jti.unwrap_or_default(),
            iss: answer.iss,
            aud: answer.aud,
            sid: answer.sid,
            typ: TokenType::Access,
            epc: 0,
            auth_time: answer.auth_time,
            amr: answer.amr,
            roles: answer.roles,
            permissions: answer.permissions,
            tenant: answer.tenant,
            client_id: answer.client_id,
            scope: answer.scope,
        })
    }
}
