//! `#[auth_module]` on the application state: parse, validate, expand.
//!
//! It finds the one field of type `AuthModule` and generates the wiring a service would
//! otherwise write: `FromRef<State> for AuthModule` (how every guard and extractor finds the
//! auth stack) and `State::auth_router(&self)`, a deny-by-default router with the auth routes
//! registered, whose guards' role and permission names are checked against the declared
//! schemas when it is built (`#[auth_module(roles = Role, permissions = Perm)]` ties the
//! typed enums to the state).

use darling::Error;
use proc_macro2::TokenStream;
use quote::quote;

/// `#[auth_module(roles = Role, permissions = Perm)]`: the typed schemas of the state.
#[derive(Default, darling::FromMeta)]
struct Args {
    /// A `#[derive(Roles)]` enum.
    roles: Option<syn::Path>,
    /// A `#[derive(Permissions)]` enum.
    permissions: Option<syn::Path>,
}

/// The state struct, its auth field and its schemas.
struct Model {
    item: syn::ItemStruct,
    field: syn::Ident,
    args: Args,
}

fn is_auth_module(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "AuthModule"))
}

fn validate(args: TokenStream, item: syn::ItemStruct) -> darling::Result<Model> {
    let mut errors = Error::accumulator();
    let args = if args.is_empty() {
        Args::default()
    } else {
        let parsed = darling::ast::NestedMeta::parse_meta_list(args)
            .map_err(Error::from)
            .and_then(|list| {
                <Args as darling::FromMeta>::from_list(&list)
                    .map_err(|e| e.add_sibling_alts_for_unknown_field(&["roles", "permissions"]))
            });
        errors.handle(parsed).unwrap_or_default()
    };
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
        Some(field) => Ok(Model { item, field, args }),
        None => Err(Error::custom("no `AuthModule` field")),
    }
}

fn codegen(model: &Model, support: &TokenStream) -> TokenStream {
    let Model { item, field, args } = model;
    let ident = &item.ident;
    let roles = args
        .roles
        .as_ref()
        .map(|roles| quote!(.declaring_roles::<#roles>()));
    let permissions = args
        .permissions
        .as_ref()
        .map(|permissions| quote!(.declaring_permissions::<#permissions>()));
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
                /// guarded or `#[public]`, and every role and permission its guards name
                /// must be declared when it is built.
                pub fn auth_router(&self) -> #support::AuthRouter<Self> {
                    #support::AuthRouter::new()
                        .with_auth_routes(self.#field.config().server.body_limit_bytes)
                        .declared_by(&self.#field)
                        #roles
                        #permissions
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
