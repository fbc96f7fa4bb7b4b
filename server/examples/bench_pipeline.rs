//! Pipeline overhead: processes 10 generated episodes with one worker, then replays exactly the ffmpeg
//! commands the pipeline ran, one after another, and prints both wall times and their ratio.
//!
//!   cargo run --release -p ewg --features testing --example bench_pipeline [EPISODES] [SECONDS]

use ewg::cli::config::Common;
use ewg::jobs::Jobs;
use ewg::pipeline::{Pipeline, PipelineConfig, ffmpeg};
use ewg::studio::Studio;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let episodes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seconds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(6);
    let dir = tempfile::tempdir().expect("tempdir");
    let inbox = dir.path().join("inbox");
    let status = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/make-sample-media"
    ))
    .arg(&inbox)
    .args([
        "--shows",
        "bench",
        "--episodes",
        &episodes.to_string(),
        "--seconds",
        &seconds.to_string(),
    ])
    .stdout(std::process::Stdio::null())
    .status()
    .expect("make-sample-media");
    assert!(status.success());

    let common = Common {
        data_dir: dir.path().to_path_buf(),
        database_url: None,
    };
    // `ewg serve`'s settings, its `EWG_*` variables honoured.
    let serve = ewg::cli::env_defaults();
    let settings = serve.settings(&common);
    let studio = Studio::open(&settings).await.expect("open");
    let ids = studio.discover().await.expect("discover").added;
    assert_eq!(ids.len(), episodes);

    // Same pipeline as the server, but keeping scratch so the replay finds the inputs it wrote.
    let pipeline = Pipeline {
        root: studio.root.clone(),
        registry: studio.registry.clone(),
        scratch: Default::default(),
        config: PipelineConfig {
            keep_scratch: true,
            ..settings.pipeline.clone()
        },
    };
    let jobs = Jobs::new(pipeline, Arc::clone(&studio.cleanup), serve.lease());
    ffmpeg::start_recording();
    let stop = CancellationToken::new();
    let t = Instant::now();
    for id in &ids {
        studio
            .registry
            .enqueue(id, 1, false)
            .await
            .expect("enqueue");
    }
    jobs.start(1, stop.clone());
    loop {
        let live = studio.registry.live_jobs().await.expect("jobs");
        if live.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall = t.elapsed();
    stop.cancel();
    let commands = ffmpeg::take_recording();
    for id in &ids {
        let ep = studio
            .registry
            .episode(id)
            .await
            .expect("episode")
            .expect("row");
        assert_eq!(ep.state, "done", "{id}: {:?}", ep.error);
    }

    let t = Instant::now();
    for c in &commands {
        let mut cmd = Command::new(&c.program);
        cmd.args(&c.args).stdout(std::process::Stdio::null());
        if let Some(d) = &c.cwd {
            cmd.current_dir(d);
        }
        let out = cmd.output().expect("replay");
        assert!(
            out.status.success(),
            "replay failed: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let direct = t.elapsed();
    println!(
        "pipeline, {episodes} episodes of {seconds} s, 1 worker: {:.2} s wall; the same {} ffmpeg commands run directly: {:.2} s; overhead ratio {:.3} (goal <= 1.1)",
        wall.as_secs_f64(),
        commands.len(),
        direct.as_secs_f64(),
        wall.as_secs_f64() / direct.as_secs_f64()
    );
}
