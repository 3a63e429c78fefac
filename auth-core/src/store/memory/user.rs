//! Users.

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::error::StoreError;
use crate::user::{normalize, Page, Profile, User, UserId, UserStore};

fn check_unique(state: &State, user: &User) -> Result<(), StoreError> {
    let username = normalize(&user.username);
    let email = normalize(&user.email);
    for other in state.users.values().filter(|u| u.id != user.id) {
        if normalize(&other.username) == username {
            return Err(StoreError::Conflict { field: "username" });
        }
        if normalize(&other.email) == email {
            return Err(StoreError::Conflict { field: "email" });
        }
    }
    Ok(())
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.users.contains_key(&user.id) {
            return Err(StoreError::Conflict { field: "id" });
        }
        check_unique(&state, user)?;
        state.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.get(id).cloned())
    }

    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let wanted = normalize(username);
        Ok(self
            .state()
            .users
            .values()
            .find(|u| normalize(&u.username) == wanted)
            .cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let wanted = normalize(email);
        Ok(self
            .state()
            .users
            .values()
            .find(|u| normalize(&u.email) == wanted)
            .cloned())
    }

    async fn update(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user.id) {
            return Err(StoreError::NotFound);
        }
        check_unique(&state, user)?;
        state.users.insert(user.id.clone(), user.clone());
        Ok(())
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
        let taken = state
            .users
            .values()
            .any(|u| &u.id != id && normalize(&u.email) == normalize(email));
        let user = state.users.get_mut(id).ok_or(StoreError::NotFound)?;
        if user.email != current {
            return Ok(false);
        }
        if taken {
            return Err(StoreError::Conflict { field: "email" });
        }
        user.email = email.to_owned();
        user.is_verified = true;
        user.updated_at = time::OffsetDateTime::now_utc();
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
