//! Real processes, no mocks: every test starts `sh`, finds its group through `/proc` and checks that no
//! live (non-zombie) member is left. Zombies are ignored because they run nothing and the container's
//! init may be slow to reap orphans.

use super::*;
use std::path::Path;
use std::time::Instant;

/// Live members of process group `pgid`, from `/proc/<pid>/stat` (`pid (comm) state ppid pgrp ...`).
fn live_members(pgid: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[0] != "Z" && f[0] != "X" && f[2] == pgid.to_string() {
            pids.push(pid);
        }
    }
    pids
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `sh -c` that writes its pid (= its group id) to `pidfile`, then runs `script`.
fn shell(pidfile: &Path, script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("echo $$ > '{}'; {script}", pidfile.display()));
    c
}

fn read_pgid(pidfile: &Path) -> i32 {
    let mut pgid = 0;
    wait_until("the shell's pid file", || {
        pgid = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pgid > 0
    });
    pgid
}

const TWO_SLEEPS: &str = "sleep 300 & sleep 300";

/// sh, its two sleeps and the watchdog.
fn wait_for_group(pgid: i32) {
    wait_until("sh, both sleeps and the watchdog", || {
        live_members(pgid).len() >= 4
    });
}

// The test thread blocks while polling /proc, so the job needs a worker of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_shell_leaves_no_process_of_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let cancel = CancellationToken::new();
    let job = tokio::spawn({
        let (cmd, cancel) = (shell(&pidfile, TWO_SLEEPS), cancel.clone());
        async move { run(cmd, &cancel, None).await }
    });
    let pgid = read_pgid(&pidfile);
    wait_for_group(pgid);
    cancel.cancel();
    let res = job.await.unwrap();
    assert!(matches!(res, Err(ToolError::Cancelled)), "{res:?}");
    wait_until("the group to be gone", || live_members(pgid).is_empty());
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let started = Instant::now();
    let res = run(
        shell(&pidfile, TWO_SLEEPS),
        &CancellationToken::new(),
        Some(Duration::from_secs(1)),
    )
    .await;
    assert!(
        matches!(&res, Err(ToolError::TimedOut { after, .. }) if after.as_secs() == 1),
        "{res:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let pgid = read_pgid(&pidfile);
    wait_until("the group to be gone", || live_members(pgid).is_empty());
    let msg = res.unwrap_err().to_string();
    assert!(msg.contains("did not finish within 1 s"), "{msg}");
}

// The test thread blocks while polling /proc, so the job needs a worker of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_run_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let job = tokio::spawn({
        let cmd = shell(&pidfile, TWO_SLEEPS);
        async move { run(cmd, &CancellationToken::new(), None).await }
    });
    let pgid = read_pgid(&pidfile);
    wait_for_group(pgid);
    job.abort();
    assert!(job.await.unwrap_err().is_cancelled());
    wait_until("the group to be gone", || live_members(pgid).is_empty());
}

#[tokio::test]
async fn a_finished_leader_takes_its_background_jobs_along() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    // Without the group kill, `sleep` would hold stdout open and this would wait 300 s.
    let out = run(
        shell(&pidfile, "sleep 300 & echo done"),
        &CancellationToken::new(),
        Some(Duration::from_secs(30)),
    )
    .await
    .unwrap();
    assert_eq!(out, b"done\n");
    let pgid = read_pgid(&pidfile);
    wait_until("the group to be gone", || live_members(pgid).is_empty());
}

#[tokio::test]
async fn failures_carry_the_end_of_stderr() {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("echo one >&2; echo two >&2; echo why >&2; exit 3");
    let err = run(c, &CancellationToken::new(), None).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("one | two | why"), "{msg}");
    assert!(msg.contains("exit status: 3"), "{msg}");
    let missing = run(
        Command::new("/nonexistent/tool"),
        &CancellationToken::new(),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, ToolError::Spawn { .. }), "{missing:?}");
}

/// What happens when the server is SIGKILLed, short of killing the test binary: the kernel closes the
/// watch pipe's write end, and the watchdog kills the group, grandchildren of `sh -c` included.
#[tokio::test]
async fn the_group_dies_when_the_server_side_of_the_watch_pipe_closes() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let c = spawn(shell(&pidfile, TWO_SLEEPS)).unwrap();
    let pgid = c.group.id();
    assert_eq!(read_pgid(&pidfile), pgid);
    wait_for_group(pgid);
    // Close our end without killpg, as the kernel does for a dead server.
    let GroupChild { group, child, .. } = c;
    let watch = unsafe { std::ptr::read(&group._watch) };
    std::mem::forget(group);
    drop(watch);
    wait_until("the watchdog to kill the group", || {
        live_members(pgid).is_empty()
    });
    drop(child);
}

/// PR_SET_PDEATHSIG: the leader dies with the thread that spawned it (so, with the server's runtime).
#[test]
fn the_leader_dies_with_the_thread_that_spawned_it() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let cmd = shell(&pidfile, "exec sleep 300");
    let pgid = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let c = spawn(cmd).unwrap();
            let pgid = c.group.id();
            // Neither kill nor close the watch pipe: only the thread's exit may end the leader.
            std::mem::forget(c);
            pgid
        })
    })
    .join()
    .unwrap();
    wait_until("the leader to die", || !live_members(pgid).contains(&pgid));
    // The watchdog (its pipe leaked on purpose above) is still there; end it.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    wait_until("the group to be gone", || live_members(pgid).is_empty());
}
