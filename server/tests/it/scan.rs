//! "Scan inbox" as a background job: the request answers while the scan runs, a second start joins it,
//! progress reaches the total, and episode numbers past 999 are taken and sort after ep999.

use crate::support::*;
use app::api::{EpisodeList, ScanState, ScanStatus};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// `n` inbox files of show `bulk`: hard links of one tiny generated video, numbered 1..n-4 and then
/// 998..=1001 (so the scan meets ep999 and ep1000), plus one file that is not an episode.
fn bulk_inbox(root: &Path, n: u32) -> Vec<String> {
    let seed = tempfile::tempdir().unwrap();
    make_media(
        seed.path(),
        &["--shows", "seed", "--episodes", "1", "--seconds", "1"],
    );
    let sample = seed.path().join("seed/ep001_2026-01-01.mp4");
    let dir = root.join("inbox/bulk");
    std::fs::create_dir_all(&dir).unwrap();
    let numbers = (1..=n - 4).chain(998..=1001);
    let mut ids = Vec::new();
    for i in numbers {
        let name = format!("ep{i:03}_2026-02-01.mp4");
        std::fs::hard_link(&sample, dir.join(&name)).unwrap();
        ids.push(format!("bulk_ep{i:03}_2026-02-01"));
    }
    std::fs::write(dir.join("notes.txt"), "not a video").unwrap();
    ids
}

async fn scan_get(env: &Env) -> Option<ScanStatus> {
    let res = env
        .http
        .get(format!("{}/api/scan", env.base))
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_answers_at_once_is_joined_by_a_second_start_and_reports_progress_to_the_total() {
    const FILES: u32 = 300;
    let env = Env::start(|_| {}).await;
    assert_eq!(scan_get(&env).await, None, "no scan yet");
    let ids = bulk_inbox(env.root(), FILES);

    let first: ScanStatus = env
        .call(&env.operator, "discover", json!({}))
        .await
        .unwrap();
    // The answer came while the scan runs: 300 ffprobes cannot have finished yet.
    assert_eq!(first.state, ScanState::Running, "{first:?}");
    assert!(!first.joined);
    let second: ScanStatus = env
        .call(&env.operator, "discover", json!({}))
        .await
        .unwrap();
    assert_eq!(second.id, first.id, "a second start joins the running scan");
    assert!(second.joined, "{second:?}");
    assert_eq!(second.state, ScanState::Running);

    let start = Instant::now();
    let mut seen_progress = false;
    let done = loop {
        let s = scan_get(&env).await.expect("a scan");
        assert_eq!(s.id, first.id);
        if s.running() {
            seen_progress |= s.total == Some(u64::from(FILES)) && s.probed < u64::from(FILES);
        } else {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "scan still running: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "scan of {FILES} files: {:.1} files/s, {} ms",
        done.files_per_sec,
        done.finished_at.unwrap_or(0) - done.started_at
    );
    assert!(seen_progress, "the counts were readable part-way");
    assert_eq!(done.state, ScanState::Done, "{:?}", done.error);
    assert_eq!(done.total, Some(u64::from(FILES)));
    assert_eq!(done.probed, u64::from(FILES));
    assert_eq!(done.added_count, u64::from(FILES));
    assert_eq!(done.added, ids, "every file added, in natural order");
    let skipped: Vec<_> = done.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped, ["inbox/bulk/notes.txt"]);
    assert!(done.files_per_sec > 0.0);

    // The episode list sorts naturally too: ep999 before ep1000, ep1000 before ep1001.
    let list: EpisodeList = env
        .ok(
            "episodes",
            json!({ "show": "bulk", "offset": FILES - 4, "limit": 10 }),
        )
        .await;
    let tail: Vec<_> = list.episodes.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        tail,
        [
            "bulk_ep998_2026-02-01",
            "bulk_ep999_2026-02-01",
            "bulk_ep1000_2026-02-01",
            "bulk_ep1001_2026-02-01"
        ]
    );

    // A new start after the end is a new scan; nothing is new any more.
    let again: ScanStatus = env
        .call(&env.operator, "discover", json!({ "wait": true }))
        .await
        .unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!((again.state, again.added_count), (ScanState::Done, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episode_numbers_past_999_are_episodes_with_one_spelling() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "daily", "--episodes", "1", "--seconds", "1"],
        );
        let sample = inbox.join("daily/ep001_2026-01-01.mp4");
        for name in [
            "ep1000_2026-01-02.mp4",
            "ep0002_2026-01-03.mp4",
            "ep01000_2026-01-04.mp4",
        ] {
            std::fs::hard_link(&sample, inbox.join("daily").join(name)).unwrap();
        }
    })
    .await;
    let scan: ScanStatus = env.ok("discover", json!({ "wait": true })).await;
    let reasons: Vec<_> = scan
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().all(|(_, r)| r.contains("leading zero")),
        "{reasons:?}"
    );
    let d = env.episode("daily_ep1000_2026-01-02").await;
    assert_eq!(d.episode.id, "daily_ep1000_2026-01-02");
    // A padded number is not a second spelling of ep1000.
    let (s, e) = env
        .fail(
            &env.viewer,
            "episode",
            json!({ "id": "daily_ep01000_2026-01-04" }),
        )
        .await;
    assert_eq!(s, 400, "{e:?}");
    let list: EpisodeList = env.ok("episodes", json!({ "show": "daily" })).await;
    let ids: Vec<_> = list.episodes.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["daily_ep001_2026-01-01", "daily_ep1000_2026-01-02"]);
}
