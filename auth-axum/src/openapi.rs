//! OpenAPI 3.1 documents (utoipa's model) of an [`AuthRouter`]'s routes, whose security comes
//! from the same guards that enforce it (feature `openapi`).
//!
//! [`AuthRouter::openapi`] takes a document of your own (from `#[derive(utoipa::OpenApi)]`
//! with your `#[utoipa::path]` handlers, or an empty one) and, for every route of the router's
//! access-control matrix:
//!
//! - adds the operation when the document lacks it (summary from the handler's name; for the
//!   framework's own routes the body and answer of the routes table), with its path parameters;
//! - sets its `security` from the handler's guard, replacing what the document said: public
//!   routes none (`[]`); guarded ones any of `bearerAuth` (an access token), `sessionCookie`
//!   (the session cookie) and `apiKey` (`X-API-Key`), or only the kinds
//!   `#[require_auth(any(...))]` names;
//! - appends the guard's requirements to the description ("**Access:** requires any of the
//!   roles `admin`"), lists them in `x-auth-requirements` and the roles and permissions in
//!   `x-auth-roles` and `x-auth-permissions`, and adds the 401 and 403 answers (problem+json).
//!
//! The security schemes and the `Problem` schema are added to the components. A route's
//! requirements come from its handler's guard type, the one that checks requests, so the
//! document cannot claim a route is open, or closed to a role, when the code says otherwise.
//!
//! ```
//! use auth_axum::prelude::*;
//! use auth_axum::AuthRouter;
//! use auth_axum::openapi::utoipa::openapi::OpenApiBuilder;
//!
//! #[require_roles("admin")]
//! async fn admin() -> &'static str {
//!     "admin"
//! }
//!
//! let routes = AuthRouter::<AuthModule>::new().get("/admin", admin);
//! let doc = routes.openapi(OpenApiBuilder::new().build());
//! let json = serde_json::to_value(&doc).unwrap();
//! let get = &json["paths"]["/admin"]["get"];
//! assert_eq!(get["security"][0]["bearerAuth"], serde_json::json!([]));
//! assert_eq!(get["x-auth-roles"], serde_json::json!(["admin"]));
//! assert!(get["description"].as_str().unwrap().contains("requires any of the roles `admin`"));
//! ```

use std::collections::BTreeSet;

use auth_core::authz::Requirement;
use auth_core::principal::CredentialKind;
use axum::http::Method;
use serde_json::{json, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    Components, Content, OpenApi, PathItem, Ref, RefOr, Required, Response, ResponseBuilder,
};

use crate::router::{Access, RouteInfo};
use crate::routes::BuiltinRoute;
use crate::AuthRouter;

pub use utoipa;

/// The security scheme of an access token in `Authorization: Bearer`.
pub const BEARER: &str = "bearerAuth";
/// The security scheme of the session cookie.
pub const COOKIE: &str = "sessionCookie";
/// The security scheme of an API key in `X-API-Key` (or `Authorization: ApiKey`).
pub const API_KEY: &str = "apiKey";

/// The routes table of the framework's own routes, the same text as `routes`' documentation.
const ROUTES_TABLE: &str = include_str!("routes/routes.md");

impl<S> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    /// `base` with every route of this router documented and its security taken from the
    /// route's guard (see the [module](self)). The session cookie's name comes from the
    /// module the router was declared by (`__Host-session` without one).
    #[must_use]
    pub fn openapi(&self, base: OpenApi) -> OpenApi {
        let cookie = self.declared_module().map_or_else(
            || "__Host-session".to_owned(),
            |m| m.config().session.session_cookie(),
        );
        document(base, self.routes(), &cookie)
    }
}

/// `base` with `routes` documented (what [`AuthRouter::openapi`] does), the session cookie
/// named `cookie`.
#[must_use]
pub fn document(mut base: OpenApi, routes: &[RouteInfo], cookie: &str) -> OpenApi {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for route in routes {
        let path = openapi_path(&route.path);
        let Some(method) = http_method(&route.method) else {
            continue;
        };
        let item = base.paths.paths.entry(path.clone()).or_default();
        let slot = operation_slot(item, &method);
        let mut operation = slot
            .take()
            .unwrap_or_else(|| new_operation(route, &mut ids));
        add_path_parameters(&mut operation, &path);
        secure(&mut operation, &route.access);
        *slot = Some(operation);
    }
    let components = base.components.get_or_insert_with(Components::new);
    add_components(components, cookie);
    base
}

/// axum's `{*rest}` is OpenAPI's `{rest}`.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn http_method(method: &Method) -> Option<HttpMethod> {
    Some(match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => return None,
    })
}

fn operation_slot<'a>(item: &'a mut PathItem, method: &HttpMethod) -> &'a mut Option<Operation> {
    match method {
        HttpMethod::Get => &mut item.get,
        HttpMethod::Post => &mut item.post,
        HttpMethod::Put => &mut item.put,
        HttpMethod::Patch => &mut item.patch,
        HttpMethod::Delete => &mut item.delete,
        HttpMethod::Head => &mut item.head,
        HttpMethod::Options => &mut item.options,
        HttpMethod::Trace => &mut item.trace,
    }
}

/// The handler's own name (`my_app::routes::list_articles` → `list_articles`).
fn handler_name(route: &RouteInfo) -> &'static str {
    route.handler.rsplit("::").next().unwrap_or(route.handler)
}

/// An operation for a route the document did not have.
fn new_operation(route: &RouteInfo, ids: &mut BTreeSet<String>) -> Operation {
    let name = handler_name(route);
    let mut id = name.to_owned();
    let mut n = 2;
    while !ids.insert(id.clone()) {
        id = format!("{name}_{n}");
        n += 1;
    }
    let mut operation = Operation::new();
    operation.operation_id = Some(id);
    operation.summary = Some(sentence(name));
    let described = route.builtin.and_then(builtin_row);
    if let Some(builtin) = route.builtin {
        operation.tags = Some(vec![tag(builtin).to_owned()]);
    }
    match described {
        Some((body, answer)) => {
            if !body.is_empty() {
                operation.description = Some(format!("**Request:** {body}"));
            }
            operation
                .responses
                .responses
                .insert("default".to_owned(), RefOr::T(Response::new(answer)));
        }
        None => {
            operation.responses.responses.insert(
                "default".to_owned(),
                RefOr::T(Response::new("the handler's answer")),
            );
        }
    }
    operation
}

/// `revoke_session` → `Revoke session`.
fn sentence(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The body and answer columns of a built-in route's row in the routes table.
fn builtin_row(route: BuiltinRoute) -> Option<(String, String)> {
    let (method, path) = route.route();
    let key = format!("`{} {path}`", method.as_str());
    ROUTES_TABLE.lines().find_map(|line| {
        let cells = table_cells(line);
        match cells.as_slice() {
            [first, body, answer] if *first == key => Some((body.clone(), answer.clone())),
            _ => None,
        }
    })
}

/// The cells of a markdown table row, `\|` read as `|`.
fn table_cells(line: &str) -> Vec<String> {
    let Some(inner) = line
        .trim()
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
    else {
        return Vec::new();
    };
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        let escaped_bar = c == '\\' && chars.peek() == Some(&'|');
        if c == '|' {
            cells.push(String::new());
        } else if let Some(cell) = cells.last_mut() {
            if escaped_bar {
                chars.next();
                cell.push('|');
            } else {
                cell.push(c);
            }
        }
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// The tag a built-in route is listed under.
fn tag(route: BuiltinRoute) -> &'static str {
    let (_, path) = route.route();
    let prefixes = [
        ("/auth/mfa", "mfa"),
        ("/auth/passkeys", "passkeys"),
        ("/auth/oauth/", "federation"),
        ("/auth/saml", "federation"),
        ("/auth/ldap", "federation"),
        ("/auth/identities", "federation"),
        ("/auth/api-keys", "api keys"),
        ("/oauth", "authorization server"),
        ("/.well-known", "authorization server"),
        ("/health", "health"),
        ("/ready", "health"),
    ];
    if route == BuiltinRoute::LegacyCodeToken {
        return "authorization server";
    }
    prefixes
        .into_iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or("auth", |(_, tag)| tag)
}

/// Declares each `{name}` of `path` as a required string parameter, unless the operation
/// declares it already.
fn add_path_parameters(operation: &mut Operation, path: &str) {
    let declared: BTreeSet<String> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(p.name.clone()),
            RefOr::Ref(_) => None,
        })
        .collect();
    for segment in path.split('/') {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        if declared.contains(name) {
            continue;
        }
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(Object::with_type(Type::String)))
                    .build(),
            ));
    }
}

/// The schemes a requirement accepts: the kinds `#[require_auth(any(...))]` names, else all.
fn schemes(requirements: &[Requirement]) -> Vec<&'static str> {
    for requirement in requirements {
        if let Requirement::AuthenticatedWith(kinds) = requirement {
            let mut named: Vec<&'static str> = Vec::new();
            for kind in *kinds {
                // Client-credentials tokens are bearer tokens too: one scheme, once.
                let scheme = match kind {
                    CredentialKind::Cookie => COOKIE,
                    CredentialKind::ApiKey => API_KEY,
                    _ => BEARER,
                };
                if !named.contains(&scheme) {
                    named.push(scheme);
                }
            }
            return named;
        }
    }
    vec![BEARER, COOKIE, API_KEY]
}

/// Sets the operation's security, description lines, extensions and refusals from `access`.
fn secure(operation: &mut Operation, access: &Access) {
    let requirements = match access {
        Access::Public => {
            operation.security = Some(Vec::new());
            return;
        }
        Access::Guarded(requirements) => requirements,
    };
    operation.security = Some(
        schemes(requirements)
            .into_iter()
            .map(|scheme| SecurityRequirement::new(scheme, Vec::<String>::new()))
            .collect(),
    );
    let described: Vec<String> = requirements.iter().map(Requirement::describe).collect();
    let access_line = format!("**Access:** {}.", described.join("; "));
    operation.description = Some(match operation.description.take() {
        Some(description) if !description.is_empty() => format!("{description}\n\n{access_line}"),
        _ => access_line,
    });
    let mut roles = Vec::new();
    let mut permissions = Vec::new();
    for requirement in requirements {
        match requirement {
            Requirement::AnyRole(r)
            | Requirement::AllRoles(r)
            | Requirement::TenantAnyRole(r)
            | Requirement::TenantAllRoles(r) => roles.extend(r.iter().copied()),
            Requirement::AllPermissions(p) => permissions.extend(p.iter().copied()),
            _ => {}
        }
    }
    let mut extensions = Extensions::default();
    extensions.insert("x-auth-requirements".to_owned(), json!(described));
    if !roles.is_empty() {
        extensions.insert("x-auth-roles".to_owned(), json!(roles));
    }
    if !permissions.is_empty() {
        extensions.insert("x-auth-permissions".to_owned(), json!(permissions));
    }
    match &mut operation.extensions {
        Some(existing) => existing.merge(extensions),
        None => operation.extensions = Some(extensions),
    }
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    Content::new(Some(Ref::from_schema_name("Problem"))),
                )
                .build(),
        )
    };
    let responses = &mut operation.responses.responses;
    responses
        .entry("401".to_owned())
        .or_insert_with(|| problem("not authenticated: no valid credential"));
    let only_authentication = requirements.iter().all(|r| {
        matches!(
            r,
            Requirement::Authenticated | Requirement::AuthenticatedWith(_)
        )
    });
    if !only_authentication {
        responses
            .entry("403".to_owned())
            .or_insert_with(|| problem("authenticated, but the requirements above are not met"));
    }
}

/// The security schemes and the `Problem` schema, unless the document names them already.
fn add_components(components: &mut Components, cookie: &str) {
    let schemes = [
        (
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /auth/login`"))
                    .build(),
            ),
        ),
        (
            COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                cookie,
                "The session cookie of a cookie login; state-changing requests also need `X-CSRF-Token`",
            ))),
        ),
        (
            API_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An API key from `POST /auth/api-keys` (or `Authorization: ApiKey <key>`)",
            ))),
        ),
    ];
    for (name, scheme) in schemes {
        components
            .security_schemes
            .entry(name.to_owned())
            .or_insert(RefOr::T(scheme));
    }
    components
        .schemas
        .entry("Problem".to_owned())
        .or_insert_with(problem_schema);
}

/// RFC 9457 problem details as [`Problem`](crate::Problem) writes them.
fn problem_schema() -> RefOr<Schema> {
    let schema: Value = json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "the framework's error code, such as `invalid_token`"},
            "errors": {"type": "object", "description": "per-field validation errors (422)"}
        }
    });
    serde_json::from_value(schema).unwrap_or_else(|_| RefOr::T(Schema::Object(Object::new())))
}
