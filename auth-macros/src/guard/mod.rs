//! `#[require_auth]`, `#[require_roles]`, `#[require_permissions]`, the policy and factor
//! guards: parse, validate, expand.

mod attr;
mod codegen;
mod factors;
mod model;
mod policy;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

pub(crate) use self::model::Kind;

/// Expands one guard attribute on `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let attribute_tokens = args.to_string();
    let handler: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(handler) => handler,
        Err(e) => {
            let error = syn::Error::new(
                e.span(),
                format!("`#[{}]` applies to `async fn` handlers", kind.attribute()),
            )
            .into_compile_error();
            // Keep the item so the rest of the crate still compiles.
            return Ok(quote::quote!(#error #item));
        }
    };
    let support = crate::krate::axum_support()?;
    let fallback = handler.clone();
    let parsed = if kind.is_factor_guard() {
        factors::parse(kind, args).and_then(|req| model::validate_with(kind, req, handler))
    } else {
        attr::parse(args).and_then(|args| model::validate(kind, args, handler))
    };
    match parsed {
        Ok(guard) => Ok(codegen::expand(guard, &support, &attribute_tokens)),
        // Keep the user's function next to the errors so the rest of the crate still compiles.
        Err(errors) => {
            let errors = errors.write_errors();
            Ok(quote::quote!(#errors #fallback))
        }
    }
}
