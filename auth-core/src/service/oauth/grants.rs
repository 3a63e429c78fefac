//! The token endpoint (RFC 6749 sections 4.1.3, 4.3, 4.4 and 6): each grant, and the ID
//! tokens of OpenID Connect.

use super::api::{ClientAuth, TokenRequest, TokenResponse};
use super::{released_claims, unavailable, IdTokenClaims};
use crate::error::AuthError;
use crate::mfa::{factor, FactorKind, SatisfiedFactor};
use crate::oauth::{pkce, GrantType, OAuthClient, OAuthError};
use crate::service::account::active_user;
use crate::service::{LoginRequest, LoginResponse};
use crate::session::{Device, SessionAuth, SessionClient};
use crate::token::TokenSubject;
use crate::user::{User, UserId};
use crate::AuthService;

/// A failed login of the `password` grant as the token endpoint answers it.
fn grant_error(e: AuthError) -> OAuthError {
    match e {
        AuthError::InvalidCredentials | AuthError::Validation(_) => {
            OAuthError::InvalidGrant("invalid username or password".to_owned())
        }
        AuthError::EmailNotVerified => {
            OAuthError::InvalidGrant("the account's email address is not verified".to_owned())
        }
        AuthError::InvalidRefreshToken => {
            OAuthError::InvalidGrant("invalid, expired or revoked refresh token".to_owned())
        }
        AuthError::Forbidden(reason) => OAuthError::AccessDenied(reason),
        other => unavailable(other),
    }
}

impl AuthService {
    /// The token endpoint: the tokens a grant gives the client.
    ///
    /// # Errors
    /// The [`OAuthError`] RFC 6749 section 5.2 names for the failure.
    pub async fn token(
        &self,
        client: &ClientAuth,
        request: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let grant: GrantType = request
            .grant_type
            .parse()
            .map_err(|()| OAuthError::UnsupportedGrantType(request.grant_type.clone()))?;
        let client = self.oauth().authenticate(client).await?;
        if !client.allows(grant) {
            return Err(OAuthError::UnauthorizedClient(grant.as_str().to_owned()));
        }
        match grant {
            GrantType::ClientCredentials => self.client_credentials(&client, &request),
            GrantType::Password => self.password_grant(&client, request).await,
            GrantType::AuthorizationCode => self.code_grant(&client, request).await,
            GrantType::RefreshToken => {
                let token = request.refresh_token.as_deref().ok_or_else(|| {
                    OAuthError::InvalidRequest("refresh_token is required".to_owned())
                })?;
                let response = self
                    .inner
                    .refresh
                    .rotate(token, Some(&client.client_id))
                    .await
                    .map_err(grant_error)?;
                Ok(self.client_response(&client, response, None))
            }
        }
    }

    /// A token for the client itself: its subject is the client, its permissions the scopes
    /// granted.
    fn client_credentials(
        &self,
        client: &OAuthClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = client.grantable(request.scope.as_deref())?;
        let scope = scopes.join(" ");
        let subject = TokenSubject::access(client.client_id.as_str())
            .with_permissions(scopes)
            .for_client(client.client_id.as_str(), &scope);
        let issued = self
            .inner
            .tokens
            .issue(&subject)
            .map_err(|e| unavailable(AuthError::from(e)))?;
        Ok(TokenResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: None,
            scope: (!scope.is_empty()).then_some(scope),
            id_token: None,
        })
    }

    /// The `password` grant: the user's own login, for a client allowed it, and never past
    /// a second factor (such accounts use the authorization code flow).
    async fn password_grant(
        &self,
        client: &OAuthClient,
        request: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = client.grantable(request.scope.as_deref())?;
        let (Some(username), Some(password)) = (request.username, request.password) else {
            return Err(OAuthError::InvalidRequest(
                "username and password are required".to_owned(),
            ));
        };
        let login = LoginRequest::new(username, password).from_device(request.device);
        let user = self.inner.login.check(&login).await.map_err(grant_error)?;
        let status = self.inner.mfa.status(&user.id).await.map_err(unavailable)?;
        if !status.methods.is_empty() {
            return Err(OAuthError::InvalidGrant(
                "this account has a second factor: sign in through the authorization code flow"
                    .to_owned(),
            ));
        }
        let factors = vec![SatisfiedFactor::new(
            FactorKind::Password,
            self.inner.ctx.clock.now(),
        )];
        self.client_session(client, &user, login.device, factors, scopes, None)
            .await
            .map(|(tokens, _)| tokens)
    }

    /// The `authorization_code` grant: the code's client, redirect URI and PKCE verifier.
    async fn code_grant(
        &self,
        client: &OAuthClient,
        request: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let invalid = |why: &str| OAuthError::InvalidGrant(why.to_owned());
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("code is required".to_owned()))?;
        let Some(grant) = self.oauth().take_code(code).await? else {
            // A code presented again was likely stolen: the session its first exchange
            // started ends, and with it every token of it (RFC 6749 section 4.1.2).
            if let Some(session_id) = self.oauth().take_spent(code).await? {
                self.inner
                    .sessions
                    .end(&session_id, "code_reused")
                    .await
                    .map_err(unavailable)?;
            }
            return Err(invalid("invalid, expired or used code"));
        };
        if grant.client_id != client.client_id {
            return Err(invalid("the code was issued to another client"));
        }
        if (grant.redirect_uri_given || request.redirect_uri.is_some())
            && request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str())
        {
            return Err(invalid(
                "redirect_uri differs from the authorization request's",
            ));
        }
        // No challenge only for a client registered without PKCE that sent none.
        let verifier = request.code_verifier.as_deref().unwrap_or_default();
        let pkce_ok = if grant.code_challenge.is_empty() {
            !client.require_pkce
        } else {
            pkce::verify_s256(verifier, &grant.code_challenge)
        };
        if !pkce_ok {
            return Err(invalid("code_verifier does not match the code_challenge"));
        }
        let user = active_user(self.inner.users.as_ref(), &UserId(grant.user_id.clone()))
            .await
            .map_err(unavailable)?
            .ok_or_else(|| invalid("the user is no longer active"))?;
        let (tokens, session_id) = self
            .client_session(
                client,
                &user,
                request.device,
                grant.factors,
                grant.scopes,
                Some(grant.nonce.as_deref().unwrap_or_default()),
            )
            .await?;
        self.oauth().mark_spent(code, &session_id).await?;
        Ok(tokens)
    }

    /// Starts a session of `user` for `client` with `scopes`: its tokens (an ID token for
    /// `openid`, with `nonce` when the request had one) and its id.
    async fn client_session(
        &self,
        client: &OAuthClient,
        user: &User,
        device: Device,
        factors: Vec<SatisfiedFactor>,
        scopes: Vec<String>,
        nonce: Option<&str>,
    ) -> Result<(TokenResponse, String), OAuthError> {
        let scope = scopes.join(" ");
        let auth = SessionAuth::for_client(
            factors.clone(),
            SessionClient::new(client.client_id.as_str(), scope.as_str()),
        );
        let response = self
            .inner
            .bearer
            .start(user, device, auth)
            .await
            .map_err(unavailable)?;
        let id_token = if scopes.iter().any(|s| s == "openid") {
            Some(self.id_token(client, user, &factors, &scopes, &response.session_id, nonce)?)
        } else {
            None
        };
        let session_id = response.session_id.clone();
        Ok((self.client_response(client, response, id_token), session_id))
    }

    /// An ID token for `user` signed in with `factors`, for `client`.
    fn id_token(
        &self,
        client: &OAuthClient,
        user: &User,
        factors: &[SatisfiedFactor],
        scopes: &[String],
        session_id: &str,
        nonce: Option<&str>,
    ) -> Result<String, OAuthError> {
        let now = self.inner.ctx.clock.now();
        let (amr, auth_time) = factor::claims_of(factors);
        let sub = user.id.to_string();
        let claims = IdTokenClaims {
            iss: self.issuer(),
            sub: &sub,
            aud: &client.client_id,
            exp: now.saturating_add(self.inner.tokens.access_ttl()),
            iat: now,
            auth_time,
            nonce: nonce.filter(|n| !n.is_empty()),
            amr: &amr,
            azp: &client.client_id,
            sid: Some(session_id),
            profile: released_claims(user, Some(scopes)),
        };
        self.inner
            .tokens
            .sign_json(&claims)
            .map_err(|e| unavailable(AuthError::from(e)))
    }

    /// A session's tokens as the token endpoint answers them: a refresh token only for a
    /// client allowed the `refresh_token` grant.
    fn client_response(
        &self,
        client: &OAuthClient,
        response: LoginResponse,
        id_token: Option<String>,
    ) -> TokenResponse {
        TokenResponse {
            access_token: response.access_token,
            token_type: "Bearer",
            expires_in: response.expires_in,
            refresh_token: client
                .allows(GrantType::RefreshToken)
                .then_some(response.refresh_token),
            scope: response.scope.filter(|s| !s.is_empty()),
            id_token,
        }
    }
}
