//! Which paths may be deleted, and finding one without following anything.

use super::fd::{self, Meta};
use super::mounts::Mounts;
use super::{DERIVED_ROOTS, DataRoot};
use rustix::io::Errno;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

/// Why the primitive refused or failed to act on a path. Every variant names the path (relative to the
/// data root) so a report tells the user exactly what was left alone.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("`{path}`: {reason}; refusing")]
    Refused { path: String, reason: &'static str },
    #[error("`{path}` is on another mount or filesystem; refusing")]
    OtherMount { path: String },
    #[error("`{path}` has a mount point beneath it (`{mount}`); refusing to move it")]
    MountBeneath { path: String, mount: String },
    /// A restore found something at the path again; it is never overwritten.
    #[error("`{path}` exists again (not overwritten)")]
    Occupied { path: String },
    /// A restore found the entry gone from the trash (removed by hand, or purged meanwhile).
    #[error("`{path}` is no longer in the trash")]
    NotInTrash { path: String },
    #[error("`{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl DeleteError {
    /// Why a directory on the way could not be opened as one of ours.
    pub(crate) fn opening(path: impl Into<String>, e: Errno) -> Self {
        let path = path.into();
        match e {
            Errno::LOOP | Errno::NOTDIR => DeleteError::Refused {
                path,
                reason: "a parent is a symlink or not a directory",
            },
            Errno::XDEV => DeleteError::OtherMount { path },
            e => DeleteError::io(path, e),
        }
    }

    pub(crate) fn io(path: impl Into<String>, e: Errno) -> Self {
        DeleteError::Io {
            path: path.into(),
            source: e.into(),
        }
    }
}

/// An entry found by [`DataRoot::locate`]: the handle of the directory that holds it, and its own name.
/// Acting through `parent` acts on the directory that was checked, whatever happens to the path meanwhile.
pub(crate) struct Located {
    pub parent: OwnedFd,
    pub name: CString,
    pub meta: Meta,
}

/// The rules on the path itself: relative, normal components only, inside a derived root, not a whole root.
pub(crate) fn components(rel: &str) -> Result<Vec<CString>, DeleteError> {
    let refuse = |reason| DeleteError::Refused {
        path: rel.to_string(),
        reason,
    };
    let mut parts = Vec::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            _ => return Err(refuse("path must be relative without `..` or `.`")),
        }
    }
    let first = parts
        .first()
        .and_then(|p| p.to_str())
        .ok_or(refuse("empty path"))?;
    if !DERIVED_ROOTS.contains(&first) {
        return Err(refuse("not inside a derived directory (never `inbox/`)"));
    }
    if parts.len() < 2 {
        return Err(refuse("a whole top-level directory is never removed"));
    }
    parts
        .into_iter()
        .map(|p| CString::new(p.as_encoded_bytes()).map_err(|_| refuse("NUL in path")))
        .collect()
}

impl DataRoot {
    /// Walks `rel` from the data root's handle one component at a time: every parent must be a real
    /// directory on the root's mount, and the entry itself must be on it too. `None`: it does not exist.
    pub(crate) fn locate(&self, rel: &str) -> Result<Option<Located>, DeleteError> {
        let parts = components(rel)?;
        let Some((name, dirs)) = parts.split_last() else {
            return Ok(None);
        };
        let mut shown = String::new();
        let mut parent: Option<OwnedFd> = None;
        for part in dirs {
            shown = fd::join_display(&shown, part);
            let at = parent.as_ref().map_or(self.fd.as_fd(), |f| f.as_fd());
            let next = match fd::open_dir_on(at, part, &self.fs) {
                Ok(f) => f,
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(DeleteError::opening(shown, e)),
            };
            parent = Some(next);
        }
        let parent = parent.ok_or(DeleteError::Refused {
            path: rel.to_string(),
            reason: "a whole top-level directory is never removed",
        })?;
        let meta = match fd::stat_at(parent.as_fd(), name) {
            Ok(m) => m,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(DeleteError::io(rel, e)),
        };
        if !meta.on(&self.fs) {
            return Err(DeleteError::OtherMount {
                path: rel.to_string(),
            });
        }
        Ok(Some(Located {
            parent,
            name: name.clone(),
            meta,
        }))
    }

    /// Refuses a directory with anything mounted at or beneath it: `rename` would carry the mount along.
    pub(crate) fn no_mount_beneath(&self, rel: &str) -> Result<(), DeleteError> {
        let mounts = Mounts::read().map_err(|source| DeleteError::Io {
            path: rel.to_string(),
            source: std::io::Error::other(format!(
                "cannot read the mount table to prove nothing is mounted beneath: {source}"
            )),
        })?;
        match mounts.at_or_under(&self.root.join(rel)) {
            None => Ok(()),
            Some(m) => Err(DeleteError::MountBeneath {
                path: rel.to_string(),
                // Named like every other path in reports: relative to the data root.
                mount: fd::display_bytes(
                    m.strip_prefix(&self.root)
                        .unwrap_or(m)
                        .as_os_str()
                        .as_encoded_bytes(),
                ),
            }),
        }
    }

    /// [`DataRoot::locate`] plus, for a directory, [`DataRoot::no_mount_beneath`]: everything that must
    /// hold before an entry may be moved or measured.
    pub(crate) fn locate_for_delete(&self, rel: &str) -> Result<Option<Located>, DeleteError> {
        let found = self.locate(rel)?;
        if let Some(l) = &found
            && l.meta.is_dir()
        {
            self.no_mount_beneath(rel)?;
        }
        Ok(found)
    }
}
