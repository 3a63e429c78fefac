//! Flows that read a user and write back must not undo what landed in between: a role change
//! or the password-hash upgrade at login, racing a deactivation, leaves the account
//! deactivated (and its security epoch moved). The race is made certain rather than likely:
//! the user store (a real SQLite file) holds the flow's read until the deactivation is done.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_axum::core::config::PasswordConfig;
use auth_axum::core::password::PasswordHasher;
use auth_axum::core::service::{LoginRequest, Stores};
use auth_axum::core::store::sql::SqlStore;
use auth_axum::core::user::{Page, Profile, User, UserId, UserStore};
use auth_axum::core::{AuthService, StoreError};
use tests::test_config;
use tokio::sync::Notify;

const PASSWORD: &str = "correct horse battery";

/// A SQL user store whose next read, once armed, waits (after reading) until released.
#[derive(Debug)]
struct HeldReads {
    inner: SqlStore,
    armed: Mutex<Option<(Arc<Notify>, Arc<Notify>)>>,
}

impl HeldReads {
    /// Arms the next read: returns (read happened, release it).
    fn arm(&self) -> (Arc<Notify>, Arc<Notify>) {
        let pair = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        *self.armed.lock().unwrap() = Some(pair.clone());
        pair
    }

    async fn hold(&self, user: Option<User>) -> Option<User> {
        let armed = self.armed.lock().unwrap().take();
        if let Some((reached, release)) = armed {
            reached.notify_one();
            release.notified().await;
        }
        user
    }
}

#[async_trait]
impl UserStore for HeldReads {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        self.inner.insert(user).await
    }
    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let user = self.inner.get_by_id(id).await?;
        Ok(self.hold(user).await)
    }
    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let user = self.inner.get_by_username(username).await?;
        Ok(self.hold(user).await)
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.inner.get_by_email(email).await
    }
    async fn update(&self, user: &User) -> Result<(), StoreError> {
        self.inner.update(user).await
    }
    async fn replace_roles(
        &self,
        id: &UserId,
        current: &[String],
        roles: &[String],
    ) -> Result<bool, StoreError> {
        self.inner.replace_roles(id, current, roles).await
    }
    async fn replace_password_hash(
        &self,
        id: &UserId,
        current: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        self.inner.replace_password_hash(id, current, hash).await
    }
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError> {
        self.inner.set_password_hash(id, hash).await
    }
    async fn replace_profile(
        &self,
        id: &UserId,
        current: &Profile,
        profile: &Profile,
    ) -> Result<bool, StoreError> {
        self.inner.replace_profile(id, current, profile).await
    }
    async fn replace_email(
        &self,
        id: &UserId,
        current: &str,
        email: &str,
    ) -> Result<bool, StoreError> {
        self.inner.replace_email(id, current, email).await
    }
    async fn mark_verified(&self, id: &UserId) -> Result<(), StoreError> {
        self.inner.mark_verified(id).await
    }
    async fn list(&self, page: Page) -> Result<Vec<User>, StoreError> {
        self.inner.list(page).await
    }
    async fn count(&self) -> Result<u64, StoreError> {
        self.inner.count().await
    }
    async fn deactivate(&self, id: &UserId) -> Result<(), StoreError> {
        self.inner.deactivate(id).await
    }
    async fn activate(&self, id: &UserId) -> Result<(), StoreError> {
        self.inner.activate(id).await
    }
    async fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError> {
        self.inner.bump_security_epoch(id).await
    }
    async fn record_login(&self, id: &UserId, at: time::OffsetDateTime) -> Result<(), StoreError> {
        self.inner.record_login(id, at).await
    }
}

struct Setup {
    service: AuthService,
    users: Arc<HeldReads>,
    user: User,
    _dir: tempfile::TempDir,
}

/// A service over a SQLite file whose user store can hold a read; one user, `ada`, whose
/// password hash was made with `hash_iterations` Argon2 iterations (the service uses 1).
async fn setup(hash_iterations: u32) -> Setup {
    let (dir, sql) = tests::sqlite_store().await;
    let config = test_config("sqlite::memory:", dir.path());
    let users = Arc::new(HeldReads {
        inner: sql.clone(),
        armed: Mutex::default(),
    });
    let mut stores = Stores::sql(sql);
    stores.users = users.clone();
    let service = AuthService::builder(config.clone())
        .with_stores(stores)
        .build()
        .unwrap();
    let mut params = PasswordConfig::default();
    params.memory_kib = config.password.memory_kib;
    params.iterations = hash_iterations;
    let hash = PasswordHasher::new(&params)
        .unwrap()
        .hash(PASSWORD)
        .await
        .unwrap();
    let mut user = User::new(
        "ada",
        "ada@example.com",
        Some(hash),
        time::OffsetDateTime::now_utc(),
    );
    user.roles = vec!["user".to_owned()];
    users.insert(&user).await.unwrap();
    Setup {
        service,
        users,
        user,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_racing_a_deactivation_keeps_the_deactivation() {
    let s = setup(1).await;
    let (reached, release) = s.users.arm();
    let service = s.service.clone();
    let id = s.user.id.clone();
    let assign = tokio::spawn(async move { service.assign_role(&id, "editor").await });
    // The role change has read the user; the deactivation lands before it writes.
    reached.notified().await;
    s.service.deactivate_user(&s.user.id).await.unwrap();
    release.notify_one();
    let public = assign.await.unwrap().unwrap();
    assert_eq!(public.roles, ["user", "editor"]);

    let stored = s.users.inner.get_by_id(&s.user.id).await.unwrap().unwrap();
    assert!(
        !stored.is_active,
        "the deactivation survives the role change"
    );
    assert_eq!(stored.security_epoch, 1, "so does the epoch it moved");
    assert_eq!(stored.roles, ["user", "editor"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_role_changes_both_land() {
    let s = setup(1).await;
    let (reached, release) = s.users.arm();
    let service = s.service.clone();
    let id = s.user.id.clone();
    let first = tokio::spawn(async move { service.assign_role(&id, "editor").await });
    reached.notified().await;
    s.service.assign_role(&s.user.id, "auditor").await.unwrap();
    release.notify_one();
    first.await.unwrap().unwrap();
    let stored = s.users.inner.get_by_id(&s.user.id).await.unwrap().unwrap();
    assert_eq!(stored.roles, ["user", "auditor", "editor"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_upgrade_at_login_racing_a_deactivation_keeps_the_deactivation() {
    // Stored with 2 iterations, the service wants 1: the login upgrades the hash.
    let s = setup(2).await;
    let old_hash = s.user.password_hash.clone().unwrap();
    let (reached, release) = s.users.arm();
    let service = s.service.clone();
    let login =
        tokio::spawn(async move { service.login(LoginRequest::new("ada", PASSWORD)).await });
    reached.notified().await;
    s.service.deactivate_user(&s.user.id).await.unwrap();
    release.notify_one();
    // The login read the account while it was active; whatever it answers, it must not
    // bring the account back.
    let _ = login.await.unwrap();

    let stored = s.users.inner.get_by_id(&s.user.id).await.unwrap().unwrap();
    assert!(!stored.is_active, "the deactivation survives the upgrade");
    assert_eq!(stored.security_epoch, 1);
    let new_hash = stored.password_hash.unwrap();
    assert_ne!(new_hash, old_hash, "the upgrade itself landed");
    assert!(new_hash.contains("t=1"), "{new_hash}");
    // And the account stays shut.
    assert!(matches!(
        s.service.login(LoginRequest::new("ada", PASSWORD)).await,
        Err(auth_axum::core::AuthError::InvalidCredentials)
    ));
}
