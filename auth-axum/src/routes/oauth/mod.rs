//! The authorization server over HTTP (feature `provider`): discovery, client registration
//! (RFC 7591), the token endpoint, introspection (RFC 7662), revocation (RFC 7009) and
//! userinfo; the authorization endpoint and its page are in `authorize`.
//!
//! Errors of the OAuth endpoints answer as RFC 6749 section 5.2 says (`{"error",
//! "error_description"}`), which OAuth clients read; failures of the service itself (a store
//! down, a limit reached) stay [`Problem`]s with their own status.

pub(super) mod authorize;

use auth_core::oauth::{ClientAuthMethod, NewClient, OAuthError, OIDC_SCOPES};
use auth_core::service::{ClientAuth, TokenRequest};
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

use super::tokens::{no_store, ClientInfo};
use crate::{public, require_auth, Auth, AuthModule, JsonBody, Problem};

/// An OAuth endpoint's answer to a failure.
pub(super) struct OAuthProblem(pub(super) OAuthError);

impl From<OAuthError> for OAuthProblem {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl IntoResponse for OAuthProblem {
    fn into_response(self) -> Response {
        let error = match self.0 {
            OAuthError::Service(e) => return Problem::from(*e).into_response(),
            other => other,
        };
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::json!({
            "error": error.code(),
            "error_description": error.to_string(),
        });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        response
    }
}

fn invalid_request(detail: impl Into<String>) -> OAuthProblem {
    OAuthProblem(OAuthError::InvalidRequest(detail.into()))
}

/// A form body, refused as `invalid_request` when malformed or a parameter is repeated.
pub(super) struct OAuthForm<T>(pub(super) T);

impl<T, S> FromRequest<S> for OAuthForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(Self(value)),
            Err(FormRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(Problem::payload_too_large().into_response())
            }
            Err(e) => Err(invalid_request(e.body_text()).into_response()),
        }
    }
}

/// `%`-decoding of the `application/x-www-form-urlencoded` client id and secret in Basic
/// authentication (RFC 6749 section 2.3.1).
fn form_decoded(text: &str) -> Option<String> {
    if text.contains(['&', '=']) {
        return None;
    }
    let query = format!("v={text}");
    url::form_urlencoded::parse(query.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// How the client authenticated: HTTP Basic, or `client_id` (and `client_secret`) in the form;
/// both at once is refused.
fn client_auth(
    headers: &HeaderMap,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<ClientAuth, OAuthProblem> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    if let Some(encoded) = basic {
        if client_secret.is_some() {
            return Err(invalid_request(
                "authenticate the client in one way: Basic or client_secret",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(OAuthProblem(OAuthError::InvalidClient))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or(OAuthProblem(OAuthError::InvalidClient))?;
        let id = form_decoded(id).ok_or(OAuthProblem(OAuthError::InvalidClient))?;
        let secret = form_decoded(secret).ok_or(OAuthProblem(OAuthError::InvalidClient))?;
        if client_id.as_ref().is_some_and(|given| *given != id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        return Ok(ClientAuth::new(
            id,
            Some(secret),
            ClientAuthMethod::ClientSecretBasic,
        ));
    }
    let id = client_id.ok_or(OAuthProblem(OAuthError::InvalidClient))?;
    Ok(ClientAuth::new(
        id,
        client_secret,
        ClientAuthMethod::ClientSecretPost,
    ))
}

/// The token endpoint's form.
#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /oauth/token`.
#[public]
pub(super) async fn token(
    State(module): State<AuthModule>,
    client: ClientInfo,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<TokenForm>,
) -> Result<Response, OAuthProblem> {
    answer_token(&module, &client, &headers, form).await
}

/// `POST /auth/oauth/token` (apexauthlib 0.3.1's `AuthCodeApi`, which sends a code, the
/// client's id and secret and no `grant_type`): the `authorization_code` grant of
/// `POST /oauth/token`, and no other.
#[public]
pub(super) async fn legacy_code_token(
    State(module): State<AuthModule>,
    client: ClientInfo,
    headers: HeaderMap,
    OAuthForm(mut form): OAuthForm<TokenForm>,
) -> Result<Response, OAuthProblem> {
    let grant = form
        .grant_type
        .get_or_insert_with(|| "authorization_code".to_owned());
    if grant != "authorization_code" {
        let grant = grant.clone();
        return Err(OAuthProblem(OAuthError::UnsupportedGrantType(grant)));
    }
    answer_token(&module, &client, &headers, form).await
}

/// The token endpoint's answer to `form`.
async fn answer_token(
    module: &AuthModule,
    client: &ClientInfo,
    headers: &HeaderMap,
    form: TokenForm,
) -> Result<Response, OAuthProblem> {
    let auth = client_auth(headers, form.client_id, form.client_secret)?;
    let grant_type = form
        .grant_type
        .filter(|g| !g.is_empty())
        .ok_or_else(|| invalid_request("grant_type is required"))?;
    let mut request = TokenRequest::default();
    request.grant_type = grant_type;
    request.code = form.code;
    request.redirect_uri = form.redirect_uri;
    request.code_verifier = form.code_verifier;
    request.refresh_token = form.refresh_token;
    request.username = form.username;
    request.password = form.password;
    request.scope = form.scope;
    request.device = client.device(None);
    let tokens = module.service().token(&auth, request).await?;
    Ok(no_store(tokens))
}

/// The form of introspection and revocation.
#[derive(Deserialize)]
pub(super) struct TokenTypeForm {
    #[serde(default)]
    token: Option<String>,
    /// A hint only: both kinds of token are looked for whatever it says.
    #[serde(default, rename = "token_type_hint")]
    _hint: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

impl TokenTypeForm {
    /// The client and the token the form names.
    fn parts(self, headers: &HeaderMap) -> Result<(ClientAuth, String), OAuthProblem> {
        let auth = client_auth(headers, self.client_id, self.client_secret)?;
        let token = self
            .token
            .ok_or_else(|| invalid_request("token is required"))?;
        Ok((auth, token))
    }
}

/// `POST /oauth/introspect` (RFC 7662).
#[public]
pub(super) async fn introspect(
    State(module): State<AuthModule>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<TokenTypeForm>,
) -> Result<Response, OAuthProblem> {
    let (auth, token) = form.parts(&headers)?;
    let answer = module.service().introspect_for(&auth, &token).await?;
    Ok(no_store(answer))
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was known.
#[public]
pub(super) async fn revoke(
    State(module): State<AuthModule>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<TokenTypeForm>,
) -> Result<Response, OAuthProblem> {
    let (auth, token) = form.parts(&headers)?;
    module.service().revoke_for(&auth, &token).await?;
    Ok(no_store(serde_json::json!({})))
}

/// `POST /oauth/register` (RFC 7591): an admin registers a client; the answer shows its
/// secret this once.
#[require_auth]
pub(super) async fn register(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(new): JsonBody<NewClient>,
) -> Result<Response, Response> {
    let service = module.service();
    if !service.may_register_clients(&principal) {
        return Err(Problem::forbidden("registering clients takes an admin").into_response());
    }
    let registered = service
        .register_client(&new, Some(&principal.user_id))
        .await
        .map_err(|e| OAuthProblem(e).into_response())?;
    let mut response = no_store(registered);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `GET /oauth/userinfo`: the claims about the token's user its scopes release.
#[require_auth]
pub(super) async fn userinfo(
    State(module): State<AuthModule>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(auth_core::AuthError::NotAuthenticated)?;
    Ok(no_store(module.service().userinfo(token.trim()).await?))
}

/// `GET /.well-known/openid-configuration`: what this server offers, and where.
#[public]
pub(super) async fn discovery(State(module): State<AuthModule>) -> impl IntoResponse {
    let service = module.service();
    let issuer = service.issuer();
    let at = |path: &str| format!("{issuer}{path}");
    let scopes: Vec<&str> = OIDC_SCOPES
        .into_iter()
        .filter(|s| *s != "openid" || service.issues_id_tokens())
        .collect();
    let algorithm = service.tokens().keys().current().algorithm();
    let body = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": at("/oauth/authorize"),
        "token_endpoint": at("/oauth/token"),
        "jwks_uri": at("/.well-known/jwks.json"),
        "userinfo_endpoint": at("/oauth/userinfo"),
        "registration_endpoint": at("/oauth/register"),
        "introspection_endpoint": at("/oauth/introspect"),
        "revocation_endpoint": at("/oauth/revoke"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm.as_str()],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "sid",
            "preferred_username", "name", "email", "email_verified"
        ],
        "authorization_response_iss_parameter_supported": true,
    });
    let cache = HeaderValue::from_static("public, max-age=300");
    ([(CACHE_CONTROL, cache)], Json(body))
}
