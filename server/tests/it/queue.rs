//! The queue view (running per worker, queued in order, counts, an ETA from recorded stage timings) and
//! an episode's processing history (trigger, start, duration, outcome per attempt).

use crate::support::*;
use app::api::{EpisodeHistory, ProcessOutcome, QueueView, RetryOutcome, Stage};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const EP1: &str = "talk_ep001_2026-01-01";
const EP2: &str = "talk_ep002_2026-01-02";
const EP3: &str = "talk_ep003_2026-01-03";

async fn queue(env: &Env) -> QueueView {
    env.call(&env.viewer, "queue", json!({})).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_shows_what_runs_where_what_waits_in_order_and_an_eta_from_stage_timings() {
    let opts = Options {
        workers: 1,
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "3", "--seconds", "4"],
        );
    })
    .await;
    let stop = CancellationToken::new();
    ewg::registry::liveness::announce(
        env.studio.registry.clone(),
        app::api::NodeRole::Serve,
        1,
        stop.clone(),
    )
    .await;

    let empty = queue(&env).await;
    assert!(
        empty.running.is_empty() && empty.queued.is_empty(),
        "{empty:?}"
    );
    assert_eq!(empty.eta_ms, Some(0), "nothing to do");
    assert!(empty.stage_timings.is_empty(), "nothing has finished yet");

    env.ok::<ProcessOutcome>("process", json!({ "ids": [EP1] }))
        .await;
    env.wait_settled(EP1, Duration::from_secs(120)).await;
    let after_one = queue(&env).await;
    let timed: Vec<Stage> = after_one.stage_timings.iter().map(|t| t.stage).collect();
    assert_eq!(
        timed,
        Stage::ALL[1..],
        "every stage after discovery is timed"
    );
    assert!(after_one.stage_timings.iter().all(|t| t.samples == 1));
    assert!(after_one.done_today >= 1);

    // One slot: EP2 runs, EP3 waits behind it.
    env.ok::<ProcessOutcome>("process", json!({ "ids": [EP2, EP3] }))
        .await;
    let start = Instant::now();
    let q = loop {
        let q = queue(&env).await;
        if q.running.len() == 1 && q.queued.len() == 1 {
            break q;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never one running, one queued: {q:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let running = &q.running[0];
    assert_eq!(running.episode, EP2);
    assert_eq!(
        running.worker.as_deref(),
        Some(ewg::registry::liveness::node_id())
    );
    assert!(running.since.is_some());
    assert_eq!(
        (q.queued[0].episode.as_str(), q.queued[0].position),
        (EP3, 1)
    );
    assert_eq!(q.slots, 1);
    let attempt: i64 = q.stage_timings.iter().map(|t| t.avg_ms).sum();
    let eta = q.eta_ms.expect("an estimate once an attempt has finished");
    assert!(
        eta >= attempt && eta <= 2 * attempt,
        "one queued attempt plus what the running one has left: {eta} ms, an attempt {attempt} ms"
    );

    env.wait_settled(EP3, Duration::from_secs(120)).await;
    let done = queue(&env).await;
    assert!(done.running.is_empty() && done.queued.is_empty());
    assert_eq!(done.done_today, 3);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episodes_history_lists_each_attempt_with_its_trigger_duration_and_outcome() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        );
        std::fs::write(inbox.join("talk/ep001_2026-01-01.fail-at"), "clips").unwrap();
    })
    .await;
    let none: EpisodeHistory = env
        .call(&env.viewer, "episode_history", json!({ "id": EP1 }))
        .await
        .unwrap();
    assert!(none.attempts.is_empty());

    env.ok::<ProcessOutcome>("process", json!({ "ids": [EP1] }))
        .await;
    env.wait_settled(EP1, Duration::from_secs(120)).await;
    std::fs::remove_file(env.root().join("inbox/talk/ep001_2026-01-01.fail-at")).unwrap();
    env.ok::<RetryOutcome>("retry_failed", json!({ "ids": [EP1] }))
        .await;
    env.wait_settled(EP1, Duration::from_secs(120)).await;
    // A preview changes nothing and adds no attempt.
    env.ok::<serde_json::Value>("cleanup_episode", json!({ "id": EP1, "dry_run": true }))
        .await;

    let h: EpisodeHistory = env
        .call(&env.viewer, "episode_history", json!({ "id": EP1 }))
        .await
        .unwrap();
    let summary: Vec<_> = h
        .attempts
        .iter()
        .map(|a| (a.attempt, a.trigger.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(summary, [(2, "retry", "done"), (1, "start", "failed")]);
    for a in &h.attempts {
        let (start, end) = (a.started_at.unwrap(), a.finished_at.unwrap());
        assert_eq!(a.duration_ms, Some(end - start));
        assert!(end > start, "{a:?}");
    }
    assert!(
        h.attempts[1]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("fail-at"),
        "{:?}",
        h.attempts[1]
    );
    assert_eq!(h.attempts[0].error, None);

    let (s, _) = env
        .fail(
            &env.viewer,
            "episode_history",
            json!({ "id": "talk_ep404_2026-01-01" }),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = env
        .fail(&env.viewer, "episode_history", json!({ "id": "../etc" }))
        .await;
    assert_eq!(s, 400);
}
