//! Candidate clips: every run of whole sentences whose padded cut fits the preset and sounds like speech.

use super::scoring::{Features, score};
use super::{Context, Preset, Sentence, cut_bounds};

/// A scored candidate clip: sentences `first..=last`, cut at `start..end` (padded into the pauses).
#[derive(Clone, Debug)]
pub struct Candidate {
    pub first: usize,
    pub last: usize,
    pub start: f64,
    pub end: f64,
    pub score: f64,
    pub why: String,
    /// Topic segment (TextTiling) the clip mostly lies in.
    pub topic: usize,
}

/// Every run of whole sentences whose padded cut fits the preset, scored. Quadratic only in the
/// sentences one clip can hold, so an hour-long episode stays in milliseconds.
pub fn candidates(s: &[Sentence], ctx: &Context, preset: Preset, duration: f64) -> Vec<Candidate> {
    let (min, max) = preset.range();
    let f = Features::of(s, ctx);
    let mut out = Vec::new();
    for i in 0..s.len() {
        for j in i..s.len() {
            let (start, end) = cut_bounds(s, i, j, duration);
            let len = end - start;
            if len > max {
                break;
            }
            if len < min || (ctx.check_speech && !speech_like(&s[i..=j], len)) {
                continue;
            }
            out.push(score(s, ctx, &f, (i, j), (start, end), preset));
        }
    }
    out
}

/// Whether `run`, cut to `secs`, sounds like someone talking. On music the recognizer hears one short
/// word every second or two, the same few over and over, often with high confidence (measured: a
/// minute of tones gave "when when when …" at 0.5 words/s, confidence ~1.0), so confidence cannot
/// tell; rate and variety can: speech runs ~2–3 words/s with pauses, and uses more than a handful of
/// different words. Only for recognizer words: subtitle timing and text are someone's deliberate work.
pub fn speech_like(run: &[Sentence], secs: f64) -> bool {
    let words: Vec<&str> = run
        .iter()
        .flat_map(|x| x.tokens.iter().map(String::as_str))
        .collect();
    let distinct: std::collections::BTreeSet<&str> = words.iter().copied().collect();
    let rate = words.len() as f64 / secs.max(0.1);
    rate >= MIN_WORDS_PER_SEC
        && (words.len() < 10 || distinct.len() >= 10 || distinct.len() * 5 >= words.len())
}

/// Slower than this (words per second of the cut, pauses included) is not speech: music, noise.
pub const MIN_WORDS_PER_SEC: f64 = 1.0;
