//! Procedural macros of the auth framework. Use them through `auth-axum`, which re-exports
//! them at the same version; its crate documentation has a compiling example of each.
//!
//! | macro | what it generates |
//! |---|---|
//! | [`macro@auth_module`] | `FromRef` for the auth stack and a deny-by-default `auth_router()` on the state |
//! | [`macro@public`] | a leading no-op extractor marking the handler deliberately open |
//! | [`macro@require_auth`] | a leading guard extractor: 401 unless authenticated |
//! | [`macro@require_roles`] | the same, plus 403 unless any (or `all(...)`) of the roles |
//! | [`macro@require_tenant_roles`] | the same, with the roles held in the request's tenant |
//! | [`macro@require_permissions`] | the same, plus 403 unless every permission |
//! | [`macro@AuthUser`] | the core user trait and a public projection without the hash or secrets |
//! | [`macro@require_policy`] | a guard evaluating a policy expression parsed at compile time |
//! | [`macro@require_mfa`] | 401 `insufficient_user_authentication` unless a second factor was proven |
//! | [`macro@require_factors`] | the same, unless any (or `all(...)`) of the named factors |
//! | [`macro@require_recent_auth`] | the same, unless the caller authenticated within `max_age` |
//! | [`macro@Permissions`] | `as_str`, `ALL`, `Display`, `FromStr`, the permission schema |
//! | [`macro@Roles`] | the same for roles, and the role hierarchy, cycles refused at compile time |

mod auth_module;
mod auth_user;
mod guard;
mod krate;
mod name_ref;
mod named_enum;
mod naming;
mod permissions;
mod roles;

use proc_macro::TokenStream;

/// Runs an expansion; errors become `compile_error!` at their span. A panic is a bug in this
/// crate, never the user's fault: it is caught and reported as one instead of an opaque
/// "proc-macro panicked".
fn output(expand: impl FnOnce() -> syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(expand)).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("internal error in auth-macros (please report it as a bug): {message}"),
            ))
        });
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Declares a handler open to everyone. An `AuthRouter` refuses handlers that have neither a
/// guard nor this, so a forgotten guard is a compile error rather than an open route.
///
/// ```ignore
/// #[public]
/// async fn health() -> &'static str { "ok" }
/// ```
#[proc_macro_attribute]
pub fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Public, args.into(), item.into()))
}

/// Refuses the request with 401 (`WWW-Authenticate: Bearer`) unless it carries a valid,
/// unrevoked access token. The check runs as the handler's first extractor, before any body
/// extractor; the body never runs for a refused request.
///
/// ```ignore
/// #[require_auth]
/// async fn profile(Auth(me): Auth) -> String { me.user_id.to_string() }
/// ```
#[proc_macro_attribute]
pub fn require_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Auth, args.into(), item.into()))
}

/// Requires any of the roles in the tenant the request names (`#[require_tenant_roles("admin")]`),
/// or all of them (`all(...)`): a user can be admin in tenant A and viewer in tenant B. The
/// tenant comes from the token, a header or a path parameter as `[authz.tenant]` configures;
/// the roles held there come from the module's casbin policy engine (RBAC with domains,
/// `g, user, role, tenant`), with inheritance from the role hierarchy on top. A request that
/// names no tenant, or whose user lacks the roles there, gets 403.
///
/// ```ignore
/// #[require_tenant_roles("admin")]
/// async fn settings() -> &'static str { "tenant settings" }
/// ```
#[proc_macro_attribute]
pub fn require_tenant_roles(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::TenantRoles, args.into(), item.into()))
}

/// Requires any of the roles (`#[require_roles("editor", "admin")]`), or all of them
/// (`#[require_roles(all("editor", "reviewer"))]`); typed variants of a `#[derive(Roles)]`
/// enum work too (`#[require_roles(Role::Admin)]`). Role inheritance from the module's
/// hierarchy is honoured. 401 without credentials, 403 without the role.
///
/// ```ignore
/// #[require_roles("editor", "admin")]
/// async fn publish(Json(article): Json<Article>) -> StatusCode { StatusCode::CREATED }
/// ```
#[proc_macro_attribute]
pub fn require_roles(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Roles, args.into(), item.into()))
}

/// Requires every listed permission (`#[require_permissions("articles.write")]` or
/// `#[require_permissions(Perm::ArticlesWrite)]`); wildcard grants such as `articles.*` and
/// `*`, direct or through roles, satisfy it. 401 without credentials, 403 without the
/// permission.
///
/// ```ignore
/// #[require_permissions(Perm::ArticlesWrite)]
/// async fn update(Path(id): Path<u64>) -> StatusCode { StatusCode::NO_CONTENT }
/// ```
#[proc_macro_attribute]
pub fn require_permissions(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Permissions, args.into(), item.into()))
}

/// Requires a policy expression over the principal and the request, parsed and checked when
/// the handler compiles (a syntax error or unknown name is a compile error naming the
/// character) and evaluated as generated code, without parsing at run time:
/// `has_role("x")`, `has_permission("x.y")`, `authenticated()`, comparisons of `user.id`,
/// `user.tenant`, `path.<param>`, `query.<param>` and strings with `==` / `!=`, combined with
/// `&&`, `||`, `!` and parentheses. A missing value never compares equal, so it denies.
///
/// ```ignore
/// #[require_policy(r#"has_role("admin") || (has_permission("articles.write") && user.id == path.owner_id)"#)]
/// async fn edit(Path((owner_id, id)): Path<(String, u64)>) -> StatusCode { StatusCode::OK }
/// ```
#[proc_macro_attribute]
pub fn require_policy(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Policy, args.into(), item.into()))
}

/// Requires a second factor (assurance level AAL2: a password and a code, or a passkey).
/// Without it the answer is 401 `insufficient_user_authentication` (RFC 9470), with the
/// factors that would do, which `POST /auth/mfa/step-up` proves in the caller's session.
///
/// ```ignore
/// #[require_mfa]
/// async fn payouts() -> &'static str { "payouts" }
/// ```
#[proc_macro_attribute]
pub fn require_mfa(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Mfa, args.into(), item.into()))
}

/// Requires any of the named factors (`#[require_factors(any(totp, passkey))]`), or all of
/// them (`all(password, totp)`): `password`, `totp`, `backup_code`, `passkey`. An unknown
/// factor is a compile error. Unmet: 401 `insufficient_user_authentication`.
///
/// ```ignore
/// #[require_factors(any(totp, passkey))]
/// async fn transfer() -> &'static str { "sent" }
/// ```
#[proc_macro_attribute]
pub fn require_factors(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::Factors, args.into(), item.into()))
}

/// Requires an authentication (any factor) within `max_age` (`"30s"`, `"5m"`, `"2h"`,
/// `"1d"`): sudo mode for sensitive actions. A malformed duration is a compile error.
/// Unmet: 401 `insufficient_user_authentication` with `max_age` in the challenge.
///
/// ```ignore
/// #[require_recent_auth(max_age = "5m")]
/// async fn delete_account() -> &'static str { "deleted" }
/// ```
#[proc_macro_attribute]
pub fn require_recent_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| guard::expand(guard::Kind::RecentAuth, args.into(), item.into()))
}

/// A typed permission set. Each unit variant maps to a dotted name: `ArticlesWrite` is
/// `articles.write` unless `#[permission("...")]` says otherwise; `label`, `description`,
/// `kind` (`boolean`, `integer`, `string`) and `default` fill the schema.
///
/// ```ignore
/// #[derive(Permissions)]
/// enum Perm {
///     ArticlesRead,
///     #[permission("articles.write", label = "Write articles")]
///     ArticlesWrite,
/// }
/// ```
#[proc_macro_derive(Permissions, attributes(permission))]
pub fn derive_permissions(input: TokenStream) -> TokenStream {
    output(|| permissions::expand(input.into()))
}

/// A typed role set with its hierarchy: `#[role(inherits(Viewer), permissions(Perm::X))]`.
/// Variant names become snake_case role names unless `name = "..."` is given. An unknown
/// parent or an inheritance cycle is a compile error on the offending variant.
///
/// ```ignore
/// #[derive(Roles)]
/// enum Role {
///     #[role(permissions(Perm::ArticlesRead))]
///     Viewer,
///     #[role(inherits(Viewer), permissions(Perm::ArticlesWrite))]
///     Editor,
///     #[role(permissions("*"))]
///     Admin,
/// }
/// ```
#[proc_macro_derive(Roles, attributes(role))]
pub fn derive_roles(input: TokenStream) -> TokenStream {
    output(|| roles::expand(input.into()))
}

/// Implements the core `AuthUser` trait for a user struct and generates its public projection
/// (named by `#[auth(public = "PublicUser")]`, `Public<Name>` by default): every field except
/// the `password_hash` and those marked `secret` or `skip`, with their `serde` attributes, so
/// the internal user is never what a handler returns.
///
/// It also implements `UserModel`, so the struct can be the user model a service runs with
/// (`AuthModule::with_user_model::<Name>()`): unmarked fields are the model's own (profile)
/// fields, which registration reads and checks and the stored user keeps as JSON.
///
/// Field markers: `id` and `username` (required, once each), `email`, `password_hash`,
/// `roles`, `permissions`, `active`, `tenant` (the parts the framework reads), `record` (a
/// field of the stored user by the same name, e.g. `created_at`), `secret`, `skip` (never in
/// the projection), and for profile fields `default` / `default = path`, `readonly` (a
/// registration may not set it), `validate = path` (`fn(&T) -> Result<(), impl Display>`).
/// Struct options: `public = "Name"`, `public_derive(PartialEq, Eq)`, `validate = path`
/// (`fn(&Self, &mut ValidationErrors)`), `model = false` (the projection only).
///
/// ```ignore
/// #[derive(Clone, AuthUser)]
/// #[auth(public = "PublicMember")]
/// struct Member {
///     #[auth(id)] id: UserId,
///     #[auth(username)] username: String,
///     #[auth(password_hash)] password_hash: Option<String>,
///     #[auth(record)] login_count: i64,
///     #[auth(default = english)] locale: String,
///     #[auth(readonly, default)] plan: Plan,
/// }
/// ```
#[proc_macro_derive(AuthUser, attributes(auth, serde))]
pub fn derive_auth_user(input: TokenStream) -> TokenStream {
    output(|| auth_user::expand(input.into()))
}

/// Wires the auth stack into the application state: put it on the state struct, which has one
/// field of type `AuthModule`. Generates `FromRef<State> for AuthModule` (so every guard and
/// extractor finds the stack) and `State::auth_router(&self)`, a deny-by-default
/// `AuthRouter` with the auth routes registered.
///
/// ```ignore
/// #[auth_module]
/// #[derive(Clone)]
/// struct AppState {
///     auth: AuthModule,
///     db: Db,
/// }
///
/// let app = state.auth_router().get("/articles", list_articles).into_router().with_state(state);
/// ```
#[proc_macro_attribute]
pub fn auth_module(args: TokenStream, item: TokenStream) -> TokenStream {
    output(|| auth_module::expand(args.into(), item.into()))
}
