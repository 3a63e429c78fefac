//! The behaviour every backend of a store trait must have, as one suite per trait: run the
//! suite against your backend and it behaves as the built-in ones do (the memory, SQLite,
//! PostgreSQL and Redis stores run these same suites).
//!
//! Each suite starts from an empty store and panics, like a failing test, at the first
//! behaviour that differs.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::store::MemoryStore;
//! use auth_core::testing::conformance;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)] async fn main() {
//! let store = Arc::new(MemoryStore::new());
//! conformance::users(store.as_ref()).await;
//! conformance::sessions(store).await;
//! # }
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a conformance suite fails loudly, like the test it is run from"
)]

use std::sync::Arc;

use crate::authz::services::{
    set_user_values, sync_schema, PermissionSpec, ServicePermissionStore,
};
use crate::authz::{load_roles, PermissionKind, RoleHierarchy, RoleRecord, RoleStore};
use crate::error::StoreError;
use crate::session::{Device, Session, SessionManager, SessionSettings, SessionStore};
use crate::throttle::{window_start, CounterStore};
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{RevocationCheck, RevocationStore, UserCutoff};
use crate::user::{Page, User, UserId, UserStore};
use crate::ManualClock;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// Every suite of a store that implements every SQL-backed trait (users, revocations, refresh
/// tokens, roles, service permissions, sessions and counters), in turn.
pub async fn every_trait<S>(store: Arc<S>)
where
    S: UserStore
        + RevocationStore
        + RefreshTokenStore
        + RoleStore
        + ServicePermissionStore
        + SessionStore
        + CounterStore,
{
    service_permissions(store.as_ref()).await;
    roles(store.as_ref()).await;
    users(store.as_ref()).await;
    revocations(store.as_ref()).await;
    refresh_tokens(Arc::clone(&store) as Arc<dyn RefreshTokenStore>).await;
    sessions(Arc::clone(&store) as Arc<dyn SessionStore>).await;
    counters(store as Arc<dyn CounterStore>).await;
}

/// [`UserStore`]: insert and look-ups (case-insensitive), conflicts, update, listing,
/// deactivation, the security epoch, and the compare-and-set column updates.
pub async fn users(store: &dyn UserStore) {
    let mut ada = User::new(
        "Ada",
        "Ada@Example.com",
        Some("$argon2id$hash".to_owned()),
        now(),
    );
    ada.roles = vec!["admin".to_owned(), "user".to_owned()];
    ada.permissions = vec!["articles.*".to_owned()];
    ada.tenant = Some("acme".to_owned());
    // The fields of a user model of the service's own, kept as they were given.
    ada.profile
        .public
        .insert("display_name".to_owned(), "Ada L.".into());
    ada.profile.public.insert(
        "prefs".to_owned(),
        serde_json::json!({"theme": "dark", "sizes": [1, 2.5], "on": true, "none": null}),
    );
    ada.profile.private.insert("notes".to_owned(), "VIP".into());
    store.insert(&ada).await.unwrap();

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
        store.insert(&dup_name).await,
        Err(StoreError::Conflict { field: "username" })
    ));
    let dup_mail = User::new("other", "ADA@example.COM", None, now());
    assert!(matches!(
        store.insert(&dup_mail).await,
        Err(StoreError::Conflict { field: "email" })
    ));

    let mut bob = User::new(
        "bob",
        "bob@example.com",
        None,
        now() + time::Duration::seconds(1),
    );
    store.insert(&bob).await.unwrap();
    bob.email = "ada@example.com".to_owned();
    assert!(matches!(
        store.update(&bob).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    bob.email = "robert@example.com".to_owned();
    bob.roles = vec!["editor".to_owned()];
    bob.profile.public.insert("locale".to_owned(), "fr".into());
    store.update(&bob).await.unwrap();
    let robert = store
        .get_by_email("robert@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(robert.roles, ["editor"]);
    assert_eq!(robert.profile, bob.profile, "update writes the profile");
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
    store.insert(&carol).await.unwrap();
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
    // A login is counted and timed, and nothing else changes.
    let before = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!((before.login_count, before.last_login_at), (0, None));
    let at = now() + time::Duration::seconds(60);
    store.record_login(&carol.id, at).await.unwrap();
    store.record_login(&carol.id, at).await.unwrap();
    let after = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!((after.login_count, after.last_login_at), (2, Some(at)));
    assert_eq!(after.password_hash, before.password_hash);
    assert!(matches!(
        store.record_login(&ghost.id, at).await,
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

/// [`RevocationStore`]: the three rules, merging, the revocation sequence, the snapshot a
/// view loads, and purging.
pub async fn revocations(store: &dyn RevocationStore) {
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

/// [`RefreshTokenStore`]: families, one winner among concurrent rotations, revocation by
/// family and by user, listing and purging.
pub async fn refresh_tokens(store: Arc<dyn RefreshTokenStore>) {
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

fn session(id: &str, user: &str, at: i64) -> Session {
    let mut s = serde_json::from_value::<Session>(serde_json::json!({
        "id": id, "user_id": user, "device": {"user_agent": null, "ip": null, "name": null},
        "created_at": at, "last_seen": at, "expires_at": at + 1_000, "idle_timeout": 100
    }))
    .unwrap();
    s.device = Device::new(
        Some("Mozilla/5.0".to_owned()),
        Some("127.0.0.1".to_owned()),
        Some(format!("device {id}")),
    );
    s
}

fn ids(sessions: &[Session]) -> Vec<&str> {
    sessions.iter().map(|s| s.id.as_str()).collect()
}

/// [`SessionStore`]: create with the per-user limit, read, touch, list most recent first,
/// delete, the cookie-secret index, and the [`SessionManager`] over it.
pub async fn sessions(store: Arc<dyn SessionStore>) {
    let s = store.as_ref();
    // Create, read back exactly, list most recent first (ties by id).
    assert!(s
        .create_session(&session("a1", "ann", 10), None)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .create_session(&session("a2", "ann", 20), None)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .create_session(&session("a0", "ann", 20), None)
        .await
        .unwrap()
        .is_empty());
    s.create_session(&session("b1", "bob", 15), None)
        .await
        .unwrap();
    assert_eq!(
        s.get_session("a1").await.unwrap(),
        Some(session("a1", "ann", 10))
    );
    assert_eq!(s.get_session("nope").await.unwrap(), None);
    assert_eq!(
        ids(&s.list_sessions("ann").await.unwrap()),
        ["a0", "a2", "a1"]
    );
    assert!(s.list_sessions("nobody").await.unwrap().is_empty());

    // Touch moves a session to the front; never backwards; unknown ids say so.
    assert!(s.touch_session("a1", 30).await.unwrap());
    assert!(s.touch_session("a1", 25).await.unwrap());
    assert_eq!(s.get_session("a1").await.unwrap().unwrap().last_seen, 30);
    assert!(!s.touch_session("nope", 30).await.unwrap());
    assert_eq!(
        ids(&s.list_sessions("ann").await.unwrap()),
        ["a1", "a0", "a2"]
    );

    // Eviction: a new session over the limit drops the least recently used.
    let evicted = s
        .create_session(&session("a3", "ann", 40), Some(2))
        .await
        .unwrap();
    assert_eq!(evicted, ["a0", "a2"]);
    assert_eq!(ids(&s.list_sessions("ann").await.unwrap()), ["a3", "a1"]);
    assert_eq!(s.get_session("a2").await.unwrap(), None);
    assert_eq!(
        ids(&s.list_sessions("bob").await.unwrap()),
        ["b1"],
        "other users untouched"
    );

    // Delete one; delete all but one; delete all.
    assert_eq!(
        s.delete_session("a1").await.unwrap().map(|x| x.id),
        Some("a1".to_owned())
    );
    assert_eq!(s.delete_session("a1").await.unwrap(), None);
    s.create_session(&session("a4", "ann", 50), None)
        .await
        .unwrap();
    s.create_session(&session("a5", "ann", 60), None)
        .await
        .unwrap();
    let mut gone = s.delete_user_sessions("ann", Some("a4")).await.unwrap();
    gone.sort();
    assert_eq!(gone, ["a3", "a5"]);
    assert_eq!(ids(&s.list_sessions("ann").await.unwrap()), ["a4"]);
    assert_eq!(s.delete_user_sessions("ann", None).await.unwrap(), ["a4"]);
    assert!(s.list_sessions("ann").await.unwrap().is_empty());
    assert_eq!(ids(&s.list_sessions("bob").await.unwrap()), ["b1"]);

    // Cookie secrets: found by hash, rebound (the old one stops working), gone with the
    // session, with eviction, and with "all others".
    let mut e1 = session("e1", "eve", 200);
    e1.secret_hash = Some("hash-1".to_owned());
    s.create_session(&e1, None).await.unwrap();
    assert_eq!(
        s.find_session_by_secret("hash-1")
            .await
            .unwrap()
            .map(|x| x.id),
        Some("e1".to_owned())
    );
    assert_eq!(s.find_session_by_secret("hash-x").await.unwrap(), None);
    assert!(s.set_session_secret("e1", "hash-2").await.unwrap());
    assert!(!s.set_session_secret("nope", "hash-9").await.unwrap());
    assert_eq!(
        s.find_session_by_secret("hash-1").await.unwrap(),
        None,
        "rotated"
    );
    let found = s.find_session_by_secret("hash-2").await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.secret_hash.as_deref()),
        ("e1", Some("hash-2"))
    );
    let mut e2 = session("e2", "eve", 210);
    e2.secret_hash = Some("hash-3".to_owned());
    assert_eq!(s.create_session(&e2, Some(1)).await.unwrap(), ["e1"]);
    assert_eq!(
        s.find_session_by_secret("hash-2").await.unwrap(),
        None,
        "evicted"
    );
    s.delete_session("e2").await.unwrap();
    assert_eq!(
        s.find_session_by_secret("hash-3").await.unwrap(),
        None,
        "deleted"
    );
    let mut e3 = session("e3", "eve", 220);
    e3.secret_hash = Some("hash-4".to_owned());
    s.create_session(&e3, None).await.unwrap();
    s.delete_user_sessions("eve", None).await.unwrap();
    assert_eq!(
        s.find_session_by_secret("hash-4").await.unwrap(),
        None,
        "all ended"
    );

    // Concurrent logins never leave more than the limit.
    let logins: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create_session(&session(&format!("c{i}"), "cat", 100 + i), Some(3))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut evicted = 0;
    for login in logins {
        evicted += login.await.unwrap().len();
    }
    assert_eq!(store.list_sessions("cat").await.unwrap().len(), 3);
    assert_eq!(evicted, 5);

    // The manager on top: idle timeout, absolute lifetime, ownership.
    let clock = Arc::new(ManualClock::new(1_000));
    let manager = SessionManager::new(
        Arc::clone(&store),
        clock.clone(),
        SessionSettings::new(300, 3_600, Some(5)),
    );
    let (dan, evicted) = manager
        .create("d1", "dan", Device::named("phone"))
        .await
        .unwrap();
    assert!(evicted.is_empty());
    assert_eq!((dan.created_at, dan.expires_at), (1_000, 4_600));
    clock.advance(299);
    assert!(
        manager.use_session("d1").await.unwrap().is_some(),
        "just inside idle timeout"
    );
    clock.advance(299);
    assert!(
        manager.use_session("d1").await.unwrap().is_some(),
        "the use above kept it alive"
    );
    assert_eq!(
        store.get_session("d1").await.unwrap().unwrap().last_seen,
        1_598
    );
    clock.advance(300);
    assert!(
        manager.use_session("d1").await.unwrap().is_none(),
        "idle too long"
    );
    assert!(manager.list("dan").await.unwrap().is_empty());
    manager
        .create("d2", "dan", Device::default())
        .await
        .unwrap();
    for _ in 0..20 {
        clock.advance(200);
        if manager.use_session("d2").await.unwrap().is_none() {
            break;
        }
    }
    assert_eq!(
        clock_now(&clock) - 1_898,
        3_600,
        "ended at the absolute lifetime"
    );
    manager
        .create("d3", "dan", Device::default())
        .await
        .unwrap();
    assert!(
        manager.revoke("eve", "d3").await.unwrap().is_none(),
        "not eve's"
    );
    assert!(manager.revoke("dan", "d3").await.unwrap().is_some());
    assert!(manager.revoke("dan", "d3").await.unwrap().is_none());
}

fn clock_now(clock: &ManualClock) -> i64 {
    use crate::Clock;
    clock.now()
}

/// [`CounterStore`]: fixed windows, separate keys, reset, and concurrent hits all counted.
pub async fn counters(store: Arc<dyn CounterStore>) {
    let s = store.as_ref();
    assert_eq!(window_start(1_799, 900), 900);
    assert_eq!(s.count("login:ada", 1_000, 900).await.unwrap(), 0);
    assert_eq!(s.hit("login:ada", 1_000, 900).await.unwrap(), 1);
    assert_eq!(
        s.hit("login:ada", 1_799, 900).await.unwrap(),
        2,
        "same window"
    );
    assert_eq!(s.count("login:ada", 1_500, 900).await.unwrap(), 2);
    assert_eq!(
        s.hit("login:bob", 1_000, 900).await.unwrap(),
        1,
        "keys are separate"
    );
    // A new window starts again at one; the old count is gone.
    assert_eq!(s.count("login:ada", 1_800, 900).await.unwrap(), 0);
    assert_eq!(s.hit("login:ada", 1_800, 900).await.unwrap(), 1);
    s.reset("login:ada").await.unwrap();
    assert_eq!(s.count("login:ada", 1_800, 900).await.unwrap(), 0);
    s.reset("never-counted").await.unwrap();
    assert_eq!(s.count("login:bob", 1_000, 900).await.unwrap(), 1);

    // Concurrent hits are all counted.
    let hits: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.hit("ip:10.0.0.1", 5_000, 60).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for hit in hits {
        seen.push(hit.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<u64>>(),
        "each hit sees its own count"
    );
}
