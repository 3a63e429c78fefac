//! Users.

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::error::StoreError;
use crate::user::identifier::{email_key, username_key, IdentifierKeys};
use crate::user::{Page, Profile, User, UserId, UserStore};

/// Refuses `keys` for user `id` when another user has the same compared form or skeleton of
/// either identifier (what the SQL store's unique indexes refuse).
fn check_unique(state: &State, id: &UserId, keys: &IdentifierKeys) -> Result<(), StoreError> {
    for (_, other) in state.user_keys.iter().filter(|(other, _)| *other != id) {
        if other.username == keys.username || other.username_skeleton == keys.username_skeleton {
            return Err(StoreError::Conflict { field: "username" });
        }
        if other.email == keys.email || other.email_skeleton == keys.email_skeleton {
            return Err(StoreError::Conflict { field: "email" });
        }
    }
    Ok(())
}

/// Stores `user` and its keys once they are known to be unique.
fn put(state: &mut State, user: &User) -> Result<(), StoreError> {
    let keys = IdentifierKeys::new(&user.username, &user.email);
    check_unique(state, &user.id, &keys)?;
    state.user_keys.insert(user.id.clone(), keys);
    state.users.insert(user.id.clone(), user.clone());
    Ok(())
}

/// The user whose key, as `key_of` picks it, is `wanted`.
fn find_by(state: &State, wanted: &str, key_of: fn(&IdentifierKeys) -> &str) -> Option<User> {
    let (id, _) = state
        .user_keys
        .iter()
        .find(|(_, keys)| key_of(keys) == wanted)?;
    state.users.get(id).cloned()
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.users.contains_key(&user.id) {
            return Err(StoreError::Conflict { field: "id" });
        }
        put(&mut state, user)
    }

    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.get(id).cloned())
    }

    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(find_by(&self.state(), &username_key(username), |k| {
            &k.username
        }))
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(find_by(&self.state(), &email_key(email), |k| &k.email))
    }

    async fn update(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user.id) {
            return Err(StoreError::NotFound);
        }
        put(&mut state, user)
    }

    async fn list(&self, page: Page) -> Result<Vec<User>, StoreError> {
        let state = self.state();
        let mut users: Vec<&User> = state.users.values().collect();
        users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit.min(1000)).unwrap_or(1000);
        Ok(users
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.state().users.len() as u64)
    }

    async fn replace_roles(
        &self,
        id: &UserId,
        current: &[String],
        roles: &[String],
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if user.roles != current {
            return Ok(false);
        }
        user.roles = roles.to_vec();
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(true)
    }

    async fn replace_password_hash(
        &self,
        id: &UserId,
        current: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if user.password_hash.as_deref() != Some(current) {
            return Ok(false);
        }
        user.password_hash = Some(hash.to_owned());
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(true)
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.password_hash = Some(hash.to_owned());
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(())
    }

    async fn replace_profile(
        &self,
        id: &UserId,
        current: &Profile,
        profile: &Profile,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if &user.profile != current {
            return Ok(false);
        }
        user.profile = profile.clone();
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(true)
    }

    async fn replace_email(
        &self,
        id: &UserId,
        current: &str,
        email: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let user = state.users.get(id).ok_or(StoreError::NotFound)?;
        if user.email != current {
            return Ok(false);
        }
        let mut changed = user.clone();
        changed.email = email.to_owned();
        changed.is_verified = true;
        changed.updated_at = time::OffsetDateTime::now_utc();
        put(&mut state, &changed)?;
        Ok(true)
    }

    async fn mark_verified(&self, id: &UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.is_verified = true;
        user.updated_at = time::OffsetDateTime::now_utc();
        Ok(())
    }

    async fn deactivate(&self, id: &UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.is_active = false;
        Ok(())
    }

    async fn activate(&self, id: &UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.is_active = true;
        Ok(())
    }

    async fn record_login(&self, id: &UserId, at: time::OffsetDateTime) -> Result<(), StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.login_count += 1;
        user.last_login_at = Some(at);
        Ok(())
    }

    async fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError> {
        let mut state = self.state();
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        user.security_epoch += 1;
        Ok(user.security_epoch)
    }
}
