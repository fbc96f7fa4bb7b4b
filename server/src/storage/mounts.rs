//! Mount points from `/proc/self/mountinfo`.
//!
//! `rename` carries every mount beneath a directory along with it, and the mount-id check of a walk only
//! sees mounts it walks into. So before a directory is moved, the mount table is asked whether anything is
//! mounted at or beneath it. Read once per call that needs it, never per file.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// Every mount point of this process's mount namespace.
#[derive(Debug, Default)]
pub struct Mounts(Vec<PathBuf>);

impl Mounts {
    pub fn read() -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read(MOUNTINFO)?))
    }

    /// Field 5 of each line is the mount point, with space, tab, newline and backslash octal-escaped.
    pub fn parse(text: &[u8]) -> Self {
        let points = text
            .split(|b| *b == b'\n')
            .filter_map(|line| line.split(|b| *b == b' ').nth(4))
            .map(|field| PathBuf::from(OsString::from_vec(unescape(field))))
            .collect();
        Mounts(points)
    }

    /// The first mount point at or beneath `dir` (component-wise: `/a/bc` is not beneath `/a/b`).
    pub fn at_or_under(&self, dir: &Path) -> Option<&Path> {
        self.0
            .iter()
            .map(PathBuf::as_path)
            .find(|m| m.starts_with(dir))
    }
}

/// Undoes the kernel's `\ooo` escapes; anything malformed is kept literally.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(v as u8);
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_unescapes_mount_points() {
        let text = b"36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw\n\
                     37 35 98:0 / /data/outputs/a\\134b rw - ext4 /dev/sda rw\n";
        let m = Mounts::parse(text);
        assert_eq!(
            m.at_or_under(Path::new("/mnt")),
            Some(Path::new("/mnt/my disk"))
        );
        assert_eq!(
            m.at_or_under(Path::new("/data/outputs")),
            Some(Path::new("/data/outputs/a\\b"))
        );
        assert_eq!(m.at_or_under(Path::new("/data/out")), None);
        assert_eq!(m.at_or_under(Path::new("/data/outputs/a")), None);
    }
}
