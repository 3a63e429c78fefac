//! `#[derive(Permissions)]`: parse, validate, expand.

mod attr;
mod codegen;
mod model;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    crate::named_enum::expand(input, model::validate, codegen::expand)
}
