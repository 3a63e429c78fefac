//! One conformance suite for every store trait, run against every backend: in memory, SQLite
//! and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_axum::core::authz::services::{
    set_user_values, sync_schema, PermissionSpec, ServicePermissionStore,
};
use auth_axum::core::authz::{load_roles, PermissionKind, RoleHierarchy, RoleRecord, RoleStore};
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::store::{MemoryStore, StoreError};
use auth_axum::core::token::refresh::{
    RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome,
};
use auth_axum::core::token::revocation::{RevocationCheck, RevocationStore, UserCutoff};
use auth_axum::core::user::{Page, User, UserId, UserStore};
use tests::{sqlite_url, PgDatabase};
use time_now::now;

mod time_now {
    pub(crate) fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }
}

trait AllStores:
    UserStore + RevocationStore + RefreshTokenStore + RoleStore + ServicePermissionStore
{
    fn as_role_store(&self) -> &dyn RoleStore;
    fn as_service_store(&self) -> &dyn ServicePermissionStore;
}
impl<T: UserStore + RevocationStore + RefreshTokenStore + RoleStore + ServicePermissionStore>
    AllStores for T
{
    fn as_role_store(&self) -> &dyn RoleStore {
        self
    }
    fn as_service_store(&self) -> &dyn ServicePermissionStore {
        self
    }
}

async fn users_conform(store: &dyn AllStores) {
    let mut ada = User::new(
        "Ada",
        "Ada@Example.com",
        Some("$argon2id$hash".to_owned()),
        now(),
    );
    ada.roles = vec!["admin".to_owned(), "user".to_owned()];
    ada.permissions = vec!["articles.*".to_owned()];
    ada.tenant = Some("acme".to_owned());
    UserStore::insert(store, &ada).await.unwrap();

    let by_id = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert_eq!(by_id, ada);
    assert_eq!(
        store.get_by_username("ADA").await.unwrap().unwrap().id,
        ada.id,
        "usernames are case-insensitive"
    );
    assert_eq!(
        store
            .get_by_email("ada@EXAMPLE.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id,
        "emails are case-insensitive"
    );
    assert_eq!(
        store
            .get_by_login("ada@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id
    );
    assert_eq!(store.get_by_login("ada").await.unwrap().unwrap().id, ada.id);
    assert!(store.get_by_username("bob").await.unwrap().is_none());
    assert!(store
        .get_by_id(&UserId::from("missing"))
        .await
        .unwrap()
        .is_none());

    let dup_name = User::new("ADA", "other@example.com", None, now());
    assert!(matches!(
        UserStore::insert(store, &dup_name).await,
        Err(StoreError::Conflict { field: "username" })
    ));
    let dup_mail = User::new("other", "ADA@example.COM", None, now());
    assert!(matches!(
        UserStore::insert(store, &dup_mail).await,
        Err(StoreError::Conflict { field: "email" })
    ));

    let mut bob = User::new(
        "bob",
        "bob@example.com",
        None,
        now() + time::Duration::seconds(1),
    );
    UserStore::insert(store, &bob).await.unwrap();
    bob.email = "ada@example.com".to_owned();
    assert!(matches!(
        store.update(&bob).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    bob.email = "robert@example.com".to_owned();
    bob.roles = vec!["editor".to_owned()];
    store.update(&bob).await.unwrap();
    assert_eq!(
        store
            .get_by_email("robert@example.com")
            .await
            .unwrap()
            .unwrap()
            .roles,
        ["editor"]
    );
    assert!(store
        .get_by_email("bob@example.com")
        .await
        .unwrap()
        .is_none());
    let ghost = User::new("ghost", "ghost@example.com", None, now());
    assert!(matches!(
        store.update(&ghost).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(store.count().await.unwrap(), 2);
    let page = store
        .list(Page {
            offset: 0,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["Ada"]
    );
    let page = store
        .list(Page {
            offset: 1,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );

    assert_eq!(store.bump_security_epoch(&ada.id).await.unwrap(), 1);
    assert_eq!(store.bump_security_epoch(&ada.id).await.unwrap(), 2);
    assert!(matches!(
        store.bump_security_epoch(&ghost.id).await,
        Err(StoreError::NotFound)
    ));
    store.deactivate(&ada.id).await.unwrap();
    let ada = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert!(!ada.is_active);
    assert_eq!(ada.security_epoch, 2);
    assert!(matches!(
        store.deactivate(&ghost.id).await,
        Err(StoreError::NotFound)
    ));

    // Column updates change their column only, and only over the value the caller read:
    // the deactivation and the epoch above survive a role change made from an older read.
    let roles = |list: &[&str]| list.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
    assert!(store
        .replace_roles(&ada.id, &ada.roles, &roles(&["user", "editor"]))
        .await
        .unwrap());
    assert!(
        !store
            .replace_roles(&ada.id, &ada.roles, &roles(&["admin"]))
            .await
            .unwrap(),
        "the roles changed since they were read"
    );
    let hash = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    assert!(
        !store
            .replace_password_hash(&ada.id, hash, "new")
            .await
            .unwrap(),
        "Ada has no password hash to replace"
    );
    let stored = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert_eq!(stored.roles, ["user", "editor"]);
    assert!(!stored.is_active, "the deactivation survives");
    assert_eq!(stored.security_epoch, 2, "so does the epoch");
    assert!(matches!(
        store.replace_roles(&ghost.id, &[], &[]).await,
        Err(StoreError::NotFound)
    ));
    let mut carol = User::new("carol", "carol@example.com", Some(hash.to_owned()), now());
    carol.is_active = true;
    UserStore::insert(store, &carol).await.unwrap();
    assert!(store
        .replace_password_hash(&carol.id, hash, "upgraded")
        .await
        .unwrap());
    assert!(!store
        .replace_password_hash(&carol.id, hash, "stale")
        .await
        .unwrap());
    assert_eq!(
        store
            .get_by_id(&carol.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("upgraded")
    );
    assert!(matches!(
        store.replace_password_hash(&ghost.id, hash, "x").await,
        Err(StoreError::NotFound)
    ));
    store.activate(&ada.id).await.unwrap();
    assert!(store.get_by_id(&ada.id).await.unwrap().unwrap().is_active);
    assert!(matches!(
        store.activate(&ghost.id).await,
        Err(StoreError::NotFound)
    ));
}

fn check<'a>(
    jti: &'a str,
    sid: Option<&'a str>,
    user: &'a str,
    iat: i64,
    epoch: i64,
) -> RevocationCheck<'a> {
    RevocationCheck {
        jti,
        session_id: sid,
        user_id: user,
        issued_at: iat,
        epoch,
    }
}

async fn revocations_conform(store: &dyn RevocationStore) {
    let live = check("jti-1", Some("sid-1"), "u1", 100, 0);
    assert!(!store.is_revoked(&live).await.unwrap());
    assert_eq!(store.sequence().await.unwrap(), 0);
    assert_eq!(store.active(0).await.unwrap().sequence, 0);

    // Every revocation written takes the next number, repeats included.
    assert_eq!(store.revoke_token("jti-1", 1000).await.unwrap(), 1);
    assert_eq!(store.revoke_token("jti-1", 1000).await.unwrap(), 2);
    assert_eq!(store.sequence().await.unwrap(), 2);
    assert!(store.is_revoked(&live).await.unwrap());
    assert!(!store
        .is_revoked(&check("jti-2", Some("sid-1"), "u1", 100, 0))
        .await
        .unwrap());

    store.revoke_session("sid-1", 2000).await.unwrap();
    store.revoke_session("sid-1", 1500).await.unwrap();
    assert!(store
        .is_revoked(&check("jti-2", Some("sid-1"), "u1", 100, 0))
        .await
        .unwrap());
    assert!(!store
        .is_revoked(&check("jti-2", Some("sid-2"), "u1", 100, 0))
        .await
        .unwrap());
    assert!(!store
        .is_revoked(&check("jti-2", None, "u1", 100, 0))
        .await
        .unwrap());

    store
        .revoke_user(
            "u1",
            UserCutoff {
                issued_before: 200,
                epoch_below: 1,
                expires_at: 3000,
            },
        )
        .await
        .unwrap();
    // An earlier cut-off never moves a later one back.
    store
        .revoke_user(
            "u1",
            UserCutoff {
                issued_before: 150,
                epoch_below: 0,
                expires_at: 2500,
            },
        )
        .await
        .unwrap();
    assert!(
        store
            .is_revoked(&check("jti-3", None, "u1", 199, 5))
            .await
            .unwrap(),
        "issued before the cut-off"
    );
    assert!(
        store
            .is_revoked(&check("jti-3", None, "u1", 250, 0))
            .await
            .unwrap(),
        "older epoch"
    );
    assert!(
        !store
            .is_revoked(&check("jti-3", None, "u1", 200, 1))
            .await
            .unwrap(),
        "new token after cut-off"
    );
    assert!(
        !store
            .is_revoked(&check("jti-3", None, "u2", 100, 0))
            .await
            .unwrap(),
        "another user"
    );

    // What a local view loads: the entries still in force, merged, and the number of the
    // last revocation they include (two tokens, two sessions, two cut-offs).
    let active = store.active(1001).await.unwrap();
    assert_eq!(active.sequence, 6);
    assert_eq!(store.sequence().await.unwrap(), 6);
    let active = active.set;
    assert_eq!(active.len(), 2, "jti-1 expired at 1000");
    assert!(active.is_revoked(&check("x", Some("sid-1"), "u9", 0, 0)));
    assert!(active.is_revoked(&check("jti-3", None, "u1", 199, 5)));
    assert!(!active.is_revoked(&check("jti-3", None, "u1", 200, 1)));

    // jti-1 (1000) expires; the session (2000) and the user cut-off (3000) stay.
    assert_eq!(store.purge_expired(1001).await.unwrap(), 1);
    assert!(!store
        .is_revoked(&check("jti-1", None, "u9", 0, 0))
        .await
        .unwrap());
    assert!(store
        .is_revoked(&check("x", Some("sid-1"), "u9", 0, 0))
        .await
        .unwrap());
    assert_eq!(store.purge_expired(5000).await.unwrap(), 2);
    assert!(!store
        .is_revoked(&check("jti-3", None, "u1", 199, 5))
        .await
        .unwrap());
}

fn token(hash: &str, family: &str, at: i64) -> RefreshTokenRecord {
    RefreshTokenRecord::new(hash.to_owned(), family.to_owned(), at, at + 100)
}

async fn refresh_tokens_conform(store: Arc<dyn RefreshTokenStore>) {
    let family = RefreshFamily::new("fam-1".to_owned(), "u1".to_owned(), 10, 1000);
    store
        .create_family(&family, &token("h0", "fam-1", 10))
        .await
        .unwrap();
    let (record, found) = store.find_token("h0").await.unwrap().unwrap();
    assert_eq!(found, family);
    assert_eq!(record, token("h0", "fam-1", 10));
    assert!(store.find_token("nope").await.unwrap().is_none());

    assert_eq!(
        store
            .rotate("h0", 20, &token("h1", "fam-1", 20))
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    assert_eq!(
        store.find_token("h0").await.unwrap().unwrap().0.used_at,
        Some(20)
    );
    assert!(store.find_token("h1").await.unwrap().is_some());
    assert_eq!(
        store
            .rotate("h0", 30, &token("h1-again", "fam-1", 30))
            .await
            .unwrap(),
        RotateOutcome::AlreadyUsed { used_at: 20 }
    );
    assert!(
        store.find_token("h1-again").await.unwrap().is_none(),
        "a lost rotation stores nothing"
    );
    assert_eq!(
        store
            .rotate("missing", 30, &token("h9", "fam-1", 30))
            .await
            .unwrap(),
        RotateOutcome::NotFound
    );

    // Compare-and-swap under contention: exactly one of many concurrent rotations wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .rotate("h1", 40, &token(&format!("h2-{i}"), "fam-1", 40))
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            RotateOutcome::Rotated => won += 1,
            RotateOutcome::AlreadyUsed { used_at } => assert_eq!(used_at, 40),
            RotateOutcome::NotFound => panic!("token vanished"),
        }
    }
    assert_eq!(won, 1, "exactly one concurrent rotation may win");

    let second = RefreshFamily::new("fam-2".to_owned(), "u1".to_owned(), 50, 2000);
    store
        .create_family(&second, &token("g0", "fam-2", 50))
        .await
        .unwrap();
    let other_user = RefreshFamily::new("fam-3".to_owned(), "u2".to_owned(), 60, 2000);
    store
        .create_family(&other_user, &token("k0", "fam-3", 60))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_user_families("u1", 70)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(listed, ["fam-2", "fam-1"], "newest first");

    assert!(store.revoke_family("fam-1", 80, "logout").await.unwrap());
    assert!(
        !store.revoke_family("fam-1", 90, "logout").await.unwrap(),
        "already revoked"
    );
    let fam1 = store.get_family("fam-1").await.unwrap().unwrap();
    assert_eq!(
        (fam1.revoked_at, fam1.revoked_reason.as_deref()),
        (Some(80), Some("logout"))
    );
    assert_eq!(
        store
            .revoke_user_families("u1", 95, "logout_all")
            .await
            .unwrap(),
        ["fam-2"]
    );
    assert!(store
        .list_user_families("u1", 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.list_user_families("u2", 100).await.unwrap().len(), 1);
    assert!(store.get_family("nope").await.unwrap().is_none());

    // Families fam-1 (1000) and its tokens go; fam-2 and fam-3 (2000) stay.
    assert!(store.purge_expired_families(1500).await.unwrap() >= 2);
    assert!(store.get_family("fam-1").await.unwrap().is_none());
    assert!(store.find_token("h0").await.unwrap().is_none());
    assert!(store.get_family("fam-3").await.unwrap().is_some());
}

async fn roles_conform(store: &dyn AllStores) {
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
    let roles = load_roles(store.as_role_store(), &base).await.unwrap();
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

async fn service_permissions_conform(store: &dyn AllStores) {
    use serde_json::json;
    let services = store.as_service_store();
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

async fn conform(store: Arc<dyn AllStores>) {
    service_permissions_conform(store.as_ref()).await;
    roles_conform(store.as_ref()).await;
    users_conform(store.as_ref()).await;
    revocations_conform(store.as_ref() as &dyn RevocationStore).await;
    refresh_tokens_conform(store as Arc<dyn RefreshTokenStore>).await;
}

#[tokio::test]
async fn memory_store_conforms() {
    conform(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_conforms() {
    let (_dir, store) = tests::sqlite_store().await;
    store.ping().await.unwrap();
    conform(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_store_conforms() {
    let store = SqlStore::connect("sqlite::memory:", SqlOptions::default())
        .await
        .unwrap();
    conform(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    conform(Arc::new(store.clone())).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn migrations_run_once_and_reconnecting_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let store = SqlStore::connect(&url, SqlOptions::default())
        .await
        .unwrap();
    UserStore::insert(&store, &User::new("ada", "ada@example.com", None, now()))
        .await
        .unwrap();
    store.close().await;
    let again = SqlStore::connect(&url, SqlOptions::default())
        .await
        .unwrap();
    assert!(again.get_by_username("ada").await.unwrap().is_some());
}

/// A SQLite file runs in write-ahead-log mode, so that token checks (reads) never wait for
/// logins (writes).
#[tokio::test]
async fn sqlite_files_use_write_ahead_logging() {
    let (_dir, store) = tests::sqlite_store().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// On a SQLite file every write goes through one connection of its own (SQLite takes one
/// writer at a time; more writing connections would sleep in its busy handler), reads through
/// the pool; concurrent writes all land and are read back through the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_write_through_one_connection() {
    let (_dir, store) = tests::sqlite_store().await;
    assert_eq!(store.writes().options().get_max_connections(), 1);
    assert_eq!(store.pool().options().get_max_connections(), 10);

    let writes = (0..64).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.revoke_token(&format!("jti-{i}"), i64::MAX).await })
    });
    for write in writes {
        write.await.unwrap().unwrap();
    }
    let revoked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(revoked, 64);

    // In memory there is one connection, shared by reads and writes.
    let memory = SqlStore::connect("sqlite::memory:", SqlOptions::default())
        .await
        .unwrap();
    assert_eq!(memory.writes().options().get_max_connections(), 1);
    assert_eq!(memory.pool().options().get_max_connections(), 1);
}

#[tokio::test]
async fn unreachable_database_is_reported_unavailable() {
    let options = SqlOptions::default().with_acquire_timeout(std::time::Duration::from_secs(2));
    // Port 1 on loopback: nothing listens there.
    let err = SqlStore::connect("postgres://postgres@127.0.0.1:1/test", options)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(matches!(
        SqlStore::connect("mysql://x", SqlOptions::default()).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_revocations_and_refresh_tokens_conform() {
    let Some(url) = tests::redis_url().await else {
        return;
    };
    let store = auth_axum::core::store::redis::RedisStore::connect(
        &url,
        &format!("{}:", tests::unique_prefix("revocations")),
    )
    .await
    .unwrap();
    revocations_conform(&store).await;
    refresh_tokens_conform(Arc::new(store)).await;
}
