//! darling receivers for `#[derive(AuthUser)]`.

use darling::util::{Flag, Override};
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
    /// A field of the stored user, by the same name (`created_at`, `login_count`, ...).
    pub(crate) record: Flag,
    /// The raw profile storage (the built-in `User`'s `profile`).
    pub(crate) profile: Flag,
    /// A profile field a registration may not set.
    pub(crate) readonly: Flag,
    /// A profile field's value when absent: `Default::default()`, or `default = path`.
    pub(crate) default: Option<Override<syn::Path>>,
    /// A profile field's check at registration: `fn(&T) -> Result<(), impl Display>`.
    pub(crate) validate: Option<syn::Path>,
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
    /// The whole model's check at registration: `fn(&Self, &mut ValidationErrors)`.
    pub(crate) validate: Option<syn::Path>,
    /// `model = false`: the projection only, no `UserModel` (for a type the framework's
    /// stores do not keep, e.g. with an id of another type).
    pub(crate) model: Option<bool>,
}
