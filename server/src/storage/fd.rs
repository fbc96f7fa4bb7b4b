//! Directory handles and filesystem identities: the only way the deletion primitive looks at the disk.
//!
//! Every call takes a directory handle and ONE name (never a path with `/`), so the kernel resolves nothing
//! on our behalf: a symlink is never followed (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`) and what was inspected
//! through a handle is what the next call through that handle acts on.

use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatxFlags};
use rustix::io::Errno;
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Which mount an inode is reached through. Two bind mounts of one filesystem share `dev` but not `mnt`,
/// which is exactly the case `st_dev` alone misses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsId {
    dev: (u32, u32),
    /// `None` on kernels before 5.8 (no `STATX_MNT_ID`): then only the device is compared.
    mnt: Option<u64>,
}

impl FsId {
    pub fn same(&self, other: &FsId) -> bool {
        self.dev == other.dev
            && match (self.mnt, other.mnt) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// What one `statx` without following links says about a name.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub kind: FileType,
    pub size: u64,
    pub fs: FsId,
}

impl Meta {
    pub fn is_dir(&self) -> bool {
        self.kind == FileType::Directory
    }

    /// Whether this entry is on the mount `fs`. A directory must match in mount AND device; a file only in
    /// mount (when known): overlayfs reports a file's underlying device, yet the file is no mount of its own.
    pub fn on(&self, fs: &FsId) -> bool {
        match (self.is_dir(), self.fs.mnt, fs.mnt) {
            (false, Some(a), Some(b)) => a == b,
            _ => self.fs.same(fs),
        }
    }
}

const MASK: StatxFlags = StatxFlags::TYPE
    .union(StatxFlags::SIZE)
    .union(StatxFlags::MNT_ID);

fn meta(s: &rustix::fs::Statx) -> Meta {
    let mnt = (s.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(s.stx_mnt_id);
    Meta {
        kind: FileType::from_raw_mode(u32::from(s.stx_mode)),
        size: s.stx_size,
        fs: FsId {
            dev: (s.stx_dev_major, s.stx_dev_minor),
            mnt,
        },
    }
}

/// `statx(dir, name)` of the entry itself: a symlink is described, not followed; automounts are not triggered.
pub fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Meta, Errno> {
    let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT;
    rustix::fs::statx(dir, name, flags, MASK).map(|s| meta(&s))
}

/// `statx` of an open handle: where the directory we actually hold lives.
pub fn stat_fd(fd: BorrowedFd<'_>) -> Result<Meta, Errno> {
    let flags = AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW;
    rustix::fs::statx(fd, c"", flags, MASK).map(|s| meta(&s))
}

/// Opens `name` under `dir` only if it is a real directory: a symlink fails with `ELOOP`, anything else with
/// `ENOTDIR`. A mount point IS entered by the kernel, so callers compare [`stat_fd`] with the root's [`FsId`].
pub fn open_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(dir, name, flags, Mode::empty())
}

/// [`open_dir`], then refuses (`EXDEV`) a directory that is not on `fs`: a mount point is never entered.
pub fn open_dir_on(dir: BorrowedFd<'_>, name: &CStr, fs: &FsId) -> Result<OwnedFd, Errno> {
    let fd = open_dir(dir, name)?;
    if stat_fd(fd.as_fd())?.fs.same(fs) {
        Ok(fd)
    } else {
        Err(Errno::XDEV)
    }
}

/// Whether an error means "this is not a real directory" (a symlink, a file) rather than a failure.
pub fn not_a_dir(e: Errno) -> bool {
    e == Errno::LOOP || e == Errno::NOTDIR
}

/// A name for reports: UTF-8 as is, every other byte as `\xNN` and a backslash as `\\`, so two different
/// names never print the same and a non-UTF-8 name is still recognisable.
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `parent/name` for reports, `name` alone at the top.
pub fn join_display(parent: &str, name: &CStr) -> String {
    let name = display_bytes(name.to_bytes());
    if parent.is_empty() {
        name
    } else {
        format!("{parent}/{name}")
    }
}
