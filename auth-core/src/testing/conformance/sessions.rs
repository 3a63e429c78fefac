//! The suites of [`SessionStore`] and [`CounterStore`].

use std::sync::Arc;

use crate::mfa::{FactorKind, SatisfiedFactor};
use crate::session::{Device, Session, SessionManager, SessionSettings, SessionStore};
use crate::throttle::{window_start, CounterStore};
use crate::ManualClock;

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
    // Factors: kept as created, replaced by a step-up, only on an existing session.
    let mut f1 = session("f1", "fay", 300);
    f1.factors = vec![SatisfiedFactor::new(FactorKind::Password, 300)];
    s.create_session(&f1, None).await.unwrap();
    assert_eq!(s.get_session("f1").await.unwrap().unwrap(), f1);
    let stepped = [
        SatisfiedFactor::new(FactorKind::Password, 300),
        SatisfiedFactor::new(FactorKind::Totp, 310),
    ];
    assert!(s.set_session_factors("f1", &stepped).await.unwrap());
    assert!(!s.set_session_factors("nope", &stepped).await.unwrap());
    assert_eq!(s.get_session("f1").await.unwrap().unwrap().factors, stepped);
    assert!(s.set_session_factors("f1", &[]).await.unwrap());
    let cleared = s.get_session("f1").await.unwrap().unwrap();
    assert!(cleared.factors.is_empty());
    assert_eq!(
        cleared.satisfied_factors(),
        [SatisfiedFactor::new(FactorKind::Password, 300)],
        "a session without factors is a password login"
    );
    s.delete_session("f1").await.unwrap();
    // The OAuth client a session was started for is kept with it.
    let mut c1 = session("c1", "cid", 400);
    c1.client = Some(crate::session::SessionClient::new("notes", "openid email"));
    s.create_session(&c1, None).await.unwrap();
    assert_eq!(s.get_session("c1").await.unwrap().unwrap(), c1);
    assert_eq!(s.get_session("f1").await.unwrap(), None);
    s.delete_session("c1").await.unwrap();
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
