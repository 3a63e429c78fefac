//! API keys: created and revoked by their owner, verified on use (from a one-second cache, so
//! a revocation or a lost role is in force within a second everywhere), uses noted at most
//! once a minute off the request path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::{signed_in, Context};
use crate::api_key::{checksum_ok, generate, hash, ApiKey, ApiKeyStore};
use crate::error::{AuthError, Result, ValidationErrors};
use crate::events::AuthEvent;
use crate::principal::Principal;
use crate::token::{Claims, TokenType};
use crate::user::{User, UserStore};

/// How long a verified key (and its owner's roles) is served from memory.
const CACHE_FOR: Duration = Duration::from_secs(1);
/// The most keys kept in memory; the cache starts over beyond.
const CACHE_ENTRIES: usize = 10_000;
/// The most scopes of one key.
const MAX_SCOPES: usize = 50;
/// The longest lifetime of a key (ten years).
const MAX_LIFETIME: u64 = 10 * 365 * 86_400;

/// A verified key: the claims it stands for (its owner, with the owner's roles now) and the
/// scopes that bound them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedKey {
    /// The owner's claims, as an access token of theirs would carry them (`jti` is
    /// `apikey:<id>`, `amr` `["api_key"]`).
    pub claims: Arc<Claims>,
    /// The key's scopes.
    pub scopes: Arc<Vec<String>>,
    /// The key's id.
    pub key_id: String,
}

#[derive(Clone)]
struct Cached {
    key: ApiKey,
    verified: VerifiedKey,
    at: Instant,
}

/// What `POST /auth/api-keys` asks for.
#[derive(Debug, Clone, serde::Deserialize)]
#[non_exhaustive]
pub struct NewApiKey {
    /// A name to recognise it by.
    pub name: String,
    /// The permissions it is limited to (`*` for all of the owner's).
    pub scopes: Vec<String>,
    /// Seconds until it expires (none: until revoked).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl NewApiKey {
    /// A key named `name` limited to `scopes`.
    #[must_use]
    pub fn new(name: impl Into<String>, scopes: Vec<String>) -> Self {
        Self {
            name: name.into(),
            scopes,
            expires_in: None,
        }
    }

    /// The same key, expiring after `seconds`.
    #[must_use]
    pub fn expiring_in(mut self, seconds: u64) -> Self {
        self.expires_in = Some(seconds);
        self
    }

    fn validate(&self) -> Result<()> {
        let mut errors = ValidationErrors::default();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push("name", "must be 1 to 100 characters");
        }
        let scope_ok = |s: &String| {
            !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:*-".contains(&b))
        };
        if self.scopes.is_empty() || self.scopes.len() > MAX_SCOPES {
            errors.push("scopes", "give 1 to 50 scopes (`*` for all of yours)");
        } else if !self.scopes.iter().all(scope_ok) {
            errors.push(
                "scopes",
                "a scope is a permission such as `articles.read`, `articles.*` or `*`",
            );
        }
        if self
            .expires_in
            .is_some_and(|s| !(60..=MAX_LIFETIME).contains(&s))
        {
            errors.push("expires_in", "must be 60 seconds to ten years");
        }
        errors.into_result()
    }
}

/// The flows of API keys.
#[derive(Clone)]
pub(super) struct ApiKeys {
    pub(super) store: Arc<dyn ApiKeyStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) ctx: Context,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl ApiKeys {
    pub(super) fn new(
        store: Arc<dyn ApiKeyStore>,
        users: Arc<dyn UserStore>,
        ctx: Context,
    ) -> Self {
        Self {
            store,
            users,
            ctx,
            cache: Arc::default(),
        }
    }

    /// Creates a key for `principal`; the record and the key, which is never readable again.
    pub(super) async fn create(
        &self,
        principal: &Principal,
        request: NewApiKey,
    ) -> Result<(ApiKey, SecretString)> {
        signed_in(principal, "create API keys")?;
        request.validate()?;
        let now = self.ctx.clock.now();
        let secret = generate(self.ctx.random.as_ref());
        let expires_at = request
            .expires_in
            .map(|s| now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX)));
        let key = ApiKey::new(
            self.ctx.random.uuid().to_string(),
            principal.user_id.clone(),
            request.name.trim(),
            request.scopes,
            &secret,
            now,
            expires_at,
        );
        self.store.insert_key(&key).await?;
        self.ctx.emit(AuthEvent::ApiKeyCreated {
            user_id: key.user_id.to_string(),
            key_id: key.id.clone(),
        });
        Ok((key, SecretString::from(secret)))
    }

    /// The principal's keys, newest first.
    pub(super) async fn list(&self, principal: &Principal) -> Result<Vec<ApiKey>> {
        Ok(self.store.keys_of(&principal.user_id).await?)
    }

    /// Revokes the principal's key `id`; whether it was theirs and live.
    pub(super) async fn revoke(&self, principal: &Principal, id: &str) -> Result<bool> {
        signed_in(principal, "revoke API keys")?;
        let revoked = self
            .store
            .revoke_key(&principal.user_id, id, self.ctx.clock.now())
            .await?;
        if revoked {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, cached| cached.key.id != id);
            self.ctx.emit(AuthEvent::ApiKeyRevoked {
                user_id: principal.user_id.to_string(),
                key_id: id.to_owned(),
            });
        }
        Ok(revoked)
    }

    /// Verifies a presented key.
    pub(super) async fn verify(
        &self,
        secret: &str,
        client_ip: Option<&str>,
    ) -> Result<VerifiedKey> {
        // A malformed key or a wrong checksum costs no look-up.
        if !checksum_ok(secret) {
            return Err(AuthError::InvalidApiKey);
        }
        let hash = hash(secret);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)
            .filter(|c| c.at.elapsed() < CACHE_FOR)
            .cloned();
        let cached = match cached {
            Some(cached) => cached,
            None => self.load(&hash).await?,
        };
        let now = self.ctx.clock.now();
        let key = &cached.key;
        if key.revoked_at.is_some() {
            return Err(AuthError::ApiKeyRevoked);
        }
        if key.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::ApiKeyExpired);
        }
        if key.last_used_at.is_none_or(|last| last <= now - 60) {
            self.note_use(key, now, client_ip);
        }
        Ok(cached.verified)
    }

    /// Reads a key and its owner from the stores into the cache.
    async fn load(&self, hash: &str) -> Result<Cached> {
        let key = self
            .store
            .key_by_hash(hash)
            .await?
            .ok_or(AuthError::InvalidApiKey)?;
        // A key of a deactivated (or deleted) owner works no more.
        let owner = self
            .users
            .get_by_id(&key.user_id)
            .await?
            .filter(|u| u.is_active)
            .ok_or(AuthError::ApiKeyRevoked)?;
        let cached = Cached {
            verified: VerifiedKey {
                claims: Arc::new(claims_of(&key, &owner)),
                scopes: Arc::new(key.scopes.clone()),
                key_id: key.id.clone(),
            },
            key,
            at: Instant::now(),
        };
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(hash.to_owned(), cached.clone());
        Ok(cached)
    }

    /// Notes a use in the background (at most once a minute per key, across instances).
    fn note_use(&self, key: &ApiKey, now: i64, client_ip: Option<&str>) {
        // The cached copy counts as used now, so this instance does not write again soon.
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&key.hash)
        {
            cached.key.last_used_at = Some(now);
        }
        let store = Arc::clone(&self.store);
        let ctx = self.ctx.clone();
        let (id, user_id) = (key.id.clone(), key.user_id.to_string());
        let ip = client_ip.map(str::to_owned);
        let origin = crate::events::origin::current();
        tokio::spawn(crate::events::origin::inherit(origin, async move {
            match store.touch_key(&id, now, ip.as_deref()).await {
                Ok(true) => ctx.emit(AuthEvent::ApiKeyUsed {
                    user_id,
                    key_id: id,
                }),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not note an API key's use"),
            }
        }));
    }
}

/// The claims a key of `owner` stands for.
fn claims_of(key: &ApiKey, owner: &User) -> Claims {
    Claims {
        sub: owner.id.to_string(),
        exp: key.expires_at.unwrap_or(i64::MAX),
        iat: key.created_at,
        nbf: key.created_at,
        jti: format!("apikey:{}", key.id),
        iss: None,
        aud: None,
        sid: None,
        typ: TokenType::Access,
        epc: owner.security_epoch,
        auth_time: None,
        amr: vec!["api_key".to_owned()],
        roles: owner.roles.clone(),
        permissions: owner.permissions.clone(),
        tenant: None,
        client_id: None,
        scope: None,
    }
}
