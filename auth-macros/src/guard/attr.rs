//! Parsing the guard arguments: `"role"`, `Role::Admin`, `all("a", "b")`.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta};
use syn::Meta;

pub(crate) use crate::name_ref::NameRef as Item;

/// The arguments of a guard attribute.
pub(crate) struct GuardArgs {
    /// `all(...)` was used.
    pub(crate) all: Option<proc_macro2::Span>,
    /// `any(bearer, cookie, ...)`: accepted credential kinds, with the span of `any`.
    pub(crate) credentials: Option<(proc_macro2::Span, Vec<syn::Ident>)>,
    pub(crate) items: Vec<Item>,
}

fn item(meta: &NestedMeta, errors: &mut darling::error::Accumulator) -> Option<Item> {
    errors.handle(Item::from_nested(meta))
}

/// Parses `a, b, all(c, d)`-style arguments; `all(...)` must be the only argument.
pub(crate) fn parse(args: proc_macro2::TokenStream) -> darling::Result<GuardArgs> {
    let metas = NestedMeta::parse_meta_list(args)?;
    let mut errors = Error::accumulator();
    let mut parsed = GuardArgs {
        all: None,
        credentials: None,
        items: Vec::new(),
    };
    let count = metas.len();
    for meta in metas {
        match meta {
            NestedMeta::Meta(Meta::List(list)) if list.path.is_ident("all") => {
                if count != 1 {
                    errors.push(
                        Error::custom(
                            "`all(...)` must be the only argument; write `all(\"a\", \"b\")`",
                        )
                        .with_span(&list),
                    );
                }
                parsed.all = Some(syn::spanned::Spanned::span(&list.path));
                if let Some(inner) =
                    errors.handle(NestedMeta::parse_meta_list(list.tokens).map_err(Error::from))
                {
                    for meta in inner {
                        if let Some(item) = item(&meta, &mut errors) {
                            parsed.items.push(item);
                        }
                    }
                }
            }
            NestedMeta::Meta(Meta::List(list)) if list.path.is_ident("any") => {
                let span = syn::spanned::Spanned::span(&list.path);
                if let Some(kinds) = errors.handle(
                    NestedMeta::parse_meta_list(list.tokens)
                        .map_err(Error::from)
                        .and_then(|metas| darling::util::PathList::from_list(&metas)),
                ) {
                    let idents = kinds
                        .iter()
                        .filter_map(|p| match p.get_ident() {
                            Some(ident) => Some(ident.clone()),
                            None => {
                                errors.push(
                                    Error::custom("expected a credential kind such as `bearer`")
                                        .with_span(p),
                                );
                                None
                            }
                        })
                        .collect();
                    parsed.credentials = Some((span, idents));
                }
            }
            other => {
                if let Some(item) = item(&other, &mut errors) {
                    parsed.items.push(item);
                }
            }
        }
    }
    errors.finish_with(parsed)
}
