//! Writing the `AuthUser` impl and the public projection. Infallible.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{ModelField, Source, UserModel};

pub(crate) fn expand(model: &UserModel, support: &TokenStream) -> TokenStream {
    let UserModel {
        ident,
        vis,
        public,
        public_derive,
        roles,
        public_fields,
        fields: _,
        validate: _,
        model: _,
    } = model;
    let serde_crate = format!("{support}::serde").replace(' ', "");
    let fields = public_fields.iter().map(|f| {
        let (name, ty, attrs) = (&f.ident, &f.ty, &f.attrs);
        if f.raw_profile {
            quote! {
                #(#attrs)*
                #[serde(flatten)]
                pub #name: #support::serde_json::Map<::std::string::String, #support::serde_json::Value>,
            }
        } else {
            quote!(#(#attrs)* pub #name: #ty,)
        }
    });
    let projections = public_fields.iter().map(|f| {
        let name = &f.ident;
        if f.raw_profile {
            quote!(#name: ::core::clone::Clone::clone(&self.#name.public),)
        } else {
            quote!(#name: ::core::clone::Clone::clone(&self.#name),)
        }
    });
    let user_model = if model.model {
        user_model(model, support)
    } else {
        TokenStream::new()
    };
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
                    #(#projections)*
                }
            }
        }

        #user_model
    }
}

/// How registration reads one profile field, and how it comes back from a stored user.
fn field_spec(field: &ModelField, support: &TokenStream) -> Option<TokenStream> {
    let Source::Profile(profile) = &field.source else {
        return None;
    };
    let ty = &field.ty;
    let name = syn::ext::IdentExt::unraw(&field.ident).to_string();
    let private = profile.private;
    let writable = !profile.readonly;
    let default = match &profile.default {
        None => quote!(::core::option::Option::None),
        Some(darling::util::Override::Inherit) => quote_spanned! {ty.span()=>
            ::core::option::Option::Some(<#ty as ::core::default::Default>::default)
        },
        Some(darling::util::Override::Explicit(path)) => quote_spanned! {path.span()=>
            ::core::option::Option::Some(#path)
        },
    };
    let validate = match &profile.validate {
        None => quote!(::core::option::Option::None),
        Some(path) => quote_spanned! {path.span()=>
            ::core::option::Option::Some(|value: &#ty| {
                #path(value).map_err(|e| ::std::string::ToString::to_string(&e))
            })
        },
    };
    Some(quote_spanned! {ty.span()=>
        #support::FieldSpec::<#ty> {
            name: #name,
            private: #private,
            writable: #writable,
            default: #default,
            validate: #validate,
        }
    })
}

/// The `UserModel` impl: profile fields read at registration and loaded from the record.
fn user_model(model: &UserModel, support: &TokenStream) -> TokenStream {
    let ident = &model.ident;
    let names: Vec<String> = model
        .fields
        .iter()
        .filter(|f| matches!(f.source, Source::Profile(_)))
        .map(|f| syn::ext::IdentExt::unraw(&f.ident).to_string())
        .collect();
    let writable: Vec<String> = model
        .fields
        .iter()
        .filter(|f| matches!(&f.source, Source::Profile(p) if !p.readonly))
        .map(|f| syn::ext::IdentExt::unraw(&f.ident).to_string())
        .collect();
    let reads = model
        .fields
        .iter()
        .filter_map(|f| field_spec(f, support))
        .map(|spec| quote!(#spec.read(input, &mut profile, errors);));
    let loads = model.fields.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        match &f.source {
            Source::Record(stored) => quote_spanned! {ty.span()=>
                #name: {
                    // Bound first, so the stored type is known when the conversion is chosen.
                    let stored = &record.#stored;
                    #support::record_field::<#ty, _>(stored)
                },
            },
            Source::Profile(_) => {
                let spec = field_spec(f, support);
                quote!(#name: #spec.load(record)?,)
            }
        }
    });
    let validate = match &model.validate {
        Some(path) => quote_spanned! {path.span()=> #path(self, errors);},
        None => quote!(let _ = errors;),
    };
    quote! {
        #[automatically_derived]
        impl #support::UserModel for #ident {
            const PROFILE_FIELDS: &'static [&'static str] = &[#(#names),*];
            const WRITABLE_FIELDS: &'static [&'static str] = &[#(#writable),*];

            fn read_profile(
                input: &#support::serde_json::Map<::std::string::String, #support::serde_json::Value>,
                errors: &mut #support::ValidationErrors,
            ) -> #support::Profile {
                let mut profile = <#support::Profile as ::core::default::Default>::default();
                #(#reads)*
                let _ = (input, errors);
                profile
            }

            fn from_record(
                record: &#support::User,
            ) -> ::core::result::Result<Self, #support::ProfileError> {
                ::core::result::Result::Ok(Self {
                    #(#loads)*
                })
            }

            fn validate(&self, errors: &mut #support::ValidationErrors) {
                #validate
            }
        }
    }
}
