//! Reading `#[permission("name", label = "...", description = "...", kind = "...")]`.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta};
use syn::Lit;

/// Options of one variant.
#[derive(Default, FromMeta)]
pub(crate) struct PermissionOpts {
    pub(crate) name: Option<syn::LitStr>,
    pub(crate) label: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) kind: Option<syn::LitStr>,
    pub(crate) default: Option<String>,
    /// `allowed = "a", allowed = "b"`: the values a string permission may take.
    #[darling(multiple)]
    pub(crate) allowed: Vec<String>,
}

/// The options of a variant's `#[permission(...)]` attributes; a leading string is the name.
pub(crate) fn variant_opts(variant: &syn::Variant) -> darling::Result<PermissionOpts> {
    let mut opts = PermissionOpts::default();
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("permission"))
    {
        let list = attr.meta.require_list().map_err(Error::from)?;
        let mut items = NestedMeta::parse_meta_list(list.tokens.clone())?;
        let positional = match items.first() {
            Some(NestedMeta::Lit(Lit::Str(lit))) => Some(lit.clone()),
            _ => None,
        };
        if positional.is_some() {
            items.remove(0);
        }
        let parsed = PermissionOpts::from_list(&items)?;
        if positional.is_some() && parsed.name.is_some() {
            return Err(Error::custom(
                "the name is given twice; keep either the leading string or `name = ...`",
            )
            .with_span(&attr.meta));
        }
        opts = PermissionOpts {
            name: positional.or(parsed.name),
            ..parsed
        };
    }
    Ok(opts)
}
