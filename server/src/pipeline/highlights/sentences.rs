//! Sentences: the stretches of speech between pauses, and where a clip over them may be cut.

use super::PAD_SECS;
use crate::pipeline::cues::Word;
use crate::pipeline::text;
use crate::pipeline::transcript::Cue;

/// One sentence: its span, its words and what scoring needs from them.
#[derive(Clone, Debug)]
pub struct Sentence {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub tokens: Vec<String>,
    /// Mean recognizer confidence; 1.0 when the transcript has none (subtitles are trusted).
    pub confidence: f64,
}

/// Splits the transcript into sentences at pauses of at least `pause` seconds. Words win when there are
/// any (exact pauses); cues otherwise, one sentence each.
pub fn sentences(cues: &[Cue], words: &[Word], pause: f64) -> Vec<Sentence> {
    let mut out = Vec::new();
    if !words.is_empty() {
        let mut cur: Vec<&Word> = Vec::new();
        for w in words.iter().filter(|w| !w.word.trim().is_empty()) {
            if let Some(last) = cur.last()
                && w.start - last.end >= pause
            {
                out.push(from_words(&cur));
                cur.clear();
            }
            cur.push(w);
        }
        if !cur.is_empty() {
            out.push(from_words(&cur));
        }
        return out;
    }
    for c in cues.iter().filter(|c| c.end > c.start) {
        let text = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        out.push(Sentence {
            start: c.start,
            end: c.end,
            tokens: text::tokens(&text),
            text,
            confidence: 1.0,
        });
    }
    out
}

fn from_words(ws: &[&Word]) -> Sentence {
    let text = ws
        .iter()
        .map(|w| w.word.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Sentence {
        start: ws.first().map_or(0.0, |w| w.start),
        end: ws.last().map_or(0.0, |w| w.end),
        tokens: text::tokens(&text),
        text,
        confidence: ws.iter().map(|w| w.confidence.clamp(0.0, 1.0)).sum::<f64>()
            / ws.len().max(1) as f64,
    }
}

/// Where a clip may start before sentence `i` and end after sentence `j`: padded into the pause, never
/// past its middle (the other half belongs to the neighbouring sentence), never outside the media.
pub fn cut_bounds(s: &[Sentence], i: usize, j: usize, duration: f64) -> (f64, f64) {
    let start = match i.checked_sub(1).and_then(|p| s.get(p)) {
        Some(prev) => (s[i].start - PAD_SECS).max((prev.end + s[i].start) / 2.0),
        None => (s[i].start - PAD_SECS).max(0.0),
    };
    let end = match s.get(j + 1) {
        Some(next) => (s[j].end + PAD_SECS).min((s[j].end + next.start) / 2.0),
        None => s[j].end + PAD_SECS,
    };
    let end = if duration > 0.0 {
        end.min(duration.max(s[j].end))
    } else {
        end
    };
    (start, end)
}
