//! What both enum derives generate: `as_str`, `ALL`, `Display`, `FromStr`.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn named_enum(
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
