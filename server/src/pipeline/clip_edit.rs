//! What the operator's clip edits change in the enrichment: a clip nudged by one sentence at its start or
//! end, a candidate made a clip, the candidates looked for again with other settings. Pure functions
//! over the stored transcript; the studio writes the result (`studio/clips.rs`).
//!
//! Clip numbers are identities: clip `n` is `highlights[n - 1]` and its files are `clips/<n>/`. An edit
//! never renumbers: a new clip (a rendered candidate, a nudged clip) is appended, so the old clip's
//! files can come back from the trash beside it, to the place they were.

use super::cues::Word;
use super::enrich::{Enriched, Highlight};
use super::highlights::{self, Sentence};
use super::text;
use super::transcript::Cue;
use app::api::{ClipEdge, NudgeWay};

/// A sentence edge counts as the clip's edge within this much (bounds are stored rounded to 1 ms, and
/// padded into the pause by up to [`highlights::PAD_SECS`]).
const EDGE_SLACK: f64 = highlights::PAD_SECS + 0.002;

/// The transcript's sentences as the enrich stage saw them: split at pauses, none past the media.
pub fn sentences(cues: &[Cue], words: &[Word], pause: f64, duration: f64) -> Vec<Sentence> {
    let mut s = highlights::sentences(cues, words, pause);
    s.retain(|x| duration <= 0.0 || x.start < duration);
    s
}

/// Whether clip `h` holds at least one whole sentence of `s`.
pub fn holds_sentences(s: &[Sentence], h: &Highlight) -> bool {
    span(s, h).is_some()
}

/// The whole sentences clip `h` holds: `(first, last)`, or `None` when it holds none.
fn span(s: &[Sentence], h: &Highlight) -> Option<(usize, usize)> {
    let first = s.iter().position(|x| x.start >= h.start - EDGE_SLACK)?;
    let last = s.iter().rposition(|x| x.end <= h.end + EDGE_SLACK)?;
    (first <= last).then_some((first, last))
}

/// Clip `h` with its `edge` moved one sentence `way`, cut in the pauses around the new edge sentences
/// (never inside a word). `Err` says why it cannot move, for a 400.
pub fn nudge(
    s: &[Sentence],
    h: &Highlight,
    n: u32,
    edge: ClipEdge,
    way: NudgeWay,
    duration: f64,
) -> Result<Highlight, String> {
    let (first, last) = span(s, h).ok_or_else(|| {
        format!("clip {n} holds no whole sentence of the transcript, so it cannot be nudged")
    })?;
    let (first, last) = match (edge, way) {
        (ClipEdge::Start, NudgeWay::Earlier) => (
            first
                .checked_sub(1)
                .ok_or(format!("clip {n} already starts at the first sentence"))?,
            last,
        ),
        (ClipEdge::End, NudgeWay::Later) if last + 1 >= s.len() => {
            return Err(format!("clip {n} already ends at the last sentence"));
        }
        (ClipEdge::End, NudgeWay::Later) => (first, last + 1),
        (ClipEdge::Start, NudgeWay::Later) | (ClipEdge::End, NudgeWay::Earlier)
            if first == last =>
        {
            return Err(format!(
                "clip {n} holds one sentence: moving its {} {} would leave nothing",
                edge_name(edge),
                way_name(way)
            ));
        }
        (ClipEdge::Start, NudgeWay::Later) => (first + 1, last),
        (ClipEdge::End, NudgeWay::Earlier) => (first, last - 1),
    };
    let (start, end) = highlights::cut_bounds(s, first, last, duration);
    let why = format!(
        "clip {n} with its {} one sentence {} ({:.0} s)",
        edge_name(edge),
        way_name(way),
        end - start
    );
    Ok(highlight(&s[first..=last], (start, end), h.score, why))
}

fn edge_name(e: ClipEdge) -> &'static str {
    match e {
        ClipEdge::Start => "start",
        ClipEdge::End => "end",
    }
}

fn way_name(w: NudgeWay) -> &'static str {
    match w {
        NudgeWay::Earlier => "earlier",
        NudgeWay::Later => "later",
    }
}

/// A clip of `run`'s sentences cut at `(start, end)`.
pub fn highlight(run: &[Sentence], (start, end): (f64, f64), score: f64, why: String) -> Highlight {
    Highlight {
        start: round_ms(start),
        end: round_ms(end),
        text: run
            .iter()
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        score,
        why,
        sentences: run.iter().map(|x| text::as_sentence(&x.text)).collect(),
    }
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// The clip a highlight already is, by its bounds (1-based).
pub fn clip_of(e: &Enriched, h: &Highlight) -> Option<u32> {
    e.highlights
        .iter()
        .position(|x| same_bounds(x, h))
        .map(|i| i as u32 + 1)
}

pub fn same_bounds(a: &Highlight, b: &Highlight) -> bool {
    (a.start - b.start).abs() < 1e-6 && (a.end - b.end).abs() < 1e-6
}

/// `fresh`, found with other settings, with `old`'s clips kept as they are: the rendered clips keep their
/// numbers and files; the candidates, settings and note are the new ones.
pub fn rediscovered(old: &Enriched, fresh: Enriched) -> Enriched {
    Enriched {
        highlights: old.highlights.clone(),
        ..fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten 3 s cues back to back: each one a sentence, edges every 3 s.
    fn cues() -> Vec<Cue> {
        (0..10)
            .map(|k| Cue {
                start: k as f64 * 3.0,
                end: k as f64 * 3.0 + 3.0,
                text: format!("sentence number {k} of the talk"),
            })
            .collect()
    }

    fn clip(first: usize, last: usize, s: &[Sentence]) -> Highlight {
        highlight(
            &s[first..=last],
            highlights::cut_bounds(s, first, last, 30.0),
            1.0,
            "test".into(),
        )
    }

    #[test]
    fn a_nudge_moves_one_edge_by_one_sentence_onto_sentence_edges() {
        let s = sentences(&cues(), &[], highlights::PAUSE_SECS, 30.0);
        let h = clip(3, 5, &s);
        assert_eq!((h.start, h.end), (9.0, 18.0));
        let cases = [
            (ClipEdge::Start, NudgeWay::Earlier, (6.0, 18.0)),
            (ClipEdge::Start, NudgeWay::Later, (12.0, 18.0)),
            (ClipEdge::End, NudgeWay::Earlier, (9.0, 15.0)),
            (ClipEdge::End, NudgeWay::Later, (9.0, 21.0)),
        ];
        for (edge, way, bounds) in cases {
            let n = nudge(&s, &h, 2, edge, way, 30.0).unwrap();
            assert_eq!((n.start, n.end), bounds, "{edge:?} {way:?}");
            assert_eq!(n.sentences.len(), ((bounds.1 - bounds.0) / 3.0) as usize);
            assert!(n.why.contains("one sentence"), "{}", n.why);
        }
    }

    #[test]
    fn a_nudge_past_the_episode_or_to_nothing_is_refused_with_a_reason() {
        let s = sentences(&cues(), &[], highlights::PAUSE_SECS, 30.0);
        let first = clip(0, 1, &s);
        let e = nudge(&s, &first, 1, ClipEdge::Start, NudgeWay::Earlier, 30.0).unwrap_err();
        assert!(e.contains("first sentence"), "{e}");
        let last = clip(8, 9, &s);
        let e = nudge(&s, &last, 3, ClipEdge::End, NudgeWay::Later, 30.0).unwrap_err();
        assert!(e.contains("last sentence"), "{e}");
        let one = clip(4, 4, &s);
        let e = nudge(&s, &one, 2, ClipEdge::End, NudgeWay::Earlier, 30.0).unwrap_err();
        assert!(e.contains("leave nothing"), "{e}");
    }

    #[test]
    fn with_word_times_a_nudge_cuts_in_the_pause_never_in_a_word() {
        // Two-word sentences 1 s apart: words at k..k+0.3 and k+0.35..k+0.6.
        let words: Vec<Word> = (0..8)
            .flat_map(|k| {
                let t = k as f64;
                [
                    Word {
                        word: format!("w{k}a"),
                        start: t,
                        end: t + 0.3,
                        confidence: 0.9,
                    },
                    Word {
                        word: format!("w{k}b"),
                        start: t + 0.35,
                        end: t + 0.6,
                        confidence: 0.9,
                    },
                ]
            })
            .collect();
        let s = sentences(&[], &words, highlights::PAUSE_SECS, 8.0);
        assert_eq!(s.len(), 8);
        let h = clip(2, 4, &s);
        let n = nudge(&s, &h, 1, ClipEdge::Start, NudgeWay::Earlier, 8.0).unwrap();
        // Starts in the pause before sentence 1 (after 0.6, before 1.0), ends where it did.
        assert!(n.start > 0.6 && n.start <= 1.0, "{}", n.start);
        assert_eq!(n.end, h.end);
        for w in &words {
            assert!(!(w.start < n.start && n.start < w.end), "cuts {w:?}");
            assert!(!(w.start < n.end && n.end < w.end), "cuts {w:?}");
        }
    }
}
