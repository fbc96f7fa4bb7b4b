//! The data root and the one deletion primitive every cleanup goes through.
//!
//! Safety rules, enforced here and nowhere else:
//! - a path to delete is relative, has only normal components, and starts in a *derived* root — never
//!   `inbox/` (source videos) and never outside the data root;
//! - every directory on the way must be a real directory: a symlinked directory could lead anywhere;
//! - the target itself is never followed: a symlink is moved as a link, so its target survives;
//! - nothing on another filesystem is touched (a bind mount inside the data root stays intact);
//! - a path that does not exist counts as removed.
//!
//! Deletion is two-phase: [`Trash::take`] renames into `.trash/<run>/` (atomic on one filesystem), the caller
//! commits the registry change, then [`Trash::purge`] unlinks. A crash in between leaves files in the trash
//! that [`DataRoot::purge_all_trash`] finishes on the next run.

use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Top-level directories the pipeline writes; only these may ever be cleaned.
pub const DERIVED_ROOTS: [&str; 8] = [
    "work",
    "audio",
    "transcripts",
    "enriched",
    "public",
    "outputs",
    "social",
    "uploads",
];
pub const INBOX: &str = "inbox";
pub const TRASH: &str = ".trash";

#[derive(Clone, Debug)]
pub struct DataRoot {
    root: PathBuf,
    dev: u64,
}

impl DataRoot {
    /// Opens (creating if needed) a data root. Checks it is writable before creating anything inside.
    pub fn open(path: &Path) -> Result<Self> {
        fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let root = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let probe = root.join(format!(".ewg-write-probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| Error::io(&root, e))?;
        let _ = fs::remove_file(&probe);
        let dev = fs::metadata(&root).map_err(|e| Error::io(&root, e))?.dev();
        for dir in DERIVED_ROOTS.iter().chain([&INBOX, &TRASH]) {
            fs::create_dir_all(root.join(dir)).map_err(|e| Error::io(root.join(dir), e))?;
        }
        Ok(DataRoot { root, dev })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
    pub fn inbox(&self) -> PathBuf {
        self.root.join(INBOX)
    }
    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Path relative to the data root, for the registry. `None` when `abs` is not inside it.
    pub fn rel(&self, abs: &Path) -> Option<String> {
        abs.strip_prefix(&self.root)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    // Per-episode locations (DESIGN §2). Derived from the validated id, never searched for.
    pub fn work_dir(&self, id: &EpisodeId) -> String {
        format!("work/{id}")
    }
    pub fn attempt_dir(&self, id: &EpisodeId, attempt: i64) -> String {
        format!("work/{id}/a{attempt}")
    }
    pub fn audio(&self, id: &EpisodeId) -> String {
        format!("audio/{id}.wav")
    }
    pub fn transcript(&self, id: &EpisodeId, ext: &str) -> String {
        format!("transcripts/{id}.{ext}")
    }
    pub fn enriched(&self, id: &EpisodeId) -> String {
        format!("enriched/{id}.json")
    }
    pub fn page_dir(&self, id: &EpisodeId) -> String {
        format!("public/shows/{}/{id}", id.show())
    }
    pub fn outputs_dir(&self, id: &EpisodeId) -> String {
        format!("outputs/{}/{}/{id}", id.show(), id.year())
    }
    pub fn social_dir(&self, id: &EpisodeId) -> String {
        format!("social/{id}")
    }

    /// Every directory that belongs to one episode alone, so cleaning it can never touch a neighbour.
    pub fn episode_dirs(&self, id: &EpisodeId) -> [String; 4] {
        [
            self.work_dir(id),
            self.page_dir(id),
            self.outputs_dir(id),
            self.social_dir(id),
        ]
    }

    /// Resolves a registry path for deletion, enforcing every rule in the module docs.
    pub fn resolve_for_delete(&self, rel: &str) -> Result<Option<PathBuf>, String> {
        let path = Path::new(rel);
        let mut parts = Vec::new();
        for c in path.components() {
            match c {
                Component::Normal(p) => parts.push(p),
                _ => return Err("path must be relative without `..` or `.`".into()),
            }
        }
        let first = parts.first().and_then(|p| p.to_str()).ok_or("empty path")?;
        if !DERIVED_ROOTS.contains(&first) && first != TRASH {
            return Err(format!("`{first}/` is not a derived directory; refusing"));
        }
        if parts.len() < 2 {
            return Err("refusing to remove a whole top-level directory".into());
        }
        let mut cur = self.root.clone();
        for (i, part) in parts.iter().enumerate() {
            cur.push(part);
            let meta = match fs::symlink_metadata(&cur) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            if meta.dev() != self.dev {
                return Err("on another filesystem; refusing".into());
            }
            let last = i + 1 == parts.len();
            if !last && !meta.file_type().is_dir() {
                return Err("a parent is a symlink or not a directory; refusing".into());
            }
        }
        Ok(Some(cur))
    }

    pub fn trash(&self, run_id: &str) -> Trash {
        Trash {
            root: self.clone(),
            dir: self.root.join(TRASH).join(run_id),
        }
    }

    /// Purges what earlier runs left in `.trash/`, except the trash of runs still in progress (`busy`).
    pub fn purge_all_trash(&self, busy: &std::collections::HashSet<String>) -> Purged {
        let mut totals = Purged::default();
        let Ok(entries) = fs::read_dir(self.root.join(TRASH)) else {
            return totals;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if busy.contains(&name) {
                continue;
            }
            totals.merge(self.trash(&name).purge());
        }
        totals
    }
}

/// One cleanup run's trash directory.
pub struct Trash {
    root: DataRoot,
    dir: PathBuf,
}

/// What a dry run would remove under one path.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    pub existed: bool,
    pub files: i64,
    pub bytes: i64,
}

/// What [`Trash::purge`] unlinked, and what it could not (paths relative to the data root).
#[derive(Debug, Default)]
pub struct Purged {
    pub files: i64,
    pub bytes: i64,
    pub errors: Vec<(String, String)>,
}

impl Purged {
    fn merge(&mut self, other: Purged) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.errors.extend(other.errors);
    }
}

/// Purging splits the trash into this many independent subtrees and removes them on two threads.
const PURGE_THREADS: usize = 2;
const PURGE_FANOUT: usize = 16;

impl Trash {
    /// Measures what `rel` holds without moving it (dry runs).
    pub fn measure(&self, rel: &str) -> Result<Measured, String> {
        Ok(match self.root.resolve_for_delete(rel)? {
            None => Measured::default(),
            Some(abs) => {
                let (files, bytes) = count_tree(&abs);
                Measured {
                    existed: true,
                    files,
                    bytes,
                }
            }
        })
    }

    /// Phase one: renames `rel` (file, link or directory) into this run's trash. Returns whether it
    /// existed; a missing path counts as removed.
    pub fn take(&self, rel: &str) -> Result<bool, String> {
        let Some(abs) = self.root.resolve_for_delete(rel)? else {
            return Ok(false);
        };
        let dest = self.dir.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        match fs::rename(&abs, &dest) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Phase two: unlinks everything taken, counting files and bytes as it goes (one pass, like
    /// `rm -rf`), on two threads. Symlinks are removed, never followed. Errors name the original path.
    pub fn purge(&self) -> Purged {
        let mut done = Purged::default();
        if fs::symlink_metadata(&self.dir).is_err() {
            return done;
        }
        // Expand breadth-first until there is enough independent work to share between threads.
        let mut dirs = std::collections::VecDeque::from([self.dir.clone()]);
        let mut leaves: Vec<(PathBuf, bool, u64)> = Vec::new();
        let mut skeleton = Vec::new();
        while let Some(dir) = dirs.pop_front() {
            if dirs.len() + leaves.len() >= PURGE_FANOUT {
                dirs.push_front(dir);
                break;
            }
            match fs::read_dir(&dir) {
                Ok(rd) => {
                    for e in rd.flatten() {
                        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                        if is_dir {
                            dirs.push_back(e.path());
                        } else {
                            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                            leaves.push((e.path(), false, len));
                        }
                    }
                    skeleton.push(dir);
                }
                Err(e) => done.errors.push((self.original(&dir), e.to_string())),
            }
        }
        leaves.extend(dirs.into_iter().map(|d| (d, true, 0)));
        let mut shares: Vec<Vec<(PathBuf, bool, u64)>> = vec![Vec::new(); PURGE_THREADS];
        for (i, item) in leaves.into_iter().enumerate() {
            shares[i % PURGE_THREADS].push(item);
        }
        let results: Vec<Purged> = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    s.spawn(move || {
                        let mut p = Purged::default();
                        for (path, is_dir, len) in share {
                            remove_counting(&path, is_dir, len, &mut p);
                        }
                        p
                    })
                })
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
            // A failed child already explains why its parents cannot go.
            if let Err(e) = fs::remove_dir(dir)
                && done.errors.is_empty()
            {
                done.errors.push((self.original(dir), e.to_string()));
            }
        }
        done.errors = done
            .errors
            .into_iter()
            .map(|(p, m)| (self.original(Path::new(&p)), m))
            .collect();
        done
    }

    /// A path inside this trash as the data-root path it was moved from.
    fn original(&self, p: &Path) -> String {
        p.strip_prefix(&self.dir)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.to_string_lossy().into_owned())
    }
}

/// Removes `path` (a directory recursively), adding what it unlinked to `acc`. Never follows links.
fn remove_counting(path: &Path, is_dir: bool, len: u64, acc: &mut Purged) {
    if !is_dir {
        match fs::remove_file(path) {
            Ok(()) => {
                acc.files += 1;
                acc.bytes += len as i64;
            }
            Err(e) => acc
                .errors
                .push((path.to_string_lossy().into_owned(), e.to_string())),
        }
        return;
    }
    let before = acc.errors.len();
    match fs::read_dir(path) {
        Ok(rd) => {
            for e in rd.flatten() {
                let child_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                let child_len = if child_dir {
                    0
                } else {
                    e.metadata().map(|m| m.len()).unwrap_or(0)
                };
                remove_counting(&e.path(), child_dir, child_len, acc);
            }
        }
        Err(e) => {
            acc.errors
                .push((path.to_string_lossy().into_owned(), e.to_string()));
            return;
        }
    }
    if let Err(e) = fs::remove_dir(path) {
        // A failed child already explains why its parent cannot go.
        if acc.errors.len() == before {
            acc.errors
                .push((path.to_string_lossy().into_owned(), e.to_string()));
        }
    }
}

/// Counts non-directory entries and their sizes under `path`, never following links.
pub fn count_tree(path: &Path) -> (i64, i64) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return (0, 0);
    };
    if !meta.is_dir() {
        return (1, meta.len() as i64);
    }
    let mut totals = (0, 0);
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(entry.path());
            } else {
                totals.0 += 1;
                totals.1 += entry.metadata().map(|m| m.len() as i64).unwrap_or(0);
            }
        }
    }
    totals
}

/// Writes `bytes` to a temp name beside `rel` and renames it into place, so readers never see half a file.
pub fn write_atomic(root: &DataRoot, rel: &str, bytes: &[u8]) -> Result<i64> {
    let dest = root.abs(rel);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let tmp = dest.with_extension(format!(
        "{}.tmp",
        dest.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(bytes.len() as i64)
}

/// Moves a finished file (e.g. written by ffmpeg into the attempt's scratch dir) into place.
pub fn move_into_place(root: &DataRoot, from: &Path, rel: &str) -> Result<i64> {
    let dest = root.abs(rel);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::rename(from, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(fs::metadata(&dest).map(|m| m.len() as i64).unwrap_or(0))
}
