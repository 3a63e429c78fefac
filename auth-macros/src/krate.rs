//! Finding the runtime crate the generated code calls, under whatever name the user's
//! `Cargo.toml` gives it.

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::{format_ident, quote};

fn found(name: &str) -> Option<TokenStream> {
    match crate_name(name).ok()? {
        // Inside the crate itself (its tests and doc tests included) it is reachable under its
        // own name: both runtime crates declare `extern crate self as ...`.
        FoundCrate::Itself => {
            let ident = format_ident!("{}", name.replace('-', "_"));
            Some(quote!(::#ident))
        }
        FoundCrate::Name(renamed) => {
            let ident = format_ident!("{}", renamed);
            Some(quote!(::#ident))
        }
    }
}

/// `::auth_axum::__private`, for guards (they need the axum glue).
pub(crate) fn axum_support() -> syn::Result<TokenStream> {
    found("auth-axum")
        .map(|k| quote!(#k::__private))
        .ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "guards need the `auth-axum` crate; add `auth-axum` to `[dependencies]`",
            )
        })
}

/// `::auth_axum::__private` or `::auth_core::__private`, for derives (they need only the core).
pub(crate) fn core_support() -> syn::Result<TokenStream> {
    found("auth-axum")
        .or_else(|| found("auth-core"))
        .map(|k| quote!(#k::__private))
        .ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "add `auth-axum` (or `auth-core`) to `[dependencies]`",
            )
        })
}
