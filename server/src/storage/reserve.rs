//! The registry's reserve: ballast in the data root (`.ewg-reserve`), given back to the file system when
//! space runs out so the writes that record what happened — a job's failure, a cleanup's commit, the
//! WAL's next frames — still fit, and made again once space is back. It sits at the top of the data
//! root, outside every derived directory, so no cleanup or sweep ever sees it.

use super::DataRoot;
use std::io::Write;

/// The ballast file, relative to the data root.
pub const RESERVE_FILE: &str = ".ewg-reserve";

impl DataRoot {
    /// Bytes the reserve holds now (0 when it was given back or never made).
    pub fn reserve_held(&self) -> u64 {
        std::fs::symlink_metadata(self.abs(RESERVE_FILE))
            .ok()
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len())
    }

    /// Gives the reserve back to the file system. True when it held anything.
    pub fn release_reserve(&self) -> bool {
        let held = self.reserve_held();
        held > 0 && std::fs::remove_file(self.abs(RESERVE_FILE)).is_ok()
    }

    /// Makes the reserve `bytes` long, really allocated (a sparse file would free nothing when removed):
    /// written under a temporary name and renamed, so a full disk half-way leaves no short reserve.
    pub fn make_reserve(&self, bytes: u64) -> std::io::Result<()> {
        let tmp = self.abs(".ewg-reserve.tmp");
        let res = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            let block = vec![0u8; 1 << 20];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                f.write_all(&block[..n])?;
                left -= n as u64;
            }
            f.sync_all()?;
            std::fs::rename(&tmp, self.abs(RESERVE_FILE))
        })();
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res
    }
}
