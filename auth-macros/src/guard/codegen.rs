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

/// Expands a validated guard. Infallible.
pub(crate) fn expand(guard: Guard, support: &TokenStream, attribute_tokens: &str) -> TokenStream {
    let Guard {
        requirement,
        mut handler,
    } = guard;
    let requirement = match &requirement {
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
        Requirement::AllPermissions(list) => {
            let list = items(list);
            quote!(#support::Requirement::AllPermissions(#list))
        }
    };
    // One marker type per guard; the hash keeps stacked guards on one handler apart.
    let mut hasher = DefaultHasher::new();
    attribute_tokens.hash(&mut hasher);
    let marker = format_ident!("__auth_guard_{}_{:x}", handler.sig.ident, hasher.finish());
    let vis = &handler.vis;
    // Leading position: request-head extractors run in order and before the body extractor,
    // so a refused request never reaches `Json` and friends.
    handler
        .sig
        .inputs
        .insert(0, parse_quote!(_: #support::Guard<#marker>));
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #[automatically_derived]
        impl #support::GuardSpec for #marker {
            const REQUIREMENT: #support::Requirement = #requirement;
        }

        #handler
    }
}
