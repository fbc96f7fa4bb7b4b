//! Many processes, one registry: PostgreSQL, `ewg serve --workers 0` and `ewg worker` processes sharing a
//! data root — the scale-out setup of the README's "Many machines", on one machine. Always PostgreSQL,
//! whichever engine the rest of the suite runs on.

use crate::db;
use crate::restart::{Server, client, free_port, wait_up};
use crate::support::make_media;
use app::api::{CleanupReport, DiscoverReport, EpisodeList, ProcessOutcome, WorkerList};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `ewg <args>` on the drill's data dir and PostgreSQL database, with a short lease so a killed
/// worker's job is noticed within seconds, and interrupted episodes retried.
fn ewg(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ewg"));
    c.args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .env_remove("DATABASE_URL")
        .env_remove("EWG_TRANSCRIBE_CMD")
        .env("EWG_LOG", "warn");
    c
}

/// A new API token of `role`, made by the CLI on the drill's registry.
fn token(dir: &Path, url: &str, role: &str) -> String {
    let out = ewg(dir, url, &["token", "create", "--role", role])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn spawn(mut c: Command) -> Server {
    Server(
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ewg"),
    )
}

/// `ewg serve --workers 0` (API and UI, no jobs) on a free port, up and answering; `extra` flags appended.
async fn api_only(dir: &Path, url: &str, extra: &[&str]) -> (Server, u16) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut c = ewg(
        dir,
        url,
        &[
            "serve",
            "--workers",
            "0",
            "--lease-secs",
            "2",
            "--addr",
            &addr,
        ],
    );
    c.args(extra);
    let server = spawn(c);
    wait_up(port).await;
    (server, port)
}

/// A worker with its in-flight files in its own `scratch` dir (node-local, as on its own machine).
fn worker(dir: &Path, url: &str, scratch: &Path) -> Server {
    let mut c = ewg(
        dir,
        url,
        &[
            "worker",
            "--workers",
            "1",
            "--lease-secs",
            "2",
            "--retry-interrupted",
            "2",
        ],
    );
    c.arg("--scratch-dir").arg(scratch);
    spawn(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_and_a_kill_process_every_episode_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        &dir.path().join("inbox"),
        &["--shows", "talk", "--episodes", "12", "--seconds", "3"],
    );
    let url = db::postgres_url_for(dir.path());
    let token = token(dir.path(), &url, "admin");
    let (_serve, port) = api_only(dir.path(), &url, &["--retry-interrupted", "2"]).await;
    let api = client(port);
    let found: DiscoverReport = api
        .call(&token, "discover", json!({ "wait": true }))
        .await
        .unwrap();
    assert_eq!(found.added.len(), 12, "{found:?}");
    let ids: Vec<String> = api
        .call::<EpisodeList>(&token, "episodes", json!({ "limit": 100 }))
        .await
        .unwrap()
        .episodes
        .into_iter()
        .map(|e| e.id)
        .collect();
    let queued: ProcessOutcome = api
        .call(&token, "process", json!({ "ids": ids }))
        .await
        .unwrap();
    assert_eq!(queued.jobs.len(), 12);

    // Nothing runs until a worker joins: the server runs no jobs.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before: WorkerList = api.call(&token, "workers", json!({})).await.unwrap();
    assert_eq!(before.queued, 12, "{before:?}");
    // Separate scratch dirs, one on another filesystem (tmpfs): finished files cross by copy + rename.
    let doomed_scratch = tempfile::tempdir().unwrap();
    let steady_scratch = tempfile::tempdir_in("/dev/shm").unwrap();
    let mut doomed = worker(dir.path(), &url, doomed_scratch.path());
    let _steady = worker(dir.path(), &url, steady_scratch.path());

    // Kill the first worker with SIGKILL while it runs a job.
    let doomed_pid = doomed.0.id().to_string();
    let start = Instant::now();
    let (node, victim) = loop {
        let list: WorkerList = api.call(&token, "workers", json!({})).await.unwrap();
        let busy = list.nodes.iter().find(|n| {
            n.role == "worker" && n.id.contains(&format!("-{doomed_pid}.")) && !n.running.is_empty()
        });
        if let Some(n) = busy {
            break (n.id.clone(), n.running[0].clone());
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the worker never ran a job: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();

    // A Deep Clean asked twice at once, through the server and by the CLI (another process): they share
    // one run when they overlap, and two never run at the same time whichever process asks.
    let cli = tokio::task::spawn_blocking({
        let (dir, url) = (dir.path().to_path_buf(), url.clone());
        move || ewg(&dir, &url, &["deep-clean"]).output().unwrap()
    });
    let via_api: CleanupReport = api.call(&token, "deep_clean", json!({})).await.unwrap();
    let via_cli = cli.await.unwrap();
    assert!(via_cli.status.success(), "{via_cli:?}");
    let via_cli: CleanupReport = serde_json::from_slice(&via_cli.stdout).unwrap();
    let runs: Vec<(i64, i64)> = db::sql_url(
        &url,
        "SELECT started_at, finished_at FROM cleanup_runs
         WHERE trigger = 'deep-clean' AND dry_run = 0 ORDER BY started_at",
    )
    .lines()
    .map(|l| {
        let (a, b) = l.split_once('|').expect("two columns");
        (a.parse().unwrap(), b.parse().unwrap())
    })
    .collect();
    let distinct = if via_api.run_id == via_cli.run_id {
        1
    } else {
        2
    };
    assert_eq!(runs.len(), distinct, "one row per Deep Clean: {runs:?}");
    for pair in runs.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two Deep Cleans overlapped: {runs:?}"
        );
    }

    // Every episode ends done, and exactly once.
    let start = Instant::now();
    loop {
        let done = db::sql_url(&url, "SELECT COUNT(*) FROM episodes WHERE state = 'done'");
        if done == "12" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "only {done} of 12 episodes done: {}",
            db::sql_url(&url, "SELECT id, state, error FROM episodes ORDER BY id")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let once = db::sql_url(
        &url,
        "SELECT episode FROM jobs WHERE state = 'done' GROUP BY episode HAVING COUNT(*) <> 1",
    );
    assert_eq!(once, "", "episodes done more than once");
    assert_eq!(
        db::sql_url(
            &url,
            "SELECT COUNT(DISTINCT episode) FROM jobs WHERE state = 'done'"
        ),
        "12"
    );

    // The killed attempt: interrupted, and nothing of it left, on disk or in the registry.
    let killed = db::sql_url(
        &url,
        &format!(
            "SELECT attempt FROM jobs WHERE episode = '{victim}' AND worker = '{node}' AND state = 'interrupted'"
        ),
    );
    let killed: i64 = killed
        .parse()
        .unwrap_or_else(|_| panic!("no interrupted job of {victim}: {killed:?}"));
    // Its scratch was on the killed worker's own disk, where only a process on that machine can see
    // it: the next worker started there sweeps it (the dead process's lock is free), and nothing ever
    // went through the shared work/ dir.
    let leftover = doomed_scratch.path().join(&node);
    assert!(
        leftover.join(".lock").exists(),
        "the killed worker's scratch is still there"
    );
    let _successor = worker(dir.path(), &url, doomed_scratch.path());
    let start = Instant::now();
    while leftover.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a new worker on the same scratch dir never swept the dead one's"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !dir.path().join("work").exists()
            || std::fs::read_dir(dir.path().join("work"))
                .unwrap()
                .next()
                .is_none(),
        "no attempt used the shared work/ dir"
    );
    for scratch in [steady_scratch.path()] {
        for node_dir in std::fs::read_dir(scratch).unwrap().flatten() {
            let left = crate::support::scratch_left(&node_dir.path());
            assert!(
                left.is_empty(),
                "finished attempts left scratch behind: {left:?}"
            );
        }
    }
    assert_eq!(
        db::sql_url(
            &url,
            &format!(
                "SELECT COUNT(*) FROM artifacts WHERE episode = '{victim}' AND attempt = {killed}"
            )
        ),
        "0",
        "no row of the killed attempt"
    );
    // Every episode has the same artifacts (same media), none twice, and every row's file exists.
    let per_episode = db::sql_url(
        &url,
        "SELECT COUNT(DISTINCT n) FROM (SELECT episode, COUNT(*) AS n FROM artifacts GROUP BY episode) c",
    );
    assert_eq!(per_episode, "1", "artifact counts differ between episodes");
    for p in db::sql_url(&url, "SELECT path FROM artifacts").lines() {
        assert!(dir.path().join(p).exists(), "{p} registered but missing");
    }
    // The fleet as the API shows it: the killed worker is not alive, the other is.
    let list: WorkerList = api.call(&token, "workers", json!({})).await.unwrap();
    let dead = list
        .nodes
        .iter()
        .find(|n| n.id == node)
        .expect("killed node listed");
    assert!(!dead.alive, "{dead:?}");
    let alive_workers = list
        .nodes
        .iter()
        .filter(|n| n.role == "worker" && n.alive)
        .count();
    assert_eq!(
        alive_workers, 2,
        "the steady worker and the successor: {list:?}"
    );
    let metrics = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Counted per role: no label names a host or a pid.
    let down_workers = list
        .nodes
        .iter()
        .filter(|n| n.role == "worker" && !n.alive)
        .count();
    assert!(
        metrics.contains("ewg_nodes_up{role=\"worker\"} 2")
            && metrics.contains(&format!("ewg_nodes_down{{role=\"worker\"}} {down_workers}")),
        "{metrics}"
    );
    assert!(!metrics.contains(&node), "{metrics}");
}

#[tokio::test]
async fn a_worker_on_storage_that_is_not_the_shared_root_refuses_to_start() {
    let shared = tempfile::tempdir().unwrap();
    let url = db::postgres_url_for(shared.path());
    let setup = ewg(shared.path(), &url, &["discover"]).output().unwrap();
    assert!(setup.status.success(), "{setup:?}");
    // The share is not mounted here: the worker sees an empty directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = ewg(elsewhere.path(), &url, &["worker"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mount"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // Another data root with its own id: refused too.
    let other = tempfile::tempdir().unwrap();
    let own_url = db::postgres_url_for(other.path());
    assert!(
        ewg(other.path(), &own_url, &["discover"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = ewg(other.path(), &url, &["worker"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("serves data root"));
}

#[test]
fn an_unreachable_postgres_url_is_one_line_exit_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let url = format!("postgres://ewg:secret@127.0.0.1:{}/ewg", free_port());
    let out = Command::new(env!("CARGO_BIN_EXE_ewg"))
        .args(["discover", "--database-url", &url, "--data-dir"])
        .arg(&data)
        .env("EWG_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("127.0.0.1"), "names the database: {err}");
    assert!(!err.contains("secret"), "never prints the password: {err}");
    assert!(!data.exists(), "nothing created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_through_the_server_stops_a_job_on_a_worker_and_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        &dir.path().join("inbox"),
        &[
            "--shows",
            "talk",
            "--episodes",
            "1",
            "--seconds",
            "3",
            "--no-subs",
        ],
    );
    let id = "talk_ep001_2026-01-01";
    let url = db::postgres_url_for(dir.path());
    let token = token(dir.path(), &url, "operator");
    let (_serve, port) = api_only(dir.path(), &url, &[]).await;
    // The worker's transcriber hangs, so the job is mid-way when it is cancelled.
    let marker = dir.path().join("transcriber-started");
    let mut w = ewg(
        dir.path(),
        &url,
        &["worker", "--workers", "1", "--lease-secs", "2"],
    );
    w.env(
        "EWG_TRANSCRIBE_CMD",
        format!("touch '{}' && sleep 120", marker.display()),
    );
    let _worker = spawn(w);
    let api = client(port);
    api.call::<DiscoverReport>(&token, "discover", json!({ "wait": true }))
        .await
        .unwrap();
    api.call::<ProcessOutcome>(&token, "process", json!({ "ids": [id] }))
        .await
        .unwrap();
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never reached transcription"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job: app::api::JobInfo = api
        .call(&token, "cancel", json!({ "id": id }))
        .await
        .expect("cancel");
    // The answer comes once the worker has stopped and cleaned: nothing of the attempt is left.
    assert_eq!(job.state, "cancelled", "{job:?}");
    assert!(
        !dir.path().join(format!("work/{id}/a1")).exists(),
        "scratch cleaned"
    );
    assert!(
        !dir.path().join(format!("audio/{id}.wav")).exists(),
        "audio cleaned"
    );
    let procs = crate::support::ffmpeg_processes(&dir.path().to_string_lossy());
    assert!(procs.is_empty(), "the worker's ffmpeg is gone: {procs:?}");
    let needle = marker.display().to_string();
    let transcriber = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
    });
    assert!(!transcriber, "the worker's transcriber is gone");
    assert_eq!(
        db::sql_url(
            &url,
            &format!("SELECT state FROM episodes WHERE id = '{id}'")
        ),
        "cancelled"
    );
}
