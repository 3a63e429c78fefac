use std::sync::Arc;

use auth_core::token::Claims;
use auth_core::{AuthError, Principal, PublicUser};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::{AuthModule, Problem};

/// The bearer token of a request: `Ok(None)` when there is no `Authorization` header.
///
/// The scheme is matched case-insensitively (RFC 7235 section 2.1); the token must be a
/// non-empty `token68` (RFC 6750 section 2.1). Several `Authorization` headers are refused.
///
/// # Errors
/// [`AuthError::InvalidAuthorizationHeader`] saying what is wrong.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidAuthorizationHeader(
            "send exactly one Authorization header",
        ));
    }
    let value = value.to_str().map_err(|_| {
        AuthError::InvalidAuthorizationHeader("the Authorization header must be visible ASCII")
    })?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::InvalidAuthorizationHeader(
            "use the Bearer scheme: `Authorization: Bearer <token>`",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::InvalidAuthorizationHeader(
            "the Bearer token is empty",
        ));
    }
    let token68 = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    };
    if !token.bytes().all(token68) {
        return Err(AuthError::InvalidAuthorizationHeader(
            "the Bearer token contains characters not allowed in a token",
        ));
    }
    Ok(Some(token))
}

/// Verifies the request's bearer token once per request and caches the claims in the
/// request extensions, so stacked extractors and guards do not verify twice.
async fn verified_claims<S>(parts: &mut Parts, state: &S) -> Result<Option<Arc<Claims>>, Problem>
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    if let Some(claims) = parts.extensions.get::<Arc<Claims>>() {
        return Ok(Some(Arc::clone(claims)));
    }
    let Some(token) = bearer_token(&parts.headers)? else {
        return Ok(None);
    };
    let module = AuthModule::from_ref(state);
    let claims = Arc::new(module.service().verify_access(token).await?);
    parts.extensions.insert(Arc::clone(&claims));
    Ok(Some(claims))
}

/// As [`verified_claims`], refusing a request without credentials with 401.
pub(crate) async fn required_claims<S>(parts: &mut Parts, state: &S) -> Result<Arc<Claims>, Problem>
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    verified_claims(parts, state)
        .await?
        .ok_or_else(|| AuthError::NotAuthenticated.into())
}

/// Extractor: the authenticated caller. Refuses with 401 (`WWW-Authenticate: Bearer`) when the
/// token is missing, invalid, expired or revoked, 400 when the header is malformed, and 503
/// when the revocation store cannot be asked.
///
/// Use `Option<Auth>` where authentication is optional: no header gives `None`, a bad token is
/// still refused.
///
/// ```
/// use auth_axum::Auth;
///
/// async fn handler(Auth(principal): Auth) -> String {
///     format!("you are {}", principal.user_id)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// Refuses with 403 unless the principal has `role`.
    ///
    /// # Errors
    /// A 403 [`Problem`].
    pub fn require_role(&self, role: &str) -> Result<(), Problem> {
        if self.0.has_role(role) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("requires role `{role}`")))
        }
    }

    /// Refuses with 403 unless a granted permission (wildcards allowed) covers `permission`.
    ///
    /// # Errors
    /// A 403 [`Problem`].
    pub fn require_permission(&self, permission: &str) -> Result<(), Problem> {
        if self.0.has_permission(permission) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "requires permission `{permission}`"
            )))
        }
    }
}

impl<S> FromRequestParts<S> for Auth
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = required_claims(parts, state).await?;
        Ok(Self(Principal::from_claims(&claims)))
    }
}

impl<S> OptionalFromRequestParts<S> for Auth
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(verified_claims(parts, state)
            .await?
            .map(|claims| Self(Principal::from_claims(&claims))))
    }
}

/// Extractor: the verified, unrevoked claims of the bearer token. Refuses like [`Auth`].
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub Claims);

impl<S> FromRequestParts<S> for VerifiedClaims
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = required_claims(parts, state).await?;
        Ok(Self((*claims).clone()))
    }
}

/// Extractor: the user behind the bearer token, loaded from the store. Refuses like [`Auth`],
/// and with 401 when the user no longer exists, is disabled, or logged out everywhere since.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub PublicUser);

impl<S> FromRequestParts<S> for CurrentUser
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = required_claims(parts, state).await?;
        let module = AuthModule::from_ref(state);
        Ok(Self(module.service().user_for_claims(&claims).await?))
    }
}

/// Extractor: a JSON body whose rejections are problem documents: 415 without a JSON content
/// type, 400 for malformed JSON, 422 for JSON of the wrong shape, 413 when over the body
/// limit.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

pub(crate) fn json_problem(rejection: &JsonRejection) -> Problem {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "Invalid request body",
            detail,
        ),
        JsonRejection::JsonSyntaxError(_) => Problem::malformed_json(detail),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::payload_too_large(),
        other => Problem::new(
            other.status(),
            "invalid_body",
            "Invalid request body",
            detail,
        ),
    }
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}
