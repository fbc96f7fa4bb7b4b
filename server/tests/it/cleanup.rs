//! The cleanup engine, tested for every defect of the system it replaces: neighbours, escapes, crashes,
//! races with running jobs, undeletable files, concurrent Deep Cleans.

use crate::support::{Env, Options, make_media, wire};
use app::api::{
    CleanupReport, CleanupResult, EpisodeState, ProcessOutcome, ReprocessOutcome, RetryOutcome,
    Stage,
};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub(crate) const TALK: &str = "talk_ep001_2026-01-01";
const TALK1: &str = "talk-1_ep001_2026-01-01";

/// A server with one short generated episode, `talk_ep001_2026-01-01`.
pub(crate) async fn one_talk_episode() -> Env {
    Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        )
    })
    .await
}

pub(crate) async fn process_all(env: &Env, ids: &[&str]) {
    env.ok::<ProcessOutcome>("process", json!({ "ids": ids }))
        .await;
    for id in ids {
        let d = env.wait_settled(id, Duration::from_secs(120)).await;
        assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    }
}

fn under(files: &[String], prefix: &str) -> BTreeSet<String> {
    files
        .iter()
        .filter(|f| f.contains(prefix))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleaning_one_episode_never_touches_a_neighbour_or_a_source_video() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &[
                "--shows",
                "talk,talk-1",
                "--episodes",
                "1",
                "--seconds",
                "2",
            ],
        )
    })
    .await;
    process_all(&env, &[TALK, TALK1]).await;
    let before = env.files();
    let neighbour = under(&before, TALK1);
    assert!(neighbour.len() > 10, "{neighbour:?}");

    let preview: CleanupReport = env.ok("cleanup_episode", json!({ "id": TALK, "include_transcripts": true, "include_audio": true, "dry_run": true })).await;
    assert_eq!(env.files(), before, "a dry run changes nothing");
    let report: CleanupReport = env
        .ok(
            "cleanup_episode",
            json!({ "id": TALK, "include_transcripts": true, "include_audio": true }),
        )
        .await;
    assert_eq!(report.result, CleanupResult::Ok, "{report:?}");
    assert_eq!(report.files, preview.files, "the preview told the truth");
    assert_eq!(report.paths, preview.paths);

    let after = env.files();
    assert_eq!(under(&after, TALK1), neighbour, "neighbour untouched");
    for f in &after {
        assert!(
            !f.contains(&format!("{TALK}/")) && !f.contains(&format!("{TALK}.")),
            "{f} of the cleaned episode survived"
        );
    }
    let sources: Vec<_> = before.iter().filter(|f| f.starts_with("inbox/")).collect();
    assert!(sources.len() >= 4);
    for s in sources {
        assert!(after.contains(s), "source {s} deleted");
    }
    let d = env.episode(TALK).await;
    assert!(
        d.artifacts.is_empty(),
        "registry rows removed with the files"
    );
    assert_eq!(d.episode.stage, Stage::Discovered);
    assert_eq!(
        env.episode(TALK1).await.artifacts.len(),
        before
            .iter()
            .filter(|f| f.contains(TALK1) && !f.starts_with("inbox/"))
            .count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_and_audio_stay_unless_asked_for() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    env.ok::<CleanupReport>("cleanup_episode", json!({ "id": TALK }))
        .await;
    let kinds: BTreeSet<String> = env
        .episode(TALK)
        .await
        .artifacts
        .iter()
        .map(|a| wire(&a.kind))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["audio".to_string(), "transcript".to_string()])
    );
    assert!(env.root().join(format!("audio/{TALK}.wav")).exists());
    assert!(!env.root().join(format!("enriched/{TALK}.json")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_that_try_to_escape_remove_nothing_outside() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("precious.txt");
    std::fs::write(&victim, "keep me").unwrap();
    // No workers: the test itself claims the job it queues.
    let opts = Options {
        workers: 0,
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        )
    })
    .await;
    let reg = &env.studio.registry;
    let stage = app::api::Stage::Clipped;
    // Rows are written by a job that owns the episode (writes are fenced), so register them as one.
    reg.enqueue(TALK, 1, false).await.unwrap();
    let job = reg.claim_job("test", 60_000).await.unwrap().unwrap();
    for bad in [
        "../precious.txt".to_string(),
        victim.display().to_string(),
        "inbox/talk/ep001_2026-01-01.mp4".to_string(),
        format!("outputs/talk/2026/{TALK}/../../../../inbox/talk/ep001_2026-01-01.mp4"),
        format!("outputs/talk/2026/{TALK}-link/precious.txt"),
    ] {
        reg.record_artifact(TALK, "clip", stage, &bad, 7, 1)
            .await
            .unwrap();
    }
    let end = ewg::registry::AttemptEnd {
        episode_state: app::api::EpisodeState::Failed,
        failed: Some((stage, "test")),
    };
    reg.end_job(
        &job,
        ewg::registry::JobState::Failed,
        None,
        Some(&end),
        false,
    )
    .await
    .unwrap();
    // A symlinked directory inside the episode's own output dir, and one in place of a sibling dir.
    let out_dir = env.root().join(format!("outputs/talk/2026/{TALK}"));
    std::fs::create_dir_all(&out_dir).unwrap();
    std::os::unix::fs::symlink(outside.path(), out_dir.join("clips")).unwrap();
    std::os::unix::fs::symlink(
        outside.path(),
        env.root().join(format!("outputs/talk/2026/{TALK}-link")),
    )
    .unwrap();
    std::os::unix::fs::symlink(&victim, env.root().join(format!("enriched/{TALK}.json"))).unwrap();

    let report: CleanupReport = env
        .call(
            &env.operator,
            "cleanup_episode",
            json!({ "id": TALK, "include_transcripts": true, "include_audio": true }),
        )
        .await
        .expect("200");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "keep me",
        "the symlink's target still exists"
    );
    assert!(outside.path().exists());
    assert!(
        env.root().join("inbox/talk/ep001_2026-01-01.mp4").exists(),
        "source video untouched"
    );
    assert!(
        !out_dir.exists(),
        "the episode's own dir (with the link inside) is gone"
    );
    assert!(
        std::fs::symlink_metadata(env.root().join(format!("enriched/{TALK}.json"))).is_err(),
        "the link itself was removed"
    );
    let errors: Vec<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
    assert!(errors.iter().any(|p| p.starts_with("../")), "{report:?}");
    assert!(errors.iter().any(|p| p.starts_with("inbox/")), "{report:?}");
    assert!(
        errors.iter().any(|p| p.ends_with("-link/precious.txt")),
        "{report:?}"
    );
    assert_eq!(report.result, CleanupResult::Partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_cannot_be_removed_is_reported_and_the_rest_is_removed() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    let stuck = env.root().join(format!("social/{TALK}"));
    let locked = lock(&stuck);
    let answer = env
        .call::<CleanupReport>(&env.operator, "cleanup_episode", json!({ "id": TALK }))
        .await;
    unlock(&stuck, locked);
    let report = answer.expect("200");
    assert_eq!(report.result, CleanupResult::Partial, "{report:?}");
    let errors = &report.errors;
    assert_eq!(errors.len(), 1, "{report:?}");
    assert_eq!(errors[0].path, format!("social/{TALK}"));
    assert!(
        !env.root()
            .join(format!("outputs/talk/2026/{TALK}"))
            .exists(),
        "the rest was removed"
    );
    assert!(stuck.join("x.json").exists());
    let d = env.episode(TALK).await;
    let kept: Vec<&str> = d
        .artifacts
        .iter()
        .map(|a| a.path.as_str())
        .filter(|p| p.starts_with("social/"))
        .collect();
    assert_eq!(kept.len(), 5, "rows of files still on disk stay registered");
}

/// Makes a directory impossible to rename: immutable as root, read-only parent otherwise.
pub(crate) fn lock(dir: &Path) -> bool {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if is_root {
        assert!(
            Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .unwrap()
                .success(),
            "chattr +i"
        );
    } else {
        Command::new("chmod")
            .arg("555")
            .arg(dir.parent().unwrap())
            .status()
            .unwrap();
    }
    is_root
}

pub(crate) fn unlock(dir: &Path, was_root: bool) {
    if was_root {
        Command::new("chattr").arg("-i").arg(dir).status().unwrap();
    } else {
        Command::new("chmod")
            .arg("755")
            .arg(dir.parent().unwrap())
            .status()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_deep_cleans_make_one_run() {
    let env = one_talk_episode().await;
    // Enough orphans that the run takes a moment.
    for i in 0..2000 {
        let d = env.root().join(format!("outputs/stray/{}", i % 20));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{i}.tmp")), "x").unwrap();
    }
    let calls = (0..10).map(|_| env.call::<CleanupReport>(&env.admin, "deep_clean", json!({})));
    let results: Vec<CleanupReport> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("200"))
        .collect();
    let ids: BTreeSet<String> = results.iter().map(|r| r.run_id.clone()).collect();
    assert_eq!(ids.len(), 1, "one shared run: {ids:?}");
    let runs = env.studio.registry.list_runs(None, 100).await.unwrap();
    assert_eq!(runs.iter().filter(|r| r.trigger == "deep-clean").count(), 1);
    assert_eq!(results[0].files, 2000);
    assert!(!env.root().join("outputs/stray").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_clean_cleans_failures_orphans_uploads_and_keeps_finished_work() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "2", "--seconds", "2"],
        )
    })
    .await;
    let done = TALK;
    let failed = "talk_ep002_2026-01-02";
    process_all(&env, &[done]).await;
    std::fs::write(
        env.root().join("inbox/talk/ep002_2026-01-02.fail-at"),
        "package",
    )
    .unwrap();
    env.ok::<ProcessOutcome>("process", json!({ "ids": [failed] }))
        .await;
    assert_eq!(
        env.wait_settled(failed, Duration::from_secs(120))
            .await
            .episode
            .state,
        EpisodeState::Failed
    );
    // Something the failed episode left that its failure cleanup could not know about, plus orphans.
    std::fs::create_dir_all(env.root().join(format!("social/{failed}"))).unwrap();
    std::fs::write(env.root().join(format!("social/{failed}/draft.json")), "{}").unwrap();
    std::fs::write(
        env.root()
            .join(format!("outputs/talk/2026/{done}/stray.tmp")),
        "x",
    )
    .unwrap();
    std::fs::write(env.root().join("uploads/abandoned.part"), "half a video").unwrap();
    let done_files = env.studio.registry.artifacts_of(done).await.unwrap();

    let preview: CleanupReport = env.ok("deep_clean", json!({ "dry_run": true })).await;
    let paths: Vec<&str> = preview.paths.iter().map(String::as_str).collect();
    assert!(paths.contains(&"uploads/abandoned.part"), "{preview:?}");
    assert!(
        paths.iter().any(|p| p.ends_with("stray.tmp")),
        "{preview:?}"
    );
    let report: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert_eq!(report.result, CleanupResult::Ok, "{report:?}");
    assert!(!env.root().join("uploads/abandoned.part").exists());
    assert!(!env.root().join(format!("social/{failed}")).exists());
    assert!(
        !env.root()
            .join(format!("outputs/talk/2026/{done}/stray.tmp"))
            .exists()
    );
    for a in &done_files {
        assert!(
            env.root().join(&a.path).exists(),
            "finished output {} must stay",
            a.path
        );
    }
    let trash: Vec<_> = std::fs::read_dir(env.root().join(".trash"))
        .unwrap()
        .collect();
    assert!(trash.is_empty(), "trash purged");
    assert_eq!(
        env.episode(failed).await.episode.state,
        EpisodeState::Failed,
        "the failure stays visible"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orphan_sweep_refuses_when_the_data_root_looks_unmounted() {
    let env = one_talk_episode().await;
    process_all(&env, &[TALK]).await;
    // Simulate an unmounted volume: every derived file vanishes while the registry still lists them.
    for dir in [
        "outputs",
        "public",
        "social",
        "audio",
        "transcripts",
        "enriched",
    ] {
        std::fs::remove_dir_all(env.root().join(dir)).unwrap();
        std::fs::create_dir_all(env.root().join(dir)).unwrap();
    }
    std::fs::write(env.root().join("outputs/looks-orphaned.mp4"), "x").unwrap();
    let report: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert_eq!(report.result, CleanupResult::Failed, "{report:?}");
    assert!(report.errors[0].message.contains("mounted"), "{report:?}");
    assert!(env.root().join("outputs/looks-orphaned.mp4").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_cleans_verifies_and_reaches_the_end() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        );
        std::fs::write(inbox.join("talk/ep001_2026-01-01.fail-at"), "clips").unwrap();
    })
    .await;
    env.ok::<ProcessOutcome>("process", json!({ "ids": [TALK] }))
        .await;
    let d = env.wait_settled(TALK, Duration::from_secs(120)).await;
    assert_eq!(d.episode.failed_stage, Some(Stage::Clipped));
    std::fs::remove_file(env.root().join("inbox/talk/ep001_2026-01-01.fail-at")).unwrap();
    // Leftovers a crashed cleanup might have left: retry must remove them before it requeues.
    std::fs::create_dir_all(env.root().join(format!("work/{TALK}/a1"))).unwrap();
    std::fs::write(env.root().join(format!("work/{TALK}/a1/partial.mp4")), "x").unwrap();
    let (s, e) = env
        .fail(
            &env.operator,
            "retry_failed",
            json!({ "ids": ["talk_ep404_2026-01-01"] }),
        )
        .await;
    assert_eq!(s, 404, "{e:?}");
    let out: RetryOutcome = env.ok("retry_failed", json!({})).await;
    assert_eq!(out.jobs.len(), 1, "{out:?}");
    assert!(
        out.report
            .paths
            .iter()
            .any(|p| *p == format!("work/{TALK}/a1")),
        "{out:?}"
    );
    let d = env.wait_settled(TALK, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    assert_eq!(d.episode.attempt, 2);
    assert!(d.artifacts.iter().all(|a| a.attempt == 2));
    assert!(!env.root().join(format!("work/{TALK}/a1")).exists());
    let (s, e) = env
        .fail(&env.operator, "retry_failed", json!({ "ids": [TALK] }))
        .await;
    assert_eq!(s, 409, "retrying a finished episode is a conflict: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_reprocess_stops_the_writing_job_first_and_leaves_nothing_of_the_old_attempt() {
    let env = Env::start(|inbox| {
        make_media(inbox, &["--shows", "talk", "--episodes", "1", "--seconds", "60", "--size", "640x360"]);
        std::fs::write(
            inbox.join("talk/ep001_2026-01-01.vtt"),
            "WEBVTT\n\n00:00:00.000 --> 00:00:25.000\nthe first long part about cleanup\n\n00:00:25.000 --> 00:00:50.000\nthe second long part about caches\n",
        )
        .unwrap();
    })
    .await;
    env.ok::<ProcessOutcome>("process", json!({ "ids": [TALK] }))
        .await;
    env.wait_until_clipping(TALK).await;
    let dry: ReprocessOutcome = env
        .call(
            &env.operator,
            "force_reprocess",
            json!({ "id": TALK, "dry_run": true }),
        )
        .await
        .expect("200");
    assert!(dry.job.is_none());
    let out: ReprocessOutcome = env.ok("force_reprocess", json!({ "id": TALK })).await;
    assert_eq!(out.job.as_ref().map(|j| j.attempt), Some(2), "{out:?}");
    // Right after the call: the old job is stopped and nothing of attempt 1 is on disk or registered.
    let rows = env.studio.registry.artifacts_of(TALK).await.unwrap();
    assert!(rows.iter().all(|r| r.attempt == 2), "{rows:?}");
    assert!(!env.root().join(format!("work/{TALK}/a1")).exists());
    assert!(
        !env.root().join(format!("audio/{TALK}.wav")).exists()
            || rows.iter().any(|r| r.kind == "audio")
    );
    let d = env.wait_settled(TALK, Duration::from_secs(180)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    assert!(d.artifacts.iter().all(|a| a.attempt == 2));
    let derived: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| !f.starts_with("inbox/"))
        .collect();
    assert_eq!(derived.len(), d.artifacts.len(), "{derived:?}");
}

#[test]
#[cfg_attr(
    not(feature = "testing"),
    ignore = "needs the failpoints: cargo test -p ewg --features testing"
)]
fn a_crash_between_rename_and_purge_is_finished_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        &dir.path().join("inbox"),
        &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
    );
    let ewg = |args: &[&str]| {
        let mut c = crate::db::ewg(dir.path());
        c.args(args);
        c
    };
    assert!(ewg(&["discover"]).output().unwrap().status.success());
    let out = ewg(&["process", TALK]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |sql: &str| crate::db::sql(dir.path(), sql).parse::<i64>().unwrap();
    let rows = count("SELECT COUNT(*) FROM artifacts");
    assert!(rows > 10);

    let crashed = ewg(&["clean", TALK])
        .env("EWG_FAILPOINTS", "run.after_trash=crash")
        .output()
        .unwrap();
    assert!(
        !crashed.status.success(),
        "the failpoint must kill the process"
    );
    let trash_files = crate::support::count_files(&dir.path().join(".trash"));
    assert!(
        trash_files > 0,
        "files were moved to the trash before the crash"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM artifacts"),
        rows,
        "the registry was not committed"
    );

    // The next run (any command opens the registry and recovers) finishes the job.
    let out = ewg(&["deep-clean", "--dry-run"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        crate::support::count_files(&dir.path().join(".trash")),
        0,
        "trash purged"
    );
    // A plain clean keeps the audio and the three transcript files; everything else's rows are gone.
    assert_eq!(
        count("SELECT COUNT(*) FROM artifacts WHERE kind = 'audio'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM artifacts WHERE kind = 'transcript'"),
        3
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM artifacts WHERE kind NOT IN ('audio', 'transcript')"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM cleanup_runs WHERE phase <> 'done'"),
        0
    );
    // Registry and disk agree: every row's file exists.
    let paths = crate::db::sql(dir.path(), "SELECT path FROM artifacts");
    for p in paths.lines() {
        assert!(dir.path().join(p).exists(), "{p} registered but missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_cleanup_sweeps_only_what_is_stale() {
    let env = one_talk_episode().await;
    let age = |p: &Path, secs: u64| {
        let t = std::time::SystemTime::now() - Duration::from_secs(secs);
        std::fs::File::open(p).unwrap().set_modified(t).unwrap();
    };
    let old_upload = env.root().join("uploads/old.part");
    let new_upload = env.root().join("uploads/new.part");
    std::fs::write(&old_upload, "abandoned").unwrap();
    std::fs::write(&new_upload, "still arriving").unwrap();
    age(&old_upload, 7200);
    let old_work = env.root().join(format!("work/{TALK}"));
    std::fs::create_dir_all(old_work.join("a3")).unwrap();
    std::fs::write(old_work.join("a3/partial.wav"), "x").unwrap();
    age(&old_work, 7200);
    let fresh_work = env.root().join("work/talk_ep002_2026-01-02");
    std::fs::create_dir_all(&fresh_work).unwrap();

    let report = env
        .studio
        .cleanup
        .scheduled()
        .await
        .unwrap()
        .expect("something was stale");
    assert_eq!(report.trigger, "schedule");
    assert_eq!(report.result, app::api::CleanupResult::Ok, "{report:?}");
    assert!(!old_upload.exists() && !old_work.exists(), "{report:?}");
    assert!(
        new_upload.exists() && fresh_work.exists(),
        "fresh things stay: {report:?}"
    );
    assert!(
        env.studio.cleanup.scheduled().await.unwrap().is_none(),
        "nothing stale left, no empty run recorded"
    );
}
