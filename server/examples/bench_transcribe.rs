//! The built-in recognizers side by side: word error rate and real-time factor per engine (Whisper
//! tiny.en, Whisper base when installed, pocketsphinx) on the same audio, and the recognizer's peak memory.
//!
//!   cargo run -p ewg --example bench_transcribe                # accuracy: WER and RTF per engine and audio
//!   cargo run -p ewg --example bench_transcribe -- --long 60   # a 60-minute recording: RTF, peak memory
//!
//! The recognizers are separate processes, so a debug build measures the same as a release build.
//! Audio: espeak-ng speech of a known text in three voices (apt `espeak-ng`), and recorded human speech
//! with its reference transcript: the LibriVox "Sense and Sensibility" utterances that Debian's
//! `pocketsphinx-testdata` ships (skipped with a note when it is not installed). RTF counts everything a
//! transcription costs: process start and model load included.

use ewg::pipeline::{ffmpeg, sphinx, wer, whisper};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const TEXT: &str = "Good morning and welcome to the show. Today we are going to talk about the weather in the mountains. \
The farmers in the valley have to prepare for a long and cold winter. They store food for the animals. \
My guest this week is a teacher from the north of the country. She has lived there for twenty years. \
We will also hear some music from a local band. Thank you for listening, and see you next week.\n";

/// espeak-ng voices and speeds (words per minute) of the synthetic audio.
const VOICES: &[(&str, u32)] = &[("en-us+edward", 165), ("en-us", 175), ("en-gb+f3", 150)];

const LIBRIVOX: &str = "/usr/share/pocketsphinx/test/data/librivox";

#[derive(Clone, Copy, Debug)]
enum Engine {
    Whisper(whisper::AsrModel),
    Pocketsphinx,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Whisper(m) => m.engine(),
            Engine::Pocketsphinx => "pocketsphinx",
        }
    }
}

struct Run {
    text: String,
    wall: f64,
    peak_mb: f64,
}

async fn transcribe(engine: Engine, wav: &Path, scratch: &Path) -> Result<Run, String> {
    let cancel = CancellationToken::new();
    let (tx, _rx) = tokio::sync::watch::channel(0u8);
    let t = Instant::now();
    let out = match engine {
        Engine::Whisper(model) => {
            whisper::recognize(wav, &whisper::env_dir(), model, scratch, &cancel, &tx)
                .await
                .map_err(|e| e.to_string())?
        }
        Engine::Pocketsphinx => {
            let d = duration(wav).await;
            sphinx::recognize(wav, d, scratch, &cancel, &tx)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    Ok(Run {
        text: out
            .words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        wall: t.elapsed().as_secs_f64(),
        peak_mb: out.peak_rss_kb as f64 / 1024.0,
    })
}

async fn duration(wav: &Path) -> f64 {
    ffmpeg::probe_duration(
        wav,
        ffmpeg::Input::Wav,
        &CancellationToken::new(),
        ffmpeg::PROBE_TIMEOUT,
    )
    .await
    .expect("duration")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("start a tool (espeak-ng, ffmpeg)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `text` spoken by espeak-ng, as the prep stage's 16 kHz mono wav.
fn espeak(dir: &Path, voice: &str, wpm: u32, text: &str) -> PathBuf {
    let raw = dir.join(format!("{voice}-{wpm}.raw.wav"));
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
        .arg(&raw)
        .arg(text));
    let wav = dir.join(format!("{voice}-{wpm}.wav"));
    to_prep_wav(&[raw], &wav);
    wav
}

/// Concatenates `inputs` into one 16 kHz mono PCM wav.
fn to_prep_wav(inputs: &[PathBuf], out: &Path) {
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-y"]);
    for i in inputs {
        c.arg("-i").arg(i);
    }
    let n = inputs.len();
    let filter: String = (0..n).map(|i| format!("[{i}:a]")).collect::<String>()
        + &format!("concat=n={n}:v=0:a=1[a]");
    c.args(["-filter_complex", &filter, "-map", "[a]"])
        .args(["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .arg(out);
    run(&mut c);
}

/// The LibriVox utterances as one wav, and their reference transcript.
fn librivox(dir: &Path) -> Option<(PathBuf, String)> {
    let transcription = std::fs::read_to_string(Path::new(LIBRIVOX).join("transcription")).ok()?;
    let mut wavs = Vec::new();
    let mut reference = Vec::new();
    for line in transcription.lines() {
        let (text, id) = line.rsplit_once(" (")?;
        let id = id.trim_end_matches(')');
        wavs.push(Path::new(LIBRIVOX).join(format!("{id}.wav")));
        reference.push(
            text.replace("<s>", "")
                .replace("</s>", "")
                .trim()
                .to_string(),
        );
    }
    let wav = dir.join("librivox.wav");
    to_prep_wav(&wavs, &wav);
    Some((wav, reference.join(" ")))
}

fn engines() -> Vec<Engine> {
    let env = whisper::env_dir();
    let mut e = Vec::new();
    for m in [whisper::AsrModel::TinyEn, whisper::AsrModel::Base] {
        match whisper::locate(&env, m) {
            Ok(_) => e.push(Engine::Whisper(m)),
            Err(why) => println!("({} not installed: {why})", m.engine()),
        }
    }
    if sphinx::available() {
        e.push(Engine::Pocketsphinx);
    } else {
        println!("(pocketsphinx not installed: {})", sphinx::INSTALL_HINT);
    }
    e
}

async fn accuracy(dir: &Path) {
    let mut audios: Vec<(String, PathBuf, String)> = VOICES
        .iter()
        .map(|(v, wpm)| {
            (
                format!("espeak-ng {v} {wpm} wpm"),
                espeak(dir, v, *wpm, TEXT),
                TEXT.to_string(),
            )
        })
        .collect();
    match librivox(dir) {
        Some((wav, reference)) => audios.push((
            "human: LibriVox Sense and Sensibility (pocketsphinx-testdata)".into(),
            wav,
            reference,
        )),
        None => println!(
            "(no recorded human speech: apt-get install pocketsphinx-testdata for the LibriVox sample)"
        ),
    }
    let engines = engines();
    println!("\n| audio | seconds | engine | WER | RTF | peak RSS MB |\n|---|---|---|---|---|---|");
    for (name, wav, reference) in &audios {
        let secs = duration(wav).await;
        for &engine in &engines {
            match transcribe(engine, wav, dir).await {
                Ok(r) => {
                    let wer = wer::word_error_rate(reference, &r.text);
                    // pocketsphinx prints its words at the end of a short file: no sample while it ran.
                    let peak = if r.peak_mb > 0.0 {
                        format!("{:.0}", r.peak_mb)
                    } else {
                        "n/a".into()
                    };
                    println!(
                        "| {name} | {secs:.1} | {} | {wer:.3} | {:.3} | {peak} |",
                        engine.name(),
                        r.wall / secs,
                    );
                    eprintln!("  {}: {}", engine.name(), r.text);
                }
                Err(e) => println!(
                    "| {name} | {secs:.1} | {} | failed: {e} | | |",
                    engine.name()
                ),
            }
        }
    }
}

async fn long(dir: &Path, minutes: f64) {
    // One spoken passage (~23 s), looped by ffmpeg to the requested length as the prep stage's format.
    let speech = espeak(dir, "en-us+edward", 165, TEXT);
    let wav = dir.join("long.wav");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-stream_loop", "-1", "-i"])
        .arg(&speech)
        .args(["-t", &format!("{}", minutes * 60.0)])
        .args(["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .arg(&wav));
    let secs = duration(&wav).await;
    let only = std::env::var("BENCH_ENGINE").ok();
    for engine in engines() {
        if only.as_deref().is_some_and(|o| o != engine.name()) {
            continue;
        }
        match transcribe(engine, &wav, dir).await {
            Ok(r) => println!(
                "{}: {:.1} min of speech in {:.1} s, RTF {:.3}; {} words; recognizer peak RSS {:.0} MB (VmHWM)",
                engine.name(),
                secs / 60.0,
                r.wall,
                r.wall / secs,
                r.text.split_whitespace().count(),
                r.peak_mb
            ),
            Err(e) => println!("{}: failed: {e}", engine.name()),
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    match args.as_slice() {
        [flag, minutes] if flag == "--long" => {
            long(dir.path(), minutes.parse().expect("--long MINUTES")).await
        }
        [] => accuracy(dir.path()).await,
        _ => eprintln!(
            "usage: bench_transcribe [--long MINUTES]  (BENCH_ENGINE=name picks one engine)"
        ),
    }
}
