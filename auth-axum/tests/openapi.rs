//! The OpenAPI document of a router (feature `openapi`): each route's security comes from its
//! guard, whatever an annotation claims; every built-in route is described from the routes
//! table.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::prelude::*;
use auth_axum::routes::BuiltinRoute;
use auth_axum::{Access, AuthRouter};
use axum::extract::Path;
use serde_json::{json, Value};
use utoipa::OpenApi as _;

/// The annotation claims the route is open (`security(())`): the guard says otherwise.
#[require_roles("editor")]
#[utoipa::path(get, path = "/drafts", security(()), responses((status = 200, description = "the drafts")))]
async fn drafts() -> &'static str {
    "drafts"
}

#[public]
async fn open() -> &'static str {
    "open"
}

#[require_auth(any(cookie))]
async fn cookie_only() -> &'static str {
    "cookie"
}

/// Client-credentials tokens are bearer tokens: one scheme, named once.
#[require_auth(any(bearer, cookie, client_credentials))]
async fn machines_and_browsers() -> &'static str {
    "either"
}

#[require_permissions("articles.write")]
#[require_mfa]
async fn edit(Path(id): Path<u64>) -> String {
    id.to_string()
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(drafts))]
struct Annotated;

fn document(routes: &AuthRouter<AuthModule>) -> Value {
    serde_json::to_value(routes.openapi(Annotated::openapi())).unwrap()
}

fn schemes(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({ *n: [] })).collect())
}

#[test]
fn security_comes_from_the_guards() {
    let routes = AuthRouter::<AuthModule>::new()
        .get("/drafts", drafts)
        .get("/open", open)
        .get("/cookie", cookie_only)
        .put("/articles/{id}", edit)
        .get("/either", machines_and_browsers);
    let doc = document(&routes);
    let paths = &doc["paths"];

    let drafts = &paths["/drafts"]["get"];
    assert_eq!(
        drafts["security"],
        schemes(&["bearerAuth", "sessionCookie", "apiKey"]),
        "the guard's, not the annotation's"
    );
    assert_eq!(
        drafts["responses"]["200"]["description"], "the drafts",
        "kept"
    );
    assert_eq!(drafts["x-auth-roles"], json!(["editor"]));
    assert_eq!(
        drafts["description"],
        "**Access:** requires any of the roles `editor`."
    );
    for status in ["401", "403"] {
        assert_eq!(
            drafts["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }

    let open = &paths["/open"]["get"];
    assert_eq!(open["security"], json!([]), "public: no scheme");
    assert!(open["responses"].get("401").is_none());
    assert_eq!(open["summary"], "Open");

    let cookie = &paths["/cookie"]["get"];
    assert_eq!(cookie["security"], schemes(&["sessionCookie"]));
    assert!(cookie["responses"].get("401").is_some());
    assert!(
        cookie["responses"].get("403").is_none(),
        "authentication alone is never 403"
    );

    assert_eq!(
        paths["/either"]["get"]["security"],
        schemes(&["bearerAuth", "sessionCookie"])
    );

    let edit = &paths["/articles/{id}"]["put"];
    assert_eq!(
        edit["parameters"],
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
    assert_eq!(edit["x-auth-permissions"], json!(["articles.write"]));
    assert_eq!(
        edit["x-auth-requirements"],
        json!([
            "requires permission `articles.write`",
            "requires a second factor"
        ])
    );

    let components = &doc["components"];
    assert_eq!(
        components["securitySchemes"],
        json!({
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An access token from `POST /auth/login`"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "__Host-session", "description": "The session cookie of a cookie login; state-changing requests also need `X-CSRF-Token`"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key from `POST /auth/api-keys` (or `Authorization: ApiKey <key>`)"},
        })
    );
    assert_eq!(
        components["schemas"]["Problem"]["required"],
        json!(["type", "title", "status", "detail", "code"])
    );
}

/// Every built-in route this build serves is in the document, described by its row of the
/// routes table, its security from its guard.
#[test]
fn the_framework_routes_are_documented() {
    let routes = AuthRouter::<AuthModule>::new().with_auth_routes(64 * 1024);
    let doc = document(&routes);
    let rows = routes.routes();
    assert!(rows.len() >= 20, "{}", rows.len());
    for row in rows {
        let builtin = row.builtin.expect("only built-in routes here");
        let (method, path) = builtin.route();
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        let description = operation["description"].as_str().unwrap_or_default();
        let answer = operation["responses"]["default"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            !answer.is_empty(),
            "{method} {path}: no row in the routes table"
        );
        match &row.access {
            Access::Public => assert_eq!(operation["security"], json!([]), "{method} {path}"),
            Access::Guarded(requirements) => {
                assert!(
                    !operation["security"].as_array().unwrap().is_empty(),
                    "{method} {path}"
                );
                for requirement in requirements {
                    assert!(
                        description.contains(&requirement.describe()),
                        "{method} {path}: {description}"
                    );
                }
            }
            _ => unreachable!(),
        }
    }
    let login = &doc["paths"]["/auth/login"]["post"];
    assert_eq!(login["security"], json!([]));
    assert_eq!(login["tags"], json!(["auth"]));
    assert!(login["description"]
        .as_str()
        .unwrap()
        .starts_with("**Request:** JSON `{username or email, password"));
    let me = &doc["paths"]["/auth/me"]["get"];
    assert_eq!(
        me["security"],
        schemes(&["bearerAuth", "sessionCookie", "apiKey"])
    );
    assert_eq!(
        doc["paths"]["/health"]["get"]["responses"]["default"]["description"],
        "200 while the process runs"
    );
    let session = &doc["paths"]["/auth/sessions/{id}"]["delete"];
    assert_eq!(session["parameters"][0]["name"], "id");
    assert_eq!(BuiltinRoute::RevokeSession.route().1, "/auth/sessions/{id}");
}
