//! The suite of [`IdentityStore`].

use crate::federation::{FederatedIdentity, IdentityStore};
use crate::user::UserId;

/// [`IdentityStore`]: an issuer's subject links to one user only (whoever asks), found by
/// issuer and subject (the same subject at another issuer is another identity), listed per
/// user oldest first, touched, and unlinked only by its user.
pub async fn identities(store: &dyn IdentityStore) {
    let ada = UserId("ada".to_owned());
    let bob = UserId("bob".to_owned());
    let google = FederatedIdentity::new(
        "i1",
        ada.clone(),
        "google",
        "https://accounts.google.com",
        "1077",
        2_000,
    )
    .with_email("ada@example.com");
    let github = FederatedIdentity::new(
        "i2",
        ada.clone(),
        "github",
        "https://github.com",
        "1077",
        1_000,
    );
    for identity in [&google, &github] {
        store.insert_identity(identity).await.unwrap();
    }
    let stolen = FederatedIdentity::new(
        "i3",
        bob.clone(),
        "google",
        "https://accounts.google.com",
        "1077",
        3_000,
    );
    assert!(
        store.insert_identity(&stolen).await.is_err(),
        "an identity links to one user"
    );
    assert_eq!(
        store
            .identity("https://accounts.google.com", "1077")
            .await
            .unwrap(),
        Some(google.clone())
    );
    assert_eq!(
        store
            .identity("https://accounts.google.com", "1078")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .identity("https://evil.example", "1077")
            .await
            .unwrap(),
        None
    );
    let ids: Vec<String> = store
        .identities_of(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["i2", "i1"]);
    assert!(store.identities_of(&bob).await.unwrap().is_empty());
    assert!(store.touch_identity("i1", 5_000).await.unwrap());
    assert!(!store.touch_identity("nope", 5_000).await.unwrap());
    let touched = store
        .identity("https://accounts.google.com", "1077")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_used_at, Some(5_000));
    assert!(
        !store.delete_identity(&bob, "i1").await.unwrap(),
        "only its user unlinks it"
    );
    assert!(store.delete_identity(&ada, "i1").await.unwrap());
    assert!(!store.delete_identity(&ada, "i1").await.unwrap());
    assert_eq!(
        store
            .identity("https://accounts.google.com", "1077")
            .await
            .unwrap(),
        None
    );
    // Unlinked, the subject may be linked again (to another user).
    store.insert_identity(&stolen).await.unwrap();
}
