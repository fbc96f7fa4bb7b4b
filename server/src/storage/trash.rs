//! Two-phase deletion: [`Trash::take`] renames into `.trash/<run>/`, [`Trash::purge`] unlinks.

use super::delete::{DeleteError, components};
use super::fd::{self, FsId};
use super::walk::{self, Entry};
use super::{DataRoot, Measured, Purged, TRASH};
use rustix::fs::{AtFlags, FileType, Mode, RenameFlags};
use rustix::io::Errno;
use std::collections::{HashSet, VecDeque};
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

/// Purging splits the trash into this many independent subtrees and removes them on two threads.
const PURGE_THREADS: usize = 2;
const PURGE_FANOUT: usize = 16;

/// [`TRASH`] as the one name the handle calls take; a test keeps the two equal.
pub(super) const TRASH_NAME: &CStr = c".trash";

/// One cleanup run's trash directory.
pub struct Trash {
    pub(super) root: DataRoot,
    /// `None` when the run id is not a single plain name (it would otherwise address another directory).
    pub(super) run: Option<CString>,
    pub(super) label: String,
}

impl Trash {
    pub(super) fn new(root: &DataRoot, run_id: &str) -> Self {
        let plain = !run_id.is_empty() && run_id != "." && run_id != ".." && !run_id.contains('/');
        Trash {
            root: root.clone(),
            run: plain.then(|| CString::new(run_id).ok()).flatten(),
            label: format!("{TRASH}/{run_id}"),
        }
    }

    /// Measures what `rel` holds without moving it (dry runs), refusing exactly what [`Trash::take`] refuses.
    pub fn measure(&self, rel: &str) -> Result<Measured, String> {
        self.measure_checked(rel).map_err(|e| e.to_string())
    }

    pub fn measure_checked(&self, rel: &str) -> Result<Measured, DeleteError> {
        let Some(found) = self.root.locate_for_delete(rel)? else {
            return Ok(Measured::default());
        };
        self.count_entry(found.parent.as_fd(), &found.name, &found.meta, rel)
    }

    /// Files and bytes of one entry: itself, or everything under it on the data root's mount.
    pub(super) fn count_entry(
        &self,
        parent: std::os::fd::BorrowedFd<'_>,
        name: &CStr,
        meta: &fd::Meta,
        shown: &str,
    ) -> Result<Measured, DeleteError> {
        let (files, bytes) = if meta.is_dir() {
            let dir = fd::open_dir_on(parent, name, &self.root.fs)
                .map_err(|e| DeleteError::io(shown, e))?;
            let mut acc = (0, 0);
            walk::count_dir(dir, &self.root.fs, &mut acc);
            acc
        } else {
            (1, meta.size as i64)
        };
        Ok(Measured {
            existed: true,
            files,
            bytes,
        })
    }

    /// Phase one: renames `rel` (file, link or directory) into this run's trash. Returns where it went
    /// under `.trash/<run>/` (the same path, or with a `.~N` suffix when one run takes a path twice);
    /// `None`: it did not exist, which counts as removed.
    pub fn take(&self, rel: &str) -> Result<Option<String>, String> {
        self.take_checked(rel).map_err(|e| e.to_string())
    }

    pub fn take_checked(&self, rel: &str) -> Result<Option<String>, DeleteError> {
        let Some(found) = self.root.locate_for_delete(rel)? else {
            return Ok(None);
        };
        let parts = components(rel)?;
        let dest = self.dest_dir(&parts[..parts.len() - 1])?;
        let mut name = found.name.clone();
        for n in 1.. {
            let moved = rustix::fs::renameat_with(
                found.parent.as_fd(),
                &found.name,
                dest.as_fd(),
                &name,
                RenameFlags::NOREPLACE,
            );
            match moved {
                Ok(()) => {
                    // `rel` is UTF-8 and the suffix ASCII, so the name converts without loss.
                    let dirs = rel.rsplit_once('/').map_or("", |(d, _)| d);
                    return Ok(Some(format!("{dirs}/{}", name.to_string_lossy())));
                }
                Err(Errno::NOENT) => return Ok(None),
                // The same path taken twice in one run (e.g. `work/x/a1`, then `work/x`): keep both.
                Err(Errno::EXIST) if n < 100 => {
                    let mut bytes = found.name.as_bytes().to_vec();
                    bytes.extend_from_slice(format!(".~{n}").as_bytes());
                    name = CString::new(bytes).map_err(|_| DeleteError::io(rel, Errno::INVAL))?;
                }
                Err(e) => return Err(DeleteError::io(rel, e)),
            }
        }
        Err(DeleteError::io(rel, Errno::EXIST))
    }

    /// Opens (creating) `.trash/<run>/<dirs...>`, each a real directory on the data root's mount.
    fn dest_dir(&self, dirs: &[CString]) -> Result<OwnedFd, DeleteError> {
        let run = self.run.as_ref().ok_or_else(|| DeleteError::Refused {
            path: self.label.clone(),
            reason: "a run id is one plain name",
        })?;
        let fs = &self.root.fs;
        let mut cur = fd::open_dir_on(self.root.fd.as_fd(), TRASH_NAME, fs)
            .map_err(|e| DeleteError::opening(TRASH, e))?;
        for part in std::iter::once(run).chain(dirs) {
            match rustix::fs::mkdirat(cur.as_fd(), part.as_c_str(), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(DeleteError::io(&self.label, e)),
            }
            cur = fd::open_dir_on(cur.as_fd(), part, fs)
                .map_err(|e| DeleteError::opening(&self.label, e))?;
        }
        Ok(cur)
    }

    /// Whether what this run took holds any file (or link, or anything but directories). A run that took
    /// only empty directories has nothing anyone could want back. Unreadable counts as holding something.
    pub fn holds_files(&self) -> bool {
        let Some(run) = &self.run else {
            return false;
        };
        let fs = &self.root.fs;
        match fd::open_dir_on(self.root.fd.as_fd(), TRASH_NAME, fs)
            .and_then(|trash| fd::open_dir_on(trash.as_fd(), run, fs))
        {
            Ok(dir) => walk::holds_file(dir, fs),
            Err(Errno::NOENT) => false,
            Err(_) => true,
        }
    }

    /// Phase two: unlinks everything taken, counting files and bytes as it goes (one pass, like `rm -rf`),
    /// on two threads. Errors name the path each entry had in the data root before it was taken.
    pub fn purge(&self) -> Purged {
        let mut done = Purged::default();
        let Some(run) = &self.run else {
            done.errors
                .push((self.label.clone(), "not a valid run id".into()));
            return done;
        };
        match fd::open_dir_on(self.root.fd.as_fd(), TRASH_NAME, &self.root.fs) {
            Ok(trash) => purge_run(Arc::new(trash), run, &self.root.fs, &mut done),
            Err(Errno::NOENT) => {}
            Err(e) => walk::report(&mut done, TRASH, e),
        }
        done
    }
}

/// Purges every entry of `.trash/` except the runs in `busy`.
pub(super) fn purge_all(root: &DataRoot, busy: &HashSet<String>) -> Purged {
    let mut totals = Purged::default();
    let trash = match fd::open_dir_on(root.fd.as_fd(), TRASH_NAME, &root.fs) {
        Ok(t) => Arc::new(t),
        Err(Errno::NOENT) => return totals,
        Err(e) => {
            walk::report(&mut totals, TRASH, e);
            return totals;
        }
    };
    let entries = match walk::list(trash.as_fd()) {
        Ok(e) => e,
        Err(e) => {
            walk::report(&mut totals, TRASH, e);
            return totals;
        }
    };
    for Entry { name, .. } in entries {
        if name.to_str().is_ok_and(|n| busy.contains(n)) {
            continue;
        }
        purge_run(trash.clone(), &name, &root.fs, &mut totals);
    }
    totals
}

/// A subtree to remove: `name` inside the directory `parent`, shown as `path` (its original data-root path).
struct Item {
    parent: Arc<OwnedFd>,
    name: CString,
    kind: FileType,
    path: String,
}

/// Purges `.trash/<run>`, which must be a real directory on the data root's mount; anything else there
/// (a symlink, a file, a mount point) is reported and left in place, never followed.
fn purge_run(trash: Arc<OwnedFd>, run: &CStr, fs: &FsId, done: &mut Purged) {
    let label = fd::join_display(TRASH, run);
    match fd::stat_at(trash.as_fd(), run) {
        Err(Errno::NOENT) => return,
        Err(e) => return walk::report(done, &label, e),
        Ok(m) if !m.is_dir() => {
            let what = "not a real directory (a symlink or a file); not followed, left in place";
            return done.errors.push((label, what.into()));
        }
        Ok(m) if !m.on(fs) => return walk::report(done, &label, Errno::XDEV),
        Ok(_) => {}
    }
    let top = Item {
        parent: trash,
        name: run.to_owned(),
        kind: FileType::Directory,
        path: String::new(),
    };
    let (work, skeleton) = expand(top, fs, &label, done);
    let mut shares: Vec<Vec<Item>> = (0..PURGE_THREADS).map(|_| Vec::new()).collect();
    for (i, item) in work.into_iter().enumerate() {
        shares[i % PURGE_THREADS].push(item);
    }
    let results: Vec<Purged> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| s.spawn(move || remove_share(share, fs)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for r in results {
        done.merge(r);
    }
    for dir in skeleton.iter().rev() {
        let shown = if dir.path.is_empty() {
            &label
        } else {
            &dir.path
        };
        match rustix::fs::unlinkat(dir.parent.as_fd(), &dir.name, AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => {}
            // A failed child already explains why its parents cannot go.
            Err(_) if !done.errors.is_empty() => {}
            Err(e) => walk::report(done, shown, e),
        }
    }
}

fn remove_share(share: Vec<Item>, fs: &FsId) -> Purged {
    let mut p = Purged::default();
    for item in share {
        walk::remove_entry(
            item.parent.as_fd(),
            &item.name,
            item.kind,
            fs,
            &item.path,
            &mut p,
        );
    }
    p
}

/// Opens directories breadth-first from `top` until there are enough independent subtrees to share between
/// threads. Returns those subtrees and the directories opened on the way (to remove once they are empty).
fn expand(top: Item, fs: &FsId, label: &str, done: &mut Purged) -> (Vec<Item>, Vec<Item>) {
    let mut dirs = VecDeque::from([top]);
    let mut leaves = Vec::new();
    let mut skeleton = Vec::new();
    while let Some(dir) = dirs.pop_front() {
        if dirs.len() + leaves.len() >= PURGE_FANOUT {
            dirs.push_front(dir);
            break;
        }
        let shown = if dir.path.is_empty() {
            label
        } else {
            &dir.path
        };
        let opened = fd::open_dir_on(dir.parent.as_fd(), &dir.name, fs)
            .and_then(|fd| walk::list(fd.as_fd()).map(|entries| (Arc::new(fd), entries)));
        let (fd, entries) = match opened {
            Ok(x) => x,
            Err(e) if fd::not_a_dir(e) => {
                leaves.push(dir);
                continue;
            }
            Err(e) => {
                walk::report(done, shown, e);
                continue;
            }
        };
        for Entry { name, kind } in entries {
            let item = Item {
                path: fd::join_display(&dir.path, &name),
                parent: fd.clone(),
                name,
                kind,
            };
            match kind {
                FileType::Directory => dirs.push_back(item),
                _ => leaves.push(item),
            }
        }
        skeleton.push(dir);
    }
    leaves.extend(dirs);
    (leaves, skeleton)
}
