//! Bearer logins: a session with a refresh-token family and an access token, answered as an
//! OAuth2 token response.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::sessions::Sessions;
use crate::error::Result;
use crate::events::AuthEvent;
use crate::mfa::{factor, SatisfiedFactor};
use crate::session::{Device, SessionAuth, SessionClient};
use crate::token::refresh::{RefreshFamily, RefreshTokenCodec, RefreshTokenRecord};
use crate::token::{TokenManager, TokenSubject};
use crate::user::{AuthUser, PublicUser, User};

/// Tokens issued by login and refresh (an OAuth2 token response, RFC 6749 section 5.1, plus the
/// public user).
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct LoginResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires unused.
    pub refresh_expires_in: u64,
    /// The session (refresh family) id.
    pub session_id: String,
    /// The scopes granted, space-separated, for a session of an OAuth client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The user.
    pub user: PublicUser,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// How long the refresh tokens of a bearer login live, in seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct RefreshLifetimes {
    /// Since the token was issued (unused).
    pub(super) token: i64,
    /// Of the whole family (the login's absolute lifetime).
    pub(super) family: i64,
}

/// Starts bearer sessions and answers them with tokens.
#[derive(Clone)]
pub(super) struct Bearer {
    pub(super) sessions: Sessions,
    pub(super) tokens: TokenManager,
    pub(super) codec: Arc<RefreshTokenCodec>,
    pub(super) lifetimes: RefreshLifetimes,
}

impl Bearer {
    /// Starts a session for an already authenticated user, who satisfied `auth`'s factors (for
    /// its OAuth client, if any): a refresh family and an access token.
    pub(super) async fn start(
        &self,
        user: &User,
        device: Device,
        auth: impl Into<SessionAuth>,
    ) -> Result<LoginResponse> {
        let ctx = &self.sessions.ctx;
        let now = ctx.clock.now();
        let idle = self.sessions.manager.settings().idle_timeout;
        let session_id = ctx.random.uuid().to_string();
        let session = self
            .sessions
            .open(&session_id, user, device, idle, None, auth)
            .await?;
        let refresh_token = self.codec.generate();
        let family = RefreshFamily::new(
            session_id.clone(),
            user.id.to_string(),
            now,
            now + self.lifetimes.family,
        );
        let record = RefreshTokenRecord::new(
            RefreshTokenCodec::hash(&refresh_token),
            session_id.clone(),
            now,
            (now + self.lifetimes.token).min(family.expires_at),
        );
        self.sessions
            .refresh
            .create_family(&family, &record)
            .await?;
        ctx.emit(AuthEvent::LoginSucceeded {
            user_id: user.id.to_string(),
            session_id: session_id.clone(),
        });
        self.token_response(
            user,
            &family,
            &session.factors,
            session.client.as_ref(),
            refresh_token,
            record.expires_at - now,
        )
    }

    /// An access token for `user` in session `session_id`, whose user satisfied `factors`,
    /// for the session's OAuth `client` if it has one.
    pub(super) fn access_token(
        &self,
        user: &User,
        session_id: &str,
        factors: &[SatisfiedFactor],
        client: Option<&SessionClient>,
    ) -> Result<crate::token::IssuedToken> {
        let mut subject = TokenSubject::access(user.id.as_str())
            .with_session(session_id)
            .with_roles(user.roles.clone())
            .with_permissions(user.permissions.clone())
            .with_epoch(user.security_epoch);
        subject.tenant.clone_from(&user.tenant);
        (subject.amr, subject.auth_time) = factor::claims_of(factors);
        if let Some(client) = client {
            subject = subject.for_client(&client.client_id, &client.scope);
        }
        Ok(self.tokens.issue(&subject)?)
    }

    /// An access token for `user` in `family`'s session, whose user satisfied `factors` (for
    /// the session's OAuth `client`, if any), and the response around it.
    pub(super) fn token_response(
        &self,
        user: &User,
        family: &RefreshFamily,
        factors: &[SatisfiedFactor],
        client: Option<&SessionClient>,
        refresh_token: String,
        refresh_expires_in: i64,
    ) -> Result<LoginResponse> {
        let issued = self.access_token(user, &family.id, factors, client)?;
        Ok(LoginResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token,
            refresh_expires_in: u64::try_from(refresh_expires_in).unwrap_or(0),
            session_id: family.id.clone(),
            scope: client.map(|c| c.scope.clone()),
            user: user.to_public(),
        })
    }
}
