//! `#[derive(AuthUser)]`: parse, validate, expand.

mod attr;
mod codegen;
mod model;

use darling::FromDeriveInput;
use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: syn::DeriveInput = syn::parse2(input)?;
    let support = crate::krate::core_support()?;
    let parsed = attr::UserInput::from_derive_input(&input).and_then(model::validate);
    Ok(match parsed {
        Ok(model) => codegen::expand(&model, &support),
        Err(errors) => errors.write_errors(),
    })
}
