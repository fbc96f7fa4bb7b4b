//! The built-in recognizer on a long spoken recording: real-time factor (goal ≤ 0.5) and the
//! recognizer's peak resident memory, which chunking keeps flat however long the episode.
//!
//!   cargo run --release -p ewg --example bench_transcribe [MINUTES]

use ewg::pipeline::{ffmpeg, sphinx};
use std::process::Command;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const TEXT: &str = "Good morning and welcome to the show. Today we are going to talk about the weather in the mountains. \
The farmers in the valley have to prepare for a long and cold winter. They store food for the animals. \
My guest this week is a teacher from the north of the country. She has lived there for twenty years. \
We will also hear some music from a local band. Thank you for listening, and see you next week.\n";

#[tokio::main]
async fn main() {
    let minutes: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let dir = tempfile::tempdir().expect("tempdir");
    // One spoken passage (~23 s), looped by ffmpeg to the requested length as the prep stage's format.
    let speech = dir.path().join("speech.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us+edward", "-s", "165", "-w"])
        .arg(&speech)
        .arg(TEXT)
        .status()
        .expect("espeak-ng (apt-get install espeak-ng)");
    assert!(ok.success());
    let wav = dir.path().join("episode.wav");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-stream_loop", "-1", "-i"])
        .arg(&speech)
        .args(["-t", &format!("{}", minutes * 60.0)])
        .args(["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .arg(&wav)
        .status()
        .expect("ffmpeg");
    assert!(ok.success());
    let cancel = CancellationToken::new();
    let duration = ffmpeg::probe_duration(&wav, ffmpeg::Input::Wav, &cancel, ffmpeg::PROBE_TIMEOUT)
        .await
        .expect("duration");

    let (tx, _rx) = tokio::sync::watch::channel(0u8);
    let t = Instant::now();
    let out = sphinx::recognize(&wav, duration, dir.path(), &cancel, &tx)
        .await
        .expect("recognize");
    let wall = t.elapsed().as_secs_f64();
    println!(
        "built-in recognizer: {:.1} min of speech in {wall:.1} s, RTF {:.3} (goal <= 0.5); {} words; \
         recognizer peak RSS {:.1} MB (VmHWM, {}-s chunks)",
        duration / 60.0,
        wall / duration,
        out.words.len(),
        out.peak_rss_kb as f64 / 1024.0,
        sphinx::CHUNK_SECS
    );
}
