//! Re-checks of a caller that stays connected (an open `/api/events` stream), shared and short-lived.
//!
//! Every open stream asks "is my caller still signed in?" every couple of seconds. Asking the registry
//! each time costs one pool connection per stream per tick; instead a verdict is kept for a short window
//! (`--events-session-check-secs`) and shared by every stream of the same credential. What this process
//! itself ends — a sign-out, a password change — is forgotten at once, so its streams end at the next
//! tick; what another process ends (`ewg token revoke`, a second server) is seen within the window.

use app::api::backend::Actor;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most credentials remembered at once; the oldest verdicts go first past it.
const MAX_ENTRIES: usize = 4096;

pub struct Rechecks {
    window: Duration,
    /// Credential hash → (when the registry last said so, who it is).
    seen: Mutex<HashMap<String, (Instant, Actor)>>,
}

impl Rechecks {
    pub fn new(window: Duration) -> Self {
        Rechecks {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The caller, if the registry vouched for this credential within the window.
    pub fn fresh(&self, key: &str) -> Option<Actor> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(key)
            .filter(|(at, _)| at.elapsed() < self.window)
            .map(|(_, a)| a.clone())
    }

    pub fn remember(&self, key: String, actor: Actor) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_ENTRIES {
            let window = self.window;
            seen.retain(|_, (at, _)| at.elapsed() < window);
            if seen.len() >= MAX_ENTRIES
                && let Some(oldest) = seen
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                seen.remove(&oldest);
            }
        }
        seen.insert(key, (Instant::now(), actor));
    }

    /// Forgets one credential (a sign-out).
    pub fn forget(&self, key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Forgets every credential of a user (a password change ends all their sessions).
    pub fn forget_user(&self, name: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, a)| a.name != name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::Role;

    #[test]
    fn verdicts_expire_and_can_be_forgotten() {
        let r = Rechecks::new(Duration::from_millis(50));
        let ana = Actor {
            name: "ana".into(),
            role: Role::Viewer,
        };
        r.remember("s:1".into(), ana.clone());
        r.remember("s:2".into(), ana.clone());
        assert_eq!(r.fresh("s:1"), Some(ana.clone()));
        r.forget("s:1");
        assert_eq!(r.fresh("s:1"), None);
        r.forget_user("ana");
        assert_eq!(r.fresh("s:2"), None);
        r.remember("s:3".into(), ana);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(r.fresh("s:3"), None, "older than the window");
    }
}
