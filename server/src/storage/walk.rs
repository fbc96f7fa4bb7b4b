//! Counting and unlinking a tree through directory handles.
//!
//! Each directory is opened from its parent's handle with `O_NOFOLLOW` and checked to be on the data root's
//! mount before anything inside it is read or unlinked; a directory on another mount is reported and left
//! whole. Names are raw bytes end to end, so a non-UTF-8 name is removed and counted like any other.

use super::Purged;
use super::fd::{self, FsId};
use rustix::fs::{AtFlags, FileType, RawDir};
use rustix::io::Errno;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// One entry of a directory, by raw name and the type `getdents` reported (may be `Unknown`).
pub struct Entry {
    pub name: CString,
    pub kind: FileType,
}

/// The entries of an open directory, without `.` and `..`. Reads through the handle we hold (no reopen).
pub fn list(dir: BorrowedFd<'_>) -> Result<Vec<Entry>, Errno> {
    // Big enough for any one entry (names are at most 255 bytes), so `EINVAL` for a short buffer cannot occur.
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut raw = RawDir::new(dir, buf.spare_capacity_mut());
    let mut out = Vec::new();
    while let Some(e) = raw.next() {
        let e = e?;
        let name = e.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        out.push(Entry {
            name: name.to_owned(),
            kind: e.file_type(),
        });
    }
    Ok(out)
}

/// Adds the files and bytes under an open directory to `acc`, never following links or leaving `fs`.
pub fn count_dir(dir: OwnedFd, fs: &FsId, acc: &mut (i64, i64)) {
    let Ok(entries) = list(dir.as_fd()) else {
        return;
    };
    for e in entries {
        let Ok(meta) = fd::stat_at(dir.as_fd(), &e.name) else {
            continue;
        };
        if !meta.is_dir() {
            acc.0 += 1;
            acc.1 += meta.size as i64;
        } else if let Ok(child) = fd::open_dir_on(dir.as_fd(), &e.name, fs) {
            count_dir(child, fs, acc);
        }
    }
}

/// Whether anything but directories is under an open directory: stops at the first such entry. An entry
/// it cannot read, or a directory on another mount, counts as something (the caller then keeps it).
pub fn holds_file(dir: OwnedFd, fs: &FsId) -> bool {
    let Ok(entries) = list(dir.as_fd()) else {
        return true;
    };
    entries
        .into_iter()
        .any(|e| match fd::stat_at(dir.as_fd(), &e.name) {
            Ok(meta) if meta.is_dir() => match fd::open_dir_on(dir.as_fd(), &e.name, fs) {
                Ok(child) => holds_file(child, fs),
                Err(_) => true,
            },
            _ => true,
        })
}

/// Removes `name` under `parent` (a directory recursively), adding what it unlinked to `acc`.
/// `path` names the entry in reports. A directory on another mount is reported and left in place.
pub fn remove_entry(
    parent: BorrowedFd<'_>,
    name: &CStr,
    kind: FileType,
    fs: &FsId,
    path: &str,
    acc: &mut Purged,
) {
    if kind == FileType::Directory || kind == FileType::Unknown {
        match fd::open_dir_on(parent, name, fs) {
            Ok(dir) => {
                let before = acc.errors.len();
                remove_contents(dir, fs, path, acc);
                rmdir(parent, name, path, acc, before);
                return;
            }
            Err(e) if fd::not_a_dir(e) => {}
            Err(e) => return report(acc, path, e),
        }
    }
    remove_file(parent, name, path, acc);
}

/// Unlinks a non-directory, counting it with the size it had just before.
pub fn remove_file(parent: BorrowedFd<'_>, name: &CStr, path: &str, acc: &mut Purged) {
    let size = match fd::stat_at(parent, name) {
        Ok(m) => m.size,
        Err(Errno::NOENT) => return,
        Err(e) => return report(acc, path, e),
    };
    match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) => {
            acc.files += 1;
            acc.bytes += size as i64;
        }
        Err(Errno::NOENT) => {}
        Err(e) => report(acc, path, e),
    }
}

/// Removes everything inside an open directory that is already known to be on `fs`.
pub fn remove_contents(dir: OwnedFd, fs: &FsId, path: &str, acc: &mut Purged) {
    let entries = match list(dir.as_fd()) {
        Ok(x) => x,
        Err(e) => return report(acc, path, e),
    };
    for e in entries {
        let child = fd::join_display(path, &e.name);
        remove_entry(dir.as_fd(), &e.name, e.kind, fs, &child, acc);
    }
}

/// Removes an emptied directory. A failed child already explains why it cannot go, so that is not repeated.
pub fn rmdir(
    parent: BorrowedFd<'_>,
    name: &CStr,
    path: &str,
    acc: &mut Purged,
    errors_before: usize,
) {
    match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) if acc.errors.len() == errors_before => report(acc, path, e),
        Err(_) => {}
    }
}

pub fn report(acc: &mut Purged, path: &str, e: Errno) {
    let message = match e {
        Errno::XDEV => "on another mount or filesystem; not entered, left in place".to_string(),
        // Only `O_NOFOLLOW` opens of directories produce this.
        Errno::LOOP => {
            "a symlink where a directory was expected; not followed, left in place".into()
        }
        e => std::io::Error::from(e).to_string(),
    };
    acc.errors.push((path.to_string(), message));
}
