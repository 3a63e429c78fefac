//! The suite of [`OneTimeTokenStore`].

use std::sync::Arc;

use crate::account::{hash_token, OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::password::history::PasswordHistoryStore;
use crate::user::UserId;

fn token(secret: &str, purpose: TokenPurpose, user: &str, at: i64) -> OneTimeToken {
    OneTimeToken::new(
        hash_token(secret),
        purpose,
        UserId::from(user),
        at,
        at + 1800,
    )
}

/// [`OneTimeTokenStore`]: single use, expiry, purpose, one live token per user and purpose,
/// voiding, purging, and atomic consumption under concurrency.
pub async fn one_time_tokens(store: Arc<dyn OneTimeTokenStore>) {
    let at = 1_800_000_000;
    let reset = TokenPurpose::PasswordReset;
    let verify = TokenPurpose::VerifyEmail;

    // Single use; finding leaves the token in place.
    store.issue(&token("t1", reset, "ada", at)).await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            store.find(&hash_token("t1"), reset, at + 1).await.unwrap(),
            Some(token("t1", reset, "ada", at))
        );
    }
    assert!(store
        .find(&hash_token("t1"), TokenPurpose::VerifyEmail, at + 1)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find(&hash_token("t1"), reset, at + 1800)
        .await
        .unwrap()
        .is_none());
    let taken = store
        .consume(&hash_token("t1"), reset, at + 1)
        .await
        .unwrap()
        .expect("a live token is consumed");
    assert_eq!(taken, token("t1", reset, "ada", at));
    assert!(store
        .consume(&hash_token("t1"), reset, at + 2)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find(&hash_token("t1"), reset, at + 2)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .consume(&hash_token("nope"), reset, at)
        .await
        .unwrap()
        .is_none());

    // A token serves its own purpose only, and nothing once expired.
    store.issue(&token("t2", verify, "ada", at)).await.unwrap();
    assert!(store
        .consume(&hash_token("t2"), reset, at + 1)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .consume(&hash_token("t2"), verify, at + 1800)
            .await
            .unwrap()
            .is_none(),
        "expired at expires_at"
    );

    // A newer token of the same purpose supersedes; another purpose or user is kept.
    store.issue(&token("old", reset, "bob", at)).await.unwrap();
    store
        .issue(&token("other", verify, "bob", at))
        .await
        .unwrap();
    store
        .issue(&token("carol", reset, "carol", at))
        .await
        .unwrap();
    store
        .issue(&token("new", reset, "bob", at + 5))
        .await
        .unwrap();
    assert!(store
        .consume(&hash_token("old"), reset, at + 6)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .consume(&hash_token("new"), reset, at + 6)
        .await
        .unwrap()
        .is_some());

    // Voiding a user's tokens leaves other users' alone.
    store
        .issue(&token("again", reset, "bob", at))
        .await
        .unwrap();
    assert_eq!(store.void_user(&UserId::from("bob")).await.unwrap(), 2);
    assert!(store
        .consume(&hash_token("other"), verify, at)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .consume(&hash_token("carol"), reset, at)
        .await
        .unwrap()
        .is_some());

    // Purging removes what has expired, and only that.
    store
        .issue(&token("stale", reset, "dan", at - 3600))
        .await
        .unwrap();
    store
        .issue(&token("fresh", verify, "dan", at))
        .await
        .unwrap();
    assert_eq!(store.purge_expired(at, 100).await.unwrap(), 1);
    assert!(store
        .consume(&hash_token("fresh"), verify, at)
        .await
        .unwrap()
        .is_some());

    // A token carries its payload (the new address of an email change).
    let change = TokenPurpose::ChangeEmail;
    store
        .issue(&token("move", change, "fay", at).with_payload("fay@new.example"))
        .await
        .unwrap();
    let moved = store
        .consume(&hash_token("move"), change, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.payload.as_deref(), Some("fay@new.example"));

    // Of concurrent consumptions of one token, exactly one succeeds.
    store.issue(&token("race", reset, "eve", at)).await.unwrap();
    let attempts = (0..8).map(|_| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.consume(&hash_token("race"), reset, at + 1).await })
    });
    let mut winners = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        if attempt.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one consumption wins");
}

/// [`PasswordHistoryStore`]: newest first, only the newest `keep` kept, per user.
pub async fn password_history(store: &dyn PasswordHistoryStore) {
    let ada = UserId::from("history-ada");
    let bob = UserId::from("history-bob");
    assert!(store.recent(&ada, 5).await.unwrap().is_empty());
    for (i, hash) in ["h1", "h2", "h3", "h4"].iter().enumerate() {
        // Two in the same second: insertion order still decides.
        let at = 1_800_000_000 + i64::try_from(i / 2).unwrap();
        store.remember(&ada, hash, at, 3).await.unwrap();
    }
    store.remember(&bob, "b1", 1_800_000_000, 3).await.unwrap();
    assert_eq!(store.recent(&ada, 10).await.unwrap(), ["h4", "h3", "h2"]);
    assert_eq!(store.recent(&ada, 2).await.unwrap(), ["h4", "h3"]);
    assert_eq!(store.recent(&bob, 10).await.unwrap(), ["b1"]);
    store.remember(&ada, "h5", 1_800_000_010, 0).await.unwrap();
    assert!(store.recent(&ada, 10).await.unwrap().is_empty(), "keep 0");
    assert_eq!(store.recent(&bob, 10).await.unwrap(), ["b1"]);
}
