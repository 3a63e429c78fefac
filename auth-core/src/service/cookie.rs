//! Browser sessions authenticated by a cookie: starting one, verifying the cookie (recently
//! read sessions answered from memory, revocation checked every time), and rotating its
//! secret.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use secrecy::SecretString;

use super::account::active_user;
use super::sessions::Sessions;
use super::verify::Verifier;
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::mfa::{factor, SatisfiedFactor};
use crate::principal::{CredentialKind, Principal};
use crate::session::{cookie, Device};
use crate::token::{Claims, TokenType};
use crate::user::{AuthUser, PublicUser, User, UserId};

/// How long a verified session cookie is answered from memory before the session is read
/// again (revocations still apply at once: they are checked on every request).
const CACHE_SECONDS: i64 = 30;
/// Most cookies remembered; the cache starts over beyond.
const CACHE_CAPACITY: usize = 100_000;

/// Sessions recently verified by cookie: secret hash to claims and when they were read.
type Cache = HashMap<String, (Arc<Claims>, i64)>;

/// The token id of the claims a cookie stands for: `cookie:` and 128 bits of its hash.
fn cookie_jti(secret_hash: &str) -> String {
    format!("cookie:{}", secret_hash.get(..32).unwrap_or(secret_hash))
}

/// A browser login: the cookie secret to set and the CSRF token that goes with it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CookieLogin {
    /// The session cookie's value. Secret: set it in an HttpOnly cookie, never in a body.
    pub secret: SecretString,
    /// The CSRF token for `X-CSRF-Token` (and the readable CSRF cookie).
    pub csrf_token: String,
    /// The session id.
    pub session_id: String,
    /// Seconds the cookie may live (the session's absolute lifetime).
    pub max_age: i64,
    /// The user.
    pub user: PublicUser,
}

impl fmt::Debug for CookieLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieLogin")
            .field("session_id", &self.session_id)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// Cookie sessions.
#[derive(Clone)]
pub(super) struct Cookies {
    pub(super) sessions: Sessions,
    /// For the revocation check every cookie request makes.
    pub(super) verifier: Verifier,
    /// Idle timeout of a cookie session, in seconds.
    pub(super) idle: i64,
    pub(super) cache: Arc<Mutex<Cache>>,
}

impl Cookies {
    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a cookie session for an authenticated user, who satisfied `factors`. The
    /// session is new, so a cookie planted before login is never upgraded (fixation).
    pub(super) async fn start(
        &self,
        user: &User,
        device: Device,
        factors: Vec<SatisfiedFactor>,
    ) -> Result<CookieLogin> {
        let ctx = &self.sessions.ctx;
        let session_id = ctx.random.uuid().to_string();
        let secret = cookie::new_secret(ctx.random.as_ref());
        let session = self
            .sessions
            .open(
                &session_id,
                user,
                device,
                self.idle,
                Some(cookie::secret_hash(&secret)),
                factors,
            )
            .await?;
        ctx.emit(AuthEvent::LoginSucceeded {
            user_id: user.id.to_string(),
            session_id: session.id.clone(),
        });
        Ok(CookieLogin {
            csrf_token: cookie::csrf_token(&secret),
            secret: SecretString::from(secret),
            max_age: session.expires_at - session.created_at,
            session_id: session.id,
            user: user.to_public(),
        })
    }

    /// Gives the principal's cookie session a new secret. Only a principal that presented
    /// the session cookie, a session that has a cookie secret, and an active user of it.
    pub(super) async fn rotate(&self, principal: &Principal) -> Result<CookieLogin> {
        if principal.credential != CredentialKind::Cookie {
            return Err(AuthError::InvalidSession);
        }
        let session_id = principal
            .session_id
            .as_deref()
            .ok_or(AuthError::InvalidSession)?;
        let manager = &self.sessions.manager;
        let session = manager
            .use_session(session_id)
            .await?
            // A bearer login's session has no cookie secret: it never becomes a cookie one.
            .filter(|session| session.secret_hash.is_some())
            .ok_or(AuthError::InvalidSession)?;
        let user = active_user(
            self.sessions.users.as_ref(),
            &UserId(session.user_id.clone()),
        )
        .await?
        .filter(|user| user.id == principal.user_id)
        .ok_or(AuthError::InvalidSession)?;
        let ctx = &self.sessions.ctx;
        let secret = cookie::new_secret(ctx.random.as_ref());
        if !manager
            .store()
            .set_session_secret(session_id, &cookie::secret_hash(&secret))
            .await?
        {
            return Err(AuthError::InvalidSession);
        }
        if let Some(old) = &session.secret_hash {
            self.cache().remove(old);
            // Instances that verified the old cookie recently hold it in their cache; revoking
            // its id reaches them through the revocation check every request makes.
            self.sessions
                .revocations
                .revoke_token(&cookie_jti(old), session.expires_at)
                .await?;
        }
        Ok(CookieLogin {
            csrf_token: cookie::csrf_token(&secret),
            secret: SecretString::from(secret),
            max_age: session.expires_at - ctx.clock.now(),
            session_id: session.id,
            user: user.to_public(),
        })
    }

    /// Verifies a session cookie: the claims of its session, as an access token would carry
    /// them. Sessions read in the last 30 s are answered from memory; revocation is checked
    /// on every call.
    pub(super) async fn verify(&self, secret: &str) -> Result<Arc<Claims>> {
        if secret.is_empty() || secret.len() > cookie::MAX_SECRET_LEN {
            return Err(AuthError::InvalidSession);
        }
        let hash = cookie::secret_hash(secret);
        let now = self.sessions.ctx.clock.now();
        let cached = self
            .cache()
            .get(&hash)
            .filter(|(_, at)| now - at < CACHE_SECONDS)
            .map(|(claims, _)| Arc::clone(claims));
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.read_session(&hash).await?);
                let mut cache = self.cache();
                if cache.len() >= CACHE_CAPACITY {
                    cache.clear();
                }
                cache.insert(hash.clone(), (Arc::clone(&claims), now));
                claims
            }
        };
        if self.verifier.is_revoked(&claims).await? || claims.exp <= now {
            self.cache().remove(&hash);
            return Err(AuthError::InvalidSession);
        }
        Ok(claims)
    }

    /// Reads the session a cookie secret hash names, and its user, into claims.
    async fn read_session(&self, hash: &str) -> Result<Claims> {
        let session = self
            .sessions
            .manager
            .use_cookie(hash)
            .await?
            .ok_or(AuthError::InvalidSession)?;
        let user = active_user(
            self.sessions.users.as_ref(),
            &UserId(session.user_id.clone()),
        )
        .await?
        .ok_or(AuthError::InvalidSession)?;
        let (amr, auth_time) = factor::claims_of(&session.satisfied_factors());
        Ok(Claims {
            sub: user.id.to_string(),
            exp: session.ends_at(),
            iat: session.created_at,
            nbf: session.created_at,
            jti: cookie_jti(hash),
            iss: None,
            aud: None,
            sid: Some(session.id),
            typ: TokenType::Access,
            epc: user.security_epoch,
            auth_time,
            amr,
            roles: user.roles,
            permissions: user.permissions,
            tenant: user.tenant,
            client_id: None,
            scope: None,
        })
    }
}
