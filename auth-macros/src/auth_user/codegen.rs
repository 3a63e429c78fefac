//! Writing the `AuthUser` impl and the public projection. Infallible.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::UserModel;

pub(crate) fn expand(model: &UserModel, support: &TokenStream) -> TokenStream {
    let UserModel {
        ident,
        vis,
        public,
        public_derive,
        roles,
        public_fields,
    } = model;
    let serde_crate = format!("{support}::serde").replace(' ', "");
    let field_idents: Vec<_> = public_fields.iter().map(|f| &f.ident).collect();
    let fields = public_fields.iter().map(|f| {
        let (name, ty, attrs) = (&f.ident, &f.ty, &f.attrs);
        quote!(#(#attrs)* pub #name: #ty,)
    });
    let id = roles.id.as_ref().map(|(field, _)| field);
    let username = roles.username.as_ref().map(|(field, _)| field);
    // Each accessor is spanned on the user's field type, so a wrong type is reported there.
    let optional_str = |slot: &Option<(syn::Ident, syn::Type)>, method: &str| {
        let method = quote::format_ident!("{method}");
        match slot {
            Some((field, ty)) => quote_spanned! {ty.span()=>
                fn #method(&self) -> ::core::option::Option<&str> {
                    #support::OptionalStr::optional_str(&self.#field)
                }
            },
            None => {
                quote!(fn #method(&self) -> ::core::option::Option<&str> { ::core::option::Option::None })
            }
        }
    };
    let email = optional_str(&roles.email, "email");
    let password_hash = optional_str(&roles.password_hash, "password_hash");
    let tenant = optional_str(&roles.tenant, "tenant");
    let list = |slot: &Option<(syn::Ident, syn::Type)>, method: &str| {
        let method = quote::format_ident!("{method}");
        match slot {
            Some((field, ty)) => quote_spanned! {ty.span()=>
                fn #method(&self) -> &[::std::string::String] {
                    ::core::convert::AsRef::<[::std::string::String]>::as_ref(&self.#field)
                }
            },
            None => quote!(fn #method(&self) -> &[::std::string::String] { &[] }),
        }
    };
    let role_list = list(&roles.roles, "roles");
    let permission_list = list(&roles.permissions, "permissions");
    let active = match &roles.active {
        Some((field, ty)) => quote_spanned! {ty.span()=>
            fn is_active(&self) -> bool {
                let active: bool = self.#field;
                active
            }
        },
        None => quote!(
            fn is_active(&self) -> bool {
                true
            }
        ),
    };
    let doc = format!("The public projection of [`{ident}`]: every field but the password hash and the `#[auth(secret)]` / `#[auth(skip)]` ones.");
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, #support::serde::Serialize, #support::serde::Deserialize, #(#public_derive),*)]
        #[serde(crate = #serde_crate)]
        #vis struct #public {
            #(#fields)*
        }

        #[automatically_derived]
        impl #support::AuthUser for #ident {
            type Public = #public;

            fn id(&self) -> ::std::string::String {
                ::std::string::ToString::to_string(&self.#id)
            }

            fn username(&self) -> &str {
                ::core::convert::AsRef::<str>::as_ref(&self.#username)
            }

            #email
            #password_hash
            #tenant
            #role_list
            #permission_list
            #active

            fn to_public(&self) -> #public {
                #public {
                    #(#field_idents: ::core::clone::Clone::clone(&self.#field_idents),)*
                }
            }
        }
    }
}
