//! A role or permission as the user names it: a string or a typed enum variant.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Lit, Meta};

/// `"articles.write"` or `Perm::ArticlesWrite`.
pub(crate) enum NameRef {
    /// A string literal.
    Name(syn::LitStr),
    /// A variant of a `#[derive(Roles)]` / `#[derive(Permissions)]` enum.
    Typed(syn::Path),
}

impl NameRef {
    /// Reads one list element.
    pub(crate) fn from_nested(meta: &NestedMeta) -> darling::Result<Self> {
        match meta {
            NestedMeta::Lit(Lit::Str(lit)) => Ok(Self::Name(lit.clone())),
            NestedMeta::Meta(Meta::Path(path)) => Ok(Self::Typed(path.clone())),
            other => Err(Error::custom(
                "expected a string such as `\"editor\"` or a typed variant such as `Role::Editor`",
            )
            .with_span(other)),
        }
    }

    /// A `&'static str` expression; typed variants call the derive's `const fn as_str`, so a
    /// misspelt variant is a compile error at the user's path.
    pub(crate) fn to_str_expr(&self) -> TokenStream {
        match self {
            Self::Name(lit) => quote!(#lit),
            Self::Typed(path) => quote!(#path.as_str()),
        }
    }

    /// Refuses empty names and names with spaces.
    pub(crate) fn check(&self, what: &str) -> darling::Result<()> {
        match self {
            Self::Name(lit)
                if lit.value().is_empty() || lit.value().chars().any(char::is_whitespace) =>
            {
                Err(
                    Error::custom(format!("a {what} name cannot be empty or contain spaces"))
                        .with_span(lit),
                )
            }
            _ => Ok(()),
        }
    }
}

/// A parenthesised list of [`NameRef`]s, as in `permissions(Perm::A, "b.*")`.
#[derive(Default)]
pub(crate) struct NameRefList(pub(crate) Vec<NameRef>);

impl FromMeta for NameRefList {
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        let refs = items
            .iter()
            .filter_map(|m| errors.handle(NameRef::from_nested(m)))
            .collect();
        errors.finish_with(Self(refs))
    }
}
