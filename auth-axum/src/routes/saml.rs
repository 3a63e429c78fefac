//! Signing in through a SAML 2.0 identity provider (feature `saml`): this service's
//! metadata, the start of a sign-in (a redirect with an `AuthnRequest`), and the assertion
//! consumer service the provider posts its response to.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::identities::{query, sign_in_answer, SignInQuery};
use super::tokens::{see_other, ClientInfo};
use crate::rate_limit::{self, PerIp};
use crate::{public, AuthModule, Problem};

/// The largest `SAMLResponse` form the assertion consumer service reads (identity providers
/// that embed certificate chains and many attributes post tens of kilobytes).
pub(super) const BODY_LIMIT: usize = 256 * 1024;

/// `GET /auth/saml/{provider}/metadata`: this service's metadata for the provider.
#[public]
pub(super) async fn metadata(
    State(module): State<AuthModule>,
    Path(provider): Path<String>,
) -> Result<Response, Problem> {
    let xml = module.service().saml_metadata(&provider)?;
    Ok((
        [
            (CONTENT_TYPE, "application/samlmetadata+xml"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        xml,
    )
        .into_response())
}

/// `GET /auth/saml/{provider}/login`: 303 to the provider with an `AuthnRequest`.
#[public]
pub(super) async fn login(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    Path(provider): Path<String>,
    params: Result<Query<SignInQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let options = query(params)?.options()?;
    let url = module
        .service()
        .start_saml_sign_in(&provider, options)
        .await?;
    Ok(see_other(&url, []))
}

/// The form an identity provider posts (HTTP-POST binding).
#[derive(Deserialize)]
pub(super) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// `POST /auth/saml/{provider}/acs`: the provider's response, checked, ending the sign-in as
/// an OpenID Connect callback does.
#[public]
pub(super) async fn acs(
    _: PerIp<rate_limit::Login>,
    State(module): State<AuthModule>,
    Path(provider): Path<String>,
    client: ClientInfo,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Result<Response, Problem> {
    let Form(form) = form.map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request",
            format!(
                "post `SAMLResponse` and `RelayState` as a form: {}",
                e.body_text()
            ),
        )
    })?;
    let outcome = module
        .service()
        .finish_saml_sign_in(
            &provider,
            &form.saml_response,
            &form.relay_state,
            client.device(None),
        )
        .await?;
    sign_in_answer(&module, outcome)
}
