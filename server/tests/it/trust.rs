//! Trust under hostile conditions, through the real server: clients that disconnect, a CLI beside the
//! server, a lost registry, races on one episode, crashes between a job's writes, a job reaped while it
//! still runs, mounts inside the derived tree.

use crate::cleanup::{TALK, one_talk_episode, process_all};
use crate::restart::{client, free_port, serve, serve_with, wait_up};
use crate::support::{Env, make_media, wire};
use app::api::{CleanupReport, EpisodeState, ProcessOutcome, Stage};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A client that gives up almost at once: a closed tab, a proxy timeout.
fn impatient() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap()
}

fn strays(root: &Path, n: usize) {
    for i in 0..n {
        let d = root.join(format!("outputs/stray/{}", i % 40));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{i}.tmp")), "x").unwrap();
    }
}

/// Waits until no cleanup run is live in the registry.
async fn runs_settle(env: &Env) {
    let start = Instant::now();
    while !env.studio.registry.live_runs().await.unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "a run never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sql(root: &Path, q: &str) -> String {
    crate::db::sql(root, q)
}

/// Every artifact row's file exists: the registry and the disk agree.
fn registry_matches_disk(root: &Path) {
    for p in sql(root, "SELECT path FROM artifacts").lines() {
        assert!(root.join(p).exists(), "{p} registered but missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_deep_clean_neither_stops_nor_parks_the_run() {
    let env = one_talk_episode().await;
    strays(env.root(), 20_000);
    // The client goes away once the run has begun (not on a timer: on a busy machine a timer can fire
    // before the request reaches the server, and then there is no run to keep going).
    let request = env
        .http
        .post(format!("{}/api/deep_clean", env.base))
        .bearer_auth(&env.admin)
        .json(&json!({}))
        .send();
    let client = tokio::spawn(request);
    let start = Instant::now();
    while env.studio.registry.live_runs().await.unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run never began"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.abort();
    let gone = client.await;
    assert!(
        gone.is_err_and(|e| e.is_cancelled()),
        "the client was meant to give up before the answer"
    );
    runs_settle(&env).await;
    let runs = env.studio.registry.list_runs(None, 10).await.unwrap();
    let first = runs
        .iter()
        .find(|r| r.trigger == "deep-clean")
        .expect("the run was recorded");
    assert_eq!(
        wire(&first.result),
        "ok",
        "{first:?}; errors: {}",
        sql(env.root(), "SELECT path, message FROM cleanup_errors")
    );
    assert_eq!(first.files, 20_000);
    assert!(
        !env.root().join("outputs/stray").exists(),
        "its work was done"
    );
    // The next click is a new run with a new plan, not the old report.
    let next: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert_ne!(next.run_id, first.run_id);
    assert_eq!(next.files, 0, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_episode_cleanup_still_gets_the_registry_commit() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    let _ = impatient()
        .post(format!("{}/api/cleanup_episode", env.base))
        .bearer_auth(&env.operator)
        .json(&json!({ "id": TALK }))
        .send()
        .await;
    runs_settle(&env).await;
    let d = env.episode(TALK).await;
    assert_eq!(
        d.episode.state,
        EpisodeState::Idle,
        "the episode was reset: {d:?}"
    );
    assert_eq!(d.episode.stage, Stage::Discovered);
    let kinds: Vec<&str> = d.artifacts.iter().map(|a| a.kind.as_str()).collect();
    assert!(
        kinds.iter().all(|k| *k == "audio" || *k == "transcript"),
        "{kinds:?}"
    );
    assert!(
        !env.root()
            .join(format!("outputs/talk/2026/{TALK}"))
            .exists()
    );
    registry_matches_disk(env.root());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_command_beside_a_live_deep_clean_leaves_it_alone() {
    let env = one_talk_episode().await;
    strays(env.root(), 20_000);
    let call = env.call::<CleanupReport>(&env.admin, "deep_clean", json!({}));
    let cli = async {
        // Wait until the server's run is live, then run a CLI command on the same data root.
        while env.studio.registry.live_runs().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        crate::db::ewg(env.root())
            .args(["token", "create", "--role", "viewer"])
            .output()
            .unwrap()
    };
    let (report, out) = tokio::join!(call, cli);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report.expect("deep clean");
    assert_eq!(wire(&report.result), "ok", "{report:?}");
    assert_eq!(
        report.files, 20_000,
        "the run was not taken over: {report:?}"
    );
    let actor = sql(
        env.root(),
        &format!(
            "SELECT actor FROM cleanup_runs WHERE id = '{}'",
            report.run_id
        ),
    );
    assert_eq!(actor, "token:test#1", "the server's run kept its record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_registry_makes_deep_clean_stop_and_ask_before_touching_finished_outputs() {
    // Two short episodes (one clip each): more finished outputs than the guard's 20-file threshold.
    let env = crate::support::Env::start(|inbox| {
        crate::support::make_media(
            inbox,
            &["--shows", "talk", "--episodes", "2", "--seconds", "2"],
        )
    })
    .await;
    process_all(&env, &[TALK, "talk_ep002_2026-01-02"]).await;
    let derived = || -> Vec<String> {
        env.files()
            .into_iter()
            .filter(|f| !f.contains(".db"))
            .collect()
    };
    let before = derived();
    let ewg = |args: &[&str]| {
        // A second registry for the same data dir: another SQLite file, or another PostgreSQL database.
        let restored = crate::db::url_for(&env.root().join("restored"))
            .unwrap_or_else(|| format!("sqlite://{}", env.root().join("restored.db").display()));
        Command::new(env!("CARGO_BIN_EXE_ewg"))
            .args(args)
            .arg("--data-dir")
            .arg(env.root())
            .arg("--database-url")
            .arg(restored)
            .output()
            .unwrap()
    };
    // A fresh registry beside the old data: every finished output looks orphaned.
    let out = ewg(&["deep-clean"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "must stop: {stderr}");
    assert!(stderr.contains("fresh or restored registry"), "{stderr}");
    let count: i64 = stderr
        .split("\"confirm_orphans\": ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("the refusal names the count to confirm");
    assert!(count >= 20, "{stderr}");
    assert_eq!(derived(), before, "nothing deleted");
    // A confirmation that does not match is refused (400: exit 2), and deletes nothing either.
    let wrong = ewg(&["deep-clean", "--confirm-orphans", &(count + 1).to_string()]);
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("confirm_orphans"));
    assert_eq!(derived(), before, "nothing deleted");
    // The same through the server: 409 with the counts, nothing deleted.
    let (status, e) = env
        .fail(&env.admin, "deep_clean", json!({ "confirm_orphans": -1 }))
        .await;
    assert_eq!(status, 400, "{e:?}");
    assert!(e.to_string().contains("confirm_orphans"), "{e:?}");
    // Confirmed with the right count, it goes ahead.
    let ok = ewg(&["deep-clean", "--confirm-orphans", &count.to_string()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        !env.root()
            .join(format!("outputs/talk/2026/{TALK}"))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_rounds_of_clean_racing_process_on_one_episode_end_consistent() {
    let env = one_talk_episode().await;
    for round in 0..50 {
        let clean =
            env.call::<CleanupReport>(&env.operator, "cleanup_episode", json!({ "id": TALK }));
        let process = env.call::<ProcessOutcome>(
            &env.operator,
            "process",
            json!({ "ids": [TALK], "clear_cache": round % 2 == 0 }),
        );
        let (c, p) = tokio::join!(clean, process);
        for status in [c.err().map(|e| e.0), p.err().map(|e| e.0)]
            .into_iter()
            .flatten()
        {
            assert_eq!(status, 409, "round {round}: only a conflict may refuse");
        }
        if env.studio.registry.live_job(TALK).await.unwrap().is_some() {
            let _ = env
                .call::<serde_json::Value>(&env.operator, "cancel", json!({ "id": TALK }))
                .await;
        }
        runs_settle(&env).await;
        let d = env.episode(TALK).await;
        assert!(
            !matches!(
                d.episode.state,
                EpisodeState::Queued | EpisodeState::Running
            ) || d.job.is_some(),
            "round {round}: {d:?}"
        );
        assert_eq!(
            sql(
                env.root(),
                "SELECT COUNT(*) FROM episodes WHERE cleanup_run IS NOT NULL"
            ),
            "0"
        );
        registry_matches_disk(env.root());
    }
    // It can still be processed to the end, and Deep Clean then finds nothing of it to sweep.
    let _ = env
        .call::<CleanupReport>(&env.operator, "cleanup_episode", json!({ "id": TALK }))
        .await;
    process_all(&env, &[TALK]).await;
    let preview: CleanupReport = env.ok("deep_clean", json!({ "dry_run": true })).await;
    assert!(
        preview.paths.iter().all(|p| !p.contains(TALK)),
        "{preview:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reaped_while_it_runs_cannot_overwrite_the_episode() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "6"],
        )
    })
    .await;
    env.ok::<ProcessOutcome>("process", json!({ "ids": [TALK] }))
        .await;
    env.wait_until_clipping(TALK).await;
    // The reaper's view after a clock jump or a stall: the lease is over. (Retried until the reaper wins
    // the race with the job's own heartbeat.)
    let start = Instant::now();
    loop {
        sql(
            env.root(),
            "UPDATE jobs SET lease_until = 0 WHERE state = 'running'",
        );
        env.studio.cleanup.repair_registry().await.unwrap();
        if sql(
            env.root(),
            "SELECT COUNT(*) FROM jobs WHERE state = 'interrupted'",
        ) == "1"
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the reaper never took the job"
        );
    }
    // Give the reaped job time to notice (heartbeat) and stop; it must not write done or any file row.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let d = env.episode(TALK).await;
    assert_eq!(d.episode.state, EpisodeState::Failed, "{d:?}");
    assert_eq!(d.episode.error.as_deref(), Some("interrupted"));
    assert!(d.artifacts.is_empty(), "{:?}", d.artifacts);
    let needle = env.root().to_string_lossy().into_owned();
    assert!(
        crate::support::ffmpeg_processes(&needle).is_empty(),
        "its ffmpeg was stopped"
    );
    registry_matches_disk(env.root());
}

#[tokio::test]
#[cfg_attr(
    not(feature = "testing"),
    ignore = "needs the failpoints: cargo test -p ewg --features testing"
)]
async fn a_crash_between_a_failed_jobs_two_end_writes_keeps_its_reason_and_cleans_it() {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        &dir.path().join("inbox"),
        &["--episodes", "1", "--seconds", "2"],
    );
    let id = "demo-show_ep001_2026-01-01";
    std::fs::write(
        dir.path().join("inbox/demo-show/ep001_2026-01-01.fail-at"),
        "enriched",
    )
    .unwrap();
    let token = crate::db::ewg(dir.path())
        .args(["token", "create", "--role", "operator"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let discovered = crate::db::ewg(dir.path())
        .args(["discover"])
        .output()
        .unwrap();
    assert!(discovered.status.success());
    // A server with the failpoint: it dies right after recording the failure.
    let port = free_port();
    let crashing = serve_with(
        dir.path(),
        port,
        &[("EWG_FAILPOINTS", "job.after_outcome=crash")],
    );
    wait_up(port).await;
    let api = client(port);
    let _ = api
        .call::<ProcessOutcome>(&token, "process", json!({ "ids": [id] }))
        .await;
    let mut crashing = crashing;
    let start = Instant::now();
    while crashing.0.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the failpoint never fired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sql(
            dir.path(),
            &format!("SELECT state FROM episodes WHERE id = '{id}'")
        ),
        "failed"
    );
    // The next start finishes it: the reason stays, the attempt is cleaned, the job is closed.
    let port = free_port();
    let _second = serve(dir.path(), port, None);
    wait_up(port).await;
    let api = client(port);
    let start = Instant::now();
    loop {
        let d: app::api::EpisodeDetail = api
            .call(&token, "episode", json!({ "id": id }))
            .await
            .unwrap();
        if d.job.is_none() && d.artifacts.is_empty() {
            assert_eq!(d.episode.state, EpisodeState::Failed);
            assert_eq!(d.episode.failed_stage, Some(Stage::Enriched), "{d:?}");
            let reason = d.episode.error.unwrap_or_default();
            assert!(
                reason.contains("injected"),
                "the original reason stays: {reason}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never repaired: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!dir.path().join(format!("work/{id}/a1")).exists());
    registry_matches_disk(dir.path());
}

/// Unmounts when dropped, however the test ends.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_mount_inside_the_derived_tree_never_loses_the_source_videos() {
    let env = one_talk_episode().await;
    let inbox = env.root().join("inbox/talk");
    let videos_before = crate::support::count_files(&inbox);
    // A mirror of the inbox mounted inside outputs/, where the orphan sweep looks.
    let mirror = env.root().join("outputs/mirror/talk");
    std::fs::create_dir_all(&mirror).unwrap();
    let mounted = Command::new("mount")
        .arg("--bind")
        .arg(&inbox)
        .arg(&mirror)
        .output()
        .unwrap();
    if !mounted.status.success() {
        eprintln!(
            "SKIPPED: mount --bind is not allowed here: {}",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        return;
    }
    let _guard = Mounted(mirror.clone());
    let report: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert_ne!(
        wire(&report.result),
        "ok",
        "the mount is reported, not silently skipped: {report:?}"
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.path.starts_with("outputs/mirror")),
        "{report:?}"
    );
    assert_eq!(
        crate::support::count_files(&inbox),
        videos_before,
        "source videos are all there"
    );
    assert!(inbox.join("ep001_2026-01-01.mp4").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_in_the_trash_is_reported_and_never_followed() {
    let env = one_talk_episode().await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(outside.path(), env.root().join(".trash/evil")).unwrap();
    let report: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.path.contains(".trash/evil") || e.path == "evil"),
        "the odd trash entry is reported: {report:?}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("precious.txt")).unwrap(),
        "keep me",
        "what it points to is untouched"
    );
    // And a scheduled cleanup does not follow it either.
    env.studio.cleanup.scheduled().await.unwrap();
    assert!(outside.path().join("precious.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_deep_clean_beside_a_slow_upload_spares_it_and_the_upload_completes() {
    use crate::upload::{VIDEO, raw_request, read_response, real_episode, wait_in_flight};
    use tokio::io::AsyncWriteExt;
    let env = Env::start(|_| {}).await;
    let (_media, video, _) = real_episode();
    let half = video.len() / 2;
    let q = format!("show=uploaded&name={VIDEO}");
    let framing = format!("Content-Length: {}", video.len());
    let mut s = raw_request(&env, &q, &env.operator, &framing).await;
    s.write_all(&video[..half]).await.unwrap();
    let part = wait_in_flight(&env).await;
    // Another process on the same data root: it sees the upload in the registry, not in its memory.
    let report: CleanupReport = crate::db::ewg_json(env.root(), &["deep-clean"]);
    assert!(!report.paths.contains(&part), "{report:?}");
    assert!(
        env.root().join(&part).exists(),
        "an upload in flight was swept"
    );
    s.write_all(&video[half..]).await.unwrap();
    let (status, body) = read_response(s).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read(env.root().join("inbox/uploaded").join(VIDEO)).unwrap(),
        video
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_cleanup_never_queues_and_the_call_says_why() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    let stuck = env.root().join(format!("social/{TALK}"));
    let locked = crate::cleanup::lock(&stuck);
    let answer = env
        .fail(&env.operator, "force_reprocess", json!({ "id": TALK }))
        .await;
    crate::cleanup::unlock(&stuck, locked);
    let (status, e) = answer;
    assert_eq!(status, 409, "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("not queued") && msg.contains(&format!("social/{TALK}")),
        "{msg}"
    );
    let d = env.episode(TALK).await;
    assert!(d.job.is_none(), "nothing was queued: {d:?}");
    assert_eq!(d.episode.state, EpisodeState::Idle, "{d:?}");
    assert_eq!(d.episode.stage, Stage::Discovered);
    assert!(
        d.artifacts.iter().all(|a| a.path.starts_with("social/")),
        "rows of what is left stay, the rest went: {:?}",
        d.artifacts
    );
    registry_matches_disk(env.root());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_cache_on_start_keeps_the_transcripts_and_audio_the_user_kept() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    // A plain clean keeps transcripts and audio.
    let _: CleanupReport = env
        .call(&env.operator, "cleanup_episode", json!({ "id": TALK }))
        .await
        .expect("clean");
    let kept = [
        format!("audio/{TALK}.wav"),
        format!("transcripts/{TALK}.vtt"),
    ];
    for k in &kept {
        assert!(env.root().join(k).exists(), "{k} kept by the clean");
    }
    let out: ProcessOutcome = env
        .call(
            &env.operator,
            "process",
            json!({ "ids": [TALK], "clear_cache": true }),
        )
        .await
        .expect("process");
    assert_eq!(out.jobs.len(), 1);
    for k in &kept {
        assert!(
            env.root().join(k).exists(),
            "{k} survived clear-cache-on-start"
        );
    }
    let runs = env.studio.registry.list_runs(Some(TALK), 5).await.unwrap();
    // A first Start is audited as a start, not a retry (nothing had failed).
    assert!(
        runs.iter().all(|r| r.trigger != "retry"),
        "a start is no retry: {runs:?}"
    );
    let retry = runs
        .iter()
        .find(|r| r.trigger == "start")
        .expect("the start's cleanup run");
    assert_eq!(
        retry.files, 0,
        "nothing the user kept was removed: {retry:?}"
    );
}
