//! From recognized words with timings to subtitle cues laid out the way subtitles are read: at most two
//! short lines, a few seconds each, starting a new cue where the speaker pauses.

use super::transcript::Cue;
use serde::{Deserialize, Serialize};

/// One recognized word. `confidence` is the recognizer's posterior in 0..=1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub word: String,
    pub start: f64,
    pub end: f64,
    pub confidence: f64,
}

/// Broadcast subtitle guidelines (BBC, Netflix) allow ~37–42 characters per line; 42 is the common ceiling.
pub const MAX_LINE_CHARS: usize = 42;
pub const MAX_LINES: usize = 2;
/// Longer cues linger on screen after they have been read; ~6 s is the usual upper bound.
pub const MAX_CUE_SECS: f64 = 6.0;
/// A silence this long always ends a cue: the speaker has stopped.
pub const PAUSE_SECS: f64 = 0.6;
/// A shorter silence ends a cue that has been on screen long enough to read. Sentence ends measured
/// 0.3–0.4 s (espeak through pocketsphinx), gaps between words inside a phrase mostly ≤ 0.15 s.
pub const SHORT_PAUSE_SECS: f64 = 0.25;
/// Shorter cues flash by before they can be read; we stretch them into the following silence.
pub const MIN_CUE_SECS: f64 = 1.0;

/// Groups words into cues. Words must be in time order (the recognizer emits them that way).
pub fn group(words: &[Word]) -> Vec<Cue> {
    let mut cues: Vec<Cue> = Vec::new();
    let mut current: Vec<&Word> = Vec::new();
    for w in words {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let gap = w.start - last.end;
            let pause = gap >= PAUSE_SECS
                || (gap >= SHORT_PAUSE_SECS && last.end - first.start >= MIN_CUE_SECS);
            let too_long = w.end - first.start > MAX_CUE_SECS;
            let texts: Vec<&str> = current
                .iter()
                .map(|c| c.word.as_str())
                .chain([w.word.as_str()])
                .collect();
            if pause || too_long || layout(&texts).is_none() {
                cues.push(make_cue(&current));
                current.clear();
            }
        }
        current.push(w);
    }
    if !current.is_empty() {
        cues.push(make_cue(&current));
    }
    stretch_short_cues(&mut cues);
    cues
}

fn make_cue(words: &[&Word]) -> Cue {
    let texts: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
    // A lone word longer than a line cannot be laid out; it still gets its own cue, on one line.
    let text = layout(&texts).unwrap_or_else(|| texts.join(" "));
    Cue {
        start: words.first().map_or(0.0, |w| w.start),
        end: words.last().map_or(0.0, |w| w.end),
        text,
    }
}

/// Lays words out on one line, or on two lines split where they are most even (a balanced pair reads
/// faster than a full line over a stub). `None` when they do not fit.
pub fn layout(words: &[&str]) -> Option<String> {
    let len = |ws: &[&str]| {
        ws.iter().map(|w| w.chars().count()).sum::<usize>() + ws.len().saturating_sub(1)
    };
    if len(words) <= MAX_LINE_CHARS {
        return Some(words.join(" "));
    }
    if MAX_LINES < 2 {
        return None;
    }
    (1..words.len())
        .map(|i| (len(&words[..i]), len(&words[i..]), i))
        .filter(|(a, b, _)| *a <= MAX_LINE_CHARS && *b <= MAX_LINE_CHARS)
        .min_by_key(|(a, b, _)| a.abs_diff(*b))
        .map(|(_, _, i)| format!("{}\n{}", words[..i].join(" "), words[i..].join(" ")))
}

fn stretch_short_cues(cues: &mut [Cue]) {
    for i in 0..cues.len() {
        if cues[i].end - cues[i].start >= MIN_CUE_SECS {
            continue;
        }
        let limit = cues.get(i + 1).map_or(f64::INFINITY, |n| n.start);
        cues[i].end = (cues[i].start + MIN_CUE_SECS).min(limit).max(cues[i].end);
    }
}

/// Cleans one recognizer token into a display word; `None` for silence, noise and sentence markers.
/// Pocketsphinx marks alternate pronunciations as `word(2)` and fillers as `<sil>`, `[NOISE]`, `++UM++`.
pub fn display_word(token: &str) -> Option<String> {
    let t = token.split('(').next().unwrap_or(token);
    if t.is_empty() || t.starts_with(['<', '[', '+']) {
        return None;
    }
    // The recognizer's dictionary is lower case; the pronoun "I" is the one word readers trip over.
    Some(if t == "i" || t.starts_with("i'") {
        let mut s = t.to_string();
        s.replace_range(0..1, "I");
        s
    } else {
        t.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(word: &str, start: f64, end: f64) -> Word {
        Word {
            word: word.into(),
            start,
            end,
            confidence: 0.9,
        }
    }

    /// Words spoken back to back, 0.3 s each.
    fn speech(text: &str, from: f64) -> Vec<Word> {
        text.split_whitespace()
            .enumerate()
            .map(|(i, t)| w(t, from + i as f64 * 0.3, from + i as f64 * 0.3 + 0.28))
            .collect()
    }

    #[test]
    fn no_words_no_cues() {
        assert!(group(&[]).is_empty());
    }

    #[test]
    fn a_pause_starts_a_new_cue() {
        let mut words = speech("welcome to the show", 0.0);
        words.extend(speech("today we talk", 2.5));
        let cues = group(&words);
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].text, "welcome to the show");
        assert_eq!(cues[1].text, "today we talk");
        assert_eq!(cues[1].start, 2.5);
    }

    #[test]
    fn a_sentence_pause_ends_a_cue_that_has_been_read_but_not_a_short_one() {
        // "yes" then a 0.3 s pause: too short a cue to end there. After "mountains" (1.2 s in): ends.
        let mut words = vec![w("yes", 0.0, 0.28)];
        words.extend(speech("the weather in mountains", 0.58));
        words.extend(speech("the farmers", 0.58 + 1.2 + 0.3));
        let cues = group(&words);
        assert_eq!(cues.len(), 2, "{cues:?}");
        assert_eq!(cues[0].text, "yes the weather in mountains");
        assert_eq!(cues[1].text, "the farmers");
    }

    #[test]
    fn long_speech_is_split_into_short_two_line_cues() {
        let text = "the farmers in the valley have to prepare for a long and cold winter and they store food for the animals and fix the roofs of their houses before the snow comes down";
        let cues = group(&speech(text, 0.0));
        assert!(cues.len() >= 2, "{cues:?}");
        for c in &cues {
            let lines: Vec<&str> = c.text.lines().collect();
            assert!(lines.len() <= MAX_LINES, "{c:?}");
            assert!(
                lines.iter().all(|l| l.chars().count() <= MAX_LINE_CHARS),
                "{c:?}"
            );
            assert!(c.end - c.start <= MAX_CUE_SECS + 1e-9, "{c:?}");
        }
        // Nothing lost, nothing reordered.
        let back: Vec<String> = cues.iter().map(|c| c.text.replace('\n', " ")).collect();
        assert_eq!(back.join(" "), text);
        assert!(cues.windows(2).all(|p| p[0].end <= p[1].start));
    }

    #[test]
    fn two_lines_are_balanced() {
        let s = layout(
            &"one two three four five six seven eight nine ten eleven twelve"
                .split(' ')
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].len().abs_diff(lines[1].len()) <= 6, "{s}");
    }

    #[test]
    fn a_lone_overlong_word_still_gets_a_cue() {
        let long = "x".repeat(60);
        let cues = group(&[w(&long, 0.0, 1.5)]);
        assert_eq!(cues.len(), 1);
        assert_eq!(cues[0].text, long);
    }

    #[test]
    fn short_cues_are_stretched_but_never_overlap_the_next() {
        let cues = group(&[w("yes", 0.0, 0.2), w("no", 0.9, 1.1), w("maybe", 5.0, 5.3)]);
        assert_eq!(cues.len(), 3);
        assert_eq!(cues[0].end, 0.9);
        assert_eq!(cues[1].end, 1.9);
        assert_eq!(cues[2].end, 6.0);
    }

    #[test]
    fn recognizer_tokens_become_display_words() {
        assert_eq!(display_word("the(2)").as_deref(), Some("the"));
        assert_eq!(display_word("i'm").as_deref(), Some("I'm"));
        assert_eq!(display_word("i").as_deref(), Some("I"));
        for filler in ["<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "++UM++"] {
            assert_eq!(display_word(filler), None, "{filler}");
        }
    }
}
