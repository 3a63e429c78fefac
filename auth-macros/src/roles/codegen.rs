//! Writing the impls of a `#[derive(Roles)]` enum. Infallible.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::RolesEnum;
use crate::name_ref::NameRef;
use crate::named_enum;

pub(crate) fn expand(model: &RolesEnum, support: &TokenStream) -> TokenStream {
    let ident = &model.ident;
    let idents: Vec<_> = model.roles.iter().map(|r| &r.ident).collect();
    let names: Vec<_> = model.roles.iter().map(|r| &r.name).collect();
    let common = named_enum::codegen(ident, &idents, &names, "role", support);
    let roles = model.roles.iter().map(|role| {
        let name = &role.name;
        let parents: Vec<&String> = role.parents.iter().map(|&p| &model.roles[p].name).collect();
        let permissions: Vec<TokenStream> =
            role.permissions.iter().map(NameRef::to_str_expr).collect();
        quote!(.role(#name, &[#(#parents),*], &[#(#permissions),*]))
    });
    quote! {
        #common

        #[automatically_derived]
        impl #support::RoleSchema for #ident {
            const ALL: &'static [Self] = &[#(Self::#idents),*];

            fn name(&self) -> &'static str {
                self.as_str()
            }

            fn hierarchy() -> #support::RoleHierarchy {
                match #support::RoleHierarchy::builder() #(#roles)* .build() {
                    ::core::result::Result::Ok(hierarchy) => hierarchy,
                    // Unknown parents and cycles were refused when the enum compiled.
                    ::core::result::Result::Err(e) => ::core::unreachable!("{}", e),
                }
            }
        }
    }
}
