//! darling receivers for `#[derive(AuthUser)]`.

use darling::util::Flag;
use darling::{FromDeriveInput, FromField};

/// `#[auth(...)]` on a field: which role the field plays.
#[derive(FromField)]
#[darling(attributes(auth), forward_attrs(serde, doc))]
pub(crate) struct UserField {
    pub(crate) ident: Option<syn::Ident>,
    pub(crate) ty: syn::Type,
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) id: Flag,
    pub(crate) username: Flag,
    pub(crate) email: Flag,
    pub(crate) password_hash: Flag,
    pub(crate) roles: Flag,
    pub(crate) permissions: Flag,
    pub(crate) active: Flag,
    pub(crate) tenant: Flag,
    /// Never leaves the core: not in the public projection.
    pub(crate) secret: Flag,
    /// Internal bookkeeping: not in the public projection either.
    pub(crate) skip: Flag,
}

/// `#[auth(public = "PublicUser")]` on the struct.
#[derive(FromDeriveInput)]
#[darling(attributes(auth), supports(struct_named), forward_attrs(doc))]
pub(crate) struct UserInput {
    pub(crate) ident: syn::Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) generics: syn::Generics,
    pub(crate) data: darling::ast::Data<(), UserField>,
    /// The name of the generated public projection; `Public<Name>` by default.
    pub(crate) public: Option<syn::Ident>,
    /// Extra derives for the projection, e.g. `public_derive(PartialEq, Eq)`.
    #[darling(default)]
    pub(crate) public_derive: darling::util::PathList,
}
