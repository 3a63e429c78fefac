//! Validating a `#[derive(Permissions)]` enum.

use std::collections::HashMap;

use darling::Error;

use super::attr::variant_opts;
use crate::named_enum::{unit_enum, UnitEnum};
use crate::naming;

pub(crate) struct Permission {
    pub(crate) ident: syn::Ident,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) description: String,
    pub(crate) kind: proc_macro2::TokenStream,
    pub(crate) default: Option<String>,
    pub(crate) allowed: Vec<String>,
}

pub(crate) struct PermissionsEnum {
    pub(crate) ident: syn::Ident,
    pub(crate) permissions: Vec<Permission>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|segment| {
            !segment.is_empty()
                && (segment == "*"
                    || segment
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        })
}

pub(crate) fn validate(input: syn::DeriveInput) -> darling::Result<PermissionsEnum> {
    let (UnitEnum { ident, variants }, mut errors) = unit_enum(input, "Permissions")?;
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    let mut permissions = Vec::new();
    let any_variant = !variants.is_empty();
    for variant in variants {
        let Some(opts) = errors.handle(variant_opts(&variant)) else {
            continue;
        };
        let ident_text = variant.ident.to_string();
        let name = opts
            .name
            .as_ref()
            .map_or_else(|| naming::permission_name(&ident_text), syn::LitStr::value);
        if !valid_name(&name) {
            let err = Error::custom(format!(
                "`{name}` is not a permission name; use dotted lowercase segments such as `articles.write`"
            ));
            errors.push(match &opts.name {
                Some(lit) => err.with_span(lit),
                None => err.with_span(&variant.ident),
            });
        }
        if let Some(first) = seen.insert(name.clone(), variant.ident.clone()) {
            errors.push(
                Error::custom(format!("`{name}` is already the name of `{first}`"))
                    .with_span(&variant.ident),
            );
        }
        let kind = match opts.kind.as_ref().map(syn::LitStr::value).as_deref() {
            None | Some("boolean") => quote::quote!(Boolean),
            Some("integer") => quote::quote!(Integer),
            Some("string") => quote::quote!(String),
            Some(other) => {
                let err = Error::custom(format!(
                    "unknown kind `{other}`; write `boolean`, `integer` or `string`"
                ));
                errors.push(match &opts.kind {
                    Some(kind) => err.with_span(kind),
                    None => err,
                });
                quote::quote!(Boolean)
            }
        };
        let is_string = opts.kind.as_ref().is_some_and(|k| k.value() == "string");
        if !opts.allowed.is_empty() && !is_string {
            errors.push(
                Error::custom("`allowed` values need `kind = \"string\"`")
                    .with_span(&variant.ident),
            );
        }
        if let Some(default) = opts
            .default
            .as_ref()
            .filter(|d| !opts.allowed.is_empty() && !opts.allowed.contains(d))
        {
            errors.push(
                Error::custom(format!(
                    "default `{default}` is not one of the `allowed` values"
                ))
                .with_span(&variant.ident),
            );
        }
        permissions.push(Permission {
            label: opts.label.unwrap_or_else(|| naming::label(&ident_text)),
            description: opts.description.unwrap_or_default(),
            ident: variant.ident,
            name,
            kind,
            default: opts.default,
            allowed: opts.allowed,
        });
    }
    if permissions.is_empty() && !any_variant {
        errors
            .push(Error::custom("a permission enum needs at least one variant").with_span(&ident));
    }
    errors.finish_with(PermissionsEnum { ident, permissions })
}
