//! Who is calling: server-side sessions (HttpOnly cookie) for browsers, bearer tokens for scripts.
//!
//! Secrets are random 32-byte values; only their SHA-256 is stored, so a leaked registry does not leak
//! sessions or tokens. Passwords are argon2-hashed (~19 MiB and tens of ms each), so logins are bounded
//! twice: a few hashes run at once (the rest wait briefly, then get 429), and each (client address, name)
//! gets a few attempts before growing lockouts (see `limiter`).

mod hashing;
mod limiter;
mod origin;
mod recheck;

use crate::error::{Error, Result};
use crate::registry::{Registry, UserRow};
use app::api::backend::Actor;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHasher};
use hashing::{Checked, Hasher};
use http::request::Parts;
use limiter::{Key, Limiter};
use recheck::Rechecks;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use origin::parse_public_url;

pub const COOKIE: &str = "ewg_session";
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a login waits for a hashing slot before it is told to come back (429).
const HASH_WAIT: Duration = Duration::from_secs(3);

/// What [`Auth`] is set up with: the `ewg serve` flags, parsed by the command line (`cli`).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `--secure-cookies`.
    pub secure_cookies: bool,
    /// `--public-url`, as an origin (see [`parse_public_url`]).
    pub public_origin: Option<String>,
    /// `--trusted-proxy`.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long an open event stream trusts its last session check (`--events-session-check-secs`).
    pub session_check: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            secure_cookies: false,
            public_origin: None,
            trusted_proxies: Vec::new(),
            session_check: Duration::from_secs(15),
        }
    }
}

/// The one password rule, for sign-up on the command line and for a change of password in the browser.
pub fn check_new_password(password: &str) -> Result<()> {
    const MIN_CHARS: usize = 8;
    if password.chars().count() < MIN_CHARS {
        return Err(Error::BadRequest(format!(
            "the new password must be at least {MIN_CHARS} characters"
        )));
    }
    Ok(())
}

pub struct Auth {
    registry: Registry,
    /// Adds `Secure` to the cookie (HTTPS deployments).
    secure: bool,
    /// `--public-url` as an origin: what browsers behind a Host-rewriting proxy send.
    public_origin: Option<String>,
    /// `--trusted-proxy`: peers whose forwarded headers are believed.
    trusted_proxies: Vec<IpAddr>,
    limiter: Limiter,
    /// Bounds concurrent argon2 runs: each holds ~19 MiB and a blocking thread.
    hashing: Hasher,
    password_checks: AtomicU64,
    /// Short-lived verdicts for callers that stay connected (event streams).
    rechecks: Rechecks,
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

/// The limiter keys names by hash, so it never holds what was typed (often a mistyped password).
fn limiter_key(addr: Option<IpAddr>, username: &str) -> Key {
    let digest = Sha256::digest(username.as_bytes());
    let mut name = [0u8; 16];
    name.copy_from_slice(&digest[..16]);
    Key { addr, name }
}

impl Auth {
    pub fn new(registry: Registry, settings: &AuthSettings) -> Self {
        // More slots than cores would only queue on the blocking pool while holding their memory.
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        Auth {
            registry,
            secure: settings.secure_cookies,
            public_origin: settings.public_origin.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            limiter: Limiter::default(),
            hashing: Hasher::new(slots),
            password_checks: AtomicU64::new(0),
            rechecks: Rechecks::new(settings.session_check),
        }
    }

    /// Argon2 runs going on right now, whether or not their request is still waiting for them: never
    /// more than the hashing slots.
    pub fn hashes_running(&self) -> usize {
        self.hashing.running()
    }

    /// The client's address (the peer, or behind a trusted proxy the forwarded one).
    pub fn client(&self, parts: &Parts) -> Option<IpAddr> {
        origin::client(parts, &self.trusted_proxies)
    }

    /// [`Auth::authenticate`] for a caller that stays connected: a verdict from the last
    /// `--events-session-check-secs` is reused (shared by every stream of the same credential) instead
    /// of asking the registry on every tick. Sign-outs and password changes in this process are seen
    /// at once; revocations elsewhere within the window.
    pub async fn recheck(&self, parts: &Parts) -> Result<Option<Actor>> {
        let key = match (bearer(parts), cookie(parts, COOKIE)) {
            (Some(token), _) => format!("t:{}", secret_hash(token)),
            (None, Some(secret)) => format!("s:{}", secret_hash(secret)),
            (None, None) => return Ok(None),
        };
        if let Some(actor) = self.rechecks.fresh(&key) {
            return Ok(Some(actor));
        }
        let actor = self.authenticate(parts).await?;
        if let Some(a) = &actor {
            self.rechecks.remember(key, a.clone());
        }
        Ok(actor)
    }

    /// Password checks (argon2 runs for a login) since start; tests read it to prove the limits hold.
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    /// Resolves the caller. A bearer token must be valid (else 401); a session cookie that no longer
    /// exists means "not signed in". Cookie-authenticated calls from a foreign origin are refused (403),
    /// which is what stops cross-site request forgery.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>> {
        if let Some(token) = bearer(parts) {
            let Some(t) = self.registry.live_token(&secret_hash(token)).await? else {
                return Err(Error::Unauthorized("invalid or revoked API token".into()));
            };
            return Ok(Some(Actor {
                name: format!("token:{}#{}", t.name, t.id),
                role: t.role(),
            }));
        }
        let Some(secret) = cookie(parts, COOKIE) else {
            return Ok(None);
        };
        self.refuse_cross_origin(parts)?;
        Ok(self
            .registry
            .session_user(&secret_hash(secret))
            .await?
            .map(|u| Actor {
                role: u.role(),
                name: u.username,
            }))
    }

    /// Login and logout from another site are refused too (no login CSRF, no forced logout).
    pub fn refuse_cross_origin(&self, parts: &Parts) -> Result<()> {
        if origin::is_cross_origin(parts, self.public_origin.as_deref(), &self.trusted_proxies) {
            return Err(Error::Forbidden("cross-origin request refused".into()));
        }
        Ok(())
    }

    /// Checks the password and opens a session for a browser. Returns the user and the Set-Cookie value.
    pub async fn login(
        &self,
        parts: &Parts,
        username: &str,
        password: &str,
    ) -> Result<(Actor, String)> {
        self.refuse_cross_origin(parts)?;
        let client = origin::client(parts, &self.trusted_proxies);
        let user = self.check(client, username, password).await?;
        let cookie = self.open_session(&user).await?;
        tracing::info!(user = %user.username, client = ?client, "signed in");
        Ok((
            Actor {
                role: user.role(),
                name: user.username,
            },
            cookie,
        ))
    }

    /// Takes a limiter slot, then checks the password within a hashing slot. Wrong passwords and unknown
    /// names are one 401; the log gets neither the typed name nor the password.
    async fn check(
        &self,
        client: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<UserRow> {
        let key = limiter_key(client, username);
        self.limiter.reserve(key).map_err(Error::RateLimited)?;
        let user = match self.registry.user_by_name(username).await {
            Ok(u) => u,
            Err(e) => {
                self.limiter.release(key);
                return Err(e);
            }
        };
        // Unknown names get the same work on a dummy, so timing does not reveal which names exist.
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = match self
            .hashing
            .check(stored, password.to_string(), HASH_WAIT)
            .await
        {
            Checked::Match => true,
            Checked::NoMatch => false,
            Checked::Busy => {
                self.limiter.release(key);
                tracing::warn!(client = ?client, "login refused: password hashing is saturated");
                return Err(Error::RateLimited(HASH_WAIT.as_secs()));
            }
        };
        self.password_checks.fetch_add(1, Ordering::Relaxed);
        match user.filter(|_| ok) {
            Some(user) => {
                self.limiter.succeeded(key);
                Ok(user)
            }
            None => {
                self.limiter.failed(key);
                tracing::info!(client = ?client, "login refused: wrong user name or password");
                Err(Error::Unauthorized("wrong user name or password".into()))
            }
        }
    }

    /// A session for the user, but only while their password hash is still the one just verified: a
    /// password change landing between check and insert leaves no session of the old password.
    async fn open_session(&self, user: &UserRow) -> Result<String> {
        let secret = new_secret()?;
        let created = self
            .registry
            .create_session(
                &secret_hash(&secret),
                user.id,
                &user.password_hash,
                SESSION_TTL.as_millis() as i64,
            )
            .await?;
        if !created {
            return Err(Error::Unauthorized(
                "the password changed meanwhile; sign in again".into(),
            ));
        }
        Ok(self.cookie(&secret, SESSION_TTL.as_secs()))
    }

    /// Checks the current password, stores the new one and ends every session of the user (other
    /// browsers are signed out). Returns the Set-Cookie value of a fresh session for this browser.
    pub async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<String> {
        check_new_password(new)?;
        // Signed in already, so no client address here: guesses of the current password share one
        // bucket per name, which only the account's own sessions can reach.
        let mut user = self
            .check(None, username, current)
            .await
            .map_err(|e| match e {
                Error::Unauthorized(_) => Error::Forbidden("the current password is wrong".into()),
                other => other,
            })?;
        user.password_hash = hash_password(new.to_string()).await?;
        self.registry
            .set_password(user.id, &user.password_hash)
            .await?;
        self.rechecks.forget_user(&user.username);
        tracing::info!(user = %user.username, "password changed; all sessions ended");
        self.open_session(&user).await
    }

    /// Ends the session on the server (a replayed cookie is then worthless) and clears the cookie.
    pub async fn logout(&self, parts: &Parts) -> Result<String> {
        self.refuse_cross_origin(parts)?;
        if let Some(secret) = cookie(parts, COOKIE) {
            self.registry.delete_session(&secret_hash(secret)).await?;
            self.rechecks.forget(&format!("s:{}", secret_hash(secret)));
        }
        Ok(self.cookie("", 0))
    }

    /// The Set-Cookie value for a session secret (empty with max-age 0 clears it).
    fn cookie(&self, secret: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
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
