//! User models of your own: the fields a service adds to its users (`display_name`, `plan`,
//! `locale`, ...), kept with the stored [`User`] as a JSON [`Profile`].
//!
//! A service declares its model with `#[derive(AuthUser)]`. The fields that play a part for
//! the framework are marked (`#[auth(id)]`, `#[auth(username)]`, ...), the fields of the stored
//! user it wants to see are marked `#[auth(record)]` (`created_at`, `login_count`, ...), and
//! every other field is the model's own: a profile field. The derive implements
//! [`UserModel`]: how registration reads and checks the profile fields, and how the model is
//! built back from a stored user.
//!
//! ```
//! use auth_core::user::{UserId, UserModel};
//! use auth_macros::AuthUser; // re-exported as `auth_axum::AuthUser`
//! use time::OffsetDateTime;
//!
//! fn short(name: &Option<String>) -> Result<(), &'static str> {
//!     match name {
//!         Some(name) if name.chars().count() > 100 => Err("must be at most 100 characters"),
//!         _ => Ok(()),
//!     }
//! }
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize, Default, PartialEq, Eq, Debug)]
//! #[serde(rename_all = "lowercase")]
//! enum Plan {
//!     #[default]
//!     Free,
//!     Pro,
//! }
//!
//! #[derive(Clone, AuthUser)]
//! struct Member {
//!     #[auth(id)]
//!     id: UserId,
//!     #[auth(username)]
//!     username: String,
//!     #[auth(password_hash)]
//!     password_hash: Option<String>,
//!     #[auth(record)]
//!     created_at: OffsetDateTime,
//!     /// Chosen at registration, checked by `short`.
//!     #[auth(validate = short)]
//!     display_name: Option<String>,
//!     /// Set by the service, never by the client: refused at registration.
//!     #[auth(readonly, default)]
//!     plan: Plan,
//! }
//!
//! assert_eq!(Member::PROFILE_FIELDS, ["display_name", "plan"]);
//! ```
//!
//! Give the model to the service (`AuthService::with_user_model::<Member>()`, or the same on
//! `AuthStack` and `auth_axum::AuthModule`): registration then accepts and checks its fields,
//! and every public user the framework answers with ([`PublicUser`](super::PublicUser), in
//! `/auth/me`, login responses and listings) shows them beside its own. Handlers read the
//! typed projection with `CurrentUser<Member>`.
//!
//! Add a profile field to a model with users already stored as an `Option` or with
//! `#[auth(default)]`: stored users do not have it yet.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AuthUser, User};
use crate::error::ValidationErrors;

/// The profile fields of a user: what a service's own user model adds to the framework's
/// [`User`], stored with it as JSON (the `profile` column of the SQL stores).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Shown in the public user, beside the framework's fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub public: Map<String, Value>,
    /// Never shown: the model's `#[auth(secret)]` and `#[auth(skip)]` fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub private: Map<String, Value>,
}

impl Profile {
    /// Whether there is no profile field at all (the built-in [`User`]'s case).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.public.is_empty() && self.private.is_empty()
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Private fields may hold secrets: their names only.
        f.debug_struct("Profile")
            .field("public", &self.public)
            .field("private", &self.private.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A stored user that does not fit the user model: a profile field is missing (a field added
/// to the model without a default, after users were stored) or has another type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user {user_id} does not fit the user model: profile field `{field}` {problem}")]
pub struct ProfileError {
    /// The user.
    pub user_id: String,
    /// The profile field.
    pub field: &'static str,
    /// What is wrong with it (never its value).
    pub problem: ProfileProblem,
}

/// What is wrong with a stored profile field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileProblem {
    /// Absent, and the field has no default and is not an `Option`.
    Missing,
    /// Present, with a value the field's type does not accept.
    WrongType,
}

impl fmt::Display for ProfileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::WrongType => "has a value of another type",
        })
    }
}

/// A user model: a `#[derive(AuthUser)]` struct whose profile fields registration reads and
/// whose values come back from the stored [`User`]. Implemented by the derive.
pub trait UserModel: AuthUser + Sized {
    /// The profile fields, in declaration order (the framework's own and `#[auth(record)]`
    /// fields are not among them).
    const PROFILE_FIELDS: &'static [&'static str];

    /// The profile fields a client may set (all but the `#[auth(readonly)]` ones), at
    /// registration and with `PATCH /auth/me`.
    const WRITABLE_FIELDS: &'static [&'static str];

    /// Reads the profile fields of a registration from `input` (the request's fields beyond
    /// username, email and password): each is decoded, checked by its validator, or taken from
    /// its default; problems go to `errors`, one per field.
    fn read_profile(input: &Map<String, Value>, errors: &mut ValidationErrors) -> Profile;

    /// The model of a stored user.
    ///
    /// # Errors
    /// [`ProfileError`] when a profile field is missing or has another type.
    fn from_record(record: &User) -> Result<Self, ProfileError>;

    /// Checks the whole model at registration (rules over several fields): the struct's
    /// `#[auth(validate = path)]`, nothing without it.
    fn validate(&self, errors: &mut ValidationErrors);
}

/// How a field of a user model takes its value from the stored user's field: the same type,
/// or a looser one (`String` for the id, `Option<String>` for an email). Not public API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a user model's field of type `{Self}` cannot take the stored user's value",
    label = "not a type the stored user's field converts to",
    note = "give the field the stored user's type (`UserId` or `String` for `#[auth(id)]`, `Option<String>` for a password hash or tenant), or put `#[auth(model = false)]` on a struct that only needs the projection"
)]
pub trait FromRecordField<Source>: Sized {
    /// The field's value.
    fn from_record_field(source: &Source) -> Self;
}

/// The value of a model's field from the stored user's field. Not public API.
#[doc(hidden)]
pub fn record_field<T: FromRecordField<S>, S>(source: &S) -> T {
    T::from_record_field(source)
}

/// Each field type of the stored user, as itself (no blanket impl: a model's field of another
/// type then gets the diagnostic above, not a type mismatch inside generated code).
macro_rules! as_itself {
    ($($ty:ty),* $(,)?) => {$(
        impl FromRecordField<$ty> for $ty {
            fn from_record_field(source: &$ty) -> Self {
                source.clone()
            }
        }
    )*};
}

as_itself!(
    super::UserId,
    String,
    Option<String>,
    Vec<String>,
    bool,
    i64,
    time::OffsetDateTime,
    Option<time::OffsetDateTime>,
    Profile,
);

impl FromRecordField<super::UserId> for String {
    fn from_record_field(source: &super::UserId) -> Self {
        source.0.clone()
    }
}

impl FromRecordField<String> for Option<String> {
    fn from_record_field(source: &String) -> Self {
        Some(source.clone())
    }
}

/// The user model a service runs with, with its type erased: what registration needs of it.
#[derive(Clone, Copy)]
pub(crate) struct ModelCodec {
    name: &'static str,
    fields: &'static [&'static str],
    writable: &'static [&'static str],
    read: fn(&Map<String, Value>, &mut ValidationErrors) -> Profile,
    check: fn(&User, &mut ValidationErrors),
}

impl fmt::Debug for ModelCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl ModelCodec {
    /// The codec of `M`.
    pub(crate) fn of<M: UserModel>() -> Self {
        Self {
            name: std::any::type_name::<M>(),
            fields: M::PROFILE_FIELDS,
            writable: M::WRITABLE_FIELDS,
            read: M::read_profile,
            check: |user, errors| match M::from_record(user) {
                Ok(model) => model.validate(errors),
                // read_profile wrote this profile: a field it left out was reported there.
                Err(e) => errors.push(e.field, e.problem.to_string()),
            },
        }
    }

    /// The model's type name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The profile of a registration's extra fields.
    pub(crate) fn read(
        &self,
        input: &Map<String, Value>,
        errors: &mut ValidationErrors,
    ) -> Profile {
        (self.read)(input, errors)
    }

    /// The profile of `current` with the fields of `changes` changed: each must be a field a
    /// client may set (every other key, the framework's own fields included, is refused by
    /// name), checked as at registration; the others keep their values.
    pub(crate) fn patch(
        &self,
        current: &User,
        changes: &Map<String, Value>,
        errors: &mut ValidationErrors,
    ) -> Profile {
        for key in changes.keys() {
            if !self.writable.contains(&key.as_str()) {
                errors.push_named(key.clone(), "cannot be changed here");
            }
        }
        let stored = |name: &str| {
            current
                .profile
                .public
                .get(name)
                .or_else(|| current.profile.private.get(name))
        };
        // Every writable field as stored (absent ones take their default again), then the
        // changes over them.
        let mut input = Map::new();
        for name in self.writable {
            if let Some(value) = changes.get(*name).or_else(|| stored(name)) {
                input.insert((*name).to_owned(), value.clone());
            }
        }
        let mut profile = self.read(&input, errors);
        // Read-only fields keep what they hold.
        for name in self.fields.iter().filter(|f| !self.writable.contains(f)) {
            for (from, to) in [
                (&current.profile.public, &mut profile.public),
                (&current.profile.private, &mut profile.private),
            ] {
                if let Some(value) = from.get(*name) {
                    to.insert((*name).to_owned(), value.clone());
                }
            }
        }
        profile
    }

    /// The model's own checks over a user about to be stored.
    pub(crate) fn check(&self, user: &User, errors: &mut ValidationErrors) {
        (self.check)(user, errors);
    }
}

/// A profile field's `#[auth(validate = path)]`, its error as text. Not public API.
#[doc(hidden)]
pub type FieldCheck<T> = fn(&T) -> Result<(), String>;

/// How the derive reads one profile field. Not public API.
#[doc(hidden)]
pub struct FieldSpec<T> {
    /// The field's name, its key in the profile and in the registration.
    pub name: &'static str,
    /// Whether it is a `#[auth(secret)]` or `#[auth(skip)]` field.
    pub private: bool,
    /// Whether a registration may set it (not `#[auth(readonly)]`).
    pub writable: bool,
    /// Its `#[auth(default)]`.
    pub default: Option<fn() -> T>,
    /// Its `#[auth(validate = path)]`, with the error as text.
    pub validate: Option<FieldCheck<T>>,
}

impl<T> fmt::Debug for FieldSpec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldSpec")
            .field("name", &self.name)
            .field("private", &self.private)
            .field("writable", &self.writable)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> FieldSpec<T> {
    /// Reads the field of a registration into `profile`, or reports why not.
    #[doc(hidden)]
    pub fn read(
        &self,
        input: &Map<String, Value>,
        profile: &mut Profile,
        errors: &mut ValidationErrors,
    ) {
        let given = input.get(self.name);
        if !self.writable && given.is_some() {
            errors.push(self.name, "cannot be set at registration");
            return;
        }
        let value = match given.filter(|_| self.writable) {
            Some(value) => match serde_json::from_value::<T>(value.clone()) {
                Ok(value) => value,
                Err(e) => return errors.push(self.name, e.to_string()),
            },
            None => match self.absent() {
                Some(value) => value,
                None => return errors.push(self.name, "is required"),
            },
        };
        if let Some(validate) = self.validate {
            if let Err(message) = validate(&value) {
                return errors.push(self.name, message);
            }
        }
        match serde_json::to_value(&value) {
            Ok(value) => {
                let part = if self.private {
                    &mut profile.private
                } else {
                    &mut profile.public
                };
                part.insert(self.name.to_owned(), value);
            }
            Err(e) => errors.push(self.name, e.to_string()),
        }
    }

    /// The field of a stored user.
    ///
    /// # Errors
    /// [`ProfileError`] when it is missing without a default, or has another type.
    #[doc(hidden)]
    pub fn load(&self, record: &User) -> Result<T, ProfileError> {
        let part = if self.private {
            &record.profile.private
        } else {
            &record.profile.public
        };
        let error = |problem| ProfileError {
            user_id: record.id.to_string(),
            field: self.name,
            problem,
        };
        match part.get(self.name) {
            Some(value) => T::deserialize(value).map_err(|_| error(ProfileProblem::WrongType)),
            None => self.absent().ok_or_else(|| error(ProfileProblem::Missing)),
        }
    }

    /// The value of an absent field: its default, or `None` for an `Option`.
    fn absent(&self) -> Option<T> {
        match self.default {
            Some(default) => Some(default()),
            None => T::deserialize(&Value::Null).ok(),
        }
    }
}
