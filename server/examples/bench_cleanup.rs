//! Deep Clean and episode cleanup against `rm -rf` of the same tree, built the same way, on the same
//! filesystem. Prints times and ratios; asserts nothing about speed (that would flake).
//!
//! A Deep Clean keeps its trash for undo, so it is timed twice: until it answers (everything out of the
//! live tree, restorable) and until its bytes are freed (the answer plus "Purge now" of its run). A Deep
//! Clean with `purge_now` (no undo) and the episode cleanup are timed until freed.
//!
//!   cargo run --release -p ewg --example bench_cleanup [DIR...]
//!
//! Default dirs: `target/bench-cleanup` (the data disk) and `/dev/shm/ewg-bench-cleanup` (tmpfs).

use app::api::{EpisodeState, Stage};
use ewg::cleanup::{DeepCleanRequest, Keep, Trigger};
use ewg::cli::config::{Common, ServeArgs};
use ewg::ids::EpisodeId;
use ewg::registry::{AttemptEnd, JobState, NewEpisode, Then};
use ewg::studio::Studio;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EPISODES: usize = 100;
const FILES_PER_EPISODE: usize = 200;
const DIRS_PER_EPISODE: usize = 10;
const FILE_BYTES: usize = 1024;

fn id(n: usize) -> EpisodeId {
    EpisodeId::parse(&format!("talk_ep{n:03}_2026-01-{:02}", n % 28 + 1)).expect("valid id")
}

/// The relative paths of one episode's files, the shape the pipeline writes.
fn episode_files(id: &EpisodeId) -> Vec<String> {
    (0..FILES_PER_EPISODE)
        .map(|k| {
            format!(
                "outputs/{}/{}/{id}/clips/{}/f{k:03}.mp4",
                id.show(),
                id.year(),
                k % DIRS_PER_EPISODE
            )
        })
        .collect()
}

fn write_files(root: &Path, rels: &[String]) {
    let blob = vec![7u8; FILE_BYTES];
    for rel in rels {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, &blob).expect("write");
    }
}

fn rm_rf(path: &Path) -> Duration {
    let t = Instant::now();
    let ok = Command::new("rm")
        .arg("-rf")
        .arg(path)
        .status()
        .expect("rm")
        .success();
    assert!(ok, "rm -rf failed");
    t.elapsed()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn open(data: &Path) -> std::sync::Arc<Studio> {
    let common = Common {
        data_dir: data.to_path_buf(),
        database_url: None,
    };
    Studio::open(&ServeArgs::default().settings(&common))
        .await
        .expect("open")
}

/// Registers an episode and its files the way the pipeline does: a job claims it, records each file
/// (fenced on that job), and ends it in `state`.
async fn register(studio: &Studio, id: &EpisodeId, rels: &[String], state: EpisodeState) {
    let reg = &studio.registry;
    reg.upsert_discovered(&NewEpisode {
        id: id.to_string(),
        show: id.show().into(),
        source_path: format!("inbox/{}/ep{:03}_{}.mp4", id.show(), id.number(), id.date()),
        title: id.to_string(),
        duration_secs: Some(60.0),
    })
    .await
    .expect("episode");
    reg.enqueue(id.as_str(), 1, false).await.expect("enqueue");
    let job = reg
        .claim_job("bench", 600_000)
        .await
        .expect("claim")
        .expect("a queued job");
    for rel in rels {
        reg.record_artifact(
            id.as_str(),
            "clip",
            Stage::Clipped,
            rel,
            FILE_BYTES as i64,
            1,
        )
        .await
        .expect("artifact");
    }
    let failed = (state == EpisodeState::Failed).then_some((Stage::Clipped, "bench"));
    let end = AttemptEnd {
        episode_state: state,
        failed,
    };
    let job_state = if failed.is_some() {
        JobState::Failed
    } else {
        JobState::Done
    };
    reg.end_job(&job, job_state, None, Some(&end), false)
        .await
        .expect("end");
}

async fn bench_dir(base: &Path) {
    let _ = std::fs::remove_dir_all(base);
    let data = base.join("data");
    let studio = open(&data).await;

    // Deep Clean: 100 failed episodes × 200 registered files.
    let mut all = Vec::new();
    for n in 1..=EPISODES {
        let id = id(n);
        let rels = episode_files(&id);
        write_files(&data, &rels);
        register(&studio, &id, &rels, EpisodeState::Failed).await;
        all.extend(rels);
    }
    let t = Instant::now();
    let report = studio
        .cleanup
        .deep_clean("bench", DeepCleanRequest::default())
        .await
        .expect("deep clean");
    let answered = t.elapsed();
    assert!(report.kept_until.is_some(), "{report:?}");
    assert_eq!(report.paths.len(), EPISODES, "{report:?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let purged = studio
        .cleanup
        .purge_trash_now("bench", Some(&report.run_id))
        .await
        .expect("purge now");
    let freed = t.elapsed();
    assert_eq!(purged.files as usize, EPISODES * FILES_PER_EPISODE);

    let copy = base.join("rm-tree");
    write_files(&copy, &all);
    let rm = rm_rf(&copy.join("outputs"));

    // The same Deep Clean told to purge now: no undo, one call.
    for n in 1..=EPISODES {
        let id = id(n);
        let rels = episode_files(&id);
        write_files(&data, &rels);
        register(&studio, &id, &rels, EpisodeState::Failed).await;
    }
    let t = Instant::now();
    let now = studio
        .cleanup
        .deep_clean(
            "bench",
            DeepCleanRequest {
                purge_now: true,
                ..DeepCleanRequest::default()
            },
        )
        .await
        .expect("deep clean, purge now");
    let deep_now = t.elapsed();
    assert_eq!(now.files as usize, EPISODES * FILES_PER_EPISODE, "{now:?}");
    write_files(&copy, &all);
    let rm_now = rm_rf(&copy.join("outputs"));

    // Episode cleanup: one finished episode's 200 files.
    let one = id(EPISODES + 1);
    let rels = episode_files(&one);
    write_files(&data, &rels);
    register(&studio, &one, &rels, EpisodeState::Done).await;
    let t = Instant::now();
    let r = studio
        .cleanup
        .episode(
            &one,
            Keep::NOTHING,
            Trigger::Episode,
            "bench",
            false,
            Then::Reset,
        )
        .await
        .expect("episode cleanup")
        .report;
    let p = studio
        .cleanup
        .purge_trash_now("bench", Some(&r.run_id))
        .await
        .expect("purge now");
    let ep = t.elapsed();
    assert_eq!(p.files as usize, FILES_PER_EPISODE);
    write_files(&copy, &rels);
    let rm_ep = rm_rf(&copy.join("outputs"));

    println!("{}", base.display());
    let line = |what: &str, ours: Duration, rm: Duration, goal: f64| {
        println!(
            "  {what:<52} {:8.1} ms   rm -rf: {:8.1} ms   ratio {:.3} (goal <= {goal})",
            ours.as_secs_f64() * 1e3,
            rm.as_secs_f64() * 1e3,
            ours.as_secs_f64() / rm.as_secs_f64()
        )
    };
    line(
        &format!("deep clean, {EPISODES} x {FILES_PER_EPISODE} files, until it answers"),
        answered,
        rm,
        0.1,
    );
    line(
        "  ... until its bytes are freed (answer + purge)",
        freed,
        rm,
        1.0,
    );
    line("deep clean with purge_now (no undo)", deep_now, rm_now, 1.0);
    line(
        &format!("episode cleanup, {FILES_PER_EPISODE} files, until freed"),
        ep,
        rm_ep,
        1.5,
    );
    let _ = std::fs::remove_dir_all(base);
}

#[tokio::main]
async fn main() {
    // EWG_LOG=ewg=debug shows where the time goes, phase by phase.
    if let Ok(filter) = std::env::var("EWG_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .init();
    }
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let dirs = if args.is_empty() {
        vec![
            PathBuf::from("target/bench-cleanup"),
            PathBuf::from("/dev/shm/ewg-bench-cleanup"),
        ]
    } else {
        args
    };
    for d in dirs {
        bench_dir(&d).await;
    }
    println!(
        "peak RSS of the whole benchmark: {:.1} MB (goal < 150)",
        peak_rss_mb()
    );
}
