//! The suites of [`UserStore`].

use crate::error::StoreError;
use crate::user::{Page, Profile, User, UserId, UserStore};

use super::now;

/// [`UserStore`]: insert and look-ups (case-insensitive), conflicts, update, listing,
/// deactivation, the security epoch, and the compare-and-set column updates.
pub async fn users(store: &dyn UserStore) {
    let mut ada = User::new(
        "Ada",
        "Ada@Example.com",
        Some("$argon2id$hash".to_owned()),
        now(),
    );
    ada.roles = vec!["admin".to_owned(), "user".to_owned()];
    ada.permissions = vec!["articles.*".to_owned()];
    ada.tenant = Some("acme".to_owned());
    // The fields of a user model of the service's own, kept as they were given.
    ada.profile
        .public
        .insert("display_name".to_owned(), "Ada L.".into());
    ada.profile.public.insert(
        "prefs".to_owned(),
        serde_json::json!({"theme": "dark", "sizes": [1, 2.5], "on": true, "none": null}),
    );
    ada.profile.private.insert("notes".to_owned(), "VIP".into());
    store.insert(&ada).await.unwrap();

    let by_id = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert_eq!(by_id, ada);
    assert_eq!(
        store.get_by_username("ADA").await.unwrap().unwrap().id,
        ada.id,
        "usernames are case-insensitive"
    );
    assert_eq!(
        store
            .get_by_email("ada@EXAMPLE.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id,
        "emails are case-insensitive"
    );
    assert_eq!(
        store
            .get_by_login("ada@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id
    );
    assert_eq!(store.get_by_login("ada").await.unwrap().unwrap().id, ada.id);
    assert!(store.get_by_username("bob").await.unwrap().is_none());
    assert!(store
        .get_by_id(&UserId::from("missing"))
        .await
        .unwrap()
        .is_none());

    let dup_name = User::new("ADA", "other@example.com", None, now());
    assert!(matches!(
        store.insert(&dup_name).await,
        Err(StoreError::Conflict { field: "username" })
    ));
    let dup_mail = User::new("other", "ADA@example.COM", None, now());
    assert!(matches!(
        store.insert(&dup_mail).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    // The identifier rules (user::identifier): width-mapped forms are one name, lookalikes
    // (the same TR39 skeleton) are refused like a taken name, and so are IDNA spellings and
    // lookalike local parts of a taken address.
    for (username, email, field) in [
        ("\u{ff21}\u{ff24}\u{ff21}", "wide@example.com", "username"),
        ("\u{430}da", "cyrillic@example.com", "username"),
        ("other", "\u{430}da@example.com", "email"),
        ("other", "ada@EXAMPLE.com", "email"),
    ] {
        let result = store.insert(&User::new(username, email, None, now())).await;
        assert!(
            matches!(result, Err(StoreError::Conflict { field: f }) if f == field),
            "{username} {email}: {result:?}"
        );
    }
    assert_eq!(
        store
            .get_by_username("\u{ff41}\u{ff44}\u{ff41}")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id,
        "lookup by a fullwidth form"
    );
    assert!(
        store.get_by_username("\u{430}da").await.unwrap().is_none(),
        "a lookalike is not the name"
    );

    let mut bob = User::new(
        "bob",
        "bob@example.com",
        None,
        now() + time::Duration::seconds(1),
    );
    store.insert(&bob).await.unwrap();
    bob.email = "ada@example.com".to_owned();
    assert!(matches!(
        store.update(&bob).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    bob.email = "robert@example.com".to_owned();
    bob.roles = vec!["editor".to_owned()];
    bob.profile.public.insert("locale".to_owned(), "fr".into());
    store.update(&bob).await.unwrap();
    let robert = store
        .get_by_email("robert@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(robert.roles, ["editor"]);
    assert_eq!(robert.profile, bob.profile, "update writes the profile");
    assert!(store
        .get_by_email("bob@example.com")
        .await
        .unwrap()
        .is_none());
    let ghost = User::new("ghost", "ghost@example.com", None, now());
    assert!(matches!(
        store.update(&ghost).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(store.count().await.unwrap(), 2);
    let page = store
        .list(Page {
            offset: 0,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["Ada"]
    );
    let page = store
        .list(Page {
            offset: 1,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );

    assert_eq!(store.bump_security_epoch(&ada.id).await.unwrap(), 1);
    assert_eq!(store.bump_security_epoch(&ada.id).await.unwrap(), 2);
    assert!(matches!(
        store.bump_security_epoch(&ghost.id).await,
        Err(StoreError::NotFound)
    ));
    store.deactivate(&ada.id).await.unwrap();
    let ada = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert!(!ada.is_active);
    assert_eq!(ada.security_epoch, 2);
    assert!(matches!(
        store.deactivate(&ghost.id).await,
        Err(StoreError::NotFound)
    ));

    // Column updates change their column only, and only over the value the caller read:
    // the deactivation and the epoch above survive a role change made from an older read.
    let roles = |list: &[&str]| list.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
    assert!(store
        .replace_roles(&ada.id, &ada.roles, &roles(&["user", "editor"]))
        .await
        .unwrap());
    assert!(
        !store
            .replace_roles(&ada.id, &ada.roles, &roles(&["admin"]))
            .await
            .unwrap(),
        "the roles changed since they were read"
    );
    let hash = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    assert!(
        !store
            .replace_password_hash(&ada.id, hash, "new")
            .await
            .unwrap(),
        "Ada has no password hash to replace"
    );
    let stored = store.get_by_id(&ada.id).await.unwrap().unwrap();
    assert_eq!(stored.roles, ["user", "editor"]);
    assert!(!stored.is_active, "the deactivation survives");
    assert_eq!(stored.security_epoch, 2, "so does the epoch");
    assert!(matches!(
        store.replace_roles(&ghost.id, &[], &[]).await,
        Err(StoreError::NotFound)
    ));
    let mut carol = User::new("carol", "carol@example.com", Some(hash.to_owned()), now());
    carol.is_active = true;
    store.insert(&carol).await.unwrap();
    assert!(store
        .replace_password_hash(&carol.id, hash, "upgraded")
        .await
        .unwrap());
    assert!(!store
        .replace_password_hash(&carol.id, hash, "stale")
        .await
        .unwrap());
    assert_eq!(
        store
            .get_by_id(&carol.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("upgraded")
    );
    assert!(matches!(
        store.replace_password_hash(&ghost.id, hash, "x").await,
        Err(StoreError::NotFound)
    ));
    // A reset sets the hash whatever it was, and nothing else.
    let roles_before = store.get_by_id(&carol.id).await.unwrap().unwrap().roles;
    store.set_password_hash(&carol.id, "reset").await.unwrap();
    let reset = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!(reset.password_hash.as_deref(), Some("reset"));
    assert_eq!(reset.roles, roles_before);
    store.set_password_hash(&carol.id, hash).await.unwrap();
    assert!(matches!(
        store.set_password_hash(&ghost.id, "x").await,
        Err(StoreError::NotFound)
    ));
    // The profile is replaced compare-and-set, and nothing else with it.
    let mut edited = profile_with_fields(&carol);
    edited.public.insert("locale".to_owned(), "de".into());
    assert!(store
        .replace_profile(&carol.id, &carol.profile, &edited)
        .await
        .unwrap());
    assert!(
        !store
            .replace_profile(&carol.id, &carol.profile, &carol.profile)
            .await
            .unwrap(),
        "a stale profile does not overwrite"
    );
    let stored = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!(stored.profile, edited);
    assert_eq!(stored.password_hash.as_deref(), Some(hash));
    assert!(matches!(
        store
            .replace_profile(&ghost.id, &Profile::default(), &edited)
            .await,
        Err(StoreError::NotFound)
    ));
    // An email change is compare-and-set, refused for a taken address, and verified.
    assert!(matches!(
        store
            .replace_email(&carol.id, "carol@example.com", "ROBERT@example.com")
            .await,
        Err(StoreError::Conflict { field: "email" })
    ));
    assert!(!store
        .replace_email(&carol.id, "stale@example.com", "carol@new.example")
        .await
        .unwrap());
    assert!(store
        .replace_email(&carol.id, "carol@example.com", "Carol@New.example")
        .await
        .unwrap());
    let moved = store
        .get_by_email("carol@new.example")
        .await
        .unwrap()
        .expect("found by the new address, case-insensitively");
    assert!(moved.is_verified);
    assert!(store
        .get_by_email("carol@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .replace_email(&moved.id, "Carol@New.example", "carol@example.com")
        .await
        .unwrap());
    store
        .update(&{
            let mut back = store.get_by_id(&carol.id).await.unwrap().unwrap();
            back.is_verified = false;
            back
        })
        .await
        .unwrap();
    assert!(matches!(
        store.replace_email(&ghost.id, "a@b.c", "d@e.f").await,
        Err(StoreError::NotFound)
    ));
    // Verification sets the flag, and nothing else.
    assert!(
        !store
            .get_by_id(&carol.id)
            .await
            .unwrap()
            .unwrap()
            .is_verified
    );
    store.mark_verified(&carol.id).await.unwrap();
    let verified = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert!(verified.is_verified);
    assert_eq!(verified.password_hash.as_deref(), Some(hash));
    assert!(matches!(
        store.mark_verified(&ghost.id).await,
        Err(StoreError::NotFound)
    ));
    // A login is counted and timed, and nothing else changes.
    let before = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!((before.login_count, before.last_login_at), (0, None));
    let at = now() + time::Duration::seconds(60);
    store.record_login(&carol.id, at).await.unwrap();
    store.record_login(&carol.id, at).await.unwrap();
    let after = store.get_by_id(&carol.id).await.unwrap().unwrap();
    assert_eq!((after.login_count, after.last_login_at), (2, Some(at)));
    assert_eq!(after.password_hash, before.password_hash);
    assert!(matches!(
        store.record_login(&ghost.id, at).await,
        Err(StoreError::NotFound)
    ));
    store.activate(&ada.id).await.unwrap();
    assert!(store.get_by_id(&ada.id).await.unwrap().unwrap().is_active);
    assert!(matches!(
        store.activate(&ghost.id).await,
        Err(StoreError::NotFound)
    ));
}

/// A profile with a public and a private field, as a user model writes them.
fn profile_with_fields(user: &User) -> Profile {
    let mut profile = user.profile.clone();
    profile
        .public
        .insert("display_name".to_owned(), "Carol".into());
    profile.private.insert("notes".to_owned(), "VIP".into());
    profile
}
