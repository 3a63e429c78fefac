use std::fmt;
use std::sync::Arc;

use auth_core::principal::CredentialKind;
use auth_core::token::Claims;
use auth_core::user::UserModel;
use auth_core::{AuthError, Principal, User};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::{AuthModule, Problem};

/// The API key of a request: `Authorization: ApiKey <key>`, or `X-API-Key: <key>` when the
/// request has no `Authorization` header. `Ok(None)` when it sends neither (an `Authorization`
/// of another scheme is left to [`bearer_token`]).
///
/// # Errors
/// [`AuthError::InvalidAuthorizationHeader`] for several `Authorization` or `X-API-Key`
/// headers, or a key that is not visible ASCII.
pub fn api_key(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    const SCHEME: &[u8] = b"apikey ";
    let once = |name: &HeaderName| {
        let mut values = headers.get_all(name).iter();
        let first = values.next();
        match values.next() {
            Some(_) => Err(AuthError::InvalidAuthorizationHeader(
                "send the credential once: one `Authorization` or `X-API-Key` header",
            )),
            None => Ok(first),
        }
    };
    // Bytes first: a bearer token (the common case) is not decoded twice.
    let key = match headers.get(AUTHORIZATION) {
        Some(value) => {
            let bytes = value.as_bytes();
            if bytes.len() < SCHEME.len() || !bytes[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
                return Ok(None);
            }
            if headers.contains_key(&X_API_KEY) {
                return Err(AuthError::InvalidAuthorizationHeader(
                    "send the API key once: `Authorization: ApiKey <key>` or `X-API-Key: <key>`",
                ));
            }
            once(&AUTHORIZATION)?.map(|v| &v.as_bytes()[SCHEME.len()..])
        }
        None => once(&X_API_KEY)?.map(HeaderValue::as_bytes),
    };
    key.map(|bytes| {
        std::str::from_utf8(bytes.trim_ascii())
            .ok()
            .filter(|key| key.bytes().all(|b| (b'!'..=b'~').contains(&b)))
            .ok_or(AuthError::InvalidAuthorizationHeader(
                "the API key must be visible ASCII",
            ))
    })
    .transpose()
}

static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

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
    let value = value.as_bytes().trim_ascii();
    let (scheme, token) = match value.iter().position(|b| *b == b' ') {
        Some(at) => (&value[..at], value[at + 1..].trim_ascii()),
        None => (value, &b""[..]),
    };
    // The token alphabet is visible ASCII, so checking it (one pass without early exit)
    // also checks the header's encoding; the reason is worked out only on refusal.
    if !scheme.eq_ignore_ascii_case(b"bearer") || !is_token68(token) {
        return Err(AuthError::InvalidAuthorizationHeader(
            if !value
                .iter()
                .all(|b| *b == b'\t' || (b' '..=b'~').contains(b))
            {
                "the Authorization header must be visible ASCII"
            } else if !scheme.eq_ignore_ascii_case(b"bearer") {
                "use the Bearer scheme: `Authorization: Bearer <token>`"
            } else if token.is_empty() {
                "the Bearer token is empty"
            } else {
                "the Bearer token contains characters not allowed in a token"
            },
        ));
    }
    // Only ASCII is left, so this cannot fail.
    std::str::from_utf8(token).map(Some).map_err(|_| {
        AuthError::InvalidAuthorizationHeader("the Authorization header must be visible ASCII")
    })
}

/// Whether `bytes` is a non-empty token68 (RFC 7235 section 2.1; a JWT is base64url and
/// dots). Without early exit: a flat loop the compiler keeps branch-free (about 5
/// instructions per byte, against 18 for `to_str` plus a short-circuiting predicate).
fn is_token68(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.iter().fold(true, |ok, &b| {
            ok & (b.is_ascii_alphanumeric()
                | (b == b'-')
                | (b == b'.')
                | (b == b'_')
                | (b == b'~')
                | (b == b'+')
                | (b == b'/')
                | (b == b'='))
        })
}

/// Extractor: the request's verified credential, shared rather than copied: the claims of its
/// bearer token or session cookie, and which of the two it was.
///
/// The credential is verified once per request and the result kept in the request
/// extensions, so guards and the extractors of this crate stacked on one handler
/// ([`Auth`], [`VerifiedClaims`], [`CurrentUser`]) verify once between them. An explicit bearer
/// token wins over an ambient cookie; a cookie on a state-changing request must pass the CSRF
/// checks. Refuses like [`Auth`]; `Option<Authenticated>` gives `None` without credentials.
///
/// It is the building block for extractors of your own:
///
/// ```
/// use auth_axum::{AuthModule, Authenticated, Problem};
/// use axum::extract::{FromRef, FromRequestParts};
/// use axum::http::request::Parts;
///
/// /// Callers whose token carries a tenant.
/// struct TenantMember(String);
///
/// impl<S: Send + Sync> FromRequestParts<S> for TenantMember
/// where
///     AuthModule: FromRef<S>,
/// {
///     type Rejection = Problem;
///
///     async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
///         let auth = Authenticated::from_request_parts(parts, state).await?;
///         match &auth.claims.tenant {
///             Some(tenant) => Ok(Self(tenant.clone())),
///             None => Err(Problem::forbidden("requires a tenant")),
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Authenticated {
    /// The verified, unrevoked claims.
    pub claims: Arc<Claims>,
    /// How the request presented them: [`CredentialKind::Bearer`] (or
    /// [`CredentialKind::ClientCredentials`] for a client's own token),
    /// [`CredentialKind::Cookie`] or [`CredentialKind::ApiKey`].
    pub credential: CredentialKind,
    /// The scopes of an API key, which bound what the claims allow.
    pub scopes: Option<Arc<Vec<String>>>,
}

impl Authenticated {
    /// The principal the claims describe, with the credential the request used.
    #[must_use]
    pub fn principal(&self) -> Principal {
        let principal = Principal::from_claims(&self.claims).with_credential(self.credential);
        match &self.scopes {
            Some(scopes) => principal.with_scopes(scopes.to_vec()),
            None => principal,
        }
    }

    /// The request's credential, verified at its first use in the request: `Ok(None)` when it
    /// carries no API key, bearer token or session cookie.
    async fn of_request<S>(parts: &mut Parts, state: &S) -> Result<Option<Self>, Problem>
    where
        AuthModule: FromRef<S>,
        S: Send + Sync,
    {
        if let Some(known) = parts.extensions.get::<Self>() {
            return Ok(Some(known.clone()));
        }
        let module = AuthModule::from_ref(state);
        let verified = if let Some(key) = api_key(&parts.headers)? {
            let ip = crate::client_addr(module.trusted_proxies(), parts).map(|ip| ip.to_string());
            let verified = module.service().verify_api_key(key, ip.as_deref()).await?;
            Self {
                claims: verified.claims,
                credential: CredentialKind::ApiKey,
                scopes: Some(verified.scopes),
            }
        } else if let Some(token) = bearer_token(&parts.headers)? {
            let claims = module.service().verify_access_shared(token).await?;
            // A client's own token (`client_credentials`) stands for the client.
            let credential = if claims.is_client_token() {
                CredentialKind::ClientCredentials
            } else {
                CredentialKind::Bearer
            };
            Self {
                claims,
                credential,
                scopes: None,
            }
        } else {
            let session = &module.config().session;
            let Some(secret) = cookie_value(&parts.headers, &session.session_cookie()) else {
                return Ok(None);
            };
            check_csrf(parts, secret, &session.allowed_origins)?;
            Self {
                claims: module.service().verify_cookie(secret).await?,
                credential: CredentialKind::Cookie,
                scopes: None,
            }
        };
        // Events the request's flows emit name who made it.
        auth_core::events::origin::note_principal(&verified.claims);
        parts.extensions.insert(verified.clone());
        Ok(Some(verified))
    }

    /// As [`of_request`](Self::of_request), refusing a request without credentials with 401.
    pub(crate) async fn required<S>(parts: &mut Parts, state: &S) -> Result<Self, Problem>
    where
        AuthModule: FromRef<S>,
        S: Send + Sync,
    {
        Self::of_request(parts, state)
            .await?
            .ok_or_else(|| AuthError::NotAuthenticated.into())
    }
}

impl<S> FromRequestParts<S> for Authenticated
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Self::required(parts, state).await
    }
}

impl<S> OptionalFromRequestParts<S> for Authenticated
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Self::of_request(parts, state).await
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    auth_core::session::cookie::cookie_value(
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
        name,
    )
}

/// The `host[:port]` of an origin or URL (`https://app.example.com:8443/path`).
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Cross-site request forgery checks for a state-changing request authenticated by cookie:
/// the `Origin` (or, without one, the `Referer`) must be this service's host or an allowed
/// origin, and `X-CSRF-Token` must be the token of the session's cookie. Safe methods pass.
fn check_csrf(parts: &Parts, secret: &str, allowed: &[String]) -> Result<(), AuthError> {
    if matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(());
    }
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let source = header(ORIGIN)
        .or_else(|| header(REFERER))
        .ok_or(AuthError::CsrfFailed(
            "a state-changing request with the session cookie must carry Origin or Referer",
        ))?;
    let host = header(HOST).or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let same_site = host.is_some_and(|host| authority(source).eq_ignore_ascii_case(host));
    let allowed = allowed
        .iter()
        .any(|origin| authority(origin).eq_ignore_ascii_case(authority(source)));
    if !same_site && !allowed {
        return Err(AuthError::CsrfFailed("the request comes from another site"));
    }
    let token = header(HeaderName::from_static("x-csrf-token")).ok_or(AuthError::CsrfFailed(
        "send the CSRF token in the X-CSRF-Token header",
    ))?;
    if !auth_core::session::cookie::csrf_matches(secret, token) {
        return Err(AuthError::CsrfFailed(
            "the CSRF token does not match the session",
        ));
    }
    Ok(())
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
        let auth = Authenticated::required(parts, state).await?;
        Ok(Self(auth.principal()))
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
        Ok(Authenticated::of_request(parts, state)
            .await?
            .map(|auth| Self(auth.principal())))
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
        let auth = Authenticated::required(parts, state).await?;
        Ok(Self(Claims::clone(&auth.claims)))
    }
}

/// Extractor: the user behind the bearer token, loaded from the store. Refuses like [`Auth`],
/// and with 401 when the user no longer exists, is disabled, or logged out everywhere since.
///
/// `CurrentUser` is the built-in [`PublicUser`]; `CurrentUser<Member>` is the public
/// projection of a user model of the service's own (see
/// [`AuthModule::with_user_model`]).
pub struct CurrentUser<M: UserModel = User>(pub M::Public);

impl<M: UserModel> fmt::Debug for CurrentUser<M>
where
    M::Public: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CurrentUser").field(&self.0).finish()
    }
}

impl<M: UserModel> Clone for CurrentUser<M> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S, M> FromRequestParts<S> for CurrentUser<M>
where
    AuthModule: FromRef<S>,
    S: Send + Sync,
    M: UserModel,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Authenticated::required(parts, state).await?;
        let module = AuthModule::from_ref(state);
        Ok(Self(
            module.service().model_for_claims::<M>(&auth.claims).await?,
        ))
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

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{bearer_token, AuthError, AUTHORIZATION};

    fn parse(values: &[&[u8]]) -> Result<Option<String>, AuthError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        bearer_token(&headers).map(|t| t.map(str::to_owned))
    }

    fn refused(values: &[&[u8]]) -> &'static str {
        match parse(values) {
            Err(AuthError::InvalidAuthorizationHeader(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn bearer_tokens_are_read_from_one_well_formed_header() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(
            parse(&[b"Bearer a.b-c_d"]).unwrap().as_deref(),
            Some("a.b-c_d")
        );
        assert_eq!(parse(&[b"bearer  abc= "]).unwrap().as_deref(), Some("abc="));
    }

    #[test]
    fn malformed_authorization_headers_are_refused_with_their_reason() {
        assert_eq!(
            refused(&[b"Bearer a", b"Bearer b"]),
            "send exactly one Authorization header"
        );
        assert_eq!(
            refused(&["Bearer t\u{f6}k".as_bytes()]),
            "the Authorization header must be visible ASCII"
        );
        assert_eq!(
            refused(&[b"Basic YTpi"]),
            "use the Bearer scheme: `Authorization: Bearer <token>`"
        );
        assert_eq!(
            refused(&[b"Bearertoken"]),
            "use the Bearer scheme: `Authorization: Bearer <token>`"
        );
        assert_eq!(refused(&[b"Bearer "]), "the Bearer token is empty");
        assert_eq!(
            refused(&[b"Bearer a b"]),
            "the Bearer token contains characters not allowed in a token"
        );
        assert_eq!(
            refused(&[b"Bearer a\"b"]),
            "the Bearer token contains characters not allowed in a token"
        );
    }
}
