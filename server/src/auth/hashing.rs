//! Login password checks on a fixed set of argon2 work buffers.
//!
//! Each check needs ~19 MiB. Allocating that per login let the allocator keep freed buffers around
//! (measured: 300 logins through two slots peaked at ~670 MB RSS with glibc malloc), so the buffers are
//! allocated once per slot and reused: memory for hashing is `slots × m_cost` however many logins come.
//!
//! A slot is held by the argon2 run itself, not by the request waiting for it: a client that gives up
//! (its request dropped) leaves the run to finish on its blocking thread, and the slot and the buffer
//! come back only then — so dropped logins cannot start more runs than there are slots.

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub struct Hasher {
    slots: Arc<Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Argon2 runs in progress (observed by tests: never above the slot count).
    running: Arc<AtomicUsize>,
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
            slots: Arc::new(Semaphore::new(slots)),
            buffers: Arc::new(Mutex::new(Vec::new())),
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Checks `password` against a stored PHC hash, or — with `None` — spends the same work on a dummy so
    /// unknown names cost what known ones do.
    pub async fn check(&self, stored: Option<String>, password: String, wait: Duration) -> Checked {
        let Ok(Ok(slot)) =
            tokio::time::timeout(wait, Arc::clone(&self.slots).acquire_owned()).await
        else {
            return Checked::Busy;
        };
        let buffers = Arc::clone(&self.buffers);
        let running = Arc::clone(&self.running);
        // The slot, the buffer and the count move into the blocking task: whatever happens to this
        // future, they are given back when argon2 returns, not before.
        let res = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let _counted = Running::count(running);
            let mut buf = buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let ok = match stored {
                Some(h) => verify(&h, password.as_bytes(), &mut buf),
                None => {
                    dummy(password.as_bytes(), &mut buf);
                    false
                }
            };
            buffers.lock().unwrap_or_else(|e| e.into_inner()).push(buf);
            ok
        })
        .await;
        match res {
            Ok(true) => Checked::Match,
            _ => Checked::NoMatch,
        }
    }
}

/// One argon2 run counted in [`Hasher::running`] for as long as it lives (a panic included).
struct Running(Arc<AtomicUsize>);

impl Running {
    fn count(n: Arc<AtomicUsize>) -> Self {
        n.fetch_add(1, Ordering::Relaxed);
        Running(n)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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

    #[tokio::test]
    async fn a_dropped_check_keeps_its_slot_until_argon2_returns() {
        let h = Arc::new(Hasher::new(1));
        let check = {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                h.check(None, "x".into(), Duration::from_secs(5)).await;
            })
        };
        while h.running() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        check.abort();
        let _ = check.await;
        // The request is gone; argon2 is not, and neither is its slot.
        assert_eq!(h.running(), 1);
        assert_eq!(h.slots.available_permits(), 0);
        assert!(matches!(
            h.check(None, "y".into(), Duration::from_millis(1)).await,
            Checked::Busy
        ));
        while h.running() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(h.slots.available_permits(), 1);
        assert_eq!(h.buffers.lock().unwrap().len(), 1, "the buffer came back");
    }
}
