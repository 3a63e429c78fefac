//! Writing the impls of a `#[derive(Permissions)]` enum. Infallible.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::PermissionsEnum;
use crate::named_enum;

pub(crate) fn expand(model: &PermissionsEnum, support: &TokenStream) -> TokenStream {
    let ident = &model.ident;
    let idents: Vec<_> = model.permissions.iter().map(|p| &p.ident).collect();
    let names: Vec<_> = model.permissions.iter().map(|p| &p.name).collect();
    let common = named_enum::codegen(ident, &idents, &names, "permission", support);
    let defs = model.permissions.iter().map(|p| {
        let (name, label, description, kind) = (&p.name, &p.label, &p.description, &p.kind);
        let allowed = &p.allowed;
        let default = match &p.default {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        quote!(#support::PermissionDef::new(#name, #label, #description, #support::PermissionKind::#kind, &[#(#allowed),*], #default))
    });
    quote! {
        #common

        #[automatically_derived]
        impl #support::PermissionSchema for #ident {
            const ALL: &'static [Self] = &[#(Self::#idents),*];

            fn name(&self) -> &'static str {
                self.as_str()
            }

            fn schema() -> &'static [#support::PermissionDef] {
                const SCHEMA: &[#support::PermissionDef] = &[#(#defs),*];
                SCHEMA
            }
        }
    }
}
