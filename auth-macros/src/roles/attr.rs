//! Reading `#[role(name = "...", inherits(Viewer), permissions(Perm::ArticlesRead, "x.*"))]`.

use darling::util::PathList;
use darling::{Error, FromMeta};

use crate::name_ref::NameRefList;

/// Options of one variant.
#[derive(Default, FromMeta)]
pub(crate) struct RoleOpts {
    pub(crate) name: Option<syn::LitStr>,
    #[darling(default)]
    pub(crate) inherits: PathList,
    #[darling(default)]
    pub(crate) permissions: NameRefList,
}

pub(crate) fn variant_opts(variant: &syn::Variant) -> darling::Result<RoleOpts> {
    let mut errors = Error::accumulator();
    let mut opts = RoleOpts::default();
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("role")) {
        if let Some(parsed) = errors.handle(RoleOpts::from_meta(&attr.meta)) {
            opts = parsed;
        }
    }
    errors.finish_with(opts)
}
