//! Validating a guard: what it requires and the handler it wraps.

use darling::Error;
use proc_macro2::Span;
use syn::spanned::Spanned;

use super::attr::{GuardArgs, Item};

/// Which guard attribute this is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Public,
    Auth,
    Roles,
    TenantRoles,
    Permissions,
    Policy,
    Mfa,
    Factors,
    RecentAuth,
}

impl Kind {
    /// Whether the guard is about how the caller authenticated (its arguments are factors or
    /// a duration, parsed by `factors`).
    pub(crate) fn is_factor_guard(self) -> bool {
        matches!(self, Self::Mfa | Self::Factors | Self::RecentAuth)
    }

    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Self::Mfa => "require_mfa",
            Self::Factors => "require_factors",
            Self::RecentAuth => "require_recent_auth",
            Self::Public => "public",
            Self::Auth => "require_auth",
            Self::Roles => "require_roles",
            Self::TenantRoles => "require_tenant_roles",
            Self::Permissions => "require_permissions",
            Self::Policy => "require_policy",
        }
    }
}

/// The requirement, checked.
pub(crate) enum Requirement {
    /// `#[public]`: no requirement, declared on purpose.
    Public,
    Authenticated,
    /// Variant names of `CredentialKind`.
    AuthenticatedWith(Vec<syn::Ident>),
    AnyRole(Vec<Item>),
    AllRoles(Vec<Item>),
    TenantAnyRole(Vec<Item>),
    TenantAllRoles(Vec<Item>),
    AllPermissions(Vec<Item>),
    /// A policy expression, parsed, with its source literal.
    Policy(super::policy::Expr, syn::LitStr),
    /// A second factor.
    Mfa,
    /// Variant names of `FactorKind`, any of which.
    AnyFactor(Vec<syn::Ident>),
    /// Variant names of `FactorKind`, all of which.
    AllFactors(Vec<syn::Ident>),
    /// An authentication at most this many seconds ago.
    RecentAuth(u64),
}

/// A validated guard on a handler.
pub(crate) struct Guard {
    pub(crate) requirement: Requirement,
    pub(crate) handler: syn::ItemFn,
}

fn check_names(items: &[Item], what: &str, errors: &mut darling::error::Accumulator) {
    for item in items {
        errors.handle(item.check(what));
    }
}

/// The `CredentialKind` variant a guard keyword names.
fn credential_variant(kind: &syn::Ident) -> Option<&'static str> {
    match kind.to_string().as_str() {
        "bearer" => Some("Bearer"),
        "cookie" => Some("Cookie"),
        "api_key" => Some("ApiKey"),
        "client_credentials" => Some("ClientCredentials"),
        _ => None,
    }
}

/// Checks the handler of a guard whose requirement was parsed on its own (factor guards).
pub(crate) fn validate_with(
    kind: Kind,
    requirement: Requirement,
    handler: syn::ItemFn,
) -> darling::Result<Guard> {
    let mut errors = Error::accumulator();
    check_handler(kind, &handler, &mut errors);
    errors.finish_with(Guard {
        requirement,
        handler,
    })
}

/// What any guard can wrap: a free `async fn`, not already `#[public]`.
fn check_handler(kind: Kind, handler: &syn::ItemFn, errors: &mut darling::error::Accumulator) {
    let attribute = kind.attribute();
    if handler.sig.asyncness.is_none() {
        errors.push(
            Error::custom(format!(
                "`#[{attribute}]` guards `async fn` handlers; add `async`"
            ))
            .with_span(&handler.sig.fn_token),
        );
    }
    if let Some(receiver) = handler.sig.receiver() {
        errors.push(
            Error::custom(format!(
                "`#[{attribute}]` cannot guard a method; use a free `async fn`"
            ))
            .with_span(&receiver.span()),
        );
    }
    if let Some(other) = super::codegen::leading_marker(handler) {
        let (this, that) = (attribute, other);
        if kind == Kind::Public || that == "public" {
            errors.push(
                Error::custom(format!(
                    "`#[{this}]` and `#[{}]` on one handler contradict each other; keep one",
                    if that == "public" {
                        "public"
                    } else {
                        "require_...(...)"
                    }
                ))
                .with_span(&handler.sig.ident),
            );
        }
    }
}

/// Checks the arguments against the kind of guard and the item against what a guard can wrap.
pub(crate) fn validate(
    kind: Kind,
    args: GuardArgs,
    handler: syn::ItemFn,
) -> darling::Result<Guard> {
    let mut errors = Error::accumulator();
    let attribute = kind.attribute();
    check_handler(kind, &handler, &mut errors);
    let requirement = match kind {
        Kind::Mfa | Kind::Factors | Kind::RecentAuth => {
            unreachable!("factor guards are parsed by `factors`")
        }
        Kind::Policy => {
            let source = match (args.items.as_slice(), args.all, &args.credentials) {
                ([Item::Name(lit)], None, None) => Some(lit.clone()),
                _ => {
                    errors.push(
                        Error::custom("`#[require_policy]` takes one string, e.g. `#[require_policy(\"has_role(\\\"admin\\\")\")]`")
                            .with_span(&Span::call_site()),
                    );
                    None
                }
            };
            match source.map(|lit| (super::policy::parse(&lit.value()), lit)) {
                Some((Ok(expr), lit)) => Requirement::Policy(expr, lit),
                Some((Err(e), lit)) => {
                    errors.push(
                        Error::custom(format!(
                            "invalid policy at character {}: {}",
                            e.offset, e.message
                        ))
                        .with_span(&lit),
                    );
                    Requirement::Authenticated
                }
                None => Requirement::Authenticated,
            }
        }
        Kind::Public => {
            if !args.items.is_empty() || args.credentials.is_some() || args.all.is_some() {
                errors.push(
                    Error::custom("`#[public]` takes no arguments").with_span(&Span::call_site()),
                );
            }
            Requirement::Public
        }
        Kind::Auth => {
            if let Some(first) = args.items.first() {
                let span = match first {
                    Item::Name(l) => l.span(),
                    Item::Typed(p) => p.span(),
                };
                errors.push(
                    Error::custom("`#[require_auth]` takes only credential kinds, as `any(bearer, cookie)`; put roles in `#[require_roles(...)]` and permissions in `#[require_permissions(...)]`")
                        .with_span(&span),
                );
            }
            match args.credentials {
                None => Requirement::Authenticated,
                Some((span, kinds)) => {
                    if kinds.is_empty() {
                        errors.push(Error::custom("`any()` needs at least one credential kind, e.g. `any(bearer, cookie)`").with_span(&span));
                    }
                    let variants = kinds
                        .iter()
                        .filter_map(|kind| match credential_variant(kind) {
                            Some(variant) => Some(syn::Ident::new(variant, kind.span())),
                            None => {
                                errors.push(
                                    Error::custom(format!(
                                        "unknown credential kind `{kind}`; use `bearer`, `cookie`, `api_key` or `client_credentials`"
                                    ))
                                    .with_span(kind),
                                );
                                None
                            }
                        })
                        .collect();
                    Requirement::AuthenticatedWith(variants)
                }
            }
        }
        Kind::Roles | Kind::TenantRoles | Kind::Permissions => {
            if let Some((span, _)) = &args.credentials {
                errors.push(
                    Error::custom(format!(
                        "credential kinds go on `#[require_auth(any(...))]`, not on `#[{attribute}]`"
                    ))
                    .with_span(span),
                );
            }
            let what = if kind == Kind::Permissions {
                "permission"
            } else {
                "role"
            };
            if args.items.is_empty() {
                errors.push(
                    Error::custom(format!(
                        "`#[{attribute}]` needs at least one {what}, e.g. `#[{attribute}(\"{example}\")]`",
                        example = if kind == Kind::Permissions { "articles.write" } else { "admin" }
                    ))
                    .with_span(&args.all.unwrap_or_else(Span::call_site)),
                );
            }
            check_names(&args.items, what, &mut errors);
            match (kind, args.all) {
                (Kind::Roles, None) => Requirement::AnyRole(args.items),
                (Kind::Roles, Some(_)) => Requirement::AllRoles(args.items),
                (Kind::TenantRoles, None) => Requirement::TenantAnyRole(args.items),
                (Kind::TenantRoles, Some(_)) => Requirement::TenantAllRoles(args.items),
                (_, Some(span)) => {
                    errors.push(
                        Error::custom(
                            "permissions are always all required; list them without `all(...)`",
                        )
                        .with_span(&span),
                    );
                    Requirement::AllPermissions(args.items)
                }
                (_, None) => Requirement::AllPermissions(args.items),
            }
        }
    };
    errors.finish_with(Guard {
        requirement,
        handler,
    })
}
