//! The suites of [`PendingStore`] and [`PasskeyStore`].

use crate::mfa::passkey::{PasskeyRecord, PasskeyStore};
use crate::pending::PendingStore;
use crate::user::UserId;

/// [`PendingStore`]: a state is taken once, only for its kind and before its expiry; expired
/// states are purged, live ones kept.
pub async fn pending(store: &dyn PendingStore) {
    store.put("a", "login", "state-a", 1_100).await.unwrap();
    store.put("b", "login", "state-b", 1_050).await.unwrap();
    store
        .put("c", "register", "multi\nline {json}", 1_100)
        .await
        .unwrap();
    assert_eq!(
        store.take("a", "register", 1_000).await.unwrap(),
        None,
        "kind"
    );
    assert_eq!(store.take("nope", "login", 1_000).await.unwrap(), None);
    assert_eq!(
        store.take("a", "login", 1_000).await.unwrap().as_deref(),
        Some("state-a")
    );
    assert_eq!(store.take("a", "login", 1_000).await.unwrap(), None, "once");
    assert_eq!(
        store.take("b", "login", 1_050).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take("c", "register", 1_099).await.unwrap().as_deref(),
        Some("multi\nline {json}")
    );
    store.put("d", "login", "old", 1_200).await.unwrap();
    store.put("e", "login", "new", 1_400).await.unwrap();
    let purged = store.purge_expired(1_300, 100).await.unwrap();
    assert!(purged <= 2, "{purged}");
    assert_eq!(
        store.take("e", "login", 1_300).await.unwrap().as_deref(),
        Some("new")
    );
}

/// [`PasskeyStore`]: a credential id registered once (to anyone), listed per owner oldest
/// first, its uses recorded, removed only by its owner.
pub async fn passkeys(store: &dyn PasskeyStore) {
    let ada = UserId("ada".to_owned());
    let bob = UserId("bob".to_owned());
    let first = PasskeyRecord::new("k1", ada.clone(), "h-ada", "Laptop", "{\"c\":0}", 20);
    let second = PasskeyRecord::new("k2", ada.clone(), "h-ada", "Phone", "{\"c\":0}", 10);
    assert!(store.insert_passkey(&first).await.unwrap());
    assert!(store.insert_passkey(&second).await.unwrap());
    let taken = PasskeyRecord::new("k1", bob.clone(), "h-bob", "Mine", "{}", 30);
    assert!(!store.insert_passkey(&taken).await.unwrap(), "id taken");
    assert_eq!(store.passkey("k1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.passkey("zz").await.unwrap(), None);
    let ids: Vec<String> = store
        .passkeys_of(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["k2", "k1"]);
    assert!(store.passkeys_of(&bob).await.unwrap().is_empty());

    assert!(store.use_passkey("k1", "{\"c\":7}", 50).await.unwrap());
    assert!(!store.use_passkey("zz", "{}", 50).await.unwrap());
    let used = store.passkey("k1").await.unwrap().unwrap();
    assert_eq!(
        (used.credential.as_str(), used.last_used_at),
        ("{\"c\":7}", Some(50))
    );

    assert!(
        !store.delete_passkey(&bob, "k1").await.unwrap(),
        "not bob's"
    );
    assert!(store.delete_passkey(&ada, "k1").await.unwrap());
    assert!(!store.delete_passkey(&ada, "k1").await.unwrap());
    assert_eq!(store.passkey("k1").await.unwrap(), None);
    assert_eq!(store.passkeys_of(&ada).await.unwrap().len(), 1);
}
