//! The authorization request (RFC 6749 section 4.1, PKCE required, `S256` only): checked,
//! kept while the user signs in and consents, answered with a code or an error at the
//! client's exact redirect URI. Nothing is ever sent to a redirect URI the client did not
//! register.

use serde::{Deserialize, Serialize};

use super::{code_key, unavailable, OAuthFlows};
use crate::mfa::SatisfiedFactor;
use crate::oauth::{pkce, GrantType, OAuthError};

/// Pending-store kind of an authorization request waiting for its user.
const REQUEST_KIND: &str = "oauth_request";
/// Pending-store kind of an authorization code.
pub(super) const CODE_KIND: &str = "oauth_code";
/// Pending-store kind of a code already exchanged: the session it started.
const SPENT_KIND: &str = "oauth_spent_code";
/// How long an exchanged code is remembered, to catch its replay (ten minutes, the most
/// RFC 6749 lets a code live).
const SPENT_SECONDS: i64 = 600;

/// The query of `GET /oauth/authorize`.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationParams {
    /// Must be `code`.
    #[serde(default)]
    pub response_type: Option<String>,
    /// The client.
    #[serde(default)]
    pub client_id: Option<String>,
    /// One of the client's redirect URIs, exactly (may be left out when it has only one).
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The scopes asked for, space-separated (default: all of the client's).
    #[serde(default)]
    pub scope: Option<String>,
    /// Echoed to the client; required.
    #[serde(default)]
    pub state: Option<String>,
    /// The PKCE challenge; required.
    #[serde(default)]
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    /// Put in the ID token.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// A checked authorization request, waiting for its user's sign-in and consent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// The id the sign-in page posts back (256 random bits, single use).
    #[serde(skip)]
    pub id: String,
    /// The client.
    pub client_id: String,
    /// Its name, for the consent page.
    pub client_name: String,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (the exchange must then name it too).
    pub redirect_uri_given: bool,
    /// The scopes asked for and allowed.
    pub scopes: Vec<String>,
    /// The client's state.
    pub state: String,
    /// The PKCE challenge.
    pub code_challenge: String,
    /// The OpenID Connect nonce.
    pub nonce: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: shown to the user, never redirected.
    Page(String),
    /// Sent back to the client: the redirect URL carrying `error`.
    Redirect(String),
    /// The service failed (503).
    Service(OAuthError),
}

/// `redirect_uri` with `params` added to its query.
fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        // Registered URIs parse (registration checked them).
        Err(_) => redirect_uri.to_owned(),
    }
}

/// What a code keeps until its exchange.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct CodeGrant {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) redirect_uri_given: bool,
    pub(super) user_id: String,
    pub(super) scopes: Vec<String>,
    pub(super) code_challenge: String,
    pub(super) nonce: Option<String>,
    pub(super) factors: Vec<SatisfiedFactor>,
}

impl AuthorizationRequest {
    /// The redirect answering this request with `error` (RFC 6749 section 4.1.2.1).
    #[must_use]
    pub fn error_redirect(&self, issuer: &str, error: &str, description: &str) -> String {
        redirect_with(
            &self.redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &self.state),
                ("iss", issuer),
            ],
        )
    }
}

impl OAuthFlows {
    /// Checks an authorization request; keeps it for its sign-in and consent.
    pub(super) async fn request(
        &self,
        params: &AuthorizationParams,
        id_tokens_possible: bool,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let client_id = params.client_id.as_deref().unwrap_or_default();
        let client = self
            .client(client_id)
            .await
            .map_err(AuthorizeError::Service)?
            .ok_or_else(|| AuthorizeError::Page("unknown client".to_owned()))?;
        let redirect_uri = match (&params.redirect_uri, client.redirect_uris.as_slice()) {
            (Some(given), registered) if registered.contains(given) => given.clone(),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(AuthorizeError::Page(
                    "the request must name one of the client's redirect URIs".to_owned(),
                ))
            }
            (Some(_), _) => {
                return Err(AuthorizeError::Page(
                    "the redirect URI is not one the client registered".to_owned(),
                ))
            }
        };
        let mut request = AuthorizationRequest {
            id: self.ctx.random.token(),
            client_id: client.client_id.clone(),
            client_name: client.client_name.clone(),
            redirect_uri,
            redirect_uri_given: params.redirect_uri.is_some(),
            scopes: Vec::new(),
            state: params.state.clone().unwrap_or_default(),
            code_challenge: params.code_challenge.clone().unwrap_or_default(),
            nonce: params.nonce.clone(),
        };
        let refuse = |request: &AuthorizationRequest, error: &str, description: &str| {
            AuthorizeError::Redirect(request.error_redirect(&self.issuer, error, description))
        };
        if params.response_type.as_deref() != Some("code") {
            return Err(refuse(
                &request,
                "unsupported_response_type",
                "response_type must be code",
            ));
        }
        if !client.allows(GrantType::AuthorizationCode) {
            return Err(refuse(
                &request,
                "unauthorized_client",
                "the client may not use the authorization code grant",
            ));
        }
        if request.state.is_empty() || request.state.len() > 512 {
            return Err(refuse(&request, "invalid_request", "state is required"));
        }
        // PKCE, unless a confidential client registered without it sends none.
        let without_pkce = !client.require_pkce
            && params.code_challenge.is_none()
            && params.code_challenge_method.is_none();
        if !without_pkce
            && (params.code_challenge_method.as_deref() != Some("S256")
                || request.code_challenge.len() != 43
                || !pkce::well_formed(&request.code_challenge))
        {
            return Err(refuse(
                &request,
                "invalid_request",
                "PKCE is required: code_challenge with code_challenge_method S256",
            ));
        }
        if request.nonce.as_ref().is_some_and(|n| n.len() > 512) {
            return Err(refuse(&request, "invalid_request", "nonce is too long"));
        }
        request.scopes = client
            .grantable(params.scope.as_deref())
            .map_err(|e| refuse(&request, e.code(), &e.to_string()))?;
        if request.scopes.iter().any(|s| s == "openid") && !id_tokens_possible {
            return Err(refuse(
                &request,
                "invalid_scope",
                "openid needs an asymmetric signing key (AUTH__JWT__ALGORITHM RS256, ES256 or EdDSA)",
            ));
        }
        self.keep(&request).await.map_err(AuthorizeError::Service)?;
        Ok(request)
    }

    /// Keeps `request` under its id until the request's time runs out.
    async fn keep(&self, request: &AuthorizationRequest) -> Result<(), OAuthError> {
        let state = serde_json::to_string(request)
            .map_err(|e| unavailable(crate::AuthError::Internal(e.to_string())))?;
        let expires = self.ctx.clock.now().saturating_add(self.request_ttl);
        self.pending
            .put(&request.id, REQUEST_KIND, &state, expires)
            .await
            .map_err(unavailable)
    }

    /// Takes the pending request `id` (single use); `None` when unknown or expired.
    pub(super) async fn take_request(
        &self,
        id: &str,
    ) -> Result<Option<AuthorizationRequest>, OAuthError> {
        if id.is_empty() || id.len() > 128 {
            return Ok(None);
        }
        let now = self.ctx.clock.now();
        let Some(state) = self
            .pending
            .take(id, REQUEST_KIND, now)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let mut request: AuthorizationRequest = serde_json::from_str(&state)
            .map_err(|e| unavailable(crate::AuthError::Internal(e.to_string())))?;
        request.id = id.to_owned();
        Ok(Some(request))
    }

    /// Keeps `request` again under a new id (a sign-in page shown once more).
    pub(super) async fn renew(
        &self,
        mut request: AuthorizationRequest,
    ) -> Result<AuthorizationRequest, OAuthError> {
        request.id = self.ctx.random.token();
        self.keep(&request).await?;
        Ok(request)
    }

    /// Approves `request` for `user_id`, who satisfied `factors`: the redirect carrying a
    /// new code.
    pub(super) async fn approve(
        &self,
        request: &AuthorizationRequest,
        user_id: &str,
        factors: Vec<SatisfiedFactor>,
    ) -> Result<String, OAuthError> {
        let code = self.ctx.random.token();
        let grant = CodeGrant {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_given: request.redirect_uri_given,
            user_id: user_id.to_owned(),
            scopes: request.scopes.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            factors,
        };
        let state = serde_json::to_string(&grant)
            .map_err(|e| unavailable(crate::AuthError::Internal(e.to_string())))?;
        let expires = self.ctx.clock.now().saturating_add(self.code_ttl);
        self.pending
            .put(&code_key(&code), CODE_KIND, &state, expires)
            .await
            .map_err(unavailable)?;
        Ok(redirect_with(
            &request.redirect_uri,
            &[
                ("code", &code),
                ("state", &request.state),
                ("iss", &self.issuer),
            ],
        ))
    }

    /// Takes the grant of `code` (single use: of two exchanges, one gets it).
    pub(super) async fn take_code(&self, code: &str) -> Result<Option<CodeGrant>, OAuthError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(None);
        }
        let now = self.ctx.clock.now();
        let state = self
            .pending
            .take(&code_key(code), CODE_KIND, now)
            .await
            .map_err(unavailable)?;
        Ok(state.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Remembers that `code` was exchanged and started `session_id`.
    pub(super) async fn mark_spent(&self, code: &str, session_id: &str) -> Result<(), OAuthError> {
        let expires = self.ctx.clock.now().saturating_add(SPENT_SECONDS);
        self.pending
            .put(&code_key(code), SPENT_KIND, session_id, expires)
            .await
            .map_err(unavailable)
    }

    /// The session an exchanged `code` started, forgotten as it is read.
    pub(super) async fn take_spent(&self, code: &str) -> Result<Option<String>, OAuthError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(None);
        }
        let now = self.ctx.clock.now();
        self.pending
            .take(&code_key(code), SPENT_KIND, now)
            .await
            .map_err(unavailable)
    }
}
