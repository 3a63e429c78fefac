//! The suites of [`RoleStore`] and [`ServicePermissionStore`].

use crate::authz::services::{
    set_user_values, sync_schema, PermissionSpec, ServicePermissionStore,
};
use crate::authz::{load_roles, PermissionKind, RoleHierarchy, RoleRecord, RoleStore};

/// [`RoleStore`]: put, replace, delete, list, and what [`load_roles`] composes from them.
pub async fn roles(store: &dyn RoleStore) {
    assert!(store.list_roles().await.unwrap().is_empty());
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    store
        .put_role(&RoleRecord::new(
            "editor",
            strings(&["viewer"]),
            strings(&["articles.write"]),
        ))
        .await
        .unwrap();
    store
        .put_role(&RoleRecord::new("auditor", vec![], strings(&["logs.*"])))
        .await
        .unwrap();
    // Replacing a definition keeps one row.
    store
        .put_role(&RoleRecord::new("auditor", vec![], strings(&["logs.read"])))
        .await
        .unwrap();
    let listed = store.list_roles().await.unwrap();
    assert_eq!(
        listed,
        [
            RoleRecord::new("auditor", vec![], strings(&["logs.read"])),
            RoleRecord::new("editor", strings(&["viewer"]), strings(&["articles.write"])),
        ]
    );
    // Stored roles compose with roles defined elsewhere (`viewer` comes from the base).
    let base = RoleHierarchy::builder()
        .role("viewer", &[], &["articles.read"])
        .build()
        .unwrap();
    let roles = load_roles(store, &base).await.unwrap();
    assert!(roles.has_permission(&["editor".to_owned()], &[], "articles.read"));
    assert!(!roles.has_permission(&["auditor".to_owned()], &[], "logs.delete"));
    assert!(store.delete_role("auditor").await.unwrap());
    assert!(!store.delete_role("auditor").await.unwrap());
    assert_eq!(store.list_roles().await.unwrap().len(), 1);
}

fn spec(
    name: &str,
    kind: PermissionKind,
    allowed: &[&str],
    default: Option<serde_json::Value>,
) -> PermissionSpec {
    serde_json::from_value(serde_json::json!({
        "name": name, "label": name, "type": kind, "allowed_values": allowed, "default": default,
    }))
    .unwrap()
}

/// [`ServicePermissionStore`]: schemas synced by update, user values validated against them,
/// service admins.
pub async fn service_permissions(services: &dyn ServicePermissionStore) {
    use serde_json::json;
    let v1 = [
        spec(
            "reports.limit",
            PermissionKind::Integer,
            &[],
            Some(json!(10)),
        ),
        spec(
            "region",
            PermissionKind::String,
            &["eu", "us"],
            Some(json!("eu")),
        ),
        spec("beta", PermissionKind::Boolean, &[], None),
    ];
    let report = sync_schema(services, "billing", &v1).await.unwrap();
    assert_eq!(report.created, ["beta", "region", "reports.limit"]);
    assert!(report.updated.is_empty() && report.deleted.is_empty());
    assert_eq!(
        sync_schema(services, "billing", &v1).await.unwrap(),
        Default::default(),
        "idempotent"
    );

    let values = [
        ("reports.limit".to_owned(), json!(50)),
        ("region".to_owned(), json!("us")),
    ]
    .into();
    let effective = set_user_values(services, "billing", "u1", &values)
        .await
        .unwrap();
    assert_eq!(
        effective,
        [
            ("region".to_owned(), json!("us")),
            ("reports.limit".to_owned(), json!(50))
        ]
        .into()
    );

    // Sync by update: a changed label keeps the users' values; a removed permission takes
    // its values with it.
    let mut v2 = v1.to_vec();
    v2[0].label = "Monthly report limit".to_owned();
    v2.remove(1);
    let report = sync_schema(services, "billing", &v2).await.unwrap();
    assert_eq!(
        (
            report.created.len(),
            report.updated.clone(),
            report.deleted.clone()
        ),
        (
            0,
            vec!["reports.limit".to_owned()],
            vec!["region".to_owned()]
        )
    );
    assert_eq!(
        services.user_values("billing", "u1").await.unwrap(),
        [("reports.limit".to_owned(), json!(50))].into()
    );
    assert_eq!(
        services.schema("billing").await.unwrap()[1].label,
        "Monthly report limit"
    );
    assert!(
        services.schema("other").await.unwrap().is_empty(),
        "schemas are per service"
    );

    // Values are validated against the schema; nothing is written on error.
    let bad = [
        ("reports.limit".to_owned(), json!("many")),
        ("nope".to_owned(), json!(true)),
    ]
    .into();
    let err = set_user_values(services, "billing", "u1", &bad)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
    assert_eq!(err.to_string(), "validation failed: permissions: `nope` is not in the schema of `billing`; permissions: `reports.limit` must be an integer");
    assert_eq!(
        services.user_values("billing", "u1").await.unwrap()["reports.limit"],
        json!(50)
    );
    let dup = [
        spec("a", PermissionKind::Boolean, &[], None),
        spec("a", PermissionKind::Boolean, &[], None),
    ];
    assert_eq!(
        sync_schema(services, "billing", &dup)
            .await
            .unwrap_err()
            .code(),
        "validation_failed"
    );
    let bad_default = [spec("r", PermissionKind::String, &["x"], Some(json!("y")))];
    assert_eq!(
        sync_schema(services, "billing", &bad_default)
            .await
            .unwrap_err()
            .code(),
        "validation_failed"
    );

    assert!(!services.is_admin("billing", "u1").await.unwrap());
    services.add_admin("billing", "u1").await.unwrap();
    services.add_admin("billing", "u1").await.unwrap();
    assert!(services.is_admin("billing", "u1").await.unwrap());
    assert!(!services.is_admin("other", "u1").await.unwrap());
}
