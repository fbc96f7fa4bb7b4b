//! Where the disk goes: per top-level directory counts (through handles, never leaving the mount) and
//! the filesystem's size and free space.

use super::{DataRoot, fd, walk};
use std::ffi::CString;
use std::os::fd::AsFd;

/// The data root's filesystem, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Space {
    pub total: u64,
    pub free: u64,
}

impl Space {
    /// Free space as a share of the whole, in percent.
    pub fn free_pct(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        self.free as f64 * 100.0 / self.total as f64
    }
}

impl DataRoot {
    /// Size and free space (available to unprivileged writers) of the data root's filesystem.
    pub fn space(&self) -> std::io::Result<Space> {
        let s = rustix::fs::fstatvfs(self.fd.as_fd())?;
        Ok(Space {
            total: s.f_blocks.saturating_mul(s.f_frsize),
            free: s.f_bavail.saturating_mul(s.f_frsize),
        })
    }

    /// Files and bytes under the top-level directory `name` (a derived root, `inbox` or `.trash`).
    pub fn usage_of(&self, name: &str) -> (i64, i64) {
        let Ok(c) = CString::new(name) else {
            return (0, 0);
        };
        let Ok(dir) = fd::open_dir_on(self.fd.as_fd(), &c, &self.fs) else {
            return (0, 0);
        };
        let mut acc = (0, 0);
        walk::count_dir(dir, &self.fs, &mut acc);
        acc
    }
}
