//! The scheduled purge (`AUTH__MAINTENANCE__*`) of a running service, on a SQLite file and on
//! PostgreSQL: every table filled with ended rows drains, batch by batch over several runs,
//! and the live rows stay; of two instances on one database one runs at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::time::Duration;

use auth_axum::core::account::{OneTimeToken, OneTimeTokenStore, TokenPurpose};
use auth_axum::core::api_key::{ApiKey, ApiKeyStore};
use auth_axum::core::lockout::LockoutStore;
use auth_axum::core::pending::PendingStore;
use auth_axum::core::session::{Session, SessionStore};
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::throttle::CounterStore;
use auth_axum::core::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore};
use auth_axum::core::token::revocation::RevocationStore;
use auth_axum::core::user::UserId;
use tests::app::AuthApp;
use tests::PgDatabase;

/// Ended rows per table.
const ENDED: i64 = 12;
const DAY: i64 = 86_400;

/// The tables and the rows each keeps once drained (the live ones this test adds; the audit
/// log also keeps what the service itself writes, so it is checked apart).
const TABLES: [(&str, i64); 11] = [
    ("revoked_tokens", 1),
    ("revoked_sessions", 1),
    ("user_revocations", 1),
    ("refresh_families", 1),
    ("refresh_tokens", 1),
    ("sessions", 1),
    ("one_time_tokens", 1),
    ("pending_states", 1),
    ("login_failures", 2),
    ("counters", 1),
    ("api_keys", 1),
];

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn session(id: &str, at: i64, lifetime: i64) -> Session {
    serde_json::from_value(serde_json::json!({
        "id": id, "user_id": "someone", "device": {"user_agent": null, "ip": null, "name": null},
        "created_at": at, "last_seen": at, "expires_at": at + lifetime, "idle_timeout": lifetime
    }))
    .unwrap()
}

/// `ENDED` ended rows in every table the purge covers, and one live row (the lockout: one
/// failure, counted for the name and for the pair).
async fn fill(store: &SqlStore) {
    let now = now();
    let old = now - 400 * DAY;
    for i in 0..=ENDED {
        let live = i == ENDED;
        let (at, ends) = if live {
            (now, now + DAY)
        } else {
            (old, old + 60)
        };
        store.revoke_token(&format!("jti-{i}"), ends).await.unwrap();
        store
            .revoke_session(&format!("sid-{i}"), ends)
            .await
            .unwrap();
        store
            .revoke_user(
                &format!("user-{i}"),
                auth_axum::core::token::revocation::UserCutoff {
                    issued_before: at,
                    epoch_below: 0,
                    expires_at: ends,
                },
            )
            .await
            .unwrap();
        let family = RefreshFamily::new(format!("fam-{i}"), "someone".to_owned(), at, ends);
        let token = RefreshTokenRecord::new(format!("rt-{i}"), format!("fam-{i}"), at, ends);
        store.create_family(&family, &token).await.unwrap();
        store
            .create_session(&session(&format!("s-{i}"), at, 60.max(ends - at)), None)
            .await
            .unwrap();
        let purpose = TokenPurpose::PasswordReset;
        let owner = UserId(format!("owner-{i}"));
        store
            .issue(&OneTimeToken::new(
                format!("ott-{i}"),
                purpose,
                owner.clone(),
                at,
                ends,
            ))
            .await
            .unwrap();
        store
            .put(&format!("pending-{i}"), "login", "{}", ends)
            .await
            .unwrap();
        store
            .record_failure(&format!("name-{i}"), "10.0.0.1", at, 3_600)
            .await
            .unwrap();
        store.hit(&format!("counter-{i}"), at, 60).await.unwrap();
        let key = ApiKey::new(
            format!("key-{i}"),
            owner.clone(),
            "ci",
            Vec::new(),
            &format!("ak_{i}"),
            at,
            Some(ends),
        );
        store.insert_key(&key).await.unwrap();
        sqlx::query(
            "INSERT INTO audit_events (id, at, kind, user_id, actor, client_ip, user_agent, actor_session, data) \
             VALUES ($1, $2, 'test', NULL, NULL, NULL, NULL, NULL, '{}')",
        )
        .bind(format!("audit-{i}"))
        .bind(at)
        .execute(store.writes())
        .await
        .unwrap();
    }
}

async fn counts(store: &SqlStore) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for (table, _) in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        counts.insert(table, n);
    }
    let old: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'test'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    counts.insert("audit_events", old);
    counts
}

fn drained(counts: &BTreeMap<&'static str, i64>) -> bool {
    TABLES.iter().all(|(table, live)| counts[table] == *live) && counts["audit_events"] == 1
}

/// Starts a service on `url` whose purge runs every second in batches of 5, at most 2 per
/// table and run (so 12 ended rows take two runs), fills its tables and watches them drain.
async fn drains_on(url: String) {
    let app = AuthApp::start(Some(url.clone()), |c| {
        c.maintenance.interval_seconds = 1;
        c.maintenance.batch_size = 5;
        c.maintenance.max_batches = 2;
        c.audit.retention_days = 30;
    })
    .await;
    let store = SqlStore::connect(&url, SqlOptions::default())
        .await
        .unwrap();
    fill(&store).await;
    let full = counts(&store).await;
    assert!(
        TABLES
            .iter()
            .all(|(table, live)| full[table] >= ENDED + live),
        "{full:?}"
    );
    // Watched every 20 ms: a run removes at most 10 rows of a table, so the tables pass
    // through a partly purged state before they are drained.
    let mut partly = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let last = loop {
        let now = counts(&store).await;
        if drained(&now) {
            break now;
        }
        partly |= TABLES
            .iter()
            .any(|(table, live)| now[table] > *live && now[table] < full[table]);
        assert!(
            tokio::time::Instant::now() < deadline,
            "not drained: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(partly, "drained in one run: batches not bounded? {last:?}");
    // The live rows are the ones that stayed.
    let jtis: Vec<String> = sqlx::query_scalar("SELECT jti FROM revoked_tokens")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(jtis, ["jti-12"]);
    assert!(store.get_family("fam-12").await.unwrap().is_some());
    assert!(store.get_session("s-12").await.unwrap().is_some());
    assert!(store.get_session("s-0").await.unwrap().is_none());
    drop(app);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_purge_drains_every_table_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    drains_on(tests::sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_purge_drains_every_table_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    drains_on(db.url.clone()).await;
    db.drop_database().await;
}

/// Two instances on one PostgreSQL database: the first to run takes the lease for an
/// interval, the other skips until it runs out; a disabled schedule never runs by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_purges_at_a_time() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let disabled = |c: &mut auth_axum::core::AuthConfig| {
        c.maintenance.enabled = false;
        c.maintenance.interval_seconds = 2;
    };
    let first = AuthApp::start(Some(db.url.clone()), disabled).await;
    let second = AuthApp::start(Some(db.url.clone()), disabled).await;
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    fill(&store).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        counts(&store).await["sessions"],
        ENDED + 1,
        "disabled: no run"
    );

    let run = |app: &AuthApp| {
        let maintenance = app.module.service().maintenance().clone();
        async move { maintenance.run_once().await.unwrap() }
    };
    let report = run(&first).await.expect("the lease was free");
    assert_eq!(
        report.purged(auth_axum::core::maintenance::Table::Sessions),
        u64::try_from(ENDED).unwrap()
    );
    assert!(report.failed().is_empty());
    assert!(run(&second).await.is_none(), "the first holds the lease");
    assert!(run(&first).await.is_some(), "its holder renews it");
    // The lease is taken for one interval (2 s).
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(run(&second).await.is_some(), "ran out");
    assert!(run(&first).await.is_none());
    store.close().await;
    db.drop_database().await;
}
