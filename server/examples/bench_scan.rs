//! "Scan inbox" over thousands of files: files probed and recorded per second with one ffprobe at a time
//! (how the scan ran when issue #26 measured it), four (the fixed bound before the background scan) and
//! the bound the background scan uses now (a few per core). Every file is a hard link of one tiny
//! generated video, so the disk holds one copy; each run gets a fresh data root and registry.
//!
//!   cargo run --release -p ewg --example bench_scan [FILES]

use ewg::pipeline::discover::{self, Progress};
use ewg::pipeline::ffmpeg::PROBE_TIMEOUT;
use ewg::registry::Registry;
use ewg::storage::DataRoot;
use std::path::Path;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let files: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let seed = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/make-sample-media"),
    )
    .arg(seed.path())
    .args(["--shows", "seed", "--episodes", "1", "--seconds", "1"])
    .stdout(std::process::Stdio::null())
    .status()
    .expect("run make-sample-media");
    assert!(status.success(), "make-sample-media failed");
    let sample = seed.path().join("seed/ep001_2026-01-01.mp4");
    let now = discover::parallel_probes();
    println!(
        "{files} files, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for parallel in [1, 4, now] {
        let rate = run(&sample, files, parallel).await;
        println!("probes at once {parallel:2}: {rate:7.1} files/s");
    }
}

/// A fresh data root holding `files` links of `sample`, scanned with `parallel` probes; files/s.
async fn run(sample: &Path, files: u32, parallel: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let show = dir.path().join("inbox/bulk");
    std::fs::create_dir_all(&show).expect("inbox");
    for i in 1..=files {
        std::fs::hard_link(sample, show.join(format!("ep{i:03}_2026-03-01.mp4"))).expect("link");
    }
    let root = DataRoot::open(dir.path()).expect("data root");
    let registry = Registry::open(None, dir.path()).await.expect("registry");
    let progress = Progress::default();
    let start = Instant::now();
    let report = discover::discover_with(&root, &registry, PROBE_TIMEOUT, &progress, parallel)
        .await
        .expect("scan");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        report.added.len(),
        files as usize,
        "{:?}",
        report.skipped.first()
    );
    files as f64 / secs
}
