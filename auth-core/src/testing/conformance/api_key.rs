//! The suite of [`ApiKeyStore`].

use crate::api_key::{hash, ApiKey, ApiKeyStore};
use crate::user::UserId;

/// [`ApiKeyStore`]: keys found by hash only, listed per owner newest first, revoked once and
/// only by their owner, uses noted at most once a minute.
pub async fn api_keys(store: &dyn ApiKeyStore) {
    let ada = UserId("ada".to_owned());
    let bob = UserId("bob".to_owned());
    let scopes = vec!["articles.read".to_owned(), "reports.*".to_owned()];
    let first = ApiKey::new(
        "k1",
        ada.clone(),
        "ci",
        scopes.clone(),
        "ak_first",
        1_000,
        None,
    );
    let second = ApiKey::new(
        "k2",
        ada.clone(),
        "cron",
        vec!["*".to_owned()],
        "ak_second",
        2_000,
        Some(9_000),
    );
    let bobs = ApiKey::new(
        "k3",
        bob.clone(),
        "bot",
        Vec::new(),
        "ak_third",
        1_500,
        None,
    );
    for key in [&first, &second, &bobs] {
        store.insert_key(key).await.unwrap();
    }
    assert_eq!(
        store.key_by_hash(&hash("ak_first")).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.key_by_hash(&hash("ak_unknown")).await.unwrap(), None);
    assert_eq!(
        store.key_by_hash("ak_first").await.unwrap(),
        None,
        "by hash, never the key"
    );
    let ids = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(ids(store.keys_of(&ada).await.unwrap()), ["k2", "k1"]);
    assert_eq!(ids(store.keys_of(&bob).await.unwrap()), ["k3"]);

    assert!(
        !store.revoke_key(&bob, "k1", 3_000).await.unwrap(),
        "only the owner revokes"
    );
    assert!(store.revoke_key(&ada, "k1", 3_000).await.unwrap());
    assert!(!store.revoke_key(&ada, "k1", 3_100).await.unwrap(), "once");
    let revoked = store.key_by_hash(&hash("ak_first")).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(3_000));
    assert_eq!(revoked.scopes, scopes);

    assert!(store
        .touch_key("k2", 4_000, Some("10.0.0.1"))
        .await
        .unwrap());
    assert!(
        !store
            .touch_key("k2", 4_059, Some("10.0.0.2"))
            .await
            .unwrap(),
        "within a minute"
    );
    assert!(store.touch_key("k2", 4_060, None).await.unwrap());
    let used = store
        .key_by_hash(&hash("ak_second"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((used.last_used_at, used.last_used_ip), (Some(4_060), None));
    assert!(
        !store.touch_key("k9", 4_060, None).await.unwrap(),
        "no such key"
    );
}
