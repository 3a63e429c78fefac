//! The suite of [`MfaStore`].

use crate::mfa::{MfaStore, TotpRecord};
use crate::user::UserId;

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// [`MfaStore`]: a pending authenticator replaced until confirmed and never after; confirmed
/// once, with its backup codes; steps accepted only forwards; backup codes spent once each
/// and replaced as a set; deletion takes the codes along; users kept apart.
pub async fn mfa(store: &dyn MfaStore) {
    let ada = UserId("ada".to_owned());
    let bob = UserId("bob".to_owned());
    assert_eq!(store.totp(&ada).await.unwrap(), None);
    assert!(!store.confirm_totp(&ada, 5, 1, &tags(&["x"])).await.unwrap());
    assert!(!store.advance_totp_step(&ada, 1).await.unwrap());

    // Pending: replaced by a new enrolment.
    let first = TotpRecord::pending(ada.clone(), "sealed-1".to_owned(), 10);
    assert!(store.start_totp(&first).await.unwrap());
    let second = TotpRecord::pending(ada.clone(), "sealed-2".to_owned(), 20);
    assert!(store.start_totp(&second).await.unwrap());
    assert_eq!(store.totp(&ada).await.unwrap(), Some(second.clone()));

    // Confirmed once, with its codes and its step.
    assert!(store
        .confirm_totp(&ada, 30, 100, &tags(&["c1", "c2", "c3"]))
        .await
        .unwrap());
    assert!(!store
        .confirm_totp(&ada, 31, 101, &tags(&["z"]))
        .await
        .unwrap());
    let confirmed = store.totp(&ada).await.unwrap().unwrap();
    assert_eq!(
        (
            confirmed.sealed_secret.as_str(),
            confirmed.confirmed_at,
            confirmed.last_step
        ),
        ("sealed-2", Some(30), Some(100))
    );
    assert!(confirmed.is_confirmed());
    assert_eq!(store.backup_codes_left(&ada).await.unwrap(), 3);
    // A confirmed authenticator is not replaced by a new enrolment.
    let third = TotpRecord::pending(ada.clone(), "sealed-3".to_owned(), 40);
    assert!(!store.start_totp(&third).await.unwrap());
    assert_eq!(
        store.totp(&ada).await.unwrap().unwrap().sealed_secret,
        "sealed-2"
    );

    // Steps only forwards.
    assert!(!store.advance_totp_step(&ada, 100).await.unwrap(), "replay");
    assert!(!store.advance_totp_step(&ada, 99).await.unwrap(), "older");
    assert!(store.advance_totp_step(&ada, 101).await.unwrap());
    assert!(!store.advance_totp_step(&ada, 101).await.unwrap(), "replay");
    assert_eq!(
        store.totp(&ada).await.unwrap().unwrap().last_step,
        Some(101)
    );

    // Backup codes: each once, only the user's own.
    assert!(store.use_backup_code(&ada, "c2", 50).await.unwrap());
    assert!(
        !store.use_backup_code(&ada, "c2", 51).await.unwrap(),
        "spent"
    );
    assert!(
        !store.use_backup_code(&bob, "c1", 52).await.unwrap(),
        "not bob's"
    );
    assert!(!store.use_backup_code(&ada, "nope", 53).await.unwrap());
    assert_eq!(store.backup_codes_left(&ada).await.unwrap(), 2);
    // Replaced as a set: the old ones stop working.
    store
        .replace_backup_codes(&ada, &tags(&["n1", "n2"]), 60)
        .await
        .unwrap();
    assert!(
        !store.use_backup_code(&ada, "c1", 61).await.unwrap(),
        "old set"
    );
    assert!(store.use_backup_code(&ada, "n1", 62).await.unwrap());
    assert_eq!(store.backup_codes_left(&ada).await.unwrap(), 1);

    // Another user is apart.
    let bobs = TotpRecord::pending(bob.clone(), "sealed-b".to_owned(), 70);
    assert!(store.start_totp(&bobs).await.unwrap());
    assert_eq!(store.backup_codes_left(&bob).await.unwrap(), 0);

    // Deletion takes the codes along; then enrolment starts afresh.
    assert!(store.delete_totp(&ada).await.unwrap());
    assert!(!store.delete_totp(&ada).await.unwrap());
    assert_eq!(store.totp(&ada).await.unwrap(), None);
    assert_eq!(store.backup_codes_left(&ada).await.unwrap(), 0);
    assert!(!store.use_backup_code(&ada, "n2", 80).await.unwrap());
    assert!(store.start_totp(&third).await.unwrap());
    assert_eq!(store.totp(&ada).await.unwrap().unwrap().last_step, None);
    assert!(store.totp(&bob).await.unwrap().is_some());
}
