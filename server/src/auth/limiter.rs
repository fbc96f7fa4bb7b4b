//! Login failure limits per (client address, user name).
//!
//! Hand-written rather than `tower_governor`/`governor`: those limit *requests* with a token bucket,
//! keyed by something the request head carries. Here the key includes the user name from the JSON body,
//! a slot must be taken before the (slow) password check and given back on success or when the check never
//! ran, and repeated lockouts must grow. Expressing that on top of a GCRA bucket would take as much code
//! as this file, plus a dependency (dashmap, quanta, …) and a state store without a size cap.
//!
//! Keying by client address means an attacker hammering `admin` from one address slows down only that
//! address: the real user elsewhere keeps signing in. The map is bounded (oldest idle entries go first
//! when full) and entries expire, so a flood of invented names cannot grow it without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts allowed per key within [`WINDOW`] before a lockout.
pub const MAX_ATTEMPTS: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);
/// The first lockout; each further one doubles, up to [`MAX_LOCK`].
const FIRST_LOCK: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(30 * 60);
/// How long past its last lockout an entry remembers it (so the next lockout is longer).
const MEMORY: Duration = Duration::from_secs(60 * 60);
/// Most keys tracked at once; about 100 bytes each.
const MAX_ENTRIES: usize = 10_000;

/// Who is trying: the client address (None when unknown, e.g. a signed-in password change) and a hash of
/// the name, so the map never holds typed names (often mistyped passwords).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub addr: Option<IpAddr>,
    pub name: [u8; 16],
}

#[derive(Debug)]
struct Entry {
    /// Attempts in the current window, in-flight ones included.
    attempts: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
    /// Lockouts so far; each doubles the next.
    strikes: u32,
    last_seen: Instant,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Entry {
            attempts: 0,
            window_start: now,
            locked_until: None,
            strikes: 0,
            last_seen: now,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        let lock_end = self.locked_until.unwrap_or(self.window_start);
        let mut end = lock_end.max(self.window_start + WINDOW);
        if self.strikes > 0 {
            end += MEMORY;
        }
        now >= end
    }

    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }
}

#[derive(Default)]
pub struct Limiter {
    map: Mutex<HashMap<Key, Entry>>,
}

impl Limiter {
    /// Takes an attempt slot before the password is checked, so parallel attempts cannot all pass a
    /// check that was read before any of them failed. `Err` holds the seconds until the next try.
    pub fn reserve(&self, key: Key) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(&key) && map.len() >= MAX_ENTRIES {
            evict(&mut map, now);
        }
        let e = map.entry(key).or_insert_with(|| Entry::new(now));
        e.last_seen = now;
        if let Some(until) = e.locked_until {
            if now < until {
                return Err(secs(until - now));
            }
            e.locked_until = None;
            e.attempts = 0;
            e.window_start = now;
        }
        if now >= e.window_start + WINDOW {
            e.attempts = 0;
            e.window_start = now;
        }
        if e.attempts >= MAX_ATTEMPTS {
            // The last slots are still being checked; their result decides the lockout.
            return Err(secs(e.window_start + WINDOW - now));
        }
        e.attempts += 1;
        Ok(())
    }

    /// The password was wrong: the slot stays taken; the last slot of a window starts a lockout.
    pub fn failed(&self, key: Key) {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let Some(e) = map.get_mut(&key) else { return };
        e.last_seen = now;
        if e.attempts >= MAX_ATTEMPTS && e.locked_until.is_none() {
            let lock = FIRST_LOCK
                .saturating_mul(1u32 << e.strikes.min(16))
                .min(MAX_LOCK);
            e.locked_until = Some(now + lock);
            e.strikes = e.strikes.saturating_add(1);
        }
    }

    /// The password was right: this client and name start afresh.
    pub fn succeeded(&self, key: Key) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }

    /// The check never ran (server busy): the slot is given back.
    pub fn release(&self, key: Key) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get_mut(&key) {
            e.attempts = e.attempts.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Drops expired entries; if that frees nothing, the least recently seen tenth (a tenth at once, so a
/// flood of new keys costs O(1) amortised per key). Unlocked entries go first: an attacker spraying names
/// to push their own lockout out of the map would have to get thousands of names locked first.
fn evict(map: &mut HashMap<Key, Entry>, now: Instant) {
    map.retain(|_, e| !e.expired(now));
    if map.len() < MAX_ENTRIES {
        return;
    }
    let cut = MAX_ENTRIES / 10;
    let unlocked: Vec<Instant> = map
        .values()
        .filter(|e| !e.locked(now))
        .map(|e| e.last_seen)
        .collect();
    let only_unlocked = unlocked.len() > cut;
    let mut seen = if only_unlocked {
        unlocked
    } else {
        map.values().map(|e| e.last_seen).collect()
    };
    let (_, threshold, _) = seen.select_nth_unstable(cut);
    let threshold = *threshold;
    map.retain(|_, e| e.last_seen > threshold || (only_unlocked && e.locked(now)));
}

fn secs(d: Duration) -> u64 {
    d.as_secs() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(addr: [u8; 4], name: u8) -> Key {
        Key {
            addr: Some(IpAddr::from(addr)),
            name: [name; 16],
        }
    }

    #[test]
    fn slots_are_taken_before_the_check_and_a_lockout_follows_the_last_failure() {
        let l = Limiter::default();
        let k = key([127, 0, 0, 1], 1);
        for _ in 0..MAX_ATTEMPTS {
            assert!(l.reserve(k).is_ok());
        }
        // All five in flight: the sixth is refused before any has failed.
        assert!(l.reserve(k).is_err());
        for _ in 0..MAX_ATTEMPTS {
            l.failed(k);
        }
        let wait = l.reserve(k).unwrap_err();
        assert!((50..=61).contains(&wait), "{wait}");
    }

    #[test]
    fn another_address_is_not_locked_out_and_success_resets() {
        let l = Limiter::default();
        let attacker = key([127, 0, 0, 1], 1);
        for _ in 0..MAX_ATTEMPTS {
            l.reserve(attacker).unwrap();
            l.failed(attacker);
        }
        assert!(l.reserve(attacker).is_err());
        let user = key([127, 0, 0, 2], 1);
        l.reserve(user).unwrap();
        l.succeeded(user);
        l.reserve(user).unwrap();
        l.release(user);
    }

    #[test]
    fn lockouts_grow() {
        let l = Limiter::default();
        let k = key([10, 0, 0, 1], 2);
        let now = Instant::now();
        {
            let mut map = l.map.lock().unwrap();
            let mut e = Entry::new(now);
            e.strikes = 2;
            e.attempts = MAX_ATTEMPTS;
            map.insert(k, e);
        }
        l.failed(k);
        let wait = l.reserve(k).unwrap_err();
        assert!(wait > 4 * 60 - 5 && wait <= 4 * 60 + 1, "{wait}");
    }

    #[test]
    fn the_map_stays_bounded() {
        let l = Limiter::default();
        for i in 0..(MAX_ENTRIES as u32 + 500) {
            let b = i.to_be_bytes();
            let k = Key {
                addr: None,
                name: [b[0], b[1], b[2], b[3], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            };
            l.reserve(k).unwrap();
            l.failed(k);
        }
        assert!(l.len() <= MAX_ENTRIES, "{}", l.len());
    }
}
