//! Users and API tokens, as the operator on the machine manages them (`ewg user`, `ewg token`). The
//! browser's own account actions (sign in, change password, sign out) are in [`crate::auth`].

use super::Studio;
use crate::auth::{check_new_password, hash_password, new_secret, secret_hash};
use crate::error::{Error, Result};
use crate::registry::TokenRow;
use app::api::Role;
use app::api::backend::Actor;
use app::api::{ApiError, SessionUser};
use http::request::Parts;

impl Studio {
    /// Adds a user with this password (the password rule applies).
    pub async fn add_user(&self, name: &str, password: &str, role: Role) -> Result<()> {
        if name.trim().is_empty() {
            return Err(Error::BadRequest("a user needs a name".into()));
        }
        check_new_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        self.registry.add_user(name, &hash, role).await?;
        tracing::info!(user = %name, role = role.as_str(), "user added");
        Ok(())
    }

    /// Sets a user's password and ends all of their sessions.
    pub async fn reset_password(&self, name: &str, password: &str) -> Result<()> {
        check_new_password(password)?;
        let user = self
            .registry
            .user_by_name(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user `{name}`")))?;
        let hash = hash_password(password.to_string()).await?;
        self.registry.set_password(user.id, &hash).await?;
        tracing::info!(user = %name, "password reset; all sessions ended");
        Ok(())
    }

    /// A new API token: its id and its secret (shown once; only its hash is stored).
    pub async fn create_token(&self, name: &str, role: Role) -> Result<(i64, String)> {
        let secret = new_secret()?;
        let id = self
            .registry
            .create_token(name, &secret_hash(&secret), role)
            .await?;
        tracing::info!(token = id, name = %name, role = role.as_str(), "API token created");
        Ok((id, secret))
    }

    /// Revokes a live token (404 when there is none with this id).
    pub async fn revoke_token(&self, id: i64) -> Result<()> {
        if !self.registry.revoke_token(id).await? {
            return Err(Error::NotFound(format!("no live token with id {id}")));
        }
        tracing::info!(token = id, "API token revoked");
        Ok(())
    }

    /// Every token, live and revoked, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.registry.list_tokens().await
    }
}

/// Sign-in and sessions for the API: the browser's and every client's.
#[async_trait::async_trait]
impl app::api::backend::Sessions for Studio {
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, ApiError> {
        Ok(self.auth.authenticate(parts).await?)
    }

    async fn login(
        &self,
        parts: &Parts,
        username: &str,
        password: &str,
    ) -> Result<(SessionUser, String), ApiError> {
        let (actor, cookie) = self.auth.login(parts, username, password).await?;
        let me = SessionUser {
            username: actor.name,
            role: actor.role,
        };
        Ok((me, cookie))
    }

    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<String, ApiError> {
        Ok(self.auth.change_password(&actor.name, current, new).await?)
    }

    async fn logout(&self, parts: &Parts) -> Result<String, ApiError> {
        Ok(self.auth.logout(parts).await?)
    }
}
