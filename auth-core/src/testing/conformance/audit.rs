//! The suite of [`AuditStore`].

use crate::audit::{AuditEntry, AuditQuery, AuditStore};
use crate::events::{AuthEvent, Event};

fn entry(id: &str, at: i64, event: AuthEvent) -> AuditEntry {
    let mut event = Event::new(event, at);
    event.client_ip = Some("203.0.113.9".to_owned());
    event.user_agent = Some("agent/1".to_owned());
    event.actor = Some("admin-1".to_owned());
    event.actor_session = Some("s-1".to_owned());
    AuditEntry::new(id, event)
}

fn ids(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.id.as_str()).collect()
}

/// [`AuditStore`]: entries read back whole, newest first (time, then id), filtered by user,
/// kind and time, paged by cursor, and purged by age.
pub async fn audit(store: &dyn AuditStore) {
    let login = |user: &str| AuthEvent::LoginSucceeded {
        user_id: user.to_owned(),
        session_id: "s-9".to_owned(),
    };
    let entries = [
        entry("a1", 100, login("u1")),
        entry("a2", 200, AuthEvent::LoginFailed { user_id: None }),
        entry("a3", 200, login("u2")),
        entry(
            "a4",
            300,
            AuthEvent::RoleGranted {
                user_id: "u1".to_owned(),
                role: "admin".to_owned(),
            },
        ),
        entry("a5", 400, login("u1")),
    ];
    for e in &entries {
        store.append(e).await.unwrap();
    }
    let all = store.list(&AuditQuery::all()).await.unwrap();
    assert_eq!(
        ids(&all),
        ["a5", "a4", "a3", "a2", "a1"],
        "newest first, then by id"
    );
    assert_eq!(all[1], entries[3], "read back whole");
    let mine = store.list(&AuditQuery::for_user("u1")).await.unwrap();
    assert_eq!(ids(&mine), ["a5", "a4", "a1"]);
    let logins = store
        .list(
            &AuditQuery::for_user("u1")
                .of_kind("login_succeeded")
                .since(150),
        )
        .await
        .unwrap();
    assert_eq!(ids(&logins), ["a5"]);
    // Pages of two, each after the last entry of the one before.
    let first = store.list(&AuditQuery::all().with_limit(2)).await.unwrap();
    assert_eq!(ids(&first), ["a5", "a4"]);
    let second = store
        .list(&AuditQuery::all().with_limit(2).after(first[1].cursor()))
        .await
        .unwrap();
    assert_eq!(
        ids(&second),
        ["a3", "a2"],
        "a cursor between two entries of one second"
    );
    let third = store
        .list(&AuditQuery::all().with_limit(2).after(second[1].cursor()))
        .await
        .unwrap();
    assert_eq!(ids(&third), ["a1"]);
    assert_eq!(store.purge_before(200, 100).await.unwrap(), 1);
    assert_eq!(
        ids(&store.list(&AuditQuery::all()).await.unwrap()),
        ["a5", "a4", "a3", "a2"]
    );
}
