//! Undo: every cleanup that keeps its trash can be restored — files byte-identical where they were, their
//! artifact rows with their original attempt, the episode in its earlier state — until retention, the
//! trash budget, disk pressure or a person purges it. And the storage view tells the truth about the disk.

use crate::cleanup::{TALK, process_all};
use crate::support::{Env, Options, make_media};
use app::api::{
    Artifact, CleanupReport, EpisodeState, PurgeReport, RestoreReport, StorageReport, TrashDetail,
    TrashList, TrashState,
};
use ewg::cleanup::{Cleanup, PurgeReason, StoragePolicy};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

async fn talk_episodes(n: u32, opts: Options) -> Env {
    Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &[
                "--shows",
                "talk",
                "--episodes",
                &n.to_string(),
                "--seconds",
                "2",
            ],
        )
    })
    .await
}

/// sha256 of every file under the data root but the registry, the root id and the trash.
fn live_tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".trash"
                || rel.starts_with("ewg.db")
                || rel == ewg::storage::ROOT_ID_FILE
                || rel.starts_with(ewg::storage::RESERVE_FILE)
            {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, hex::encode(Sha256::digest(std::fs::read(&p).unwrap())));
            }
        }
    }
    out
}

fn rows(artifacts: &[Artifact]) -> Vec<(String, String, i64, i64)> {
    let mut v: Vec<_> = artifacts
        .iter()
        .map(|a| (a.path.clone(), a.kind.clone(), a.attempt, a.bytes))
        .collect();
    v.sort();
    v
}

async fn clean_talk(env: &Env) -> CleanupReport {
    env.ok(
        "cleanup_episode",
        json!({ "id": TALK, "include_transcripts": true, "include_audio": true }),
    )
    .await
}

/// The run as the Trash page lists it, once its size has been measured.
async fn measured(env: &Env, run: &str) -> app::api::TrashRun {
    for _ in 0..200 {
        let list: TrashList = env.ok("trash", json!({})).await;
        let r = list
            .runs
            .iter()
            .find(|r| r.run_id == run)
            .cloned()
            .unwrap_or_else(|| panic!("run {run} not in the Trash list: {:?}", list.runs));
        if r.bytes.is_some() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {run} never measured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleaned_episode_comes_back_byte_identical_with_its_rows_and_state() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    process_all(&env, &[TALK]).await;
    let before_tree = live_tree(env.root());
    let before = env.episode(TALK).await;
    assert!(before.artifacts.len() > 5, "{:?}", before.artifacts);

    let report = clean_talk(&env).await;
    assert!(report.kept_until.is_some(), "kept for undo: {report:?}");
    assert_eq!(report.files, 0, "nothing freed yet, and the report says so");
    assert!(!report.paths.is_empty());
    let cleaned = env.episode(TALK).await;
    assert!(cleaned.artifacts.is_empty());
    assert_eq!(cleaned.episode.state, EpisodeState::Idle);
    let live = live_tree(env.root());
    assert!(
        live.keys()
            .all(|f| !f.contains(TALK) || f.starts_with("inbox/")),
        "out of the live tree at once: {live:?}"
    );
    let listed = measured(&env, &report.run_id).await;
    assert_eq!(listed.state, TrashState::Kept);
    assert!(listed.actor.starts_with("token:test"), "who: {listed:?}");
    let derived: i64 = before.artifacts.iter().map(|a| a.bytes).sum();
    assert!(listed.bytes.unwrap() >= derived, "{listed:?} vs {derived}");

    let detail: TrashDetail = env
        .ok("trash_paths", json!({ "run_id": report.run_id }))
        .await;
    assert_eq!(detail.paths.len(), report.paths.len());
    assert_eq!(detail.episodes, vec![TALK.to_string()]);

    let preview: RestoreReport = env
        .ok(
            "restore",
            json!({ "run_id": report.run_id, "dry_run": true }),
        )
        .await;
    assert_eq!(live_tree(env.root()), live, "a preview moves nothing");
    assert_eq!(preview.rows, before.artifacts.len() as i64);
    assert_eq!(preview.files, listed.files.unwrap());

    let restored: RestoreReport = env
        .call(&env.operator, "restore", json!({ "run_id": report.run_id }))
        .await
        .expect("an operator restores");
    assert_eq!(restored.episodes, vec![TALK.to_string()]);
    assert_eq!(restored.left_in_trash, 0);
    assert_eq!(
        live_tree(env.root()),
        before_tree,
        "every file back, byte-identical"
    );
    let after = env.episode(TALK).await;
    assert_eq!(
        rows(&after.artifacts),
        rows(&before.artifacts),
        "rows back with their attempt"
    );
    assert_eq!(after.episode.state, EpisodeState::Done);
    assert_eq!(after.episode.stage, before.episode.stage);
    assert!(
        !env.root().join(".trash").join(&report.run_id).exists(),
        "nothing left in the trash"
    );

    let clip = after
        .artifacts
        .iter()
        .find(|a| a.kind == "clip")
        .expect("a clip");
    let res = env
        .http
        .get(format!("{}/files/{}", env.base, clip.path))
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the restored clip is served");
    assert_eq!(res.bytes().await.unwrap().len() as i64, clip.bytes);

    // The restore is an audited run of its own; the cleaned run says it was restored.
    let runs: app::api::CleanupRunList = env.ok("cleanup_runs", json!({})).await;
    let mine = runs
        .runs
        .iter()
        .find(|r| r.run_id == restored.run_id)
        .expect("audited");
    assert_eq!(mine.trigger, "restore");
    assert!(
        mine.actor.starts_with("token:test"),
        "the operator: {mine:?}"
    );
    let (status, e) = env
        .fail(&env.operator, "restore", json!({ "run_id": report.run_id }))
        .await;
    assert_eq!(status, StatusCode::GONE, "{e:?}");
    assert!(e.to_string().contains("restored already"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_run_answers_410_and_bad_requests_move_nothing() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    process_all(&env, &[TALK]).await;
    let report = clean_talk(&env).await;
    let run = report.run_id.as_str();
    let trash_dir = env.root().join(".trash").join(run);
    let in_trash = crate::support::count_files(&trash_dir);
    assert!(in_trash > 5);

    let (status, e) = env
        .fail(&env.operator, "restore", json!({ "run_id": "1-nosuchrun" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e:?}");
    let (status, e) = env
        .fail(
            &env.operator,
            "restore",
            json!({ "run_id": run, "paths": ["outputs/elsewhere"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e.to_string().contains("outputs/elsewhere"),
        "names the path: {e:?}"
    );
    let (status, e) = env
        .fail(
            &env.operator,
            "restore",
            json!({ "run_id": run, "paths": ["outputs/../inbox"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e.to_string().contains("outputs/../inbox"), "{e:?}");
    let (status, _) = env
        .fail(&env.viewer, "restore", json!({ "run_id": run }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "restoring needs an operator");
    let (status, _) = env
        .fail(&env.operator, "purge_trash", json!({ "run_id": run }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "purging needs an admin");
    assert_eq!(
        crate::support::count_files(&trash_dir),
        in_trash,
        "nothing moved"
    );
    assert!(env.episode(TALK).await.artifacts.is_empty());

    let purged: PurgeReport = env.ok("purge_trash", json!({ "run_id": run })).await;
    assert_eq!(purged.runs, vec![run.to_string()]);
    assert_eq!(purged.files, in_trash as i64);
    assert!(!trash_dir.exists(), "the space is freed");
    let (status, e) = env
        .fail(&env.operator, "restore", json!({ "run_id": run }))
        .await;
    assert_eq!(status, StatusCode::GONE, "{e:?}");
    assert!(e.to_string().contains("purged"), "{e:?}");
    let runs: app::api::CleanupRunList = env.ok("cleanup_runs", json!({})).await;
    let row = runs.runs.iter().find(|r| r.run_id == run).unwrap();
    assert_eq!(
        row.files, in_trash as i64,
        "the run's row counts what its purge freed"
    );
    let (status, _) = env
        .fail(&env.admin, "purge_trash", json!({ "run_id": run }))
        .await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occupied_path_or_a_live_job_stops_a_restore_before_anything_moves() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    process_all(&env, &[TALK]).await;
    let report = clean_talk(&env).await;
    let run = report.run_id.as_str();
    let trash_dir = env.root().join(".trash").join(run);
    let in_trash = crate::support::count_files(&trash_dir);

    // Processed again: a live job owns the episode first, then its new files occupy the places.
    env.ok::<app::api::ProcessOutcome>("process", json!({ "ids": [TALK] }))
        .await;
    let (status, e) = env
        .fail(&env.operator, "restore", json!({ "run_id": run }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e:?}");
    assert!(e.to_string().contains("job"), "names the job: {e:?}");
    let d = env.wait_settled(TALK, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done);
    let now = live_tree(env.root());

    for dry_run in [true, false] {
        let (status, e) = env
            .fail(
                &env.operator,
                "restore",
                json!({ "run_id": run, "dry_run": dry_run }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{e:?}");
        assert!(e.to_string().contains("never overwritten"), "{e:?}");
        assert!(
            report.paths.iter().any(|p| e.to_string().contains(p)),
            "names a path: {e:?}"
        );
    }
    assert_eq!(live_tree(env.root()), now, "the new outputs are untouched");
    assert_eq!(
        crate::support::count_files(&trash_dir),
        in_trash,
        "the trash is untouched"
    );
    let list: TrashList = env.ok("trash", json!({})).await;
    let r = list.runs.iter().find(|r| r.run_id == run).unwrap();
    assert_eq!(
        r.state,
        TrashState::Kept,
        "still restorable once the place is free"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_path_can_be_restored_and_the_rest_stays_in_the_trash() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    process_all(&env, &[TALK]).await;
    let before = live_tree(env.root());
    let report = clean_talk(&env).await;
    let audio = report
        .paths
        .iter()
        .find(|p| p.starts_with("audio/"))
        .expect("the audio was taken")
        .clone();
    let out: RestoreReport = env
        .ok(
            "restore",
            json!({ "run_id": report.run_id, "paths": [audio] }),
        )
        .await;
    assert_eq!(out.paths, vec![audio.clone()]);
    assert_eq!(out.left_in_trash, report.paths.len() as i64 - 1);
    assert!(
        out.episodes.is_empty(),
        "the episode's state waits for the rest of its files"
    );
    let now = live_tree(env.root());
    let back: Vec<_> = now.keys().filter(|k| !k.starts_with("inbox/")).collect();
    assert!(
        !back.is_empty() && back.iter().all(|k| k.starts_with(&audio)),
        "{back:?}"
    );
    assert!(back.iter().all(|k| now[*k] == before[*k]));
    let d = env.episode(TALK).await;
    assert!(d.artifacts.iter().all(|a| a.path.starts_with(&audio)) && !d.artifacts.is_empty());
    let list: TrashList = env.ok("trash", json!({})).await;
    assert_eq!(
        list.runs
            .iter()
            .find(|r| r.run_id == report.run_id)
            .unwrap()
            .state,
        TrashState::Kept
    );
    // The rest comes back too, and then the episode is whole again.
    let rest: RestoreReport = env.ok("restore", json!({ "run_id": report.run_id })).await;
    assert_eq!(rest.episodes, vec![TALK.to_string()]);
    assert_eq!(live_tree(env.root()), before);
    assert_eq!(env.episode(TALK).await.episode.state, EpisodeState::Done);
}

/// A Cleanup over the test server's root and registry with another policy: the same code the trash
/// keeper runs, with settings short enough for a test.
fn keeper(env: &Env, policy: StoragePolicy) -> std::sync::Arc<Cleanup> {
    Cleanup::new(
        env.studio.root.clone(),
        env.studio.registry.clone(),
        Duration::from_secs(3600),
        0,
        policy,
    )
}

/// Three episodes cleaned one after another: three kept runs, oldest first.
async fn three_kept_runs(env: &Env) -> Vec<app::api::TrashRun> {
    let ids = [
        "talk_ep001_2026-01-01",
        "talk_ep002_2026-01-02",
        "talk_ep003_2026-01-03",
    ];
    process_all(env, &ids).await;
    let mut runs = Vec::new();
    for id in ids {
        let r: CleanupReport = env
            .ok(
                "cleanup_episode",
                json!({ "id": id, "include_transcripts": true, "include_audio": true }),
            )
            .await;
        // Said at once when the run is not a kept trash run (its outcome, what it took), rather than
        // later as a run missing from the Trash list.
        assert!(
            r.kept_until.is_some(),
            "{id}: the cleanup kept nothing: {r:?}"
        );
        runs.push(measured(env, &r.run_id).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_then_the_budget_purge_the_oldest_runs_first() {
    let env = talk_episodes(3, Options::keeping_trash(DAY)).await;
    let runs = three_kept_runs(&env).await;
    let sizes: Vec<u64> = runs.iter().map(|r| r.bytes.unwrap() as u64).collect();

    // Within retention and budget: nothing goes.
    let policy = StoragePolicy {
        retention: DAY,
        max_bytes: sizes.iter().sum(),
        min_free_pct: 0,
        max_derived_bytes: None,
    };
    assert!(
        keeper(&env, policy)
            .maintain_trash()
            .await
            .unwrap()
            .is_empty()
    );

    // Over budget by a byte: the oldest run goes, and only it.
    let tight = StoragePolicy {
        max_bytes: sizes.iter().sum::<u64>() - 1,
        ..policy
    };
    let purged = keeper(&env, tight).maintain_trash().await.unwrap();
    assert_eq!(purged, vec![(runs[0].run_id.clone(), PurgeReason::Budget)]);
    assert!(!env.root().join(".trash").join(&runs[0].run_id).exists());
    assert!(env.root().join(".trash").join(&runs[1].run_id).exists());

    // Retention is per run, on the registry's clock: with a retention shorter than the runs' age every
    // kept run has expired — but the expiry recorded at commit is what counts, so shorten it there.
    ewg_sql(
        &env,
        "UPDATE cleanup_runs SET expires_at = expires_at - 86400000 WHERE trash = 'kept'",
    );
    let purged = keeper(&env, policy).maintain_trash().await.unwrap();
    assert_eq!(
        purged,
        vec![
            (runs[1].run_id.clone(), PurgeReason::Retention),
            (runs[2].run_id.clone(), PurgeReason::Retention)
        ]
    );
    let list: TrashList = env.ok("trash", json!({})).await;
    for r in &list.runs {
        assert_eq!(r.state, TrashState::Purged, "{r:?}");
    }
    let reasons: Vec<_> = list
        .runs
        .iter()
        .map(|r| r.purge_reason.clone().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["retention", "retention", "budget"],
        "newest first"
    );
    assert_eq!(list.kept_runs, 0);
}

fn ewg_sql(env: &Env, q: &str) {
    crate::db::sql(env.root(), q);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_pressure_purges_the_oldest_trash_until_there_is_room() {
    let env = talk_episodes(
        3,
        Options {
            tmpfs_mib: Some(64),
            ..Options::keeping_trash(DAY)
        },
    )
    .await;
    let runs = three_kept_runs(&env).await;
    let space = env.studio.root.space().unwrap();
    // Fill the disk until it is short of 10 % free by half the oldest run: purging that run is enough.
    let want_free = space.total / 10 - runs[0].bytes.unwrap() as u64 / 2;
    let ballast = space.free - want_free;
    std::fs::write(env.root().join("ballast"), vec![1u8; ballast as usize]).unwrap();
    assert!(env.studio.root.space().unwrap().free_pct() < 10.0);

    let policy = StoragePolicy {
        retention: DAY,
        max_bytes: u64::MAX,
        min_free_pct: 10,
        max_derived_bytes: None,
    };
    let purged = keeper(&env, policy).maintain_trash().await.unwrap();
    assert_eq!(purged, vec![(runs[0].run_id.clone(), PurgeReason::Disk)]);
    assert!(env.studio.root.space().unwrap().free_pct() >= 10.0);
    assert!(env.root().join(".trash").join(&runs[1].run_id).exists());
    assert!(env.root().join(".trash").join(&runs[2].run_id).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_clean_told_to_purge_now_frees_the_space_before_it_answers() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    std::fs::create_dir_all(env.root().join("outputs/stray")).unwrap();
    std::fs::write(env.root().join("outputs/stray/junk.bin"), vec![0u8; 5000]).unwrap();
    let kept: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert!(kept.kept_until.is_some(), "{kept:?}");
    assert!(
        env.root()
            .join(".trash")
            .join(&kept.run_id)
            .join("outputs/stray/junk.bin")
            .exists()
    );
    let restored: RestoreReport = env.ok("restore", json!({ "run_id": kept.run_id })).await;
    assert_eq!(restored.paths, vec!["outputs/stray".to_string()]);
    assert!(
        env.root().join("outputs/stray/junk.bin").exists(),
        "an orphan comes back too"
    );

    let now: CleanupReport = env.ok("deep_clean", json!({ "purge_now": true })).await;
    assert_eq!(now.kept_until, None);
    assert_eq!((now.files, now.bytes), (1, 5000), "{now:?}");
    assert!(!env.root().join(".trash").join(&now.run_id).exists());
    let (status, _) = env
        .fail(&env.operator, "restore", json!({ "run_id": now.run_id }))
        .await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_restores_beside_the_server() {
    let env = talk_episodes(1, Options::keeping_trash(DAY)).await;
    process_all(&env, &[TALK]).await;
    let before = live_tree(env.root());
    let report = clean_talk(&env).await;
    let preview: RestoreReport =
        crate::db::ewg_json(env.root(), &["restore", &report.run_id, "--dry-run"]);
    assert!(preview.dry_run && preview.rows > 0);
    assert_ne!(live_tree(env.root()), before, "a preview moves nothing");
    let restored: RestoreReport = crate::db::ewg_json(env.root(), &["restore", &report.run_id]);
    assert!(!restored.dry_run);
    assert_eq!(live_tree(env.root()), before);
    assert_eq!(env.episode(TALK).await.episode.state, EpisodeState::Done);
    let out = crate::db::ewg(env.root())
        .args(["restore", "1-nosuchrun"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cleanup run"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_view_counts_what_is_on_disk() {
    let env = talk_episodes(2, Options::keeping_trash(DAY)).await;
    process_all(&env, &["talk_ep001_2026-01-01", "talk_ep002_2026-01-02"]).await;
    let report = env
        .ok::<CleanupReport>("cleanup_episode", json!({ "id": "talk_ep002_2026-01-02", "include_transcripts": true, "include_audio": true }))
        .await;
    let run = measured(&env, &report.run_id).await;
    let s: StorageReport = env
        .call(&env.viewer, "storage", json!({}))
        .await
        .expect("a viewer sees storage");
    let root = |name: &str| s.roots.iter().find(|u| u.name == name).unwrap().clone();
    let on_disk = |dir: &str| -> i64 {
        let (mut bytes, mut stack) = (0, vec![env.root().join(dir)]);
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    stack.push(e.path())
                } else {
                    bytes += m.len() as i64
                }
            }
        }
        bytes
    };
    for name in ["outputs", "audio", "inbox", ".trash"] {
        assert_eq!(root(name).bytes, on_disk(name), "{name}");
    }
    assert!(root("outputs").bytes > 0 && root("inbox").bytes > 0);
    assert_eq!(root(".trash").bytes, run.bytes.unwrap());
    assert_eq!((s.trash_runs, s.trash_bytes), (1, run.bytes.unwrap()));
    assert_eq!(
        s.largest.len(),
        1,
        "the cleaned episode has no derived bytes now"
    );
    assert_eq!(s.largest[0].id, "talk_ep001_2026-01-01");
    let registered: i64 = env
        .episode("talk_ep001_2026-01-01")
        .await
        .artifacts
        .iter()
        .map(|a| a.bytes)
        .sum();
    assert_eq!(s.largest[0].bytes, registered);
    assert_eq!(s.shows[0].name, "talk");
    assert!(s.fs_total_bytes > s.fs_free_bytes && s.fs_free_bytes > 0);
    assert!(s.derived_bytes >= registered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_budget_evicts_the_cheapest_outputs_of_the_oldest_episode_first() {
    let env = talk_episodes(3, Options::keeping_trash(DAY)).await;
    let ids = [
        "talk_ep001_2026-01-01",
        "talk_ep002_2026-01-02",
        "talk_ep003_2026-01-03",
    ];
    for id in ids {
        process_all(&env, &[id]).await;
    }
    let before = live_tree(env.root());
    let details = futures::future::join_all(ids.iter().map(|id| env.episode(id))).await;
    let total: i64 = details
        .iter()
        .flat_map(|d| &d.artifacts)
        .map(|a| a.bytes)
        .sum();
    let policy = StoragePolicy {
        max_derived_bytes: Some(total as u64 - 1),
        ..StoragePolicy::default()
    };
    let budget = keeper(&env, policy);
    let plan = budget.eviction_plan().await.unwrap();
    assert_eq!(plan.len(), 1, "{plan:?}");
    assert_eq!(
        (plan[0].episode.as_str(), plan[0].kind.as_str()),
        (ids[0], "audio")
    );

    let preview = budget
        .enforce_budget(true)
        .await
        .unwrap()
        .expect("a preview");
    assert!(preview.report.dry_run);
    assert_eq!(live_tree(env.root()), before, "a preview moves nothing");

    let run = budget
        .enforce_budget(false)
        .await
        .unwrap()
        .expect("an eviction")
        .report;
    assert_eq!(run.trigger, "budget");
    assert!(run.kept_until.is_some(), "restorable like any cleanup");
    let audio: Vec<&Artifact> = details[0]
        .artifacts
        .iter()
        .filter(|a| a.kind == "audio")
        .collect();
    assert!(!audio.is_empty());
    let now = live_tree(env.root());
    for a in &audio {
        assert!(!now.contains_key(&a.path), "{} evicted", a.path);
    }
    let gone: Vec<_> = before.keys().filter(|k| !now.contains_key(*k)).collect();
    assert_eq!(gone.len(), audio.len(), "only the audio went: {gone:?}");
    let first = env.episode(ids[0]).await;
    assert_eq!(
        first.episode.state,
        EpisodeState::Idle,
        "needs processing again"
    );
    assert!(
        first.artifacts.iter().any(|a| a.kind == "transcript"),
        "transcripts are never evicted"
    );
    for (i, id) in ids.iter().enumerate().skip(1) {
        assert_eq!(
            rows(&env.episode(id).await.artifacts),
            rows(&details[i].artifacts)
        );
    }
    assert!(
        budget.eviction_plan().await.unwrap().is_empty(),
        "within budget now"
    );

    let back: RestoreReport = env.ok("restore", json!({ "run_id": run.run_id })).await;
    assert_eq!(back.episodes, vec![ids[0].to_string()]);
    assert_eq!(live_tree(env.root()), before);
    assert_eq!(env.episode(ids[0]).await.episode.state, EpisodeState::Done);
}
