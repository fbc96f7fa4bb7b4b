//! Login password checks on a fixed set of argon2 work buffers.
//!
//! Each check needs ~19 MiB. Allocating that per login let the allocator keep freed buffers around
//! (measured: 300 logins through two slots peaked at ~670 MB RSS with glibc malloc), so the buffers are
//! allocated once per slot and reused: memory for hashing is `slots × m_cost` however many logins come.

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;

pub struct Hasher {
    slots: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

/// What a check found.
pub enum Checked {
    Match,
    NoMatch,
    /// No slot within the wait: the caller answers 429.
    Busy,
}

impl Hasher {
    pub fn new(slots: usize) -> Self {
        Hasher {
            slots: Semaphore::new(slots),
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// Checks `password` against a stored PHC hash, or — with `None` — spends the same work on a dummy so
    /// unknown names cost what known ones do.
    pub async fn check(&self, stored: Option<String>, password: String, wait: Duration) -> Checked {
        let Ok(Ok(_slot)) = tokio::time::timeout(wait, self.slots.acquire()).await else {
            return Checked::Busy;
        };
        let mut buf = self
            .buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        let res = tokio::task::spawn_blocking(move || {
            let ok = match stored {
                Some(h) => verify(&h, password.as_bytes(), &mut buf),
                None => {
                    dummy(password.as_bytes(), &mut buf);
                    false
                }
            };
            (ok, buf)
        })
        .await;
        let Ok((ok, buf)) = res else {
            return Checked::NoMatch;
        };
        self.buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buf);
        if ok { Checked::Match } else { Checked::NoMatch }
    }
}

fn blocks(buf: &mut Vec<Block>, n: usize) -> &mut [Block] {
    if buf.len() < n {
        buf.resize(n, Block::default());
    }
    &mut buf[..n]
}

fn verify(stored: &str, password: &[u8], buf: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(params), Ok(alg), Some(expected), Some(salt)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let n = params.block_count();
    let argon = Argon2::new(alg, version, params);
    if argon
        .hash_password_into_with_memory(password, salt, &mut out, blocks(buf, n))
        .is_err()
    {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

fn dummy(password: &[u8], buf: &mut Vec<Block>) {
    let params = Params::default();
    let n = params.block_count();
    let mut out = [0u8; 32];
    let _ = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(
            password,
            b"ewg-dummy-salt-for-unknown-names",
            &mut out,
            blocks(buf, n),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_hashes_made_by_hash_password() {
        let stored = crate::auth::hash_password("correct horse".into())
            .await
            .unwrap();
        let h = Hasher::new(1);
        let wait = Duration::from_secs(5);
        assert!(matches!(
            h.check(Some(stored.clone()), "correct horse".into(), wait)
                .await,
            Checked::Match
        ));
        assert!(matches!(
            h.check(Some(stored), "wrong".into(), wait).await,
            Checked::NoMatch
        ));
        assert!(matches!(
            h.check(None, "correct horse".into(), wait).await,
            Checked::NoMatch
        ));
        assert_eq!(h.buffers.lock().unwrap().len(), 1, "one slot, one buffer");
    }
}
