use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::{map_err, SqlStore};
use crate::error::StoreError;
use crate::user::identifier::{
    email_key, email_keys, username_key, IdentifierKeys, IDENTIFIER_VERSION,
};
use crate::user::{Page, Profile, User, UserId, UserStore};

const COLUMNS: &str = "id, username, email, password_hash, roles, permissions, tenant, is_active, \
                       is_verified, security_epoch, created_at, updated_at, last_login_at, \
                       login_count, profile";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn timestamp(seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(corrupt)
}

fn list_column(row: &AnyRow, column: &str) -> Result<Vec<String>, StoreError> {
    let text: String = row.try_get(column).map_err(map_err)?;
    serde_json::from_str(&text).map_err(corrupt)
}

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.try_get("id").map_err(map_err)?),
        username: row.try_get("username").map_err(map_err)?,
        email: row.try_get("email").map_err(map_err)?,
        password_hash: row.try_get("password_hash").map_err(map_err)?,
        roles: list_column(row, "roles")?,
        permissions: list_column(row, "permissions")?,
        tenant: row.try_get("tenant").map_err(map_err)?,
        is_active: row.try_get::<i64, _>("is_active").map_err(map_err)? != 0,
        is_verified: row.try_get::<i64, _>("is_verified").map_err(map_err)? != 0,
        security_epoch: row.try_get("security_epoch").map_err(map_err)?,
        created_at: timestamp(row.try_get("created_at").map_err(map_err)?)?,
        updated_at: timestamp(row.try_get("updated_at").map_err(map_err)?)?,
        last_login_at: row
            .try_get::<Option<i64>, _>("last_login_at")
            .map_err(map_err)?
            .map(timestamp)
            .transpose()?,
        login_count: row.try_get("login_count").map_err(map_err)?,
        profile: {
            let text: String = row.try_get("profile").map_err(map_err)?;
            serde_json::from_str(&text).map_err(corrupt)?
        },
    })
}

/// `$a, $b, ...` for the numbers in `range`.
fn placeholders(range: std::ops::RangeInclusive<usize>) -> String {
    range
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_list(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(corrupt)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// The columns `bind_user` binds, in order, from `$1`.
const BOUND_COLUMNS: [&str; 16] = [
    "id",
    "username",
    "username_norm",
    "username_skeleton",
    "email",
    "email_norm",
    "email_skeleton",
    "identifier_version",
    "password_hash",
    "roles",
    "permissions",
    "tenant",
    "is_active",
    "is_verified",
    "security_epoch",
    "profile",
];

/// Binds `$1..$16` ([`BOUND_COLUMNS`]): the id and every column `insert` and `update` both
/// write.
fn bind_user<'q>(query: AnyQuery<'q>, user: &'q User) -> Result<AnyQuery<'q>, StoreError> {
    let keys = IdentifierKeys::new(&user.username, &user.email);
    Ok(query
        .bind(user.id.as_str())
        .bind(&user.username)
        .bind(keys.username)
        .bind(keys.username_skeleton)
        .bind(&user.email)
        .bind(keys.email)
        .bind(keys.email_skeleton)
        .bind(IDENTIFIER_VERSION)
        .bind(user.password_hash.as_deref())
        .bind(json_list(&user.roles)?)
        .bind(json_list(&user.permissions)?)
        .bind(user.tenant.as_deref())
        .bind(i64::from(user.is_active))
        .bind(i64::from(user.is_verified))
        .bind(user.security_epoch)
        .bind(serde_json::to_string(&user.profile).map_err(corrupt)?))
}

impl SqlStore {
    async fn user_where(&self, condition: &str, value: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {condition} = $1");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose()
    }
}

impl SqlStore {
    /// After a compare-and-set update: whether a row changed, or [`StoreError::NotFound`]
    /// when the user does not exist (rather than a value that no longer matched).
    async fn changed_or_absent(&self, id: &UserId, rows: u64) -> Result<bool, StoreError> {
        if rows > 0 {
            return Ok(true);
        }
        match self.get_by_id(id).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    /// Runs an update of one user's row, keyed by id: [`StoreError::NotFound`] when no row
    /// has that id.
    async fn update_one(&self, query: AnyQuery<'_>) -> Result<(), StoreError> {
        let result = query.execute(self.writes()).await.map_err(map_err)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Sets `is_active` and nothing else.
    async fn set_active(&self, id: &UserId, active: bool) -> Result<(), StoreError> {
        self.update_one(
            sqlx::query("UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(i64::from(active))
                .bind(OffsetDateTime::now_utc().unix_timestamp()),
        )
        .await
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO users ({}, created_at, updated_at) VALUES ({}, $17, $18)",
            BOUND_COLUMNS.join(", "),
            placeholders(1..=BOUND_COLUMNS.len()),
        );
        bind_user(sqlx::query(&sql), user)?
            .bind(user.created_at.unix_timestamp())
            .bind(user.updated_at.unix_timestamp())
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.user_where("id", id.as_str()).await
    }

    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.user_where("username_norm", &username_key(username))
            .await
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.user_where("email_norm", &email_key(email)).await
    }

    async fn update(&self, user: &User) -> Result<(), StoreError> {
        let assignments: Vec<String> = BOUND_COLUMNS
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, column)| format!("{column} = ${}", i + 1))
            .collect();
        let sql = format!(
            "UPDATE users SET {}, updated_at = $17 WHERE id = $1",
            assignments.join(", ")
        );
        self.update_one(bind_user(sqlx::query(&sql), user)?.bind(user.updated_at.unix_timestamp()))
            .await
    }

    async fn list(&self, page: Page) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
        let rows = sqlx::query(&sql)
            .bind(i64::try_from(page.limit.min(1000)).unwrap_or(1000))
            .bind(i64::try_from(page.offset).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await
            .map_err(map_err)?;
        u64::try_from(count).map_err(corrupt)
    }

    async fn replace_roles(
        &self,
        id: &UserId,
        current: &[String],
        roles: &[String],
    ) -> Result<bool, StoreError> {
        // The list column holds exactly what `json_list` writes, so comparing the text
        // compares the lists.
        let result = sqlx::query(
            "UPDATE users SET roles = $3, updated_at = $4 WHERE id = $1 AND roles = $2",
        )
        .bind(id.as_str())
        .bind(json_list(current)?)
        .bind(json_list(roles)?)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        self.changed_or_absent(id, result.rows_affected()).await
    }

    async fn replace_password_hash(
        &self,
        id: &UserId,
        current: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE users SET password_hash = $3, updated_at = $4 \
             WHERE id = $1 AND password_hash = $2",
        )
        .bind(id.as_str())
        .bind(current)
        .bind(hash)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        self.changed_or_absent(id, result.rows_affected()).await
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError> {
        self.update_one(
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(hash)
                .bind(OffsetDateTime::now_utc().unix_timestamp()),
        )
        .await
    }

    async fn replace_profile(
        &self,
        id: &UserId,
        current: &Profile,
        profile: &Profile,
    ) -> Result<bool, StoreError> {
        // The column holds exactly what `serde_json` writes for a profile, and a profile read
        // back writes the same text: comparing the text compares the profiles.
        let result = sqlx::query(
            "UPDATE users SET profile = $3, updated_at = $4 WHERE id = $1 AND profile = $2",
        )
        .bind(id.as_str())
        .bind(serde_json::to_string(current).map_err(corrupt)?)
        .bind(serde_json::to_string(profile).map_err(corrupt)?)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        self.changed_or_absent(id, result.rows_affected()).await
    }

    async fn replace_email(
        &self,
        id: &UserId,
        current: &str,
        email: &str,
    ) -> Result<bool, StoreError> {
        // The unique indexes on email_norm and email_skeleton refuse a taken or confusable
        // address (mapped to a conflict).
        let (email_norm, email_skeleton) = email_keys(email);
        let result = sqlx::query(
            "UPDATE users SET email = $3, email_norm = $4, email_skeleton = $5, is_verified = 1, \
             updated_at = $6 WHERE id = $1 AND email = $2",
        )
        .bind(id.as_str())
        .bind(current)
        .bind(email)
        .bind(email_norm)
        .bind(email_skeleton)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        self.changed_or_absent(id, result.rows_affected()).await
    }

    async fn mark_verified(&self, id: &UserId) -> Result<(), StoreError> {
        self.update_one(
            sqlx::query("UPDATE users SET is_verified = 1, updated_at = $2 WHERE id = $1")
                .bind(id.as_str())
                .bind(OffsetDateTime::now_utc().unix_timestamp()),
        )
        .await
    }

    async fn deactivate(&self, id: &UserId) -> Result<(), StoreError> {
        self.set_active(id, false).await
    }

    async fn activate(&self, id: &UserId) -> Result<(), StoreError> {
        self.set_active(id, true).await
    }

    async fn record_login(&self, id: &UserId, at: OffsetDateTime) -> Result<(), StoreError> {
        self.update_one(
            sqlx::query(
                "UPDATE users SET login_count = login_count + 1, last_login_at = $2 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(at.unix_timestamp()),
        )
        .await
    }

    async fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError> {
        let epoch: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET security_epoch = security_epoch + 1 WHERE id = $1 RETURNING security_epoch",
        )
        .bind(id.as_str())
        .fetch_optional(self.writes())
        .await
        .map_err(map_err)?;
        epoch.ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl crate::authz::RoleStore for SqlStore {
    async fn put_role(&self, role: &crate::authz::RoleRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO roles (name, inherits, permissions, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET inherits = excluded.inherits, \
             permissions = excluded.permissions, updated_at = excluded.updated_at",
        )
        .bind(&role.name)
        .bind(json_list(&role.inherits)?)
        .bind(json_list(&role.permissions)?)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(self.writes())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM roles WHERE name = $1")
            .bind(name)
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(result.rows_affected() > 0)
    }

    async fn list_roles(&self) -> Result<Vec<crate::authz::RoleRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, inherits, permissions FROM roles ORDER BY name")
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(crate::authz::RoleRecord::new(
                    row.try_get::<String, _>("name").map_err(map_err)?,
                    list_column(row, "inherits")?,
                    list_column(row, "permissions")?,
                ))
            })
            .collect()
    }
}

/// What [`SqlStore::recompute_identifier_keys`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecomputedKeys {
    /// Rows whose compared forms and skeletons were brought up to the current rules.
    pub updated: u64,
    /// Rows left as they were because their new keys collide with another user's: reported by
    /// `auth-service users collisions`, never merged.
    pub colliding: u64,
}

impl SqlStore {
    /// Recomputes the compared forms and confusable skeletons of every user written under
    /// older identifier rules ([`IDENTIFIER_VERSION`]), in batches. SQL cannot compute PRECIS
    /// or TR39, so this is the Rust half of the migration that added the skeletons;
    /// [`SqlStore::connect`] runs it after the schema migrations. Rows whose new keys would
    /// collide with another user's keep their old ones and are counted, so two accounts
    /// registered before the rules are never merged or locked out.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database fails.
    pub async fn recompute_identifier_keys(&self) -> Result<RecomputedKeys, StoreError> {
        const BATCH: i64 = 500;
        let mut done = RecomputedKeys::default();
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, username, email FROM users WHERE identifier_version < $1 AND id > $2 \
                 ORDER BY id LIMIT $3",
            )
            .bind(IDENTIFIER_VERSION)
            .bind(&after)
            .bind(BATCH)
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
            for row in &rows {
                let id: String = row.try_get("id").map_err(map_err)?;
                let username: String = row.try_get("username").map_err(map_err)?;
                let email: String = row.try_get("email").map_err(map_err)?;
                let keys = IdentifierKeys::new(&username, &email);
                let result = sqlx::query(
                    "UPDATE users SET username_norm = $2, username_skeleton = $3, email_norm = $4, \
                     email_skeleton = $5, identifier_version = $6 \
                     WHERE id = $1 AND identifier_version < $6",
                )
                .bind(&id)
                .bind(keys.username)
                .bind(keys.username_skeleton)
                .bind(keys.email)
                .bind(keys.email_skeleton)
                .bind(IDENTIFIER_VERSION)
                .execute(self.writes())
                .await
                .map_err(map_err);
                match result {
                    Ok(r) => done.updated += r.rows_affected(),
                    Err(StoreError::Conflict { .. }) => done.colliding += 1,
                    Err(e) => return Err(e),
                }
                after = id;
            }
            if rows.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                return Ok(done);
            }
        }
    }
}
