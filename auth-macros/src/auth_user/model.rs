//! Validating a `#[derive(AuthUser)]` struct: exactly one id and username, at most one of each
//! other role, no secret in the projection.

use darling::util::{Flag, Override};
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
    /// The raw profile storage: shown as its public fields, flattened.
    pub(crate) raw_profile: bool,
}

/// Where a field's value comes from when the model is built from a stored user.
pub(crate) enum Source {
    /// The stored user's field of this name.
    Record(syn::Ident),
    /// A profile field of the model's own.
    Profile(ProfileField),
}

/// A field of the model's own, kept in the stored user's profile.
pub(crate) struct ProfileField {
    pub(crate) private: bool,
    pub(crate) readonly: bool,
    pub(crate) default: Option<Override<syn::Path>>,
    pub(crate) validate: Option<syn::Path>,
}

/// Every field of the struct, for building the model back from a stored user.
pub(crate) struct ModelField {
    pub(crate) ident: syn::Ident,
    pub(crate) ty: syn::Type,
    pub(crate) source: Source,
}

/// The fields of the stored user (`auth_core::User`): a field of a model named like one of
/// them plays that part (marked) or is refused, never silently becomes a profile field.
const RECORD_FIELDS: &[&str] = &[
    "id",
    "username",
    "email",
    "password_hash",
    "roles",
    "permissions",
    "tenant",
    "is_active",
    "is_verified",
    "security_epoch",
    "created_at",
    "updated_at",
    "last_login_at",
    "login_count",
    "profile",
];

pub(crate) struct UserModel {
    pub(crate) ident: syn::Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) public: syn::Ident,
    pub(crate) public_derive: Vec<syn::Path>,
    pub(crate) roles: Roles,
    pub(crate) public_fields: Vec<PublicField>,
    pub(crate) fields: Vec<ModelField>,
    pub(crate) validate: Option<syn::Path>,
    /// Whether to implement `UserModel` (not with `#[auth(model = false)]`).
    pub(crate) model: bool,
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
    let mut model_fields = Vec::new();
    let is_model = input.model.unwrap_or(true);
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
            record,
            profile,
            readonly,
            default,
            validate,
            ..
        } = &field;
        let mut source = None;
        for (flag, key, slot, stored) in [
            (id, "id", &mut roles.id, "id"),
            (username, "username", &mut roles.username, "username"),
            (email, "email", &mut roles.email, "email"),
            (
                password_hash,
                "password_hash",
                &mut roles.password_hash,
                "password_hash",
            ),
            (r, "roles", &mut roles.roles, "roles"),
            (
                permissions,
                "permissions",
                &mut roles.permissions,
                "permissions",
            ),
            (active, "active", &mut roles.active, "is_active"),
            (tenant, "tenant", &mut roles.tenant, "tenant"),
        ] {
            if flag.is_present() {
                set(slot, typed(), key, flag, &mut errors);
                source = Some(format_ident!("{stored}", span = ident.span()));
            }
        }
        let marked = source.is_some();
        for (flag, key) in [(record, "record"), (profile, "profile")] {
            if flag.is_present() {
                if marked {
                    errors.push(
                        Error::custom(format!(
                            "`#[auth({key})]` cannot be combined with the part this field already plays"
                        ))
                        .with_span(&flag.span()),
                    );
                }
                source = Some(if profile.is_present() {
                    format_ident!("profile", span = ident.span())
                } else {
                    ident.clone()
                });
            }
        }
        let own = source.is_none();
        if !own {
            for (present, key) in [
                (readonly.is_present(), "readonly"),
                (default.is_some(), "default"),
                (validate.is_some(), "validate"),
            ] {
                if present {
                    errors.push(
                        Error::custom(format!(
                            "`#[auth({key})]` is for the model's own (profile) fields, not for a field of the stored user"
                        ))
                        .with_span(&ident),
                    );
                }
            }
        } else if is_model && RECORD_FIELDS.contains(&ident.to_string().as_str()) {
            errors.push(
                Error::custom(format!(
                    "`{ident}` is a field of the stored user: mark it `#[auth(record)]` (or the part it plays), or rename it"
                ))
                .with_span(&ident),
            );
        } else if readonly.is_present() && default.is_none() {
            errors.push(
                Error::custom(
                    "a `#[auth(readonly)]` field needs `#[auth(default)]` (or `default = path`): registrations cannot give it",
                )
                .with_span(&readonly.span()),
            );
        }
        // The hash and secrets never reach the projection, whatever else the field is marked.
        let hidden = password_hash.is_present() || secret.is_present() || skip.is_present();
        if !hidden {
            public_fields.push(PublicField {
                ident: ident.clone(),
                ty: field.ty.clone(),
                attrs: field.attrs.clone(),
                raw_profile: profile.is_present(),
            });
        }
        model_fields.push(ModelField {
            ident: ident.clone(),
            ty: field.ty.clone(),
            source: match source {
                Some(stored) => Source::Record(stored),
                None => Source::Profile(ProfileField {
                    private: secret.is_present() || skip.is_present(),
                    readonly: readonly.is_present(),
                    default: default.clone(),
                    validate: validate.clone(),
                }),
            },
        });
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
        fields: model_fields,
        validate: input.validate,
        model: input.model.unwrap_or(true),
    })
}
