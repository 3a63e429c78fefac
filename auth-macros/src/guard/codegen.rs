//! Writing the guarded handler: the user's function with one leading extractor parameter.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse_quote;

use super::attr::Item;
use super::model::{Guard, Requirement};

fn items(items: &[Item]) -> TokenStream {
    let items = items.iter().map(Item::to_str_expr);
    quote!(&[#(#items),*])
}

/// The `G` of a leading `_: ...::__private::Guard<G>` parameter that an earlier guard
/// expansion inserted.
pub(crate) fn existing_guard(handler: &syn::ItemFn) -> Option<syn::Type> {
    let syn::FnArg::Typed(first) = handler.sig.inputs.first()? else {
        return None;
    };
    let syn::Type::Path(path) = &*first.ty else {
        return None;
    };
    let is_ours = path.path.segments.iter().any(|s| s.ident == "__private");
    let last = path.path.segments.last()?;
    if !is_ours || last.ident != "Guard" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
            syn::GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// What an earlier expansion left as the first parameter: `"guard"` or `"public"`.
pub(crate) fn leading_marker(handler: &syn::ItemFn) -> Option<&'static str> {
    if existing_guard(handler).is_some() {
        return Some("guard");
    }
    let syn::FnArg::Typed(first) = handler.sig.inputs.first()? else {
        return None;
    };
    let syn::Type::Path(path) = &*first.ty else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    (segments.iter().any(|s| s == "__private") && segments.last().is_some_and(|s| s == "Public"))
        .then_some("public")
}

/// Expands a validated guard. Infallible.
pub(crate) fn expand(guard: Guard, support: &TokenStream, attribute_tokens: &str) -> TokenStream {
    let Guard {
        requirement,
        mut handler,
    } = guard;
    // One marker type per guard; the hash keeps stacked guards on one handler apart.
    let mut hasher = DefaultHasher::new();
    attribute_tokens.hash(&mut hasher);
    let marker = format_ident!("__auth_guard_{}_{:x}", handler.sig.ident, hasher.finish());
    let mut extra = TokenStream::new();
    let requirement = match &requirement {
        Requirement::Policy(expr, source) => {
            let body = super::policy::codegen(expr, support);
            extra = quote! {
                #[automatically_derived]
                impl #marker {
                    fn __auth_eval(ctx: &#support::PolicyContext<'_>) -> bool {
                        #body
                    }
                }
            };
            let query = super::policy::query_params(expr);
            quote!(#support::Requirement::Policy(&#support::Policy { source: #source, eval: #marker::__auth_eval, query: &[#(#query),*] }))
        }
        Requirement::Public => {
            handler
                .sig
                .inputs
                .insert(0, parse_quote!(_: #support::Public));
            return quote!(#handler);
        }
        Requirement::Authenticated => quote!(#support::Requirement::Authenticated),
        Requirement::AuthenticatedWith(kinds) => {
            quote!(#support::Requirement::AuthenticatedWith(&[#(#support::CredentialKind::#kinds),*]))
        }
        Requirement::AnyRole(list) => {
            let list = items(list);
            quote!(#support::Requirement::AnyRole(#list))
        }
        Requirement::AllRoles(list) => {
            let list = items(list);
            quote!(#support::Requirement::AllRoles(#list))
        }
        Requirement::TenantAnyRole(list) => {
            let list = items(list);
            quote!(#support::Requirement::TenantAnyRole(#list))
        }
        Requirement::TenantAllRoles(list) => {
            let list = items(list);
            quote!(#support::Requirement::TenantAllRoles(#list))
        }
        Requirement::AllPermissions(list) => {
            let list = items(list);
            quote!(#support::Requirement::AllPermissions(#list))
        }
        Requirement::Mfa => quote!(#support::Requirement::Mfa),
        Requirement::AnyFactor(kinds) => {
            quote!(#support::Requirement::AnyFactor(&[#(#support::FactorKind::#kinds),*]))
        }
        Requirement::AllFactors(kinds) => {
            quote!(#support::Requirement::AllFactors(&[#(#support::FactorKind::#kinds),*]))
        }
        Requirement::RecentAuth(seconds) => {
            quote!(#support::Requirement::RecentAuth { max_age: #seconds })
        }
    };
    let vis = &handler.vis;
    // Leading position: request-head extractors run in order and before the body extractor,
    // so a refused request never reaches `Json` and friends. A guard stacked below another
    // expands second and joins the first one's parameter, so a handler has one guard
    // parameter whatever the number of guards (and the route table sees them all).
    match existing_guard(&handler) {
        Some(outer) => {
            handler.sig.inputs[0] =
                parse_quote!(_: #support::Guard<#support::Both<#outer, #marker>>);
        }
        None => handler
            .sig
            .inputs
            .insert(0, parse_quote!(_: #support::Guard<#marker>)),
    }
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #[automatically_derived]
        impl #support::SingleGuard for #marker {
            const REQUIREMENT: #support::Requirement = #requirement;
        }

        #extra

        #handler
    }
}
