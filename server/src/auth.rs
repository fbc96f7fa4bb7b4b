//! Who is calling: server-side sessions (HttpOnly cookie) for browsers, bearer tokens for scripts.
//!
//! Secrets are random 32-byte values; only their SHA-256 is stored, so a leaked registry does not leak
//! sessions or tokens. Passwords are argon2-hashed. Login failures are limited per user name, so a burst
//! of wrong passwords slows that name down without locking anyone else out.

use crate::error::{Error, Result};
use crate::registry::Registry;
use app::api::Role;
use app::api::backend::Actor;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use http::request::Parts;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "ewg_session";
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

pub struct Auth {
    registry: Registry,
    /// Adds `Secure` to the cookie (HTTPS deployments).
    secure: bool,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// A new random secret (session, token, generated password) as 64 hex characters.
pub fn new_secret() -> Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("no OS randomness: {e}")))?;
    Ok(hex::encode(b))
}

pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw)
            .map_err(|e| Error::Internal(format!("no randomness for a salt: {e}")))?;
        let salt = SaltString::encode_b64(&raw)
            .map_err(|e| Error::Internal(format!("salt encoding failed: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

impl Auth {
    pub fn new(registry: Registry, secure: bool) -> Self {
        Auth {
            registry,
            secure,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Resolves the caller. A bearer token must be valid (else 401); a session cookie that no longer
    /// exists means "not signed in". Cookie-authenticated calls from a foreign origin are refused (403),
    /// which is what stops cross-site request forgery.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>> {
        if let Some(token) = bearer(parts) {
            let Some((id, name, role)) = self.registry.token_role(&secret_hash(token)).await?
            else {
                return Err(Error::Unauthorized("invalid or revoked API token".into()));
            };
            return Ok(Some(Actor {
                name: format!("token:{name}#{id}"),
                role: Role::parse(&role).unwrap_or(Role::Viewer),
            }));
        }
        let Some(secret) = cookie(parts, COOKIE) else {
            return Ok(None);
        };
        refuse_cross_origin(parts)?;
        Ok(self
            .registry
            .session_user(&secret_hash(secret))
            .await?
            .map(|u| Actor {
                role: u.role(),
                name: u.username,
            }))
    }

    /// Checks the password and opens a session. Returns the user and the Set-Cookie header value.
    pub async fn login(&self, username: &str, password: &str) -> Result<(Actor, String)> {
        self.check_rate(username)?;
        let user = self.registry.user_by_name(username).await?;
        let ok = match &user {
            Some(u) => verify_password(u.password_hash.clone(), password.to_string()).await,
            // Spend the same time as a real check, so timing does not reveal which user names exist.
            None => hash_password(password.to_string()).await.is_err(),
        };
        let Some(user) = user.filter(|_| ok) else {
            self.note_failure(username);
            tracing::info!(user = %username, "login refused");
            return Err(Error::Unauthorized("wrong user name or password".into()));
        };
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
        let secret = new_secret()?;
        self.registry
            .create_session(
                &secret_hash(&secret),
                user.id,
                SESSION_TTL.as_millis() as i64,
            )
            .await?;
        tracing::info!(user = %username, "signed in");
        let cookie = self.cookie(&secret, SESSION_TTL.as_secs());
        Ok((
            Actor {
                role: user.role(),
                name: user.username,
            },
            cookie,
        ))
    }

    /// Checks the current password, stores the new one and ends every session of the user (other
    /// browsers are signed out). Returns the Set-Cookie value of a fresh session for this browser.
    pub async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<String> {
        if new.chars().count() < 8 {
            return Err(Error::BadRequest(
                "the new password must be at least 8 characters".into(),
            ));
        }
        let (actor, _) = self.login(username, current).await.map_err(|e| match e {
            Error::Unauthorized(_) => Error::Forbidden("the current password is wrong".into()),
            other => other,
        })?;
        let user = self
            .registry
            .user_by_name(&actor.name)
            .await?
            .ok_or_else(|| Error::Unauthorized("no such user".into()))?;
        let hash = hash_password(new.to_string()).await?;
        self.registry.set_password(user.id, &hash).await?;
        tracing::info!(user = %username, "password changed; all sessions ended");
        Ok(self.login(username, new).await?.1)
    }

    /// Ends the session on the server (a replayed cookie is then worthless) and clears the cookie.
    pub async fn logout(&self, parts: &Parts) -> Result<String> {
        if let Some(secret) = cookie(parts, COOKIE) {
            self.registry.delete_session(&secret_hash(secret)).await?;
        }
        Ok(self.cookie("", 0))
    }

    /// The Set-Cookie value for a session secret (empty with max-age 0 clears it).
    fn cookie(&self, secret: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
    }

    fn check_rate(&self, username: &str) -> Result<()> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((n, since)) = map.get(username) {
            let elapsed = since.elapsed();
            if *n >= MAX_FAILURES && elapsed < FAILURE_WINDOW {
                return Err(Error::RateLimited((FAILURE_WINDOW - elapsed).as_secs() + 1));
            }
        }
        Ok(())
    }

    fn note_failure(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(username.to_string())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name && !v.is_empty()).then_some(v)
        })
}

/// Login and logout from another site are refused too (no login CSRF, no forced logout).
pub fn refuse_cross_origin(parts: &Parts) -> Result<()> {
    if is_cross_origin(parts) {
        return Err(Error::Forbidden("cross-origin request refused".into()));
    }
    Ok(())
}

/// A browser sends `Origin` (and `Sec-Fetch-Site`) on POSTs; a mismatch with `Host` means another site.
fn is_cross_origin(parts: &Parts) -> bool {
    if let Some(site) = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && (site == "cross-site" || site == "same-site")
    {
        return true;
    }
    let Some(origin) = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    origin == "null" || origin_host != host
}
