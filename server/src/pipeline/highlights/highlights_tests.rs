//! Highlights on synthetic transcripts with known topic sections and pauses: every rule the issue
//! names (length, pauses, overlap, spread, posts, summary) checked on a multi-minute episode.

use super::*;
use crate::ids::EpisodeId;
use crate::pipeline::enrich::{Enriched, enrich};
use crate::pipeline::social;

/// Deterministic pseudo-random numbers (a 64-bit LCG): the fixture is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Four topics, each its own vocabulary: the sections a listener would name.
const TOPICS: [&[&str]; 4] = [
    &[
        "mountain",
        "weather",
        "snow",
        "storm",
        "wind",
        "peak",
        "cloud",
        "forecast",
        "valley",
        "temperature",
    ],
    &[
        "farmers", "harvest", "winter", "food", "animals", "barn", "grain", "cattle", "field",
        "tractor",
    ],
    &[
        "teacher",
        "school",
        "students",
        "lesson",
        "classroom",
        "reading",
        "books",
        "village",
        "children",
        "homework",
    ],
    &[
        "music", "band", "guitar", "concert", "songs", "drummer", "stage", "festival", "album",
        "singer",
    ],
];
const GLUE: &[&str] = &[
    "the", "and", "of", "in", "a", "to", "with", "for", "on", "at",
];

/// Where each topic section starts and ends (seconds), and the words.
struct Episode {
    words: Vec<Word>,
    sections: Vec<(f64, f64)>,
}

/// `secs_per_topic` of speech per topic: sentences of 7–15 words, 0.3 s words with 0.08 s gaps,
/// 0.35–0.9 s pauses between sentences, 1.5 s between sections. Every section opens with a question
/// answered by the next sentence, and some sentences carry a hook phrase.
/// `monologue`: sentences follow each other after the same short gap as words (no pause anywhere).
fn episode(secs_per_topic: f64, monologue: bool) -> Episode {
    let word_gap = if monologue { 0.05 } else { 0.08 };
    let mut rng = Lcg(27);
    let mut words = Vec::new();
    let mut sections = Vec::new();
    let mut t = 1.0;
    for (k, vocab) in TOPICS.iter().enumerate() {
        let from = t;
        let mut n = 0;
        while t - from < secs_per_topic {
            let mut sentence: Vec<String> = Vec::new();
            if n == 0 {
                sentence.extend(["why", "does", "the"].map(String::from));
                sentence.push(vocab[0].into());
                sentence.push(vocab[1].into());
                sentence.push("matter".into());
            } else {
                if n % 5 == 2 {
                    sentence.extend(["the", "secret", "is"].map(String::from));
                }
                let len = 7 + (rng.next() % 9) as usize;
                while sentence.len() < len {
                    let w = if rng.next().is_multiple_of(3) {
                        rng.pick(GLUE)
                    } else {
                        rng.pick(vocab)
                    };
                    sentence.push(w.to_string());
                }
                // The section's key phrase, again and again.
                if n % 2 == 1 {
                    sentence.push(vocab[0].into());
                    sentence.push(vocab[1].into());
                }
            }
            for w in sentence {
                words.push(Word {
                    word: w,
                    start: t,
                    end: t + 0.3,
                    confidence: 0.9,
                });
                t += 0.3 + word_gap;
            }
            t -= word_gap;
            t += if monologue {
                word_gap
            } else {
                0.35 + (rng.next() % 55) as f64 / 100.0
            };
            n += 1;
        }
        sections.push((from, t));
        if k + 1 < TOPICS.len() {
            t += if monologue { word_gap } else { 1.5 };
        }
    }
    Episode { words, sections }
}

fn id() -> EpisodeId {
    EpisodeId::parse("talk_ep007_2026-01-07").expect("id")
}

fn run(ep: &Episode, preset: Preset, count: usize) -> Enriched {
    let cues = super::super::cues::group(&ep.words);
    let duration = ep.words.last().map_or(0.0, |w| w.end) + 2.0;
    enrich(
        &id(),
        &cues,
        &ep.words,
        &[],
        duration,
        Discovery { preset, count },
    )
}

/// A clip bound is inside a pause: not inside any word, and the gap it sits in is a real pause (or the
/// media's edge).
fn assert_in_pause(words: &[Word], t: f64, what: &str, min_gap: f64) {
    for w in words {
        assert!(
            !(w.start < t && t < w.end),
            "{what} {t} cuts the word {:?} ({}–{})",
            w.word,
            w.start,
            w.end
        );
    }
    let before = words.iter().rev().find(|w| w.end <= t);
    let after = words.iter().find(|w| w.start >= t);
    if let (Some(b), Some(a)) = (before, after) {
        assert!(
            a.start - b.end >= min_gap - 1e-9,
            "{what} {t} is in a {:.2} s gap between {:?} and {:?}, not a pause",
            a.start - b.end,
            b.word,
            a.word
        );
    }
}

fn overlap(a: &crate::pipeline::enrich::Highlight, b: &crate::pipeline::enrich::Highlight) -> bool {
    a.start < b.end && b.start < a.end
}

#[test]
fn a_multi_minute_episode_gets_clips_within_the_preset_at_pauses_spread_and_apart() {
    let ep = episode(90.0, false);
    let t0 = std::time::Instant::now();
    let e = run(&ep, Preset::Medium, 3);
    let took = t0.elapsed();
    let (min, max) = Preset::Medium.range();
    assert_eq!(e.highlights.len(), 3, "{:#?}", e.highlights);
    assert!(
        e.candidates.len() > e.highlights.len(),
        "more candidates than clips"
    );
    assert!(e.note.is_none(), "{:?}", e.note);
    for h in e.highlights.iter().chain(&e.candidates) {
        let len = h.end - h.start;
        assert!((min..=max).contains(&len), "{len} s: {h:?}");
        assert_in_pause(&ep.words, h.start, "start", PAUSE_SECS);
        assert_in_pause(&ep.words, h.end, "end", PAUSE_SECS);
        assert!(!h.why.is_empty() && h.score != 0.0, "{h:?}");
        assert!(!h.sentences.is_empty());
    }
    // Highlights are candidates too, and nothing overlaps.
    for h in &e.highlights {
        assert!(
            e.candidates
                .iter()
                .any(|c| c.start == h.start && c.end == h.end)
        );
    }
    for (i, a) in e.candidates.iter().enumerate() {
        for b in &e.candidates[i + 1..] {
            assert!(!overlap(a, b), "{a:?} overlaps {b:?}");
        }
    }
    // Spread: the three clips do not share one third of the episode, and lie in different sections.
    let end = ep.sections.last().map_or(0.0, |s| s.1);
    let third =
        |h: &crate::pipeline::enrich::Highlight| ((h.start + h.end) / 2.0 / end * 3.0) as i64;
    let mut thirds: Vec<i64> = e.highlights.iter().map(third).collect();
    thirds.dedup();
    assert!(
        thirds.len() >= 2,
        "all clips in one third: {:?}",
        e.highlights
    );
    let section = |h: &crate::pipeline::enrich::Highlight| {
        let mid = (h.start + h.end) / 2.0;
        ep.sections.iter().position(|s| s.0 <= mid && mid <= s.1)
    };
    let mut secs: Vec<_> = e.highlights.iter().map(section).collect();
    secs.sort();
    secs.dedup();
    assert_eq!(
        secs.len(),
        3,
        "clips should vary in topic: {:?}",
        e.highlights
    );
    assert!(
        took.as_millis() < 2000,
        "enrichment of a six-minute episode took {took:?}"
    );
    eprintln!(
        "medium: {:?} in {took:?}",
        e.highlights
            .iter()
            .map(|h| (h.start, h.end - h.start, section(h), h.why.clone()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn every_preset_keeps_its_range() {
    let ep = episode(150.0, false);
    for preset in [Preset::Short, Preset::Medium, Preset::Long] {
        let (min, max) = preset.range();
        let e = run(&ep, preset, 4);
        assert!(!e.highlights.is_empty(), "{preset:?}");
        for h in &e.candidates {
            let len = h.end - h.start;
            assert!((min..=max).contains(&len), "{preset:?}: {len}");
            assert_in_pause(&ep.words, h.start, "start", PAUSE_SECS);
            assert_in_pause(&ep.words, h.end, "end", PAUSE_SECS);
        }
    }
}

#[test]
fn topic_boundaries_land_near_the_sections() {
    let ep = episode(90.0, false);
    let s = sentences(&[], &ep.words, PAUSE_SECS);
    let b = topic_boundaries(&s);
    // The three true section changes, as sentence gaps.
    let truth: Vec<f64> = ep.sections.windows(2).map(|w| w[0].1).collect();
    let near = truth
        .iter()
        .filter(|&&t| {
            b.iter()
                .any(|&g| (s[g].end - t).abs() < 12.0 || (s[g + 1].start - t).abs() < 12.0)
        })
        .count();
    assert!(near >= 2, "boundaries {b:?} vs sections {truth:?}");
}

#[test]
fn write_ups_title_summary_phrases_and_posts() {
    let ep = episode(90.0, false);
    let e = run(&ep, Preset::Medium, 3);
    assert!(e.title.starts_with("Talk #7 — "), "{}", e.title);
    assert!(
        e.keywords.iter().any(|k| k.contains(' ')),
        "{:?}",
        e.keywords
    );
    let summary = social::split_sentences(&e.summary);
    assert!((2..=3).contains(&summary.len()), "{}", e.summary);
    let mut keys: Vec<String> = summary.iter().map(|s| super::text::norm_key(s)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        summary.len(),
        "repeated summary sentence: {}",
        e.summary
    );
    for h in &e.highlights {
        for (platform, limit) in social::PLATFORMS {
            let p = social::post(platform, limit, &e, Some(h), None);
            assert!(p.text.chars().count() <= limit, "{platform}");
            let mut seen = Vec::new();
            for s in social::split_sentences(&p.text) {
                let k = super::text::norm_key(&s);
                assert!(!seen.contains(&k), "{platform}: {s:?} twice in {}", p.text);
                seen.push(k);
            }
            // The post speaks the clip's words: its first sentence opens the caption body.
            assert!(
                p.text
                    .contains(&h.sentences[0][..20.min(h.sentences[0].len())]),
                "{platform}: {}",
                p.text
            );
        }
    }
}

#[test]
fn enrichment_is_deterministic() {
    let ep = episode(60.0, false);
    let a = serde_json::to_string(&run(&ep, Preset::Medium, 3)).expect("json");
    let b = serde_json::to_string(&run(&ep, Preset::Medium, 3)).expect("json");
    assert_eq!(a, b);
}

#[test]
fn speech_shorter_than_the_preset_is_one_clip_of_all_of_it() {
    let words: Vec<Word> = ["welcome", "to", "the", "show"]
        .iter()
        .enumerate()
        .map(|(i, w)| Word {
            word: w.to_string(),
            start: 0.5 + i as f64 * 0.4,
            end: 0.8 + i as f64 * 0.4,
            confidence: 0.9,
        })
        .collect();
    let cues = super::super::cues::group(&words);
    let e = enrich(&id(), &cues, &words, &[], 3.0, Discovery::default());
    assert_eq!(e.highlights.len(), 1);
    let h = &e.highlights[0];
    assert!(
        h.start <= 0.5 && h.start >= 0.25 && h.end >= 2.0 && h.end <= 3.0,
        "{h:?}"
    );
    assert!(
        e.note
            .as_deref()
            .is_some_and(|n| n.contains("no highlight of 20–60 s")),
        "{:?}",
        e.note
    );
}

#[test]
fn no_speech_is_a_note_and_no_clip() {
    let e = enrich(&id(), &[], &[], &[], 10.0, Discovery::default());
    assert!(e.highlights.is_empty() && e.candidates.is_empty());
    assert!(
        e.note
            .as_deref()
            .is_some_and(|n| n.starts_with("no highlight:"))
    );
    assert!(e.title.starts_with("Talk #7"));
}

#[test]
fn a_monologue_without_pauses_is_cut_between_words() {
    // Three minutes of words 0.05 s apart: no pause anywhere.
    let ep = episode(45.0, true);
    let e = run(&ep, Preset::Medium, 3);
    assert!(!e.highlights.is_empty(), "{:?}", e.note);
    assert!(
        e.note.as_deref().is_some_and(|n| n.contains("few pauses")),
        "{:?}",
        e.note
    );
    for h in &e.highlights {
        assert!((20.0..=60.0).contains(&(h.end - h.start)));
        assert_in_pause(&ep.words, h.start, "start", 0.0);
        assert_in_pause(&ep.words, h.end, "end", 0.0);
    }
}

#[test]
fn one_cue_longer_than_the_preset_is_a_note_not_a_broken_clip() {
    let cues = vec![Cue {
        start: 0.0,
        end: 300.0,
        text: "one very long subtitle".into(),
    }];
    let e = enrich(&id(), &cues, &[], &[], 300.0, Discovery::default());
    assert!(e.highlights.is_empty());
    assert!(
        e.note
            .as_deref()
            .is_some_and(|n| n.starts_with("no highlight:")),
        "{:?}",
        e.note
    );
}

#[test]
fn subtitle_cues_without_words_are_cut_at_cue_bounds() {
    // Like make-sample-media's sidecars: cues back to back, no word times.
    let cues: Vec<Cue> = (0..18)
        .map(|i| Cue {
            start: i as f64 * 5.0,
            end: (i + 1) as f64 * 5.0,
            text: format!("Part {i}: the team talks about cleanup, caches and clips."),
        })
        .collect();
    let e = enrich(&id(), &cues, &[], &[], 90.0, Discovery::default());
    assert_eq!(e.highlights.len(), 3, "{:?}", e.highlights);
    for h in &e.highlights {
        assert!((20.0..=60.0).contains(&(h.end - h.start)), "{h:?}");
        assert_eq!(h.start % 5.0, 0.0, "{h:?}");
        assert_eq!(h.end % 5.0, 0.0, "{h:?}");
    }
}

#[test]
fn enrichment_written_before_scoring_still_reads() {
    let old = r#"{"title":"Talk #1 — 2026-01-01","summary":"s","keywords":["cleanup"],
        "highlights":[{"start":0.0,"end":1.3,"text":"Episode 1"}]}"#;
    let e: Enriched = serde_json::from_str(old).expect("old json");
    assert_eq!(e.highlights.len(), 1);
    assert_eq!(e.highlights[0].score, 0.0);
    assert!(e.candidates.is_empty() && e.note.is_none());
    assert_eq!(e.discovery, Discovery::default());
}

#[test]
fn settings_files_set_preset_and_count_and_report_typos() {
    let (d, problems) =
        Discovery::default().with_settings("# the talk show\npreset=short\ncount=5 colour=red\n");
    assert_eq!(
        d,
        Discovery {
            preset: Preset::Short,
            count: 5
        }
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (d, problems) = Discovery::default().with_settings("preset = long count=many");
    assert_eq!(d.preset, Preset::Long);
    assert_eq!(d.count, 3);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn count_zero_renders_nothing_but_still_scores_candidates() {
    let ep = episode(60.0, false);
    let e = run(&ep, Preset::Medium, 0);
    assert!(e.highlights.is_empty());
    assert!(!e.candidates.is_empty());
}

#[test]
fn three_twenty_second_cues_are_three_clips() {
    // make-sample-media --seconds 60: three back-to-back cues of 20 s, the shortest medium clip each.
    let cues: Vec<Cue> = (0..3)
        .map(|i| Cue {
            start: i as f64 * 20.0,
            end: (i + 1) as f64 * 20.0,
            text: format!(
                "Episode 1 of talk, part {}: the team talks about cleanup, caches and clips.",
                i + 1
            ),
        })
        .collect();
    let e = enrich(&id(), &cues, &[], &[], 60.02, Discovery::default());
    let spans: Vec<(f64, f64)> = e.highlights.iter().map(|h| (h.start, h.end)).collect();
    assert_eq!(spans, [(0.0, 20.0), (20.0, 40.0), (40.0, 60.02)]);
}

#[test]
fn music_heard_as_the_same_word_over_and_over_is_a_note_not_a_clip() {
    // What the recognizer made of a minute of tones: "when", 0.75 s long, every 2 s, confidence ~1.
    let words: Vec<Word> = (0..30)
        .map(|i| Word {
            word: "when".into(),
            start: i as f64 * 2.0,
            end: i as f64 * 2.0 + 0.75,
            confidence: 1.0,
        })
        .collect();
    let cues = super::super::cues::group(&words);
    let e = enrich(&id(), &cues, &words, &[], 61.0, Discovery::default());
    assert!(
        e.highlights.is_empty() && e.candidates.is_empty(),
        "{:?}",
        e.highlights
    );
    assert!(
        e.note
            .as_deref()
            .is_some_and(|n| n.contains("does not sound like speech")),
        "{:?}",
        e.note
    );
}

#[test]
fn subtitles_past_the_end_of_the_media_make_no_clip_there() {
    let cues: Vec<Cue> = (0..18)
        .map(|i| Cue {
            start: i as f64 * 5.0,
            end: (i + 1) as f64 * 5.0,
            text: format!("Part {i}: the team talks about cleanup, caches and clips."),
        })
        .collect();
    let e = enrich(&id(), &cues, &[], &[], 45.0, Discovery::default());
    assert!(!e.highlights.is_empty());
    for h in e.highlights.iter().chain(&e.candidates) {
        assert!(h.end <= 45.0, "{h:?}");
    }
}

#[test]
fn loudness_means_are_gated_and_measured_per_span() {
    // 10 s: silence, then 5 s at -20 LUFS, then 3 s at -30.
    let mut frames = vec![-120.0; 20];
    frames.extend(vec![-20.0; 50]);
    frames.extend(vec![-30.0; 30]);
    let l = Loudness::new(&frames);
    assert_eq!(l.mean(0.0, 2.0), None, "silence is gated out");
    assert_eq!(l.mean(2.0, 7.0), Some(-20.0));
    assert_eq!(l.mean(0.0, 10.0), Some((-20.0 * 50.0 - 30.0 * 30.0) / 80.0));
    assert_eq!(l.median, Some(-20.0));
    assert_eq!(Loudness::new(&[]).mean(0.0, 5.0), None);
    // Past the end of the measurement: clamped, never a panic.
    assert_eq!(l.mean(9.0, 100.0), Some(-30.0));
}
