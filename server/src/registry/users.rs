use super::Registry;
use crate::error::{Error, Result};
use crate::now_ms;
use app::api::Role;

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

/// An API token as stored (its secret's hash is never read back).
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    /// When it was revoked; `None`: live.
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

impl Registry {
    pub async fn add_user(&self, username: &str, password_hash: &str, role: Role) -> Result<i64> {
        let res = sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match res {
            Ok(id) => Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(Error::Conflict(format!("user `{username}` already exists")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, role FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // A new password ends every session the old one opened.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts the session only while the user's password hash is still `verified_hash`. One statement,
    /// so it orders against `set_password`'s transaction: either the session exists before the change
    /// (and the change deletes it) or the hash no longer matches and nothing is inserted.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        verified_hash: &str,
        ttl_ms: i64,
    ) -> Result<bool> {
        let now = now_ms();
        // On PostgreSQL the user row is locked and re-checked, so a password change committing meanwhile
        // either comes first (no session) or after (its delete sees this session). SQLite's write lock
        // serialises the two already.
        let lock = self.row_lock("FOR UPDATE");
        let sql = format!(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
             SELECT $1, id, $2, $3 FROM users WHERE id = $4 AND password_hash = $5 {lock}"
        );
        let r = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .bind(now + ttl_ms)
            .bind(user_id)
            .bind(verified_hash)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn session_user(&self, token_hash: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.username, u.password_hash, u.role FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_token(&self, name: &str, token_hash: &str, role: Role) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, role, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(name)
        .bind(token_hash)
        .bind(role.as_str())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// A live (not revoked) token by its secret's hash.
    pub async fn live_token(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        Ok(sqlx::query_as(
            "SELECT id, name, role, revoked_at FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn revoke_token(&self, id: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        Ok(
            sqlx::query_as("SELECT id, name, role, revoked_at FROM api_tokens ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
