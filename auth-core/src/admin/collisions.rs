//! `users collisions`: the users whose usernames or addresses are one under the identifier
//! rules (`auth_core::user::identifier`): the same compared form, or the same confusable
//! skeleton. Such pairs can only come from before the rules (or from another system's
//! import into the tables); the store keeps them apart, and this lists them for a person to
//! decide (rename, merge by hand, deactivate). Nothing is changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::StoreError;
use crate::user::identifier::IdentifierKeys;
use crate::user::{Page, User, UserStore};

/// A user as the report shows it: id, username, email.
type Row = (String, String, String);

/// One group of users sharing a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Collision {
    /// Which key: `username`, `username skeleton`, `email` or `email skeleton`.
    pub(super) kind: &'static str,
    /// The shared key.
    pub(super) key: String,
    /// The users, as `(id, username, email)`, in creation order.
    pub(super) users: Vec<Row>,
}

/// Every group of two or more users sharing a compared form or a skeleton.
pub(super) async fn find(users: &dyn UserStore) -> Result<Vec<Collision>, StoreError> {
    let mut groups: BTreeMap<(&'static str, String), Vec<Row>> = BTreeMap::new();
    let mut page = Page {
        offset: 0,
        limit: 1000,
    };
    loop {
        let batch = users.list(page).await?;
        for user in &batch {
            let keys = IdentifierKeys::new(&user.username, &user.email);
            let row = |u: &User| -> Row { (u.id.to_string(), u.username.clone(), u.email.clone()) };
            for (kind, key) in [
                ("username", keys.username),
                ("username skeleton", keys.username_skeleton),
                ("email", keys.email),
                ("email skeleton", keys.email_skeleton),
            ] {
                groups.entry((kind, key)).or_default().push(row(user));
            }
        }
        if (batch.len() as u64) < page.limit {
            break;
        }
        page.offset += page.limit;
    }
    Ok(groups
        .into_iter()
        .filter(|(_, users)| users.len() > 1)
        .map(|((kind, key), users)| Collision { kind, key, users })
        .collect())
}

/// The report: one paragraph per group, or a line saying there is none.
pub(super) fn report(collisions: &[Collision]) -> String {
    if collisions.is_empty() {
        return "no usernames or addresses collide".to_owned();
    }
    let mut text = format!("{} groups of colliding users:", collisions.len());
    for collision in collisions {
        let _ = write!(text, "\n{} {:?}:", collision.kind, collision.key);
        for (id, username, email) in &collision.users {
            let _ = write!(text, "\n  {id}  {username:?}  {email:?}");
        }
    }
    text
}
