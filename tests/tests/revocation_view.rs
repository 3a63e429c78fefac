//! The local revocation view: revocations made on one instance are in force on another
//! within a second, checks of unrevoked tokens answer from memory (they keep working with the
//! database gone), and while the bus is cut the view asks the store, so nothing revoked
//! passes; when the bus is back the view reloads and answers from memory again. A revocation
//! whose message never went out is caught by the store's revocation sequence within a second.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::invalidation::ChangeBus;
use auth_axum::core::store::sql::{SqlOptions, SqlStore};
use auth_axum::core::token::revocation::{RevocationCheck, RevocationStore};
use auth_axum::core::token::RevocationView;
use auth_axum::core::{StoreError, SystemClock};
use tests::{eventually, redis_url, unique_prefix, PgDatabase, TcpProxy};

const FAR: i64 = 4_000_000_000;

fn check<'a>(jti: &'a str, sid: Option<&'a str>) -> RevocationCheck<'a> {
    RevocationCheck {
        jti,
        session_id: sid,
        user_id: "u1",
        issued_at: 100,
        epoch: 0,
    }
}

fn view(store: &SqlStore, bus: &ChangeBus) -> Arc<RevocationView> {
    let view = Arc::new(RevocationView::new(
        Arc::new(store.clone()),
        bus.clone(),
        Arc::new(SystemClock),
    ));
    drop(view.follow());
    view
}

async fn revoked(view: &RevocationView, jti: &str) -> bool {
    view.is_revoked(&check(jti, None)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_share_revocations_and_answer_from_memory() {
    let (_dir, store) = tests::sqlite_store().await;
    // Revoked before either view started: loaded from the store.
    store.revoke_token("old", FAR).await.unwrap();
    let bus = ChangeBus::local();
    let a = view(&store, &bus);
    let b = view(&store, &bus);
    assert!(
        eventually(Duration::from_secs(1), || async {
            a.is_complete() && b.is_complete()
        })
        .await
    );
    assert!(revoked(&b, "old").await);

    a.revoke_session("s1", FAR).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || async {
            b.is_revoked(&check("t1", Some("s1"))).await.unwrap()
        })
        .await
    );
    a.revoke_token("t2", FAR).await.unwrap();
    assert!(eventually(Duration::from_secs(1), || async { revoked(&b, "t2").await }).await);

    // With the database gone, the store itself fails, the view still answers both ways.
    store.close().await;
    assert!(matches!(
        store.is_revoked(&check("fresh", None)).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        !revoked(&b, "fresh").await,
        "no round trip for an unrevoked token"
    );
    assert!(revoked(&b, "t2").await);
    assert!(b.is_revoked(&check("t9", Some("s1"))).await.unwrap());
}

/// A revocation whose message never goes out (written by a process that did not publish, or
/// whose publish failed) shows as a gap in the store's revocation sequence: views that
/// answer from memory notice it within a second and reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_without_a_message_is_caught_by_the_sequence() {
    let (_dir, store) = tests::sqlite_store().await;
    let bus = ChangeBus::local();
    let a = view(&store, &bus);
    assert!(eventually(Duration::from_secs(1), || async { a.is_complete() }).await);
    a.revoke_token("published", FAR).await.unwrap();
    assert!(revoked(&a, "published").await);

    // Straight to the store: no view, no message.
    store.revoke_token("silent", FAR).await.unwrap();
    assert!(a.is_complete(), "the view cannot know yet");
    let started = std::time::Instant::now();
    assert!(
        eventually(Duration::from_secs(3), || async {
            revoked(&a, "silent").await
        })
        .await,
        "the gap is noticed and the view reloads"
    );
    // Within the bound: two comparisons 500 ms apart, then a reload (1 s, and slack).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(eventually(Duration::from_secs(1), || async { a.is_complete() }).await);
    assert!(!revoked(&a, "fresh").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_bus_falls_back_to_the_store_and_recovers() {
    let Some(redis) = redis_url().await else {
        return;
    };
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = SqlStore::connect(&db.url, SqlOptions::default())
        .await
        .unwrap();
    let proxy = TcpProxy::start(redis.trim_start_matches("redis://").trim_end_matches('/')).await;
    let channel = unique_prefix("revocations");
    let bus_a = ChangeBus::redis(&redis, &channel).await.unwrap();
    let bus_b = ChangeBus::redis(&format!("redis://{}", proxy.addr()), &channel)
        .await
        .unwrap();
    let a = view(&store, &bus_a);
    let b = view(&store, &bus_b);
    assert!(
        eventually(Duration::from_secs(1), || async {
            a.is_complete() && b.is_complete()
        })
        .await
    );
    // A healthy bus stays connected across several heartbeats: no drop, no resync.
    let mut notices = bus_b.subscribe();
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert!(
        matches!(
            notices.try_recv(),
            Err(tokio::sync::broadcast::error::TryRecvError::Empty)
        ),
        "the heartbeat keeps a healthy subscription"
    );

    a.revoke_token("t1", FAR).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || async { revoked(&b, "t1").await }).await,
        "in force on B within a second"
    );

    proxy.cut();
    assert!(
        eventually(Duration::from_secs(2), || async { !b.is_complete() }).await,
        "B notices the lost bus within its heartbeat"
    );
    // B misses this message, but asks the store: nothing revoked passes.
    a.revoke_token("t2", FAR).await.unwrap();
    assert!(revoked(&b, "t2").await);
    assert!(!revoked(&b, "t3").await);

    proxy.restore();
    assert!(
        eventually(Duration::from_secs(5), || async { b.is_complete() }).await,
        "B resubscribes and reloads by itself"
    );
    assert!(revoked(&b, "t2").await);
    a.revoke_token("t4", FAR).await.unwrap();
    assert!(eventually(Duration::from_secs(1), || async { revoked(&b, "t4").await }).await);
    store.close().await;
    db.drop_database().await;
}
