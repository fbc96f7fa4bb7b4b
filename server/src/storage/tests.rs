//! One test per guarantee in the module docs, on real directories (and real mounts when allowed).

use super::fd::display_bytes;
use super::*;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::process::Command;

struct Fixture {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    outside: PathBuf,
    root: DataRoot,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&outside).expect("mkdir outside");
    fs::write(outside.join("precious.mp4"), b"outside bytes").expect("write outside");
    let root = DataRoot::open(&data).expect("open root");
    let data = root.path().to_path_buf();
    let outside = outside.canonicalize().expect("canonical");
    Fixture {
        _tmp: tmp,
        data,
        outside,
        root,
    }
}

fn put(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

fn assert_bytes(path: &Path, bytes: &[u8]) {
    assert_eq!(
        fs::read(path).expect("file must survive"),
        bytes,
        "{}",
        path.display()
    );
}

/// A mount that is undone when the test ends, however it ends (declared after the fixture, so dropped first).
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Runs `mount args... target`; `None` (with the reason printed) where mounting is not allowed.
fn mount(args: &[&OsStr], target: &Path) -> Option<Mounted> {
    let out = Command::new("mount").args(args).arg(target).output();
    match out {
        Ok(o) if o.status.success() => Some(Mounted(target.to_path_buf())),
        Ok(o) => {
            eprintln!(
                "SKIPPED: mount failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("SKIPPED: cannot run mount: {e}");
            None
        }
    }
}

fn bind(src: &Path, target: &Path) -> Option<Mounted> {
    mount(&[OsStr::new("--bind"), src.as_os_str()], target)
}

fn tmpfs(target: &Path) -> Option<Mounted> {
    mount(
        &[OsStr::new("-t"), OsStr::new("tmpfs"), OsStr::new("tmpfs")],
        target,
    )
}

#[test]
fn g1_only_derived_paths_are_accepted() {
    let f = fixture();
    put(&f.data.join("inbox/talk/ep001_2026-01-01.mp4"), b"source");
    put(&f.data.join("outputs/x/a.mp4"), b"a");
    let trash = f.root.trash("r1");
    for rel in [
        "inbox/talk/ep001_2026-01-01.mp4",
        "inbox/talk",
        "../outside/precious.mp4",
        "outputs/../inbox/talk",
        "/etc/passwd",
        "./outputs/x",
        "outputs",
        ".trash/r0",
        "",
    ] {
        let err = trash.take(rel).expect_err(rel);
        assert!(err.contains("refusing"), "{rel}: {err}");
        assert!(trash.measure(rel).is_err(), "{rel}");
    }
    assert_bytes(&f.data.join("inbox/talk/ep001_2026-01-01.mp4"), b"source");
    assert_bytes(&f.data.join("outputs/x/a.mp4"), b"a");
    assert_bytes(&f.outside.join("precious.mp4"), b"outside bytes");
}

#[test]
fn g2_acts_on_the_root_it_opened_not_on_the_path() {
    let f = fixture();
    put(&f.data.join("outputs/ep/a.mp4"), b"ours");
    put(&f.outside.join("outputs/ep/a.mp4"), b"not ours");
    // Swap the data root's path for a symlink to somewhere else after it was opened.
    let moved = f.data.with_file_name("data-moved");
    fs::rename(&f.data, &moved).expect("move root");
    symlink(&f.outside, &f.data).expect("symlink root");
    let trash = f.root.trash("r1");
    assert_eq!(trash.take("outputs/ep"), Ok(Some("outputs/ep".into())));
    let purged = trash.purge();
    assert_eq!((purged.files, purged.errors.len()), (1, 0));
    assert!(!moved.join("outputs/ep").exists());
    assert_bytes(&f.outside.join("outputs/ep/a.mp4"), b"not ours");
}

#[test]
fn g3_symlinked_parent_is_refused_and_its_target_survives() {
    let f = fixture();
    symlink(&f.outside, f.data.join("outputs/link")).expect("symlink");
    let trash = f.root.trash("r1");
    let err = trash
        .take("outputs/link/precious.mp4")
        .expect_err("refused");
    assert!(
        err.contains("`outputs/link`") && err.contains("symlink"),
        "{err}"
    );
    assert!(trash.measure("outputs/link/precious.mp4").is_err());
    assert!(
        f.root
            .resolve_for_delete("outputs/link/precious.mp4")
            .is_err()
    );
    assert_bytes(&f.outside.join("precious.mp4"), b"outside bytes");
}

#[test]
fn g3_symlink_target_is_moved_and_unlinked_as_a_link() {
    let f = fixture();
    put(&f.data.join("outputs/ep/a.mp4"), b"abc");
    symlink(&f.outside, f.data.join("outputs/ep/dir-link")).expect("symlink");
    symlink(
        f.outside.join("precious.mp4"),
        f.data.join("outputs/ep/file-link"),
    )
    .expect("symlink");
    let trash = f.root.trash("r1");
    let measured = trash.measure("outputs/ep").expect("measure");
    assert_eq!((measured.files, measured.existed), (3, true));
    assert_eq!(trash.take("outputs/ep"), Ok(Some("outputs/ep".into())));
    let purged = trash.purge();
    assert!(purged.errors.is_empty(), "{:?}", purged.errors);
    assert_eq!(purged.files, 3);
    assert!(!f.data.join(".trash/r1").exists());
    assert_bytes(&f.outside.join("precious.mp4"), b"outside bytes");
}

#[test]
fn g4_bind_mount_of_the_same_filesystem_is_never_moved_or_entered() {
    let f = fixture();
    let source = f.data.join("inbox/talk/ep001_2026-01-01.mp4");
    put(&source, b"source video");
    let mirror = f.data.join("outputs/mirror/talk");
    fs::create_dir_all(&mirror).expect("mkdir");
    let Some(_m) = bind(&f.data.join("inbox/talk"), &mirror) else {
        return;
    };
    let trash = f.root.trash("r1");
    let err = trash.take("outputs/mirror").expect_err("mount beneath");
    assert!(
        err.contains("`outputs/mirror`") && err.contains("`outputs/mirror/talk`"),
        "{err}"
    );
    let err = trash
        .measure("outputs/mirror")
        .expect_err("dry run refuses too");
    assert!(err.contains("`outputs/mirror`"), "{err}");
    let err = trash.take("outputs/mirror/talk").expect_err("mount point");
    assert!(err.contains("another mount"), "{err}");
    let err = trash
        .take("outputs/mirror/talk/ep001_2026-01-01.mp4")
        .expect_err("inside");
    assert!(err.contains("another mount"), "{err}");
    assert_eq!(count_tree(&f.data.join("outputs")), (0, 0));
    assert!(trash.purge().errors.is_empty());
    assert_bytes(&source, b"source video");
}

#[test]
fn g4_purge_never_descends_into_a_mount_carried_into_the_trash() {
    let f = fixture();
    let source = f.data.join("inbox/talk/ep001_2026-01-01.mp4");
    put(&source, b"source video");
    put(&f.data.join(".trash/r1/outputs/a.mp4"), b"12345");
    let carried = f.data.join(".trash/r1/outputs/mirror/talk");
    fs::create_dir_all(&carried).expect("mkdir");
    let Some(_m) = bind(&f.data.join("inbox/talk"), &carried) else {
        return;
    };
    let purged = f.root.trash("r1").purge();
    assert_eq!((purged.files, purged.bytes), (1, 5));
    let (path, message) = purged.errors.first().expect("reported");
    assert_eq!(path, "outputs/mirror/talk");
    assert!(message.contains("another mount"), "{message}");
    assert_bytes(&source, b"source video");
}

#[test]
fn g4_tmpfs_inside_a_derived_dir_is_refused_everywhere() {
    let f = fixture();
    put(&f.data.join("outputs/x/a.mp4"), b"a");
    let cache = f.data.join("outputs/x/cache");
    fs::create_dir_all(&cache).expect("mkdir");
    let Some(_m) = tmpfs(&cache) else {
        return;
    };
    fs::write(cache.join("keep.bin"), b"on tmpfs").expect("write");
    let trash = f.root.trash("r1");
    assert!(
        trash
            .take("outputs/x")
            .expect_err("refused")
            .contains("`outputs/x/cache`")
    );
    assert!(trash.take("outputs/x/cache").is_err());
    assert_eq!(count_tree(&f.data.join("outputs/x")), (1, 1));
    assert_eq!(
        trash.take("outputs/x/a.mp4"),
        Ok(Some("outputs/x/a.mp4".into()))
    );
    assert_eq!(trash.purge().files, 1);
    assert_bytes(&cache.join("keep.bin"), b"on tmpfs");
}

#[test]
fn g5_trash_entries_that_are_not_real_directories_are_reported_never_followed() {
    let f = fixture();
    symlink(&f.outside, f.data.join(".trash/evil")).expect("symlink");
    fs::write(f.data.join(".trash/stray"), b"x").expect("write");
    put(&f.data.join(".trash/old/outputs/a.mp4"), b"ab");
    let purged = f.root.purge_all_trash(&HashSet::new());
    assert_eq!((purged.files, purged.bytes), (1, 2));
    let paths: Vec<&str> = purged.errors.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        paths.contains(&".trash/evil") && paths.contains(&".trash/stray"),
        "{paths:?}"
    );
    let direct = f.root.trash("evil").purge();
    assert_eq!(
        direct.errors.first().map(|e| e.0.as_str()),
        Some(".trash/evil")
    );
    assert_bytes(&f.outside.join("precious.mp4"), b"outside bytes");
    assert!(
        fs::symlink_metadata(f.data.join(".trash/evil")).is_ok(),
        "left in place"
    );
    assert!(!f.data.join(".trash/old").exists());
}

#[test]
fn g5_a_mount_point_in_the_trash_is_reported_and_left() {
    let f = fixture();
    let run = f.data.join(".trash/r2");
    fs::create_dir_all(&run).expect("mkdir");
    let Some(_m) = tmpfs(&run) else {
        return;
    };
    fs::write(run.join("keep.bin"), b"on tmpfs").expect("write");
    let purged = f.root.purge_all_trash(&HashSet::new());
    assert_eq!(
        purged.errors.first().map(|e| e.0.as_str()),
        Some(".trash/r2")
    );
    assert_bytes(&run.join("keep.bin"), b"on tmpfs");
}

#[test]
fn g5_a_symlinked_trash_is_never_followed() {
    let f = fixture();
    assert_eq!(trash::TRASH_NAME.to_str(), Ok(TRASH));
    put(&f.data.join("outputs/x/a.mp4"), b"a");
    fs::create_dir_all(f.outside.join("r1")).expect("mkdir");
    fs::remove_dir(f.data.join(TRASH)).expect("rmdir");
    symlink(&f.outside, f.data.join(TRASH)).expect("symlink");
    let trash = f.root.trash("r1");
    let err = trash.take("outputs/x/a.mp4").expect_err("refused");
    assert!(err.contains("`.trash`"), "{err}");
    assert_bytes(&f.data.join("outputs/x/a.mp4"), b"a");
    for purged in [trash.purge(), f.root.purge_all_trash(&HashSet::new())] {
        assert_eq!(purged.errors.first().map(|e| e.0.as_str()), Some(TRASH));
    }
    assert_bytes(&f.outside.join("precious.mp4"), b"outside bytes");
    assert!(f.outside.join("r1").is_dir());
}

#[test]
fn g6_missing_paths_count_as_removed() {
    let f = fixture();
    let trash = f.root.trash("r1");
    assert_eq!(trash.take("outputs/none"), Ok(None));
    assert_eq!(trash.take("outputs/no/such/dir"), Ok(None));
    assert_eq!(trash.measure("outputs/none"), Ok(Measured::default()));
    assert_eq!(f.root.resolve_for_delete("work/none"), Ok(None));
    let purged = f.root.trash("never-taken").purge();
    assert_eq!((purged.files, purged.errors.len()), (0, 0));
}

#[test]
fn g7_non_utf8_names_are_removed_and_counted() {
    let f = fixture();
    let ep = f.data.join("outputs/ep");
    put(&ep.join("ok.txt"), b"123");
    put(&ep.join(OsStr::from_bytes(b"bad\xff.mp4")), b"12345");
    put(&ep.join(OsStr::from_bytes(b"d\xfe")).join("x"), b"1");
    let trash = f.root.trash("r1");
    let measured = trash.measure("outputs/ep").expect("measure");
    assert_eq!((measured.files, measured.bytes), (3, 9));
    assert_eq!(trash.take("outputs/ep"), Ok(Some("outputs/ep".into())));
    let purged = trash.purge();
    assert!(purged.errors.is_empty(), "{:?}", purged.errors);
    assert_eq!((purged.files, purged.bytes), (3, 9));
    assert!(!ep.exists() && !f.data.join(".trash/r1").exists());
}

#[test]
fn g7_non_utf8_errors_name_the_path_unambiguously() {
    assert_eq!(display_bytes(b"bad\xff.mp4"), "bad\\xff.mp4");
    assert_ne!(display_bytes(b"bad\xff"), display_bytes(b"bad\\xff"));
    let f = fixture();
    let dir = f
        .data
        .join(".trash/r1/outputs")
        .join(OsStr::from_bytes(b"m\xff"));
    fs::create_dir_all(&dir).expect("mkdir");
    let Some(_m) = tmpfs(&dir) else {
        return;
    };
    let purged = f.root.trash("r1").purge();
    assert_eq!(
        purged.errors.first().map(|e| e.0.as_str()),
        Some("outputs/m\\xff")
    );
}

#[test]
fn purge_counts_what_measure_saw_across_threads() {
    let f = fixture();
    for ep in 0..5 {
        for k in 0..40 {
            put(
                &f.data.join(format!("outputs/s/{ep}/c{}/f{k}", k % 7)),
                b"xy",
            );
        }
    }
    put(&f.data.join("work/e/a1/tmp.wav"), b"w");
    let trash = f.root.trash("r1");
    let measured = trash.measure("outputs/s").expect("measure");
    assert_eq!((measured.files, measured.bytes), (200, 400));
    assert_eq!(trash.take("outputs/s"), Ok(Some("outputs/s".into())));
    // The same directory taken twice in one run (attempt, then its episode) keeps both.
    assert_eq!(trash.take("work/e/a1"), Ok(Some("work/e/a1".into())));
    put(&f.data.join("work/e/a1/again.wav"), b"w");
    assert_eq!(
        trash.take("work/e"),
        Ok(Some("work/e.~1".into())),
        "stored beside the first"
    );
    let purged = trash.purge();
    assert!(purged.errors.is_empty(), "{:?}", purged.errors);
    assert_eq!((purged.files, purged.bytes), (202, 402));
    assert!(!f.data.join(".trash/r1").exists());
}

#[test]
fn bad_run_ids_address_nothing() {
    let f = fixture();
    put(&f.data.join("outputs/x/a"), b"a");
    for run in ["../inbox", "..", "", "a/b"] {
        let trash = f.root.trash(run);
        assert!(trash.take("outputs/x/a").is_err(), "{run}");
        assert!(!trash.purge().errors.is_empty(), "{run}");
    }
    assert_bytes(&f.data.join("outputs/x/a"), b"a");
}
