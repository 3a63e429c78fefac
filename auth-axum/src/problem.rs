use std::fmt;

use auth_core::error::ValidationErrors;
use auth_core::AuthError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The realm named in `WWW-Authenticate` challenges.
const REALM: &str = "api";

/// An error response in the one JSON shape of the framework: `application/problem+json`
/// (RFC 9457) with `type`, `title`, `status`, `detail` and a stable `code`; validation errors
/// add `errors: [{field, message}]`.
///
/// 401 responses carry `WWW-Authenticate: Bearer` with the RFC 6750 error code; 429 and 503
/// responses carry `Retry-After`. Details never contain a secret, and never tell whether an account
/// exists.
///
/// ```
/// use auth_axum::Problem;
/// use auth_core::AuthError;
/// use axum::response::IntoResponse;
///
/// let response = Problem::from(AuthError::NotAuthenticated).into_response();
/// assert_eq!(response.status(), 401);
/// assert!(response.headers().contains_key("www-authenticate"));
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Problem {
    // Boxed: a `Result<_, Problem>` stays one pointer wide on the happy path.
    inner: Box<ProblemBody>,
}

#[derive(Debug, Clone, Serialize)]
struct ProblemBody {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    #[serde(serialize_with = "serialize_status")]
    status: StatusCode,
    detail: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<ValidationErrors>,
    /// What an `insufficient_user_authentication` answer asks for: `methods`, `max_age`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    step_up: Option<Box<auth_core::error::StepUpChallenge>>,
    #[serde(skip)]
    challenge: Option<String>,
    /// Seconds for `Retry-After` (429 and 503).
    #[serde(skip)]
    retry_after: Option<u64>,
    /// The quota that refused the request, for the `RateLimit` headers.
    #[serde(skip)]
    rate_limit: Option<Box<auth_core::rate_limit::RateLimitStatus>>,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

fn quote(value: &str) -> String {
    value.replace(['"', '\\'], "'")
}

impl Problem {
    /// A problem with this status, machine code, title and detail.
    #[must_use]
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            inner: Box::new(ProblemBody {
                kind: format!("urn:auth:problem:{code}"),
                title,
                status,
                detail: detail.into(),
                code,
                errors: None,
                step_up: None,
                challenge: None,
                retry_after: None,
                rate_limit: None,
            }),
        }
    }

    /// 404 with `code` `not_found`.
    #[must_use]
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// 400: the body is not valid JSON.
    #[must_use]
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Malformed JSON",
            detail,
        )
    }

    /// 400 with `code` `ambiguous_request`: a value a guard decides on is given more than
    /// once (`what` names it, e.g. ``the query parameter `owner` ``), so the guard and the
    /// handler could read different ones.
    #[must_use]
    pub fn ambiguous(what: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ambiguous_request",
            "Ambiguous request",
            format!("{what} is given more than once; send it once"),
        )
    }

    /// 413: the body is larger than the route's limit.
    #[must_use]
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            "the request body is larger than the limit",
        )
    }

    /// 403: authenticated, but not allowed.
    #[must_use]
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::from(AuthError::Forbidden(detail.into()))
    }

    /// 429 with `code` and `Retry-After: retry_after` (at least 1 second).
    #[must_use]
    pub fn too_many_requests(
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
        retry_after: u64,
    ) -> Self {
        let mut problem = Self::new(StatusCode::TOO_MANY_REQUESTS, code, title, detail);
        problem.inner.retry_after = Some(retry_after.max(1));
        problem
    }

    /// Seconds the client is told to wait (`Retry-After`), when it is.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        self.inner.retry_after
    }

    /// Adds a `WWW-Authenticate: Bearer` challenge with an RFC 6750 error code.
    #[must_use]
    fn with_challenge(mut self, error: Option<&str>, description: Option<&str>) -> Self {
        let mut challenge = format!("Bearer realm=\"{REALM}\"");
        if let Some(error) = error {
            challenge.push_str(&format!(", error=\"{error}\""));
        }
        if let Some(description) = description {
            challenge.push_str(&format!(", error_description=\"{}\"", quote(description)));
        }
        self.inner.challenge = Some(challenge);
        self
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The machine code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.inner.code
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.inner.status.as_u16(),
            self.inner.code,
            self.inner.detail
        )
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        let code = err.code();
        match err {
            AuthError::InvalidToken(ref e) => {
                let detail = e.to_string();
                Self::new(
                    StatusCode::UNAUTHORIZED,
                    code,
                    "Invalid token",
                    detail.clone(),
                )
                .with_challenge(Some("invalid_token"), Some(&detail))
            }
            AuthError::UserNotFound => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Invalid token",
                err.to_string(),
            )
            .with_challenge(
                Some("invalid_token"),
                Some("the user of this token no longer exists"),
            ),
            AuthError::NotAuthenticated => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Authentication required",
                "send `Authorization: Bearer <access token>`",
            )
            .with_challenge(None, None),
            AuthError::InvalidAuthorizationHeader(reason) => Self::new(
                StatusCode::BAD_REQUEST,
                code,
                "Invalid Authorization header",
                reason,
            )
            .with_challenge(Some("invalid_request"), Some(reason)),
            AuthError::InvalidApiKey | AuthError::ApiKeyRevoked | AuthError::ApiKeyExpired => {
                Self::new(
                    StatusCode::UNAUTHORIZED,
                    code,
                    "Invalid API key",
                    err.to_string(),
                )
            }
            AuthError::InsufficientScope(detail) => Self::new(
                StatusCode::FORBIDDEN,
                code,
                "Insufficient scope",
                format!("the API key's scopes do not cover this: {detail}"),
            ),
            AuthError::InsufficientAuthentication(step_up) => {
                // RFC 9470: the error in the challenge, and `max_age` when recency is asked.
                let mut problem = Self::new(
                    StatusCode::UNAUTHORIZED,
                    code,
                    "Insufficient user authentication",
                    format!("{}; prove it with POST /auth/mfa/step-up", step_up.detail),
                )
                .with_challenge(Some(code), Some(&step_up.detail));
                if let (Some(max_age), Some(challenge)) =
                    (step_up.max_age, problem.inner.challenge.as_mut())
                {
                    challenge.push_str(&format!(", max_age={max_age}"));
                }
                problem.inner.step_up = Some(step_up);
                problem
            }
            AuthError::InvalidPasskey => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Invalid passkey",
                err.to_string(),
            ),
            AuthError::InvalidMfaCode => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Invalid code",
                err.to_string(),
            ),
            AuthError::MfaRequired(_) => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Second factor required",
                "the account has a second factor: complete the login with POST /auth/mfa/verify",
            ),
            AuthError::MfaAlreadyEnabled | AuthError::MfaNotEnabled => {
                Self::new(StatusCode::CONFLICT, code, "Conflict", err.to_string())
            }
            AuthError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Invalid credentials",
                err.to_string(),
            )
            .with_challenge(None, None),
            AuthError::InvalidRefreshToken => Self::new(
                StatusCode::BAD_REQUEST,
                code,
                "Invalid refresh token",
                err.to_string(),
            ),
            AuthError::Forbidden(detail) => {
                Self::new(StatusCode::FORBIDDEN, code, "Forbidden", detail)
            }
            AuthError::InvalidSession => Self::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Invalid session",
                err.to_string(),
            ),
            AuthError::InvalidOneTimeToken => Self::new(
                StatusCode::BAD_REQUEST,
                code,
                "Invalid or expired token",
                err.to_string(),
            ),
            AuthError::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                code,
                "Email not verified",
                err.to_string(),
            ),
            AuthError::CsrfFailed(reason) => Self::new(
                StatusCode::FORBIDDEN,
                code,
                "Cross-site request refused",
                reason,
            ),
            AuthError::Conflict { .. } => {
                Self::new(StatusCode::CONFLICT, code, "Conflict", err.to_string())
            }
            AuthError::Validation(errors) => {
                let mut problem = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    "Validation failed",
                    errors.to_string(),
                );
                problem.inner.errors = Some(errors);
                problem
            }
            AuthError::TooManyAttempts { retry_after } => {
                Self::too_many_requests(code, "Too many attempts", err.to_string(), retry_after)
            }
            AuthError::RateLimited(status) => {
                let mut problem = Self::too_many_requests(
                    code,
                    "Too many requests",
                    format!(
                        "too many requests (`{}`: {}); retry in {} seconds",
                        status.policy,
                        status.quota,
                        status.retry_after_seconds()
                    ),
                    status.retry_after_seconds(),
                );
                problem.inner.rate_limit = Some(status);
                problem
            }
            AuthError::Overloaded => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code,
                "Overloaded",
                err.to_string(),
            ),
            AuthError::Federation(e) => {
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::UNAUTHORIZED => "Sign-in refused",
                    StatusCode::CONFLICT => "Conflict",
                    StatusCode::FORBIDDEN => "Forbidden",
                    _ => "Sign-in failed",
                };
                let problem = Self::new(status, code, title, e.to_string());
                if status == StatusCode::UNAUTHORIZED {
                    problem.with_challenge(None, None)
                } else {
                    problem
                }
            }
            AuthError::AuthServiceUnavailable(why) => {
                tracing::error!(error = %why, "remote auth service unavailable");
                let mut problem = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    "Auth service unavailable",
                    "the auth service that vouches for tokens cannot be reached; retry shortly",
                );
                problem.inner.retry_after = Some(5);
                problem
            }
            AuthError::ServiceUnavailable(source) => {
                tracing::error!(error = %source, "auth store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    "Service unavailable",
                    "the authentication service is temporarily unavailable; retry shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "internal auth error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Internal error",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let status = self.inner.status;
        metrics::counter!(
            "auth_http_refusals_total",
            "status" => status.as_str().to_owned(),
            "code" => self.inner.code,
        )
        .increment(1);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self
            .inner
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.inner.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(rate_limit) = &self.inner.rate_limit {
            crate::rate_limit::insert_headers(rate_limit, headers);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}
