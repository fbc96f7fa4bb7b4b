//! Load: 50 concurrent token clients call `/api/episodes` on a registry of 1,000 episodes while a Deep
//! Clean runs. Loopback only, bounded in time. Prints requests/s, p50/p99 latency and errors.
//!
//!   cargo run --release -p ewg --example bench_load [SECONDS] [CLIENTS]
//!
//! `EWG_BENCH_DATABASE_URL=postgres://…` runs it on a PostgreSQL registry (an empty database).

use app::api::{EpisodeState, Role, Stage};
use ewg::cli::config::{Common, ServeArgs};
use ewg::registry::{AttemptEnd, JobState, NewEpisode};
use ewg::studio::Studio;
use std::time::{Duration, Instant};

// The load generator shares the two cores with the server: keep its own allocation cheap too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
        .min(300);
    let clients: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .min(500);
    let dir = tempfile::tempdir().expect("tempdir");
    let common = Common {
        data_dir: dir.path().to_path_buf(),
        database_url: std::env::var("EWG_BENCH_DATABASE_URL").ok(),
    };
    let studio = Studio::open(&ServeArgs::default().settings(&common))
        .await
        .expect("open");
    for n in 0..1000 {
        let id = format!(
            "show-{}_ep{:03}_2026-01-{:02}",
            n / 1000 + n % 10,
            n % 1000,
            n % 28 + 1
        );
        studio
            .registry
            .upsert_discovered(&NewEpisode {
                id: id.clone(),
                show: id.split('_').next().unwrap_or("show").into(),
                source_path: format!("inbox/x/{id}.mp4"),
                title: id.clone(),
                duration_secs: Some(60.0),
            })
            .await
            .expect("episode");
        // A tenth failed with files, so the concurrent Deep Clean has real work.
        if n % 10 == 0 {
            // Written the way the pipeline writes: by a job that owns the episode (writes are fenced).
            let reg = &studio.registry;
            reg.enqueue(&id, 1, false).await.expect("enqueue");
            let job = reg
                .claim_job("bench", 600_000)
                .await
                .expect("claim")
                .expect("queued job");
            for k in 0..50 {
                let rel = format!("social/{id}/f{k}.json");
                let p = dir.path().join(&rel);
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, b"{}").expect("write");
                reg.record_artifact(&id, "social", Stage::Packaged, &rel, 2, 1)
                    .await
                    .expect("artifact");
            }
            let end = AttemptEnd {
                episode_state: EpisodeState::Failed,
                failed: Some((Stage::Packaged, "bench")),
            };
            reg.end_job(&job, JobState::Failed, None, Some(&end), false)
                .await
                .expect("fail");
        }
    }
    let secret = ewg::auth::new_secret().expect("secret");
    studio
        .registry
        .create_token("bench", &ewg::auth::secret_hash(&secret), Role::Admin)
        .await
        .expect("token");

    drop(studio);
    // The server runs as its own process (the release `ewg` beside this example), as in production;
    // the clients here share the machine's two cores with it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let exe = std::env::current_exe().expect("exe");
    let ewg = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("ewg"))
        .expect("target dir");
    let mut server = std::process::Command::new(&ewg)
        .args([
            "serve",
            "--workers",
            "1",
            "--addr",
            &addr.to_string(),
            "--data-dir",
        ])
        .arg(dir.path())
        .args(
            common
                .database_url
                .iter()
                .flat_map(|u| ["--database-url", u]),
        )
        .env("EWG_LOG", "warn")
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "start {}: {e} (cargo build --release -p ewg first)",
                ewg.display()
            )
        });
    let http = reqwest::Client::new();
    while http
        .get(format!("http://{addr}/api/health"))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let url = format!("http://{addr}/api/episodes");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, secret) = (url.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = match http
                    .post(&url)
                    .bearer_auth(&secret)
                    .json(&serde_json::json!({ "limit": 50 }))
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                lat.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    // The Deep Clean runs while the load is on.
    tokio::time::sleep(Duration::from_secs(seconds.min(5))).await;
    let t = Instant::now();
    let report: serde_json::Value = http
        .post(format!("http://{addr}/api/deep_clean"))
        .bearer_auth(&secret)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("deep clean")
        .json()
        .await
        .expect("report");
    let deep = t.elapsed();

    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("client");
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "load: {clients} clients x {seconds} s on 1000 episodes: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {errors} (goal: 0 errors, p99 < 20 ms)",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        all.last().map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0),
    );
    println!(
        "concurrent deep clean: {} files, {} ms, result {}",
        report["files"],
        deep.as_millis(),
        report["result"]
    );
    let _ = server.kill();
    let _ = server.wait();
}
