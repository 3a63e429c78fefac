//! Validating a guard: what it requires and the handler it wraps.

use darling::Error;
use proc_macro2::Span;
use syn::spanned::Spanned;

use super::attr::{GuardArgs, Item};

/// Which guard attribute this is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Auth,
    Roles,
    Permissions,
}

impl Kind {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Self::Auth => "require_auth",
            Self::Roles => "require_roles",
            Self::Permissions => "require_permissions",
        }
    }
}

/// The requirement, checked.
pub(crate) enum Requirement {
    Authenticated,
    AnyRole(Vec<Item>),
    AllRoles(Vec<Item>),
    AllPermissions(Vec<Item>),
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

/// Checks the arguments against the kind of guard and the item against what a guard can wrap.
pub(crate) fn validate(
    kind: Kind,
    args: GuardArgs,
    handler: syn::ItemFn,
) -> darling::Result<Guard> {
    let mut errors = Error::accumulator();
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
    let requirement = match kind {
        Kind::Auth => {
            if let Some(first) = args.items.first() {
                let span = match first {
                    Item::Name(l) => l.span(),
                    Item::Typed(p) => p.span(),
                };
                errors.push(
                    Error::custom("`#[require_auth]` takes no arguments; use `#[require_roles(...)]` or `#[require_permissions(...)]`")
                        .with_span(&span),
                );
            }
            Requirement::Authenticated
        }
        Kind::Roles | Kind::Permissions => {
            let what = if kind == Kind::Roles {
                "role"
            } else {
                "permission"
            };
            if args.items.is_empty() {
                errors.push(
                    Error::custom(format!(
                        "`#[{attribute}]` needs at least one {what}, e.g. `#[{attribute}(\"{example}\")]`",
                        example = if kind == Kind::Roles { "admin" } else { "articles.write" }
                    ))
                    .with_span(&args.all.unwrap_or_else(Span::call_site)),
                );
            }
            check_names(&args.items, what, &mut errors);
            match (kind, args.all) {
                (Kind::Roles, None) => Requirement::AnyRole(args.items),
                (Kind::Roles, Some(_)) => Requirement::AllRoles(args.items),
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
