//! What `#[derive(Permissions)]` and `#[derive(Roles)]` share: the shape check of a unit-only
//! enum, the driver from tokens to tokens, and the generated `as_str`, `ALL`, `Display`,
//! `FromStr`.

use darling::Error;
use proc_macro2::TokenStream;
use quote::quote;

/// A non-generic enum whose variants have no fields.
pub(crate) struct UnitEnum {
    pub(crate) ident: syn::Ident,
    pub(crate) variants: Vec<syn::Variant>,
}

/// Checks the shape: not an enum is an error at once; generics and variants with fields go
/// into the returned accumulator (and such variants are left out), so the caller can keep
/// checking and report everything together.
pub(crate) fn unit_enum(
    input: syn::DeriveInput,
    derive: &str,
) -> darling::Result<(UnitEnum, darling::error::Accumulator)> {
    let syn::Data::Enum(data) = input.data else {
        return Err(Error::custom(format!(
            "`#[derive({derive})]` applies to enums with unit variants"
        ))
        .with_span(&input.ident));
    };
    let mut errors = Error::accumulator();
    if !input.generics.params.is_empty() {
        errors.push(
            Error::custom(format!(
                "`#[derive({derive})]` does not support generic enums"
            ))
            .with_span(&input.generics),
        );
    }
    let mut variants = Vec::new();
    for variant in data.variants {
        if matches!(variant.fields, syn::Fields::Unit) {
            variants.push(variant);
        } else {
            errors.push(
                Error::custom(format!(
                    "`#[derive({derive})]` variants cannot have fields; write `{},`",
                    variant.ident
                ))
                .with_span(&variant.fields),
            );
        }
    }
    Ok((
        UnitEnum {
            ident: input.ident,
            variants,
        },
        errors,
    ))
}

/// Parses, validates and expands a derive; validation errors become `compile_error!`s.
pub(crate) fn expand<M>(
    input: TokenStream,
    validate: fn(syn::DeriveInput) -> darling::Result<M>,
    codegen: fn(&M, &TokenStream) -> TokenStream,
) -> syn::Result<TokenStream> {
    let input: syn::DeriveInput = syn::parse2(input)?;
    let support = crate::krate::core_support()?;
    Ok(match validate(input) {
        Ok(model) => codegen(&model, &support),
        Err(errors) => errors.write_errors(),
    })
}

pub(crate) fn codegen(
    ident: &syn::Ident,
    variants: &[&syn::Ident],
    names: &[&String],
    kind: &str,
    support: &TokenStream,
) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl #ident {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The name checked at run time.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #names,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #ident {
            type Err = #support::UnknownName;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    #(#names => ::core::result::Result::Ok(Self::#variants),)*
                    _ => ::core::result::Result::Err(#support::UnknownName {
                        kind: #kind,
                        name: ::std::string::ToString::to_string(s),
                    }),
                }
            }
        }
    }
}
