//! Where an attempt writes its in-flight files.
//!
//! By default that is `work/<episode>/a<attempt>` in the data root, where any node can see and clean
//! it. With `--scratch-dir` it is a directory on the worker's own disk: encodes stop crossing the network
//! twice, and a shared mount only ever receives finished files (moved in by copy + rename when the
//! scratch dir is on another filesystem). Node-local scratch is owned by exactly one process: each
//! process works in `<scratch-dir>/<node-id>/` and holds an exclusive `flock` on its `.lock` file for as
//! long as it lives. The kernel drops the lock when the process dies, even by SIGKILL, so the next
//! process that starts with the same scratch dir can tell a dead sibling's leftovers (lock free: swept)
//! from a live sibling's work (lock held: left alone) without asking anyone — other machines cannot see
//! this disk, so the registry could not clean it anyway.

use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LOCK: &str = ".lock";

#[derive(Clone, Debug, Default)]
pub enum Scratch {
    /// `work/` in the data root.
    #[default]
    Shared,
    /// This process's directory on a node-local disk.
    Local(Arc<LocalScratch>),
}

#[derive(Debug)]
pub struct LocalScratch {
    dir: PathBuf,
    /// Held (locked) for the life of the process.
    _lock: File,
}

impl Scratch {
    /// This process's scratch under `base`, locked, after sweeping what dead processes left there.
    pub fn local(base: &Path, node: &str) -> Result<Scratch> {
        std::fs::create_dir_all(base).map_err(|e| Error::io(base, e))?;
        let dir = base.join(node);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let lock_path = dir.join(LOCK);
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        if !try_lock(&lock) {
            return Err(Error::BadRequest(format!(
                "scratch dir {} is locked by another process",
                dir.display()
            )));
        }
        let swept = sweep(base, node);
        if swept > 0 {
            tracing::info!(dirs = swept, base = %base.display(), "swept scratch left by stopped processes");
        }
        Ok(Scratch::Local(Arc::new(LocalScratch { dir, _lock: lock })))
    }

    /// Where attempt `n` of `id` writes, as an absolute path.
    pub fn attempt(&self, root: &crate::storage::DataRoot, id: &EpisodeId, n: i64) -> PathBuf {
        match self {
            Scratch::Shared => root.abs(&root.attempt_dir(id, n)),
            Scratch::Local(l) => l.dir.join(id.as_str()).join(format!("a{n}")),
        }
    }

    /// Removes a finished attempt's node-local scratch (shared scratch is the cleanup's, audited).
    pub fn drop_attempt(&self, id: &EpisodeId, n: i64) {
        let Scratch::Local(l) = self else { return };
        let episode = l.dir.join(id.as_str());
        let attempt = episode.join(format!("a{n}"));
        // std's remove_dir_all never follows a symlink inside the tree it removes.
        match std::fs::remove_dir_all(&attempt) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(episode = %id, path = %attempt.display(), error = %e, "could not remove local scratch")
            }
        }
        let _ = std::fs::remove_dir(&episode);
    }
}

fn try_lock(f: &File) -> bool {
    // SAFETY: flock on a descriptor we own; no memory is shared with the kernel.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Removes every sibling directory whose owner is gone (its lock can be taken). A directory without a
/// lock file is not ours to judge and stays.
fn sweep(base: &Path, me: &str) -> usize {
    let mut swept = 0;
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if name == me || !is_dir {
            continue;
        }
        let path = entry.path();
        let Ok(lock) = File::open(path.join(LOCK)) else {
            continue;
        };
        if !try_lock(&lock) {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => swept += 1,
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not sweep scratch"),
        }
    }
    swept
}
