//! Job claims per second with 1, 4 and 16 claimers, on SQLite and (when `EWG_BENCH_DATABASE_URL` names
//! one) PostgreSQL. A claim is what a worker does: take the oldest queued job with a lease (one
//! transaction), then end it (a no-op job: a second, fenced transaction). Prints claims/s per engine and
//! claimer count, and the 4-vs-1 ratio the scale-out registry is judged by.
//!
//!   EWG_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \
//!   cargo run --release -p ewg --example bench_claims [JOBS]

use ewg::registry::{AttemptEnd, JobState, NewEpisode, Registry};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let jobs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engines = vec![("sqlite", None)];
    if let Ok(url) = std::env::var("EWG_BENCH_DATABASE_URL") {
        engines.push(("postgres", Some(url)));
    }
    for (name, url) in engines {
        let registry = Registry::open(url.as_deref(), dir.path())
            .await
            .expect("open registry");
        let mut one = 0.0;
        for claimers in [1usize, 4, 16] {
            let rate = run(&registry, &format!("{name}-{claimers}"), jobs, claimers).await;
            if claimers == 1 {
                one = rate;
            }
            println!(
                "{name:8} claimers {claimers:2}: {rate:8.0} claims/s  ({:.2}x of 1 claimer)",
                rate / one
            );
        }
    }
}

/// Queues `jobs` jobs, then lets `claimers` tasks claim and end them until the queue is empty.
async fn run(registry: &Registry, tag: &str, jobs: usize, claimers: usize) -> f64 {
    for n in 0..jobs {
        let id = format!("{tag}_ep{:03}_2026-01-{:02}", n % 1000, n / 1000 + 1);
        registry
            .upsert_discovered(&NewEpisode {
                id: id.clone(),
                show: tag.into(),
                source_path: format!("inbox/{tag}/{id}.mp4"),
                title: id.clone(),
                duration_secs: None,
            })
            .await
            .expect("episode");
        registry.enqueue(&id, 1, false).await.expect("enqueue");
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..claimers)
        .map(|c| {
            let registry = registry.clone();
            tokio::spawn(async move {
                let worker = format!("bench-{c}");
                let mut n = 0usize;
                while let Some(job) = registry.claim_job(&worker, 60_000).await.expect("claim") {
                    let end = AttemptEnd {
                        episode_state: app::api::EpisodeState::Done,
                        failed: None,
                    };
                    let ended = registry
                        .end_job(&job, JobState::Done, None, Some(&end), false)
                        .await
                        .expect("end");
                    assert!(ended, "a claimed job is ours to end");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut claimed = 0;
    for t in tasks {
        claimed += t.await.expect("claimer");
    }
    assert_eq!(claimed, jobs, "every job claimed exactly once");
    claimed as f64 / start.elapsed().as_secs_f64()
}
