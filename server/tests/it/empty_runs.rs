//! Runs that took only empty directories (what finished attempts leave under `work/`): audited like every
//! run, but not trash runs, since there is nothing in them to restore. A run that took a file stays one.

use crate::cleanup::TALK;
use crate::support::{Env, Options, make_media};
use app::api::{CleanupReport, CleanupRunList, TrashList};
use serde_json::json;
use std::time::Duration;

/// One talk episode, with cleanups keeping their trash for a day (the suite's default purges at once).
async fn keeping_trash() -> Env {
    let opts = Options::keeping_trash(Duration::from_secs(86_400));
    Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_clean_of_empty_work_dirs_is_audited_but_not_a_restorable_trash_run() {
    let env = keeping_trash().await;
    let work = format!("work/{TALK}");
    std::fs::create_dir_all(env.root().join(&work).join("a1/frames")).unwrap();
    std::fs::create_dir_all(env.root().join(&work).join("a2")).unwrap();

    let empty: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert!(empty.paths.contains(&work), "{empty:?}");
    assert!(!env.root().join(&work).exists(), "the empty dirs are gone");
    assert_eq!(empty.kept_until, None, "nothing to restore: {empty:?}");
    assert!(
        !env.root().join(".trash").join(&empty.run_id).exists(),
        "nothing waits in the trash for it"
    );
    let trash: TrashList = env.ok("trash", json!({})).await;
    assert!(
        trash.runs.iter().all(|r| r.run_id != empty.run_id),
        "listed in the Trash: {trash:?}"
    );
    let runs: CleanupRunList = env.ok("cleanup_runs", json!({})).await;
    assert!(
        runs.runs.iter().any(|r| r.run_id == empty.run_id),
        "still audited"
    );

    // The same place holding a file: that run keeps its trash and is restorable.
    std::fs::create_dir_all(env.root().join(&work).join("a3")).unwrap();
    std::fs::write(
        env.root().join(&work).join("a3/partial.wav"),
        b"half a take",
    )
    .unwrap();
    let kept: CleanupReport = env.ok("deep_clean", json!({})).await;
    assert!(kept.paths.contains(&work), "{kept:?}");
    assert!(kept.kept_until.is_some(), "{kept:?}");
    let trash: TrashList = env.ok("trash", json!({})).await;
    let run = trash.runs.iter().find(|r| r.run_id == kept.run_id);
    assert!(run.is_some_and(|r| r.paths == 1), "{trash:?}");
}
