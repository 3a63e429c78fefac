//! The API's documentation: `GET /openapi.json` and a Swagger UI page at `/docs`.
//!
//! The document starts from the example's own `#[utoipa::path]` annotations (the article
//! routes, with their bodies) and [`AuthRouter::openapi`] completes it from the route table:
//! every route, the framework's own included, with the security its guard enforces.

use std::sync::{Arc, OnceLock};

use auth_axum::prelude::*;
use auth_axum::AuthRouter;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::OpenApi as _;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::AppState;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where the Swagger UI page is served.
pub const DOCS_PATH: &str = "/docs";

/// The annotated part of the document: the example's resources.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "auth-service",
        description = "The example auth service of the framework"
    ),
    paths(crate::list_articles, crate::create_article),
    components(schemas(crate::Article, crate::NewArticle))
)]
struct ApiDoc;

/// The document, written once the routes are known.
#[derive(Clone, Debug, Default)]
pub(crate) struct Document(Arc<OnceLock<String>>);

impl Document {
    /// Writes the document of `routes` (once; later calls keep the first).
    pub(crate) fn write(&self, routes: &AuthRouter<AppState>) -> Result<(), serde_json::Error> {
        let mut base = ApiDoc::openapi();
        base.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let json = serde_json::to_string_pretty(&routes.openapi(base))?;
        let _ = self.0.set(json);
        Ok(())
    }
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route.
#[public]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    match state.docs.0.get() {
        Some(json) => ([(CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        None => Problem::not_found("the API document is not written yet").into_response(),
    }
}

/// The Swagger UI page at `/docs`, reading `/openapi.json` (its files are built into the
/// binary: nothing is fetched from elsewhere).
pub(crate) fn swagger_ui() -> Router {
    Router::from(SwaggerUi::new(DOCS_PATH).config(Config::new([OPENAPI_PATH])))
}
