//! Stored role definitions on several instances: a role defined or deleted on one instance is
//! in force on the others within a second (Redis change bus, one PostgreSQL database); a role
//! change that would break the hierarchy is refused before anything is stored.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use auth_axum::core::authz::{LoadRolesError, RoleHierarchy, RoleRecord};
use auth_axum::AuthModule;
use tests::{eventually, redis_url, test_config, unique_prefix, PgDatabase};

fn has(module: &AuthModule, role: &str, permission: &str) -> bool {
    module
        .authorization()
        .roles()
        .has_permission(&[role.to_owned()], &[], permission)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_changes_reach_every_instance() {
    let Some(redis) = redis_url().await else {
        return;
    };
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&db.url, dir.path());
    config.redis.url = Some(redis);
    config.redis.prefix = format!("{}:", unique_prefix("roles"));
    let mut roles = std::collections::BTreeMap::new();
    roles.insert("viewer".to_owned(), {
        let mut viewer = auth_axum::core::config::RoleConfig::default();
        viewer.permissions = vec!["articles.read".to_owned()];
        viewer
    });
    config.authz.roles = roles;
    // `configure` joins the bus on `<prefix>changes` because a Redis URL is set.
    // Typed roles added after `configure`, as a service does with `with_role_schema`: the
    // bus listener started by `configure` must see them too.
    let typed = RoleHierarchy::builder()
        .role("typed", &[], &["typed.read"])
        .build()
        .unwrap();
    let a = AuthModule::configure(config.clone())
        .await
        .unwrap()
        .with_roles(&typed)
        .unwrap();
    let b = AuthModule::configure(config.clone())
        .await
        .unwrap()
        .with_roles(&typed)
        .unwrap();

    a.put_role(RoleRecord::new(
        "auditor",
        vec!["viewer".to_owned(), "typed".to_owned()],
        vec!["reports.read".to_owned()],
    ))
    .await
    .unwrap();
    assert!(has(&a, "auditor", "reports.read"), "in force here at once");
    assert!(
        eventually(Duration::from_secs(1), || async {
            has(&b, "auditor", "articles.read") && has(&b, "auditor", "typed.read")
        })
        .await,
        "B compiles the new role, with what it inherits (configured and typed), within a second"
    );

    // A cycle through a stored and a configured role is refused and nothing is stored.
    let err = b
        .put_role(RoleRecord::new(
            "viewer",
            vec!["auditor".to_owned()],
            vec![],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, LoadRolesError::Roles(_)), "{err}");
    assert!(err.to_string().contains("auditor"), "{err}");
    let existed = b.delete_role("never-defined").await.unwrap();
    assert!(!existed, "deleting an unknown role is not an error");

    assert!(b.delete_role("auditor").await.unwrap());
    assert!(!has(&b, "auditor", "reports.read"));
    assert!(
        eventually(Duration::from_secs(1), || async {
            !has(&a, "auditor", "reports.read")
        })
        .await,
        "A drops the deleted role within a second"
    );
    // A third instance starting now loads the stored roles as they are.
    a.put_role(RoleRecord::new(
        "editor",
        vec![],
        vec!["articles.write".to_owned()],
    ))
    .await
    .unwrap();
    let c = AuthModule::configure(config).await.unwrap();
    assert!(has(&c, "editor", "articles.write"));
    assert!(!has(&c, "auditor", "reports.read"));
    db.drop_database().await;
}
