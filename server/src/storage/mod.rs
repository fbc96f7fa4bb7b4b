//! The data root and the one deletion primitive every cleanup goes through.
//!
//! Layout of this folder:
//! - `mod.rs`: [`DataRoot`] (the root, held open as a directory handle), per-episode paths, [`write_atomic`],
//!   [`move_into_place`];
//! - `delete.rs`: which paths may be deleted, and finding one without following anything ([`DeleteError`]);
//! - `trash.rs`: [`Trash::take`] / [`Trash::measure`] / [`Trash::purge`] and [`DataRoot::purge_all_trash`];
//! - `restore.rs`: [`Trash::give_back`], the way back out of the trash (never overwriting);
//! - `usage.rs`: bytes per top-level directory, and the filesystem's free space;
//! - `reserve.rs`: the registry's reserve (`.ewg-reserve`), given back when the disk fills up;
//! - `walk.rs`: counting and unlinking a tree through directory handles;
//! - `fd.rs`: `openat`/`statx` on one name at a time, mount identities, names for reports;
//! - `mounts.rs`: mount points from `/proc/self/mountinfo`.
//!
//! # Guarantees
//! Deletion is two-phase: [`Trash::take`] renames into `.trash/<run>/` (atomic on one filesystem), the caller
//! commits the registry change, then [`Trash::purge`] unlinks. A crash in between leaves files in the trash
//! that [`DataRoot::purge_all_trash`] finishes on the next run. Throughout:
//! 1. **Only derived paths.** A path to delete is relative, has only normal components, starts in a derived
//!    root ([`DERIVED_ROOTS`]) — never `inbox/` (source videos), never `.trash/`, never outside the data root —
//!    and is never a whole top-level directory.
//! 2. **What was checked is what is acted on.** Every step goes through a directory handle opened from its
//!    parent's handle (`openat` with `O_NOFOLLOW | O_DIRECTORY`), starting at the handle of the data root
//!    taken when it was opened; rename and unlink are `renameat`/`unlinkat` on those handles. Swapping a
//!    directory on the path for a symlink after the check cannot redirect the action.
//! 3. **No symlink is ever followed, at any depth.** A symlinked parent refuses the path; a symlink as the
//!    target is moved and unlinked as a link, so what it points to survives.
//! 4. **Never across a mount or device, at any depth.** Every directory entered (take, measure/count, purge)
//!    must have the data root's mount id (`statx` `STATX_MNT_ID`; `st_dev` on kernels without it), so a
//!    bind mount of the SAME filesystem is caught too. A directory is only moved if the mount table shows
//!    nothing mounted at or beneath it (the error names the path and the mount point). Purge never descends
//!    into a directory on another mount: it reports it and leaves it in place.
//! 5. **`.trash/` holds only real directories.** An entry of `.trash/` that is a symlink, a file or a mount
//!    point is reported as an error in [`Purged`] and left in place, never followed.
//! 6. **Missing is success.** A path that does not exist (or vanishes meanwhile) counts as removed.
//! 7. **Every name is handled.** Names are raw bytes end to end: a non-UTF-8 name is removed and counted;
//!    reports show it with `\xNN` for each non-UTF-8 byte (and `\\` for a backslash), so two names never
//!    print alike.
//!
//! Not covered: a mount made by root between the mount-table check and the rename is carried along by the
//! kernel; guarantee 4 in purge is what then keeps its files safe.

use crate::error::{Error, Result};
use crate::ids::EpisodeId;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod delete;
mod fd;
mod mounts;
mod reserve;
mod restore;
#[cfg(test)]
mod tests;
mod trash;
mod usage;
mod walk;

pub use delete::DeleteError;
use fd::FsId;
pub use reserve::RESERVE_FILE;
pub use trash::Trash;
pub use usage::Space;

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
/// The data root's identity, also recorded in the registry: a process whose data dir holds another id
/// (or none, where the registry knows one) is looking at the wrong storage — an unmounted share — and
/// refuses to start instead of processing into the wrong place.
pub const ROOT_ID_FILE: &str = ".ewg-root-id";

#[derive(Clone, Debug)]
pub struct DataRoot {
    root: PathBuf,
    /// The root as it was when opened: every deletion starts from this handle, not from the path.
    fd: Arc<OwnedFd>,
    /// The root's mount; nothing on another one is ever entered, moved or unlinked.
    fs: FsId,
}

impl DataRoot {
    /// Opens (creating if needed) a data root. Checks it is writable before creating anything inside.
    pub fn open(path: &Path) -> Result<Self> {
        fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let root = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let probe = root.join(format!(".ewg-write-probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| Error::io(&root, e))?;
        let _ = fs::remove_file(&probe);
        for dir in DERIVED_ROOTS.iter().chain([&INBOX, &TRASH]) {
            fs::create_dir_all(root.join(dir)).map_err(|e| Error::io(root.join(dir), e))?;
        }
        let flags = rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::DIRECTORY
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::CLOEXEC;
        let io = |e: rustix::io::Errno| Error::io(&root, std::io::Error::from(e));
        let handle = rustix::fs::open(&root, flags, rustix::fs::Mode::empty()).map_err(io)?;
        let fs = fd::stat_fd(handle.as_fd()).map_err(io)?.fs;
        Ok(DataRoot {
            root,
            fd: Arc::new(handle),
            fs,
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The id in [`ROOT_ID_FILE`], if the root has one.
    pub fn id(&self) -> Result<Option<String>> {
        let path = self.root.join(ROOT_ID_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Gives a new root its id (atomically: a reader never sees half of it).
    pub fn set_id(&self, id: &str) -> Result<()> {
        write_atomic(self, ROOT_ID_FILE, format!("{id}\n").as_bytes()).map(|_| ())
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

    // Per-episode locations (README "Data"). Derived from the validated id, never searched for.
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
    /// One highlight clip: its four renditions and its thumbnail.
    pub fn clip_dir(&self, id: &EpisodeId, n: u32) -> String {
        format!("{}/clips/{n}", self.outputs_dir(id))
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

    /// Checks a registry path for deletion against every rule in the module docs and returns where it is.
    /// Only a check: [`Trash::take`] re-walks through handles, so nothing relies on this path staying put.
    pub fn resolve_for_delete(&self, rel: &str) -> Result<Option<PathBuf>, String> {
        match self.locate_for_delete(rel) {
            Ok(found) => Ok(found.map(|_| self.root.join(rel))),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn trash(&self, run_id: &str) -> Trash {
        Trash::new(self, run_id)
    }

    /// Purges what earlier runs left in `.trash/`, except the trash of runs still in progress (`busy`).
    /// Entries that are not real directories of the data root's mount are reported, never followed.
    pub fn purge_all_trash(&self, busy: &std::collections::HashSet<String>) -> Purged {
        trash::purge_all(self, busy)
    }
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

/// Counts non-directory entries and their sizes under `path`, never following links below it and never
/// leaving the mount `path` is on. `path` itself is trusted by the caller (its parents are resolved normally).
pub fn count_tree(path: &Path) -> (i64, i64) {
    let cwd = rustix::fs::CWD;
    let Ok(top) = rustix::fs::statx(
        cwd,
        path,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        rustix::fs::StatxFlags::TYPE | rustix::fs::StatxFlags::SIZE,
    ) else {
        return (0, 0);
    };
    if rustix::fs::FileType::from_raw_mode(u32::from(top.stx_mode))
        != rustix::fs::FileType::Directory
    {
        return (1, top.stx_size as i64);
    }
    let flags = rustix::fs::OFlags::RDONLY
        | rustix::fs::OFlags::DIRECTORY
        | rustix::fs::OFlags::NOFOLLOW
        | rustix::fs::OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open(path, flags, rustix::fs::Mode::empty()) else {
        return (0, 0);
    };
    let Ok(meta) = fd::stat_fd(dir.as_fd()) else {
        return (0, 0);
    };
    let mut acc = (0, 0);
    walk::count_dir(dir, &meta.fs, &mut acc);
    acc
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
    match fs::rename(from, &dest) {
        Ok(()) => {}
        // A node-local scratch dir is another filesystem: copy beside the destination, make it durable,
        // then rename, so readers still only ever see a whole file.
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let mut tmp = dest.clone().into_os_string();
            tmp.push(".part");
            let tmp = std::path::PathBuf::from(tmp);
            let copied = fs::copy(from, &tmp)
                .and_then(|_| fs::File::open(&tmp)?.sync_all())
                .and_then(|()| fs::rename(&tmp, &dest));
            if let Err(e) = copied {
                let _ = fs::remove_file(&tmp);
                return Err(Error::io(&dest, e));
            }
            let _ = fs::remove_file(from);
        }
        Err(e) => return Err(Error::io(&dest, e)),
    }
    Ok(fs::metadata(&dest).map(|m| m.len() as i64).unwrap_or(0))
}
