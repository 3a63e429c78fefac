//! `#[auth_module]` on the application state: parse, validate, expand.
//!
//! It finds the one field of type `AuthModule` and generates the wiring a service would
//! otherwise write: `FromRef<State> for AuthModule` (how every guard and extractor finds the
//! auth stack) and `State::auth_router(&self)`, a deny-by-default router with the auth routes
//! registered.

use darling::Error;
use proc_macro2::TokenStream;
use quote::quote;

/// The state struct and its auth field.
struct Model {
    item: syn::ItemStruct,
    field: syn::Ident,
}

fn is_auth_module(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "AuthModule"))
}

fn validate(args: TokenStream, item: syn::ItemStruct) -> darling::Result<Model> {
    let mut errors = Error::accumulator();
    if !args.is_empty() {
        errors.push(Error::custom("`#[auth_module]` takes no arguments").with_span(&args));
    }
    if !item.generics.params.is_empty() {
        errors.push(
            Error::custom("`#[auth_module]` does not support generic state structs")
                .with_span(&item.generics),
        );
    }
    let candidates: Vec<&syn::Field> = item
        .fields
        .iter()
        .filter(|f| is_auth_module(&f.ty))
        .collect();
    // Exactly one named field of type `AuthModule`; anything else is one precise error.
    let field = match (&item.fields, candidates.as_slice()) {
        (syn::Fields::Named(_), [one]) => one.ident.clone(),
        (syn::Fields::Named(_), []) => {
            errors.push(
                Error::custom("no field of type `AuthModule`; add one, e.g. `auth: AuthModule`")
                    .with_span(&item.ident),
            );
            None
        }
        (syn::Fields::Named(_), [_, second, ..]) => {
            errors.push(
                Error::custom("more than one `AuthModule` field; keep one").with_span(&second.ty),
            );
            None
        }
        _ => {
            errors.push(
                Error::custom(
                    "`#[auth_module]` needs a struct with named fields, one of type `AuthModule`",
                )
                .with_span(&item.ident),
            );
            None
        }
    };
    errors.finish()?;
    match field {
        Some(field) => Ok(Model { item, field }),
        None => Err(Error::custom("no `AuthModule` field")),
    }
}

fn codegen(model: &Model, support: &TokenStream) -> TokenStream {
    let Model { item, field } = model;
    let ident = &item.ident;
    quote! {
        #item

        const _: () = {
            #[automatically_derived]
            impl #support::axum::extract::FromRef<#ident> for #support::AuthModule {
                fn from_ref(state: &#ident) -> Self {
                    ::core::clone::Clone::clone(&state.#field)
                }
            }

            #[automatically_derived]
            impl #ident {
                /// A deny-by-default router for this state with the auth routes
                /// (`/auth/*`, `/health`, `/ready`) registered; every route added must be
                /// guarded or `#[public]`.
                pub fn auth_router(&self) -> #support::AuthRouter<Self> {
                    #support::AuthRouter::new()
                        .with_auth_routes(self.#field.config().server.body_limit_bytes)
                }
            }
        };
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let parsed: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let error = syn::Error::new(
                e.span(),
                "`#[auth_module]` applies to the application's state struct",
            )
            .into_compile_error();
            return Ok(quote!(#error #item));
        }
    };
    let support = crate::krate::axum_support()?;
    let fallback = parsed.clone();
    Ok(match validate(args, parsed) {
        Ok(model) => codegen(&model, &support),
        Err(errors) => {
            let errors = errors.write_errors();
            quote!(#errors #fallback)
        }
    })
}
