//! The pipeline end to end, with real ffmpeg on generated media, through the real HTTP API.

use crate::support::{Env, Options, ffmpeg_processes, make_media, wire};
use app::api::{DiscoverReport, EpisodeState, ErrorCode, JobInfo, ProcessOutcome, Stage};
use serde_json::json;
use std::time::Duration;

const GOOD: &str = "demo-show_ep001_2026-01-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_episode_reaches_packaged_with_every_artifact_on_disk_and_in_the_registry() {
    let env = Env::start(|inbox| make_media(inbox, &["--episodes", "1", "--seconds", "4"])).await;
    let out: ProcessOutcome = env.ok("process", json!({ "ids": [GOOD] })).await;
    assert_eq!(out.jobs.len(), 1);
    let d = env.wait_settled(GOOD, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    assert_eq!(d.episode.stage, Stage::Packaged);
    assert!(d.episode.error.is_none());

    let artifacts = &d.artifacts;
    let paths: Vec<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for expected in [
        format!("audio/{GOOD}.wav"),
        format!("transcripts/{GOOD}.vtt"),
        format!("transcripts/{GOOD}.txt"),
        format!("transcripts/{GOOD}.json"),
        format!("enriched/{GOOD}.json"),
        format!("public/shows/demo-show/{GOOD}/index.html"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/16x9_clean.mp4"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/16x9_subtitled.mp4"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/9x16_clean.mp4"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/9x16_subtitled.mp4"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/thumb.jpg"),
        format!("outputs/demo-show/2026/{GOOD}/clips/1/posts.json"),
        format!("social/{GOOD}/x.json"),
        format!("social/{GOOD}/youtube.json"),
        format!("social/{GOOD}/instagram.json"),
        format!("social/{GOOD}/tiktok.json"),
        format!("social/{GOOD}/facebook.json"),
    ] {
        assert!(
            paths.contains(&expected.as_str()),
            "{expected} not registered: {paths:?}"
        );
    }
    // Registry and disk agree, byte for byte, and nothing unregistered was left behind.
    for a in artifacts {
        let p = env.root().join(&a.path);
        let len = std::fs::metadata(&p)
            .unwrap_or_else(|_| panic!("{} missing", p.display()))
            .len();
        assert_eq!(len as i64, a.bytes, "{}", p.display());
        assert!(len > 0, "{} is empty", p.display());
        assert_eq!(a.attempt, 1);
    }
    let derived: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| !f.starts_with("inbox/"))
        .collect();
    assert_eq!(
        derived.len(),
        artifacts.len(),
        "unregistered files: {derived:?}"
    );

    // The clips are real videos of the right shape.
    let probe = |file: &str| {
        let out = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(
                env.root()
                    .join(format!("outputs/demo-show/2026/{GOOD}/clips/1/{file}")),
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(probe("16x9_subtitled.mp4"), "640,360");
    assert_eq!(probe("9x16_clean.mp4"), "360,640");
    let x: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.root().join(format!("social/{GOOD}/x.json"))).unwrap(),
    )
    .unwrap();
    assert!(x["text"].as_str().unwrap().chars().count() <= 280);
    assert_eq!(d.stages.len(), 6, "every stage after discovery has a time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_and_unsubtitled_videos_fail_at_the_right_stage_with_the_reason_and_others_continue()
{
    // Pinned to sidecars: under `auto` the built-in recognizer would transcribe the unsubtitled episode
    // (the pipeline's transcription unit tests cover that path).
    let opts = Options {
        transcriber: Some(ewg::pipeline::transcribe::Transcriber::Sidecar),
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &[
                "--shows",
                "talk",
                "--episodes",
                "1",
                "--seconds",
                "3",
                "--broken",
            ],
        );
        make_media(
            inbox,
            &[
                "--shows",
                "nosubs",
                "--episodes",
                "1",
                "--seconds",
                "3",
                "--no-subs",
            ],
        );
    })
    .await;
    let broken = "talk_ep900_2026-01-01";
    let nosubs = "nosubs_ep001_2026-01-01";
    let good = "talk_ep001_2026-01-01";
    env.ok::<ProcessOutcome>("process", json!({ "ids": [broken, nosubs, good] }))
        .await;

    let b = env.wait_settled(broken, Duration::from_secs(120)).await;
    assert_eq!(b.episode.state, EpisodeState::Failed);
    assert_eq!(b.episode.failed_stage, Some(Stage::Prepped));
    let reason = b.episode.error.as_deref().unwrap();
    assert!(
        reason.contains("ffmpeg failed"),
        "ffmpeg's reason expected: {reason}"
    );
    assert!(
        reason.contains("moov atom not found") || reason.contains("Invalid data"),
        "{reason}"
    );

    let n = env.wait_settled(nosubs, Duration::from_secs(120)).await;
    assert_eq!(n.episode.state, EpisodeState::Failed);
    assert_eq!(n.episode.failed_stage, Some(Stage::Transcribed));
    let reason = n.episode.error.as_deref().unwrap();
    assert!(
        reason.contains("no transcript") && reason.contains("EWG_TRANSCRIBE_CMD"),
        "{reason}"
    );
    // Failure cleanup removed the failed attempt's files: the prepped audio is gone too.
    assert!(n.artifacts.is_empty(), "{n:?}");
    assert!(!env.root().join(format!("audio/{nosubs}.wav")).exists());
    assert!(!env.root().join(format!("work/{nosubs}/a1")).exists());
    let runs = &n.cleanup_runs;
    assert_eq!(
        wire(&runs[0].trigger),
        "failure",
        "the failure cleanup is attached: {n:?}"
    );
    assert!(runs[0].files >= 1);

    let g = env.wait_settled(good, Duration::from_secs(120)).await;
    assert_eq!(
        g.episode.state,
        EpisodeState::Done,
        "other episodes keep processing: {g:?}"
    );
    assert!(
        env.root().join("inbox/talk/ep900_2026-01-01.mp4").exists(),
        "sources are never deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_by_sidecar_fails_that_stage() {
    let env = Env::start(|inbox| {
        make_media(inbox, &["--episodes", "1", "--seconds", "3"]);
        std::fs::write(inbox.join("demo-show/ep001_2026-01-01.fail-at"), "render\n").unwrap();
    })
    .await;
    env.ok::<ProcessOutcome>("process", json!({ "ids": [GOOD] }))
        .await;
    let d = env.wait_settled(GOOD, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Failed);
    assert_eq!(d.episode.failed_stage, Some(Stage::Rendered));
    assert!(
        d.episode
            .error
            .as_deref()
            .unwrap()
            .contains("injected failure")
    );
    assert!(
        d.artifacts.is_empty(),
        "partial files of the attempt removed: {d:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_kills_ffmpeg_and_cleans_the_attempt() {
    let env = Env::start(|inbox| {
        make_media(inbox, &["--episodes", "1", "--seconds", "90", "--size", "640x360"]);
        // Long cues make long clips, so ffmpeg is surely busy when we cancel.
        std::fs::write(
            inbox.join("demo-show/ep001_2026-01-01.vtt"),
            "WEBVTT\n\n00:00:00.000 --> 00:00:30.000\nthe first long part about cleanup\n\n00:00:30.000 --> 00:01:00.000\nthe second long part about caches\n",
        )
        .unwrap();
    })
    .await;
    let needle = env.root().to_string_lossy().into_owned();
    env.ok::<ProcessOutcome>("process", json!({ "ids": [GOOD] }))
        .await;
    env.wait_until_clipping(GOOD).await;
    let job: JobInfo = env
        .call(&env.operator, "cancel", json!({ "id": GOOD }))
        .await
        .expect("200");
    assert_eq!(wire(&job.state), "cancelled");
    // cancel returns only after the job has stopped: no ffmpeg of this test may be left.
    assert_eq!(ffmpeg_processes(&needle), Vec::<u32>::new());
    let d = env.episode(GOOD).await;
    assert_eq!(d.episode.state, EpisodeState::Cancelled);
    assert!(d.artifacts.is_empty(), "{d:?}");
    let derived: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| !f.starts_with("inbox/"))
        .collect();
    assert!(
        derived.is_empty(),
        "cancelled attempt left files: {derived:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_a_running_episode_is_a_conflict_naming_the_job() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--episodes", "1", "--seconds", "30", "--size", "640x360"],
        )
    })
    .await;
    let out: ProcessOutcome = env.ok("process", json!({ "ids": [GOOD] })).await;
    let job = out.jobs[0].id;
    let (status, err) = env
        .fail(&env.operator, "process", json!({ "ids": [GOOD] }))
        .await;
    assert_eq!(status, 409, "{err:?}");
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.error.message.contains(&format!("job {job}")), "{err:?}");
    env.raw(&env.operator, "cancel", json!({ "id": GOOD }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reports_files_that_do_not_fit() {
    let env = Env::start(|inbox| {
        make_media(inbox, &["--episodes", "1", "--seconds", "2"]);
        std::fs::write(inbox.join("demo-show/notes.txt"), "x").unwrap();
        std::fs::write(inbox.join("demo-show/episode-two.mp4"), "x").unwrap();
        std::fs::create_dir_all(inbox.join("Bad Show")).unwrap();
        std::fs::write(inbox.join("Bad Show/ep001_2026-01-01.mp4"), "x").unwrap();
    })
    .await;
    let r: DiscoverReport = env.ok("discover", json!({ "wait": true })).await;
    let reason = |p: &str| {
        r.skipped
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{p} not reported: {r:?}"))
    };
    assert!(reason("inbox/demo-show/notes.txt").contains(".mp4"));
    assert!(reason("inbox/demo-show/episode-two.mp4").contains("ep001"));
    assert!(reason("inbox/Bad Show/ep001_2026-01-01.mp4").contains("show folder"));
    assert_eq!(r.added.len(), 0, "already discovered at start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_local_scratch_on_another_filesystem_leaves_nothing_and_sweeps_only_dead_processes() {
    use std::os::fd::AsRawFd;
    // tmpfs: another filesystem than the data dir, so every finished file crosses by copy + rename.
    let scratch = tempfile::tempdir_in("/dev/shm").unwrap();
    let dead = scratch.path().join("gone-host-1-dead");
    std::fs::create_dir_all(dead.join(format!("{GOOD}/a1"))).unwrap();
    std::fs::write(dead.join(".lock"), "").unwrap();
    std::fs::write(dead.join(format!("{GOOD}/a1/audio.wav")), "half an encode").unwrap();
    let live = scratch.path().join("other-host-2-live");
    std::fs::create_dir_all(&live).unwrap();
    let held = std::fs::File::create(live.join(".lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns: a live sibling process holding its lock.
    assert_eq!(
        unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    std::fs::write(live.join("busy"), "in use").unwrap();
    let opts = Options {
        scratch_dir: Some(scratch.path().to_path_buf()),
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| {
        make_media(inbox, &["--episodes", "1", "--seconds", "4"])
    })
    .await;
    assert!(!dead.exists(), "a dead process's scratch is swept at start");
    assert!(
        live.join("busy").exists(),
        "a live process's scratch is left alone"
    );

    let _: ProcessOutcome = env.ok("process", json!({ "ids": [GOOD] })).await;
    let d = env.wait_settled(GOOD, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    for a in &d.artifacts {
        let len = std::fs::metadata(env.root().join(&a.path)).unwrap().len();
        assert_eq!(len as i64, a.bytes, "{}", a.path);
    }
    let leftovers: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| f.starts_with("work/") || f.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let mine = scratch.path().join(ewg::registry::liveness::node_id());
    let left = crate::support::scratch_left(&mine);
    assert!(
        left.is_empty(),
        "the attempt's local scratch is removed: {left:?}"
    );
    drop(held);
}

/// The episode's web page as a visitor sees it: styled inline (system fonts, a readable width), one
/// "Clips" heading, each clip a player whose video and poster are served, no bare thumbnails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_page_is_styled_and_plays_each_clip() {
    let env = Env::start(|inbox| make_media(inbox, &["--episodes", "1", "--seconds", "4"])).await;
    let _: ProcessOutcome = env.ok("process", json!({ "ids": [GOOD] })).await;
    let d = env.wait_settled(GOOD, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
    let page = format!("/files/public/shows/demo-show/{GOOD}/index.html");
    let res = env
        .http
        .get(format!("{}{page}", env.base))
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();

    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("an inline stylesheet");
    assert!(style.contains("font-family:system-ui"), "{style}");
    assert!(style.contains("max-width:"), "{style}");
    assert!(html.contains("name=\"viewport\""), "{html}");
    assert_eq!(html.matches("<h2>Clips</h2>").count(), 1, "{html}");
    assert!(!html.contains("<img"), "thumbnails are posters now: {html}");

    let clips = d
        .artifacts
        .iter()
        .filter(|a| a.path.ends_with("/16x9_subtitled.mp4"))
        .count();
    assert!(clips >= 1, "{:?}", d.artifacts);
    let players: Vec<&str> = html.split("<video controls").skip(1).collect();
    assert_eq!(players.len(), clips, "{html}");
    for p in players {
        let tag = p.split('>').next().unwrap_or("");
        for attr in ["src", "poster"] {
            let url = tag
                .split(&format!(" {attr}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_else(|| panic!("no {attr} in {tag}"));
            let got = env
                .http
                .get(format!("{}{url}", env.base))
                .bearer_auth(&env.viewer)
                .send()
                .await
                .unwrap();
            assert_eq!(got.status(), 200, "{url}");
        }
    }
}
