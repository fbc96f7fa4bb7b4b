//! Resource faults made for real: a data root on a small tmpfs that fills up, a registry that refuses
//! a write (a SQLite trigger), an owner in another PID namespace, an owner paused past its lease.
//! Each test checks what an operator would: the reason names the fault, rows and disk agree, sources are
//! untouched, and the server recovers by itself once the fault is gone.

use crate::db;
use ewg::registry::{NewEpisode, Registry};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Mounts a tmpfs of `mib` MiB on `dir` (the suite runs as root); unmounted when the guard drops.
pub(crate) struct Tmpfs(pub std::path::PathBuf);

impl Tmpfs {
    pub(crate) fn mount(dir: &Path, mib: u64) -> Tmpfs {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount")
            .success();
        assert!(ok, "mount a tmpfs on {}", dir.display());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes `path` until the filesystem refuses (ENOSPC) or `limit` bytes; returns the bytes written.
pub(crate) fn fill(path: &Path, limit: u64) -> u64 {
    let mut f = std::fs::File::create(path).expect("create ballast");
    let block = vec![0xa5u8; 64 * 1024];
    let mut n = 0u64;
    while n < limit {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    let _ = f.sync_all();
    n
}

fn episode(i: usize) -> NewEpisode {
    NewEpisode {
        id: format!("full_ep{i:03}_2026-01-01"),
        show: "full".into(),
        source_path: format!("inbox/full/ep{i:03}_2026-01-01.mp4"),
        // Long enough that every row needs fresh pages of the database (and frames of its WAL).
        title: "x".repeat(3000),
        duration_secs: Some(1.0),
    }
}

/// The wedge: after the first SQLITE_FULL every later write answered "database is locked", for good.
/// Here the registry's file system is filled completely, writes (plain and in transactions) fail while
/// it is full, and once space is back every kind of write works again within seconds, on the same pool.
#[tokio::test]
async fn a_full_disk_never_leaves_the_sqlite_registry_locked() {
    if db::postgres() {
        return; // the file system of a PostgreSQL server is not the data root's
    }
    let dir = tempfile::tempdir().unwrap();
    let _fs = Tmpfs::mount(dir.path(), 6);
    let registry = Registry::open(None, dir.path()).await.expect("open");
    for i in 0..200 {
        registry.upsert_discovered(&episode(i)).await.unwrap();
    }
    fill(&dir.path().join("ballast"), u64::MAX);
    let mut refused = 0;
    let mut full_messages = 0;
    for i in 0..200 {
        // A transaction: the job's row, then the episode's state.
        let res = registry.enqueue(&episode(i).id, 1, false).await;
        if let Err(e) = res {
            refused += 1;
            if e.to_string().contains("full") {
                full_messages += 1;
            }
            if refused >= 30 {
                break;
            }
        }
    }
    assert!(
        refused >= 30 && full_messages > 0,
        "a full disk refuses writes ({refused} refused, {full_messages} said full)"
    );
    std::fs::remove_file(dir.path().join("ballast")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    let mut ok_rounds = 0;
    for i in 1000.. {
        let e = episode(i);
        let res = async {
            registry.upsert_discovered(&e).await?;
            registry.enqueue(&e.id, 1, false).await?;
            // A transaction that ends in a refusal (a second live job: 409) rolls back cleanly too.
            let again = registry.enqueue(&e.id, 2, false).await;
            assert!(again.is_err(), "a second live job is refused");
            registry
                .register_node("full-node", "serve", "host", 1)
                .await
        }
        .await;
        match res {
            Ok(()) => ok_rounds += 1,
            Err(e) => last = e.to_string(),
        }
        // Every pooled connection has to be fine, not just one: several rounds in a row.
        if ok_rounds >= 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the registry did not recover once space was back: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
