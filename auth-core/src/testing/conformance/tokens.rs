//! The suites of [`RevocationStore`] and [`RefreshTokenStore`].

use std::sync::Arc;

use crate::token::refresh::{RefreshFamily, RefreshTokenRecord, RefreshTokenStore, RotateOutcome};
use crate::token::revocation::{RevocationCheck, RevocationStore, UserCutoff};

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
    assert_eq!(store.purge_expired(1001, 100).await.unwrap(), 1);
    assert!(!store
        .is_revoked(&check("jti-1", None, "u9", 0, 0))
        .await
        .unwrap());
    assert!(store
        .is_revoked(&check("x", Some("sid-1"), "u9", 0, 0))
        .await
        .unwrap());
    assert_eq!(
        store.purge_expired(5000, 1).await.unwrap(),
        1,
        "at most the limit"
    );
    assert_eq!(store.purge_expired(5000, 100).await.unwrap(), 1);
    assert_eq!(store.purge_expired(5000, 100).await.unwrap(), 0);
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
    assert!(store.purge_expired_families(1500, 100).await.unwrap() >= 2);
    assert!(store.get_family("fam-1").await.unwrap().is_none());
    assert!(store.find_token("h0").await.unwrap().is_none());
    assert!(store.get_family("fam-3").await.unwrap().is_some());
}
