//! Failpoints for fault-injection tests, set from the environment so they reach the real `ewg` binary:
//! `EWG_FAILPOINTS=run.commit=error,run.take=crash`. A point named there does, when reached:
//!
//! | mode | what happens |
//! |---|---|
//! | `error` | the step returns an error (as a refused registry write or a failed move would) |
//! | `crash` | the process aborts on the spot (as `kill -9` would) |
//! | `stop` | the process stops itself (SIGSTOP) until someone sends SIGCONT: an owner paused past its lease |
//!
//! Only with the `testing` feature (`cargo test -p ewg --features testing`, as `scripts/test` runs it).
//! Without it — every production build — [`hit`] is an inlined `Ok(())`, so the points compile to nothing
//! and `EWG_FAILPOINTS` is never read. The points are listed in [`POINTS`] (a cleanup run's, so a sweep
//! can visit every one: `it::faults`) and [`JOB_POINTS`].

use crate::error::Result;

/// Every failpoint of a cleanup run, in the order a run reaches them, with the modes that mean something
/// there: a step can fail (`error`), and any point can crash or stop; a point between two steps has no
/// step to fail.
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

/// The failpoints of a job's life (outside any cleanup run).
pub const JOB_POINTS: &[(&str, &[&str])] = &[
    // A failed job's outcome recorded (episode failed, with its reason); its attempt not yet cleaned
    // nor the job closed: the second of a job's two end writes never happens.
    ("job.after_outcome", BETWEEN),
];

const ALL: &[&str] = &["error", "crash", "stop"];
const BETWEEN: &[&str] = &["crash", "stop"];

/// Reaches failpoint `name`: `Ok(())` unless the environment set it.
#[cfg(feature = "testing")]
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
        _ => Err(crate::error::Error::Internal(format!(
            "failpoint {name}: injected error"
        ))),
    }
}

/// Without the `testing` feature no failpoint exists: every point is `Ok(())`.
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn hit(_name: &str) -> Result<()> {
    Ok(())
}

/// `EWG_FAILPOINTS` as `(point, mode)` pairs, parsed once: an unset point costs one look through it.
#[cfg(feature = "testing")]
fn configured() -> &'static [(String, String)] {
    static SET: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        std::env::var("EWG_FAILPOINTS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    })
}
