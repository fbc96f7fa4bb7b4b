//! The way back: moving an entry of `.trash/<run>/` to the path it was taken from, with the same care as
//! taking it — every directory entered through a handle, nothing followed, nothing on another mount, and
//! nothing ever overwritten (`RENAME_NOREPLACE`).

use super::delete::{DeleteError, components};
use super::fd;
use super::trash::{TRASH_NAME, Trash};
use super::{Measured, TRASH, walk};
use rustix::fs::{Mode, RenameFlags};
use rustix::io::Errno;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

/// An entry inside a run's trash: the directory that holds it and its name.
struct Stored {
    parent: OwnedFd,
    name: CString,
    meta: fd::Meta,
}

impl Trash {
    /// What `stored` (a name under `.trash/<run>/`) holds, for a restore's preview and report.
    pub fn measure_stored(&self, stored: &str) -> Result<Measured, DeleteError> {
        let found = self.find_stored(stored)?;
        self.count_entry(found.parent.as_fd(), &found.name, &found.meta, stored)
    }

    /// Whether something is at `rel` in the live tree now (a restore never overwrites it). A parent that
    /// is a symlink or on another mount is an error: nothing is restored through it.
    pub fn occupied(&self, rel: &str) -> Result<bool, DeleteError> {
        Ok(self.root.locate(rel)?.is_some())
    }

    /// Moves `stored` back to `rel`, creating the directories on the way (real directories on the data
    /// root's mount, never through a symlink). Something at `rel` now is never overwritten.
    pub fn give_back(&self, stored: &str, rel: &str) -> Result<(), DeleteError> {
        let found = self.find_stored(stored)?;
        if found.meta.is_dir() {
            self.root
                .no_mount_beneath(&format!("{}/{stored}", self.label))?;
        }
        let parts = components(rel)?;
        let (name, dirs) = parts.split_last().ok_or(DeleteError::Refused {
            path: rel.to_string(),
            reason: "empty path",
        })?;
        let mut cur: Option<OwnedFd> = None;
        let mut shown = String::new();
        for part in dirs {
            shown = fd::join_display(&shown, part);
            let at = cur.as_ref().map_or(self.root.fd.as_fd(), |f| f.as_fd());
            match rustix::fs::mkdirat(at, part.as_c_str(), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(DeleteError::io(&shown, e)),
            }
            let next = fd::open_dir_on(at, part, &self.root.fs)
                .map_err(|e| DeleteError::opening(&shown, e))?;
            cur = Some(next);
        }
        let dest = cur.ok_or(DeleteError::Refused {
            path: rel.to_string(),
            reason: "a whole top-level directory is never restored over",
        })?;
        match rustix::fs::renameat_with(
            found.parent.as_fd(),
            &found.name,
            dest.as_fd(),
            name,
            RenameFlags::NOREPLACE,
        ) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) => Err(DeleteError::Occupied {
                path: rel.to_string(),
            }),
            Err(Errno::NOENT) => Err(DeleteError::NotInTrash {
                path: rel.to_string(),
            }),
            Err(e) => Err(DeleteError::io(rel, e)),
        }
    }

    /// `.trash/<run>/<stored>`, walked through handles like every other path.
    fn find_stored(&self, stored: &str) -> Result<Stored, DeleteError> {
        let missing = || DeleteError::NotInTrash {
            path: stored.to_string(),
        };
        let run = self.run.as_ref().ok_or_else(|| DeleteError::Refused {
            path: self.label.clone(),
            reason: "a run id is one plain name",
        })?;
        let parts = components(stored)?;
        let (name, dirs) = parts.split_last().ok_or_else(missing)?;
        let fs = &self.root.fs;
        let open = |at: std::os::fd::BorrowedFd<'_>, part: &std::ffi::CStr| {
            fd::open_dir_on(at, part, fs).map_err(|e| match e {
                Errno::NOENT => missing(),
                e => DeleteError::opening(format!("{TRASH}/{stored}"), e),
            })
        };
        let mut cur = open(self.root.fd.as_fd(), TRASH_NAME)?;
        cur = open(cur.as_fd(), run)?;
        for part in dirs {
            cur = open(cur.as_fd(), part)?;
        }
        let meta = match fd::stat_at(cur.as_fd(), name) {
            Ok(m) => m,
            Err(Errno::NOENT) => return Err(missing()),
            Err(e) => return Err(DeleteError::io(stored, e)),
        };
        if !meta.on(fs) {
            return Err(DeleteError::OtherMount {
                path: format!("{}/{stored}", self.label),
            });
        }
        Ok(Stored {
            parent: cur,
            name: name.clone(),
            meta,
        })
    }
}

impl Trash {
    /// Files and bytes under `.trash/<run>/` now (the size of a kept run, measured after it answered).
    pub fn size(&self) -> (i64, i64) {
        let Some(run) = &self.run else {
            return (0, 0);
        };
        let fs = &self.root.fs;
        let Ok(top) = fd::open_dir_on(self.root.fd.as_fd(), TRASH_NAME, fs) else {
            return (0, 0);
        };
        let Ok(dir) = fd::open_dir_on(top.as_fd(), run, fs) else {
            return (0, 0);
        };
        let mut acc = (0, 0);
        walk::count_dir(dir, fs, &mut acc);
        acc
    }
}
