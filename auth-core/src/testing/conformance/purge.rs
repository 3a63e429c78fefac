//! The suite of the scheduled purge's store methods and of [`LeaseStore`].

use std::sync::Arc;

use crate::api_key::{hash, ApiKey, ApiKeyStore};
use crate::lockout::LockoutStore;
use crate::maintenance::LeaseStore;
use crate::session::{Session, SessionStore};
use crate::throttle::CounterStore;
use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore};
use crate::user::UserId;

/// Far past every time the other suites use: what they left behind has ended by then.
const T: i64 = 4_000_000_000;
const HOUR: i64 = 3_600;

fn session(id: &str, at: i64) -> Session {
    serde_json::from_value(serde_json::json!({
        "id": id, "user_id": "purge-user", "device": {"user_agent": null, "ip": null, "name": null},
        "created_at": at, "last_seen": at, "expires_at": at + 1_000, "idle_timeout": 100
    }))
    .unwrap()
}

/// Calls `purge` with a limit of 1,000 until it purges fewer: the table holds nothing it
/// would purge any more.
async fn drain<F, Fut>(purge: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<u64, crate::StoreError>>,
{
    for _ in 0..100 {
        if purge(1_000).await.unwrap() < 1_000 {
            return;
        }
    }
    panic!("the purge never ran dry");
}

/// The bounded purges of sessions, lockout records, counters, API keys and refresh-token
/// families: only what ended goes, at most the limit at a time, what lives stays. For
/// backends that delete these themselves, not by purge (Redis), skip it.
pub async fn purges<S>(store: Arc<S>)
where
    S: SessionStore + LockoutStore + CounterStore + ApiKeyStore + RefreshTokenStore + LeaseStore,
{
    let s = store.as_ref();
    sessions(s).await;
    login_failures(s).await;
    counters(s).await;
    api_keys(s).await;
    families(s).await;
    leases(store).await;
}

async fn sessions(s: &dyn SessionStore) {
    drain(|limit| s.purge_ended_sessions(T - 10_000, limit)).await;
    // Ended by its lifetime (at T), by its idle timeout (at T - 100), and live.
    for (id, at) in [
        ("p-lifetime", T - 1_000),
        ("p-idle", T - 200),
        ("p-live", T - 50),
    ] {
        s.create_session(&session(id, at), None).await.unwrap();
    }
    assert!(s.touch_session("p-lifetime", T - 1).await.unwrap());
    assert_eq!(s.purge_ended_sessions(T, 1).await.unwrap(), 1, "the limit");
    assert_eq!(s.purge_ended_sessions(T, 10).await.unwrap(), 1);
    assert_eq!(s.purge_ended_sessions(T, 10).await.unwrap(), 0);
    assert!(s.get_session("p-lifetime").await.unwrap().is_none());
    assert!(s.get_session("p-idle").await.unwrap().is_none());
    assert!(s.get_session("p-live").await.unwrap().is_some());
}

async fn login_failures(s: &dyn LockoutStore) {
    drain(|limit| s.purge_stale(T - 10 * HOUR, T - 10 * HOUR, limit)).await;
    let ip = "10.9.9.9";
    s.record_failure("p-old", ip, T - 5 * HOUR, HOUR)
        .await
        .unwrap();
    s.record_failure("p-new", ip, T - 60, HOUR).await.unwrap();
    s.record_success("p-known", ip, T - 5 * HOUR, 30 * 24 * HOUR)
        .await
        .unwrap();
    s.record_success("p-remembered", ip, T - 60, 30 * 24 * HOUR)
        .await
        .unwrap();
    // Failures forgotten before T - HOUR, successes remembered since T - 2 hours.
    let purged = s.purge_stale(T - HOUR, T - 2 * HOUR, 1).await.unwrap();
    assert_eq!(purged, 1, "the limit");
    drain(|limit| s.purge_stale(T - HOUR, T - 2 * HOUR, limit)).await;
    // Read as of when the failures were fresh: a purged record counts nothing.
    let old = s.record("p-old", ip, T - 5 * HOUR, HOUR).await.unwrap();
    assert_eq!((old.account.count, old.client.count), (0, 0), "purged");
    let new = s.record("p-new", ip, T - 60, HOUR).await.unwrap();
    assert_eq!((new.account.count, new.client.count), (1, 1), "kept");
    let known = s.record("p-known", ip, T, HOUR).await.unwrap();
    assert_eq!(known.client_success, None, "an old success is purged");
    let remembered = s.record("p-remembered", ip, T, HOUR).await.unwrap();
    assert_eq!(remembered.client_success, Some(T - 60), "kept");
}

async fn counters(s: &dyn CounterStore) {
    drain(|limit| s.purge_stale(T - 10 * HOUR, limit)).await;
    assert_eq!(s.hit("p:old", T - 3 * HOUR, 60).await.unwrap(), 1);
    assert_eq!(s.hit("p:older", T - 4 * HOUR, 60).await.unwrap(), 1);
    assert_eq!(s.hit("p:new", T - 10, 60).await.unwrap(), 1);
    assert_eq!(s.purge_stale(T - HOUR, 1).await.unwrap(), 1, "the limit");
    assert_eq!(s.purge_stale(T - HOUR, 10).await.unwrap(), 1);
    assert_eq!(s.purge_stale(T - HOUR, 10).await.unwrap(), 0);
    assert_eq!(s.count("p:old", T - 3 * HOUR, 60).await.unwrap(), 0);
    assert_eq!(s.count("p:new", T - 10, 60).await.unwrap(), 1);
}

async fn api_keys(s: &dyn ApiKeyStore) {
    drain(|limit| s.purge_dead_keys(T - 10 * HOUR, limit)).await;
    let owner = UserId("purge-owner".to_owned());
    let key = |id: &str, expires_at: Option<i64>| {
        ApiKey::new(
            id,
            owner.clone(),
            id,
            Vec::new(),
            &format!("ak_{id}"),
            T - 9 * HOUR,
            expires_at,
        )
    };
    for k in [
        key("expired", Some(T - 5 * HOUR)),
        key("revoked", None),
        key("revoked-lately", None),
        key("live", Some(T + HOUR)),
    ] {
        s.insert_key(&k).await.unwrap();
    }
    assert!(s.revoke_key(&owner, "revoked", T - 4 * HOUR).await.unwrap());
    assert!(s
        .revoke_key(&owner, "revoked-lately", T - 60)
        .await
        .unwrap());
    assert_eq!(
        s.purge_dead_keys(T - HOUR, 1).await.unwrap(),
        1,
        "the limit"
    );
    assert_eq!(s.purge_dead_keys(T - HOUR, 10).await.unwrap(), 1);
    assert_eq!(s.purge_dead_keys(T - HOUR, 10).await.unwrap(), 0);
    let left: Vec<String> = s
        .keys_of(&owner)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"live".to_owned()) && left.contains(&"revoked-lately".to_owned()));
    assert!(s.key_by_hash(&hash("ak_expired")).await.unwrap().is_none());
}

async fn families(s: &dyn RefreshTokenStore) {
    drain(|limit| s.purge_expired_families(T - 10 * HOUR, limit)).await;
    for (id, ends) in [
        ("pf-1", T - HOUR),
        ("pf-2", T - HOUR),
        ("pf-live", T + HOUR),
    ] {
        let family = RefreshFamily::new(id.to_owned(), "purge-user".to_owned(), T - 2 * HOUR, ends);
        // Each family's first token expired at T - HOUR too.
        let first =
            RefreshTokenRecord::new(format!("{id}-t0"), id.to_owned(), T - 2 * HOUR, T - HOUR);
        s.create_family(&family, &first).await.unwrap();
    }
    // One ended family with its token: two rows; then the other, and the live family's
    // expired token.
    assert_eq!(s.purge_expired_families(T, 1).await.unwrap(), 3);
    let left = [
        s.get_family("pf-1").await.unwrap().is_some(),
        s.get_family("pf-2").await.unwrap().is_some(),
    ];
    assert_eq!(
        left.iter().filter(|l| **l).count(),
        1,
        "one family at a time"
    );
    drain(|limit| s.purge_expired_families(T, limit)).await;
    assert!(s.get_family("pf-1").await.unwrap().is_none());
    assert!(s.get_family("pf-2").await.unwrap().is_none());
    assert!(s.find_token("pf-1-t0").await.unwrap().is_none());
    assert!(
        s.find_token("pf-live-t0").await.unwrap().is_none(),
        "expired"
    );
    assert!(s.get_family("pf-live").await.unwrap().is_some());
}

/// [`LeaseStore`]: one holder at a time, renewed by its holder, taken over once it ran out,
/// released only by its holder; of concurrent askers exactly one gets it.
pub async fn leases<S: LeaseStore>(store: Arc<S>) {
    let s = store.as_ref();
    assert!(s.acquire_lease("job", "a", T, T + 60).await.unwrap());
    assert!(
        !s.acquire_lease("job", "b", T + 1, T + 61).await.unwrap(),
        "held"
    );
    assert!(
        s.acquire_lease("job", "a", T + 30, T + 90).await.unwrap(),
        "renewed"
    );
    assert!(
        !s.acquire_lease("job", "b", T + 89, T + 150).await.unwrap(),
        "renewed till 90"
    );
    assert!(s
        .acquire_lease("other-job", "b", T + 89, T + 150)
        .await
        .unwrap());
    assert!(
        s.acquire_lease("job", "b", T + 90, T + 150).await.unwrap(),
        "ran out"
    );
    s.release_lease("job", "a").await.unwrap();
    assert!(
        !s.acquire_lease("job", "a", T + 100, T + 160).await.unwrap(),
        "not a's to release"
    );
    s.release_lease("job", "b").await.unwrap();
    assert!(
        s.acquire_lease("job", "a", T + 100, T + 160).await.unwrap(),
        "released"
    );

    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .acquire_lease("contended", &format!("holder-{i}"), T, T + 60)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for task in tasks {
        won += u32::from(task.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one of concurrent askers holds the lease");
}
