//! Highlights on a long spoken episode with known topic sections: espeak-ng speaks a script of five
//! topics, the built-in recognizer transcribes it, enrichment picks the clips. Prints each section's
//! span, where every clip and candidate falls relative to them, their durations and why, and how long
//! enrichment takes (also on the same words repeated to an hour).
//!
//!   cargo run -p ewg --example bench_highlights [REPEATS] [PRESET] [COUNT]
//!
//! REPEATS (default 2) speaks each section's text that many times (longer sections); PRESET is
//! short|medium|long (default medium), COUNT the clips rendered (default 3).

use ewg::ids::EpisodeId;
use ewg::pipeline::cues::{self, Word};
use ewg::pipeline::highlights::{Discovery, Preset};
use ewg::pipeline::{enrich, ffmpeg, sphinx};
use std::process::Command;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Plain sentences in everyday words (what the recognizer's general model knows best), one topic per
/// paragraph: weather, farm, school, music, travel. The spoken-episode highlight test speaks it too.
const SCRIPT: &str = include_str!("../../scripts/sample-topics.txt");
const NAMES: [&str; 5] = ["weather", "farm", "school", "music", "travel"];

fn espeak(text: &str, out: &std::path::Path) {
    // The "edward" variant at 165 words a minute is the espeak voice the recognizer does best on.
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us+edward", "-s", "165", "-w"])
        .arg(out)
        .arg(text)
        .status()
        .expect("espeak-ng (apt-get install espeak-ng)");
    assert!(ok.success(), "espeak-ng failed");
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let repeats: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let preset = args
        .next()
        .and_then(|s| Preset::parse(&s))
        .unwrap_or_default();
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let discovery = Discovery { preset, count };
    let dir = tempfile::tempdir().expect("tempdir");
    let cancel = CancellationToken::new();

    // Each section spoken on its own, so its span in the episode is known exactly.
    let mut list = String::new();
    let mut sections: Vec<(&str, f64, f64)> = Vec::new();
    let mut t = 0.0;
    let texts: Vec<&str> = SCRIPT
        .split("\n\n")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    for (k, (name, text)) in NAMES.iter().zip(texts).enumerate() {
        let wav = dir.path().join(format!("s{k}.wav"));
        espeak(&vec![text; repeats].join(" "), &wav);
        let d = ffmpeg::probe_duration(&wav, ffmpeg::Input::Wav, &cancel, ffmpeg::PROBE_TIMEOUT)
            .await
            .expect("section duration");
        sections.push((name, t, t + d));
        t += d;
        list += &format!("file '{}'\n", wav.display());
    }
    std::fs::write(dir.path().join("list.txt"), list).expect("concat list");
    let wav = dir.path().join("episode.wav");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "concat", "-safe", "0", "-i"])
        .arg(dir.path().join("list.txt"))
        .args(["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .arg(&wav)
        .status()
        .expect("ffmpeg");
    assert!(ok.success(), "ffmpeg concat failed");
    let duration = ffmpeg::probe_duration(&wav, ffmpeg::Input::Wav, &cancel, ffmpeg::PROBE_TIMEOUT)
        .await
        .expect("duration");

    // EWG_BENCH_WORDS=FILE keeps the recognized words between runs (recognition is the slow part; a
    // rerun that only changes enrichment reads them back). Same script and REPEATS, same words.
    let cache = std::env::var_os("EWG_BENCH_WORDS").map(std::path::PathBuf::from);
    let cached: Option<Vec<Word>> = cache
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let rt = Instant::now();
    let words = match cached {
        Some(w) => w,
        None => {
            let (tx, _rx) = tokio::sync::watch::channel(0u8);
            let w = sphinx::recognize(&wav, duration, dir.path(), &cancel, &tx)
                .await
                .expect("recognize")
                .words;
            if let Some(p) = &cache {
                std::fs::write(p, serde_json::to_vec(&w).expect("json")).expect("write words");
            }
            w
        }
    };
    let recognized = rt.elapsed();
    let cues = cues::group(&words);
    // Momentary loudness every 100 ms, as the enrich stage measures it.
    let loudness = ffmpeg::loudness(&wav, &cancel, std::time::Duration::from_secs(600))
        .await
        .expect("loudness");
    let id = EpisodeId::parse("bench_ep001_2026-01-01").expect("id");

    let et = Instant::now();
    let e = enrich::enrich(&id, &cues, &words, &loudness, duration, discovery);
    let took = et.elapsed();

    println!(
        "episode: {:.1} s of speech in {} sections, {} words recognized in {:.1} s; preset {:?} ({:.0}–{:.0} s), {count} clips",
        duration,
        sections.len(),
        words.len(),
        recognized.as_secs_f64(),
        preset,
        preset.range().0,
        preset.range().1,
    );
    println!("\nsections:");
    for (name, a, b) in &sections {
        println!("  {name:<8} {a:7.1} – {b:7.1} s");
    }
    let section_of = |t: f64| {
        sections
            .iter()
            .find(|(_, a, b)| *a <= t && t < *b)
            .or(sections.last())
            .map_or("?", |s| s.0)
    };
    let show = |label: &str, h: &enrich::Highlight| {
        println!(
            "  {label} {:7.1} – {:7.1} s  {:5.1} s  {:>8} → {:<8}  score {:6.3}  {}",
            h.start,
            h.end,
            h.end - h.start,
            section_of(h.start),
            section_of(h.end - 0.01),
            h.score,
            h.why
        );
    };
    println!("\nclips (rendered):");
    for h in &e.highlights {
        show("clip", h);
    }
    println!("\ncandidates, best first:");
    for h in &e.candidates {
        show("cand", h);
    }
    if let Some(note) = &e.note {
        println!("\nnote: {note}");
    }
    println!("\ntitle:    {}", e.title);
    println!("summary:  {}", e.summary);
    println!("keywords: {}", e.keywords.join(", "));
    println!(
        "\nenrichment: {:.1} ms for {:.1} min ({} words)",
        took.as_secs_f64() * 1000.0,
        duration / 60.0,
        words.len()
    );

    // The same words repeated to an hour: how enrichment scales on a full-length episode.
    let mut long: Vec<Word> = Vec::new();
    let mut offset = 0.0;
    while offset < 3600.0 {
        long.extend(words.iter().map(|w| Word {
            start: w.start + offset,
            end: w.end + offset,
            ..w.clone()
        }));
        offset += duration;
    }
    let long_cues = cues::group(&long);
    let lt = Instant::now();
    let le = enrich::enrich(&id, &long_cues, &long, &[], offset, discovery);
    println!(
        "enrichment: {:.1} ms for {:.1} min ({} words), {} clips, {} candidates",
        lt.elapsed().as_secs_f64() * 1000.0,
        offset / 60.0,
        long.len(),
        le.highlights.len(),
        le.candidates.len()
    );
}
