//! The episode-level context every candidate is scored against: key phrases, topic segments, the
//! median speech rate and the loudness.

use super::{Sentence, topics::topic_boundaries};

/// The episode-level context scoring needs, computed once.
pub struct Context {
    pub phrases: Vec<String>,
    pub boundaries: Vec<usize>,
    /// Topic segment of each sentence.
    pub topic: Vec<usize>,
    pub median_rate: f64,
    /// Drop candidates that do not sound like speech ([`super::speech_like`]): the sentences are recognizer words.
    pub check_speech: bool,
    /// Momentary loudness (ffmpeg `ebur128`, LUFS) every [`LOUDNESS_STEP`] s from 0; empty when unmeasured.
    pub loudness: Loudness,
}

/// ffmpeg's `ebur128` reports momentary loudness every 100 ms.
pub const LOUDNESS_STEP: f64 = 0.1;
/// Quieter than this is silence, not quiet speech (EBU R 128's absolute gate).
const LOUDNESS_GATE: f64 = -70.0;

/// Prefix sums over the gated loudness frames, so a candidate's mean is O(1), and the episode's median.
#[derive(Default)]
pub struct Loudness {
    sum: Vec<f64>,
    count: Vec<usize>,
    pub(super) median: Option<f64>,
}

impl Loudness {
    pub fn new(frames: &[f64]) -> Self {
        let (mut sum, mut count) = (vec![0.0], vec![0usize]);
        for &m in frames {
            let on = m.is_finite() && m > LOUDNESS_GATE;
            sum.push(sum[sum.len() - 1] + if on { m } else { 0.0 });
            count.push(count[count.len() - 1] + usize::from(on));
        }
        let mut on: Vec<f64> = frames
            .iter()
            .copied()
            .filter(|m| m.is_finite() && *m > LOUDNESS_GATE)
            .collect();
        on.sort_by(f64::total_cmp);
        Loudness {
            median: on.get(on.len() / 2).copied(),
            sum,
            count,
        }
    }

    /// Mean gated loudness over `[a, b)` seconds, when measured there.
    pub(super) fn mean(&self, a: f64, b: f64) -> Option<f64> {
        let last = self.count.len().checked_sub(1)?;
        let i = ((a / LOUDNESS_STEP).floor().max(0.0) as usize).min(last);
        let j = ((b / LOUDNESS_STEP).ceil().max(0.0) as usize).min(last);
        let n = self.count[j]
            .checked_sub(self.count[i])
            .filter(|n| *n > 0)?;
        Some((self.sum[j] - self.sum[i]) / n as f64)
    }
}

pub fn context(
    s: &[Sentence],
    phrases: Vec<String>,
    check_speech: bool,
    loudness: Loudness,
) -> Context {
    let boundaries = topic_boundaries(s);
    let mut topic = Vec::with_capacity(s.len());
    let mut t = 0;
    for i in 0..s.len() {
        topic.push(t);
        if boundaries.contains(&i) {
            t += 1;
        }
    }
    let mut rates: Vec<f64> = s.iter().map(rate).collect();
    rates.sort_by(f64::total_cmp);
    let median_rate = rates.get(rates.len() / 2).copied().unwrap_or(2.5);
    Context {
        phrases,
        boundaries,
        topic,
        median_rate,
        check_speech,
        loudness,
    }
}

fn rate(x: &Sentence) -> f64 {
    x.tokens.len() as f64 / (x.end - x.start).max(0.3)
}
