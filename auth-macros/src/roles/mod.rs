//! `#[derive(Roles)]`: parse, validate, expand.

mod attr;
mod codegen;
mod model;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: syn::DeriveInput = syn::parse2(input)?;
    let support = crate::krate::core_support()?;
    Ok(match model::validate(input) {
        Ok(model) => codegen::expand(&model, &support),
        Err(errors) => errors.write_errors(),
    })
}
