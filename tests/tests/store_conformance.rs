//! Every store trait's conformance suite (`auth_core::testing::conformance`, the same a
//! backend of your own runs) against every backend: in memory, SQLite (file and in memory),
//! PostgreSQL and Redis; and what only the SQL store does (migrations, WAL, one writer).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::store::{MemoryStore, StoreError};
use auth_axum::core::testing::conformance;
use auth_axum::core::token::revocation::RevocationStore;
use auth_axum::core::user::{User, UserStore};
use tests::sqlite_url;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conformance::every_trait(Arc::new(MemoryStore::new())).await;
    conformance::rate_limiter(&auth_axum::core::rate_limit::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_stores_conform() {
    tests::on_sql_backends(|store| async move {
        store.ping().await.unwrap();
        conformance::every_trait(Arc::new(store)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_conforms() {
    tests::on_redis(|store| async move {
        store.ping().await.unwrap();
        tests::redis_conformance(Arc::new(store)).await;
    })
    .await;
}

/// Revocations written under the key names of an earlier version (before the hash tag that
/// keeps them on one cluster node) are moved at connect: an upgrade forgets none.
#[tokio::test]
async fn revocations_under_the_earlier_redis_key_names_survive_an_upgrade() {
    use auth_axum::core::store::redis::RedisStore;
    use auth_axum::core::token::revocation::RevocationCheck;
    let Some(url) = tests::redis_url().await else {
        return;
    };
    let prefix = format!("{}:", tests::unique_prefix("upgrade"));
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::pipe()
        .hset(
            format!("{prefix}revoked-tokens"),
            "jti-1",
            4_000_000_000_i64,
        )
        .set(format!("{prefix}revoked-sequence"), 7)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let store = RedisStore::connect(&url, &prefix).await.unwrap();
    assert_eq!(store.sequence().await.unwrap(), 7);
    let check = |jti| RevocationCheck {
        jti,
        session_id: None,
        user_id: "u",
        issued_at: 0,
        epoch: 0,
    };
    assert!(store.is_revoked(&check("jti-1")).await.unwrap());
    assert!(!store.is_revoked(&check("jti-2")).await.unwrap());
    let left: bool = redis::cmd("EXISTS")
        .arg(format!("{prefix}revoked-tokens"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!left, "the old key was renamed");
    assert_eq!(store.revoke_token("jti-2", 4_000_000_000).await.unwrap(), 8);
}

/// Redis expires refresh families by their time to live, mostly before the purge comes: the
/// purge still drains the expiry index, counting each entry, so that a batch of expired
/// families reads as a full batch and the scheduled purge goes on.
#[tokio::test]
async fn the_redis_purge_drains_the_index_of_families_redis_expired_itself() {
    use auth_axum::core::store::redis::RedisStore;
    use auth_axum::core::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore};
    let Some(url) = tests::redis_url().await else {
        return;
    };
    let prefix = format!("{}:", tests::unique_prefix("purge-index"));
    let store = RedisStore::connect(&url, &prefix).await.unwrap();
    for i in 0..3 {
        let family = RefreshFamily::new(format!("fam-{i}"), "u1".to_owned(), 100, 101);
        let token = RefreshTokenRecord::new(format!("h{i}"), family.id.clone(), 100, 101);
        store.create_family(&family, &token).await.unwrap();
    }
    // A second of time to live: gone from Redis, still in the index.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert!(store.get_family("fam-0").await.unwrap().is_none());
    assert_eq!(
        store.purge_expired_families(200, 2).await.unwrap(),
        2,
        "a full batch"
    );
    assert_eq!(store.purge_expired_families(200, 2).await.unwrap(), 1);
    assert_eq!(
        store.purge_expired_families(200, 2).await.unwrap(),
        0,
        "drained"
    );
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
