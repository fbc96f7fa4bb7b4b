//! Failpoints for fault-injection tests, set from the environment so they reach the real `ewg` binary:
//! `EWG_FAILPOINTS=run.commit=error,run.take=crash`. A point named there does, when reached:
//!
//! | mode | what happens |
//! |---|---|
//! | `error` | the step returns an error (as a refused registry write or a failed move would) |
//! | `crash` | the process aborts on the spot (as `kill -9` would) |
//! | `stop` | the process stops itself (SIGSTOP) until someone sends SIGCONT: an owner paused past its lease |
//!
//! Unset, a point costs one check of a parsed-once empty list. The points are listed in [`POINTS`] so a
//! sweep can visit every one (`it::faults`); the older single-purpose variables
//! (`EWG_FAILPOINT_CRASH_AFTER_TRASH`, …) remain for the tests written against them.

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// Every failpoint, in the order a cleanup run reaches them, with the modes that mean something there:
/// a step can fail (`error`), and any point can crash or stop; a point between two steps has no step
/// to fail.
pub const POINTS: &[(&str, &[&str])] = &[
    // A run's row is written and its episodes claimed; nothing planned yet.
    ("run.begin", ALL),
    // Before each move of phase one.
    ("run.take", ALL),
    // Everything moved into `.trash/<run>`; the registry not yet committed.
    ("run.after_trash", BETWEEN),
    // The registry commit itself.
    ("run.commit", ALL),
    // Committed; the trash not yet purged.
    ("run.after_commit", BETWEEN),
    // Purged; the report not yet stored.
    ("run.finish", ALL),
];

const ALL: &[&str] = &["error", "crash", "stop"];
const BETWEEN: &[&str] = &["crash", "stop"];

fn configured() -> &'static [(String, String)] {
    static SET: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SET.get_or_init(|| {
        std::env::var("EWG_FAILPOINTS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    })
}

/// Reaches failpoint `name`: `Ok(())` unless the environment set it.
pub fn hit(name: &str) -> Result<()> {
    let Some((_, mode)) = configured().iter().find(|(k, _)| k == name) else {
        return Ok(());
    };
    tracing::warn!(failpoint = name, mode = %mode, "failpoint reached");
    match mode.as_str() {
        "crash" => std::process::abort(),
        "stop" => {
            // SAFETY: raise has no memory-safety preconditions.
            unsafe { libc::raise(libc::SIGSTOP) };
            Ok(())
        }
        _ => Err(Error::Internal(format!("failpoint {name}: injected error"))),
    }
}
