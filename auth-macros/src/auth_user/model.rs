//! Validating a `#[derive(AuthUser)]` struct: exactly one id and username, at most one of each
//! other role, no secret in the projection.

use darling::util::Flag;
use darling::Error;
use quote::format_ident;

use super::attr::{UserField, UserInput};

/// The fields playing each role.
#[derive(Default)]
pub(crate) struct Roles {
    pub(crate) id: Option<(syn::Ident, syn::Type)>,
    pub(crate) username: Option<(syn::Ident, syn::Type)>,
    pub(crate) email: Option<(syn::Ident, syn::Type)>,
    pub(crate) password_hash: Option<(syn::Ident, syn::Type)>,
    pub(crate) roles: Option<(syn::Ident, syn::Type)>,
    pub(crate) permissions: Option<(syn::Ident, syn::Type)>,
    pub(crate) active: Option<(syn::Ident, syn::Type)>,
    pub(crate) tenant: Option<(syn::Ident, syn::Type)>,
}

pub(crate) struct PublicField {
    pub(crate) ident: syn::Ident,
    pub(crate) ty: syn::Type,
    pub(crate) attrs: Vec<syn::Attribute>,
}

pub(crate) struct UserModel {
    pub(crate) ident: syn::Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) public: syn::Ident,
    pub(crate) public_derive: Vec<syn::Path>,
    pub(crate) roles: Roles,
    pub(crate) public_fields: Vec<PublicField>,
}

fn set<T>(
    slot: &mut Option<T>,
    value: T,
    key: &str,
    flag: &Flag,
    errors: &mut darling::error::Accumulator,
) {
    if slot.is_some() {
        errors.push(
            Error::custom(format!(
                "`#[auth({key})]` is on more than one field; keep it on one"
            ))
            .with_span(&flag.span()),
        );
    } else {
        *slot = Some(value);
    }
}

pub(crate) fn validate(input: UserInput) -> darling::Result<UserModel> {
    let mut errors = Error::accumulator();
    if !input.generics.params.is_empty() {
        errors.push(
            Error::custom("`#[derive(AuthUser)]` does not support generic structs")
                .with_span(&input.generics),
        );
    }
    let fields = input
        .data
        .take_struct()
        .map(|f| f.fields)
        .unwrap_or_default();
    let mut roles = Roles::default();
    let mut public_fields = Vec::new();
    for field in fields {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let typed = || (ident.clone(), field.ty.clone());
        let UserField {
            id,
            username,
            email,
            password_hash,
            roles: r,
            permissions,
            active,
            tenant,
            secret,
            skip,
            ..
        } = &field;
        for (flag, key, slot) in [
            (id, "id", &mut roles.id),
            (username, "username", &mut roles.username),
            (email, "email", &mut roles.email),
            (password_hash, "password_hash", &mut roles.password_hash),
            (r, "roles", &mut roles.roles),
            (permissions, "permissions", &mut roles.permissions),
            (active, "active", &mut roles.active),
            (tenant, "tenant", &mut roles.tenant),
        ] {
            if flag.is_present() {
                set(slot, typed(), key, flag, &mut errors);
            }
        }
        // The hash and secrets never reach the projection, whatever else the field is marked.
        let hidden = password_hash.is_present() || secret.is_present() || skip.is_present();
        if !hidden {
            public_fields.push(PublicField {
                ident,
                ty: field.ty,
                attrs: field.attrs,
            });
        }
    }
    if roles.id.is_none() {
        errors.push(
            Error::custom("no field is marked `#[auth(id)]`; add it to the user's id field")
                .with_span(&input.ident),
        );
    }
    if roles.username.is_none() {
        errors.push(
            Error::custom("no field is marked `#[auth(username)]`; add it to the login name field")
                .with_span(&input.ident),
        );
    }
    let public = input
        .public
        .unwrap_or_else(|| format_ident!("Public{}", input.ident));
    errors.finish_with(UserModel {
        ident: input.ident,
        vis: input.vis,
        public,
        public_derive: input.public_derive.to_vec(),
        roles,
        public_fields,
    })
}
