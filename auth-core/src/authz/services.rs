//! Service-scoped permission schemas (seed 004, apexauthlib): each service registers the
//! permissions it understands; users get per-service values validated against the schema;
//! service admins manage them.
//!
//! Sync is by *update*, not only create/delete by name (apexauthlib's stated limitation): a
//! definition whose label, description, kind, allowed values or default changed is updated in
//! place, so users' values survive it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PermissionDef, PermissionKind};
use crate::error::StoreError;
use crate::error::{AuthError, ValidationErrors};

/// One permission of a service's schema, owned (as registered over HTTP or from a
/// `#[derive(Permissions)]` enum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionSpec {
    /// The dotted name.
    pub name: String,
    /// A short label.
    #[serde(default)]
    pub label: String,
    /// What it allows.
    #[serde(default)]
    pub description: String,
    /// The value type.
    #[serde(default, rename = "type")]
    pub kind: PermissionKind,
    /// Allowed values, for string permissions.
    #[serde(default)]
    pub allowed_values: Vec<String>,
    /// The default value, as JSON.
    #[serde(default)]
    pub default: Option<Value>,
}

impl From<&PermissionDef> for PermissionSpec {
    fn from(def: &PermissionDef) -> Self {
        let default = def.default.map(|d| match def.kind {
            PermissionKind::Boolean => d
                .parse::<bool>()
                .map_or_else(|_| Value::from(d), Value::from),
            PermissionKind::Integer => d
                .parse::<i64>()
                .map_or_else(|_| Value::from(d), Value::from),
            PermissionKind::String => Value::from(d),
        });
        Self {
            name: def.name.to_owned(),
            label: def.label.to_owned(),
            description: def.description.to_owned(),
            kind: def.kind,
            allowed_values: def.allowed_values.iter().map(|v| (*v).to_owned()).collect(),
            default,
        }
    }
}

impl PermissionSpec {
    /// Checks a value against the definition.
    ///
    /// # Errors
    /// A message saying what is expected.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        match (self.kind, value) {
            (PermissionKind::Boolean, Value::Bool(_)) => Ok(()),
            (PermissionKind::Integer, Value::Number(n)) if n.is_i64() => Ok(()),
            (PermissionKind::String, Value::String(s)) => {
                if self.allowed_values.is_empty() || self.allowed_values.contains(s) {
                    Ok(())
                } else {
                    Err(format!("must be one of {}", self.allowed_values.join(", ")))
                }
            }
            (PermissionKind::Integer, _) => Err("must be an integer".to_owned()),
            (kind, _) => Err(format!("must be a {}", kind.as_str())),
        }
    }
}

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SyncReport {
    /// Names added.
    pub created: Vec<String>,
    /// Names whose definition changed.
    pub updated: Vec<String>,
    /// Names removed (their user values go too).
    pub deleted: Vec<String>,
}

/// Storage of service schemas, values and admins.
#[async_trait]
pub trait ServicePermissionStore: Send + Sync + std::fmt::Debug + 'static {
    /// The schema of a service, by name.
    async fn schema(&self, service: &str) -> Result<Vec<PermissionSpec>, StoreError>;
    /// Creates or replaces one definition.
    async fn upsert_permission(
        &self,
        service: &str,
        spec: &PermissionSpec,
    ) -> Result<(), StoreError>;
    /// Deletes one definition and every user value of it.
    async fn delete_permission(&self, service: &str, name: &str) -> Result<(), StoreError>;
    /// A user's values for a service.
    async fn user_values(
        &self,
        service: &str,
        user_id: &str,
    ) -> Result<BTreeMap<String, Value>, StoreError>;
    /// Sets one of a user's values (validated by the caller).
    async fn set_user_value(
        &self,
        service: &str,
        user_id: &str,
        name: &str,
        value: &Value,
    ) -> Result<(), StoreError>;
    /// Makes a user an admin of a service.
    async fn add_admin(&self, service: &str, user_id: &str) -> Result<(), StoreError>;
    /// Whether a user administers a service.
    async fn is_admin(&self, service: &str, user_id: &str) -> Result<bool, StoreError>;
}

/// Makes `service`'s stored schema equal to `schema`: creates new definitions, updates
/// changed ones in place, deletes removed ones.
///
/// # Errors
/// [`AuthError::Validation`] for duplicate or empty names or a default the definition
/// refuses; [`AuthError::ServiceUnavailable`] when the store fails.
pub async fn sync_schema(
    store: &dyn ServicePermissionStore,
    service: &str,
    schema: &[PermissionSpec],
) -> Result<SyncReport, AuthError> {
    let mut errors = ValidationErrors::default();
    let mut wanted = BTreeMap::new();
    for spec in schema {
        if spec.name.trim().is_empty() {
            errors.push("name", "permission names cannot be empty");
        } else if wanted.insert(spec.name.clone(), spec).is_some() {
            errors.push("name", format!("`{}` is listed twice", spec.name));
        }
        if let Some(default) = &spec.default {
            if let Err(e) = spec.validate(default) {
                errors.push("default", format!("`{}`: default {e}", spec.name));
            }
        }
    }
    errors.into_result()?;
    let current: BTreeMap<String, PermissionSpec> = store
        .schema(service)
        .await?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut report = SyncReport::default();
    for (name, spec) in &wanted {
        match current.get(name) {
            None => report.created.push(name.clone()),
            Some(existing) if existing != *spec => report.updated.push(name.clone()),
            Some(_) => continue,
        }
        store.upsert_permission(service, spec).await?;
    }
    for name in current.keys().filter(|n| !wanted.contains_key(*n)) {
        store.delete_permission(service, name).await?;
        report.deleted.push(name.clone());
    }
    Ok(report)
}

/// Sets a user's values for a service after validating each against the schema; unknown
/// names and values of the wrong type are refused, and nothing is written then.
///
/// # Errors
/// [`AuthError::Validation`] naming each bad entry; [`AuthError::ServiceUnavailable`].
pub async fn set_user_values(
    store: &dyn ServicePermissionStore,
    service: &str,
    user_id: &str,
    values: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, AuthError> {
    let schema: BTreeMap<String, PermissionSpec> = store
        .schema(service)
        .await?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut errors = ValidationErrors::default();
    for (name, value) in values {
        match schema.get(name) {
            None => errors.push(
                "permissions",
                format!("`{name}` is not in the schema of `{service}`"),
            ),
            Some(spec) => {
                if let Err(e) = spec.validate(value) {
                    errors.push("permissions", format!("`{name}` {e}"));
                }
            }
        }
    }
    errors.into_result()?;
    for (name, value) in values {
        store.set_user_value(service, user_id, name, value).await?;
    }
    let stored = store.user_values(service, user_id).await?;
    Ok(effective(schema, &stored))
}

/// A user's effective values for a service: stored ones over the schema's defaults (names
/// with neither left out).
///
/// # Errors
/// [`AuthError::ServiceUnavailable`].
pub async fn effective_values(
    store: &dyn ServicePermissionStore,
    service: &str,
    user_id: &str,
) -> Result<BTreeMap<String, Value>, AuthError> {
    let schema = store
        .schema(service)
        .await?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let stored = store.user_values(service, user_id).await?;
    Ok(effective(schema, &stored))
}

/// Stored values over `schema`'s defaults.
fn effective(
    schema: BTreeMap<String, PermissionSpec>,
    stored: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    schema
        .into_iter()
        .filter_map(|(name, spec)| {
            stored
                .get(&name)
                .cloned()
                .or(spec.default)
                .map(|v| (name, v))
        })
        .collect()
}
