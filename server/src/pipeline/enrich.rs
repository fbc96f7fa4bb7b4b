//! Deterministic enrichment from the transcript: title, summary, key phrases and highlight clips.
//! No model: clips are chosen by [`super::highlights`], the write-ups are extractive ([`super::text`]).

use super::cues::Word;
use super::highlights::{self, Candidate, Discovery, Sentence};
use super::text;
use super::transcript::Cue;
use crate::ids::EpisodeId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Highlight {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Higher is better; comparable within one episode only. 0 in enrichment written before scoring.
    #[serde(default)]
    pub score: f64,
    /// Why it was chosen, in a few words, for the operator.
    #[serde(default)]
    pub why: String,
    /// The clip's sentences as written sentences: its social posts are built from them.
    #[serde(default)]
    pub sentences: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Enriched {
    pub title: String,
    pub summary: String,
    /// Key phrases (bigrams/trigrams the episode repeats), single words only to fill in.
    pub keywords: Vec<String>,
    /// The clips that are cut, in time order; clip `n` is `highlights[n - 1]`.
    pub highlights: Vec<Highlight>,
    /// Every candidate kept for the operator, best first (the highlights among them), none overlapping.
    #[serde(default)]
    pub candidates: Vec<Highlight>,
    /// What the candidates were looked for with.
    #[serde(default)]
    pub discovery: Discovery,
    /// Why there are no (or unusual) highlights, for the episode page: "no highlight: …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Candidates kept beyond the ones rendered, so the operator has alternatives to choose from.
fn kept(count: usize) -> usize {
    (count * 3).max(10)
}

/// `loudness`: momentary loudness every 100 ms from ffmpeg's `ebur128` (LUFS), or empty.
pub fn enrich(
    id: &EpisodeId,
    cues: &[Cue],
    words: &[Word],
    loudness: &[f64],
    duration: f64,
    discovery: Discovery,
) -> Enriched {
    let mut sentences = highlights::sentences(cues, words, highlights::PAUSE_SECS);
    // A sidecar may run past the media (made for a longer cut): a clip there would be empty.
    sentences.retain(|s| duration <= 0.0 || s.start < duration);
    let toks: Vec<Vec<String>> = sentences.iter().map(|s| s.tokens.clone()).collect();
    let keywords = text::key_phrases(&toks, 8);
    let title = title(id, &keywords);
    let summary = summary(&sentences);
    let (mut picked, note) = choose(
        &sentences, cues, words, loudness, &keywords, duration, discovery,
    );
    let candidates: Vec<Highlight> = picked.iter().map(|c| c.clone().1).collect();
    picked.truncate(discovery.count);
    let mut highlights: Vec<Highlight> = picked.into_iter().map(|(_, h)| h).collect();
    highlights.sort_by(|a, b| a.start.total_cmp(&b.start));
    Enriched {
        title,
        summary,
        keywords,
        highlights,
        candidates,
        discovery,
        note,
    }
}

/// A chosen candidate as the highlight it becomes.
type Chosen = (Candidate, Highlight);

/// The scored, selected candidates best first (as highlights, with the sentences they cover), and a
/// note when the episode does not allow a proper one. Tried in order: runs of whole sentences between
/// pauses (the normal case); nothing, when the words do not sound like speech; one clip of all the
/// speech, when there is less of it than the preset's shortest clip; clips cut between words, when the
/// speech has too few pauses; else nothing, with the reason.
fn choose(
    sentences: &[Sentence],
    cues: &[Cue],
    words: &[Word],
    loudness: &[f64],
    phrases: &[String],
    duration: f64,
    d: Discovery,
) -> (Vec<Chosen>, Option<String>) {
    let (Some(first), Some(last)) = (sentences.first(), sentences.last()) else {
        return (
            Vec::new(),
            Some("no highlight: the transcript has no speech".into()),
        );
    };
    let search = Search {
        words,
        loudness,
        phrases,
        duration,
        d,
    };
    let picked = search.found(sentences);
    if !picked.is_empty() {
        return (at_pauses(sentences, picked), None);
    }
    let speech = last.end - first.start;
    if !words.is_empty() && !highlights::speech_like(sentences, speech) {
        return (Vec::new(), Some(not_speech(sentences, speech)));
    }
    if speech < d.preset.range().0 {
        let (chosen, note) = search.all_of_it(sentences, speech);
        return (vec![chosen], Some(note));
    }
    if let Some((chosen, note)) = search.between_words(cues) {
        return (chosen, Some(note));
    }
    (Vec::new(), Some(search.no_run(sentences)))
}

/// What the candidates are looked for with.
struct Search<'a> {
    words: &'a [Word],
    loudness: &'a [f64],
    phrases: &'a [String],
    duration: f64,
    d: Discovery,
}

impl Search<'_> {
    /// The preset's range for notes: "20–60 s".
    fn preset(&self) -> String {
        let (min, max) = self.d.preset.range();
        format!("{min:.0}–{max:.0} s")
    }

    /// The scored candidates among `s`, selected: the best first, none overlapping.
    fn found(&self, s: &[Sentence]) -> Vec<Candidate> {
        if s.is_empty() {
            return Vec::new();
        }
        let ctx = highlights::context(
            s,
            self.phrases.to_vec(),
            !self.words.is_empty(),
            highlights::Loudness::new(self.loudness),
        );
        let pool = highlights::candidates(s, &ctx, self.d.preset, self.duration);
        let span = (s[0].start, s[s.len() - 1].end);
        highlights::select(pool, kept(self.d.count), span)
    }

    /// Shorter than the shortest clip the preset allows: one clip of all the speech is the most the
    /// episode has to offer (and a short episode still gets its clip and posts).
    fn all_of_it(&self, sentences: &[Sentence], speech: f64) -> (Chosen, String) {
        let (first, last) = (&sentences[0], &sentences[sentences.len() - 1]);
        let duration = self.duration;
        let c = Candidate {
            first: 0,
            last: sentences.len() - 1,
            start: (first.start - highlights::PAD_SECS).max(0.0),
            end: if duration > 0.0 {
                (last.end + highlights::PAD_SECS).min(duration.max(last.end))
            } else {
                last.end + highlights::PAD_SECS
            },
            score: 0.0,
            why: String::new(),
            topic: 0,
        };
        let preset = self.preset();
        let why = format!(
            "all of the episode's speech ({speech:.0} s): shorter than the {preset} asked for"
        );
        let note = format!(
            "no highlight of {preset}: the episode's speech lasts {speech:.1} s, so its one clip is all of it"
        );
        (as_highlight(sentences, c, why), note)
    }

    /// Long stretches without a pause (a monologue, or subtitles in long cues): cut between any two
    /// words rather than at pauses. Still never inside a word. `None` without words, or when that
    /// finds nothing either.
    fn between_words(&self, cues: &[Cue]) -> Option<(Vec<Chosen>, String)> {
        if self.words.is_empty() {
            return None;
        }
        let duration = self.duration;
        let mut fine = highlights::sentences(cues, self.words, 0.0);
        fine.retain(|s| duration <= 0.0 || s.start < duration);
        let picked = self.found(&fine);
        if picked.is_empty() {
            return None;
        }
        let note = format!(
            "few pauses: no run of sentences between pauses lasts {}, so clips are cut between words",
            self.preset()
        );
        let chosen = picked
            .into_iter()
            .map(|c| {
                let why = format!("{}; cut between words, no pause near", c.why);
                as_highlight(&fine, c, why)
            })
            .collect();
        Some((chosen, note))
    }

    /// Nothing found: the longest stretch without a pause says why.
    fn no_run(&self, sentences: &[Sentence]) -> String {
        let longest = sentences
            .iter()
            .map(|s| s.end - s.start)
            .fold(0.0, f64::max);
        format!(
            "no highlight: no run of whole sentences between pauses lasts {} (the longest stretch without a pause is {longest:.0} s)",
            self.preset()
        )
    }
}

/// The normal case: candidates of whole sentences between pauses, each with its own why.
fn at_pauses(sentences: &[Sentence], picked: Vec<Candidate>) -> Vec<Chosen> {
    picked
        .into_iter()
        .map(|c| {
            let why = c.why.clone();
            as_highlight(sentences, c, why)
        })
        .collect()
}

/// Words the recognizer heard that do not sound like speech (see [`highlights::speech_like`]).
fn not_speech(sentences: &[Sentence], speech: f64) -> String {
    let n: usize = sentences.iter().map(|s| s.tokens.len()).sum();
    format!(
        "no highlight: this does not sound like speech ({n} words heard in {speech:.0} s, few of them different): music or noise?"
    )
}

/// Candidate `c` over sentences `s` as a highlight: its span to the millisecond, its text and the
/// sentences its posts are written from.
fn as_highlight(s: &[Sentence], c: Candidate, why: String) -> Chosen {
    let sentences: Vec<String> = s[c.first..=c.last]
        .iter()
        .map(|x| text::as_sentence(&x.text))
        .collect();
    let h = Highlight {
        start: round_ms(c.start),
        end: round_ms(c.end),
        text: s[c.first..=c.last]
            .iter()
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        score: c.score,
        why,
        sentences,
    };
    (c, h)
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// "Talk #3 — Mountain Weather and Winter Food": the show and number stay visible (operators search
/// by them), the episode's two leading key phrases say what it is about. The date when there are none.
fn title(id: &EpisodeId, phrases: &[String]) -> String {
    // Title case, with the small words inside a phrase left lower case ("Bag of Food").
    let cap = |s: &str| {
        s.split(['-', ' '])
            .filter(|w| !w.is_empty())
            .enumerate()
            .map(|(i, w)| {
                if i > 0
                    && [
                        "of", "the", "for", "in", "on", "to", "a", "an", "at", "with",
                    ]
                    .contains(&w)
                {
                    return w.to_string();
                }
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let show = cap(id.show());
    let about: Vec<String> = phrases.iter().take(2).map(|p| cap(p)).collect();
    if about.is_empty() {
        format!("{show} #{} — {}", id.number(), id.date())
    } else {
        format!("{show} #{} — {}", id.number(), about.join(" and "))
    }
}

/// Two or three of the episode's most central sentences (TextRank), in the order they were said.
fn summary(sentences: &[Sentence]) -> String {
    let toks: Vec<Vec<String>> = sentences.iter().map(|s| s.tokens.clone()).collect();
    let rank = text::centrality(&toks);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    // Fragments under five words rarely stand alone, and a misheard sentence reads as nonsense: both
    // are passed over while better ones remain; among the rest, centrality weighed by confidence.
    let usable = |i: usize| sentences[i].tokens.len() >= 5 && sentences[i].confidence >= 0.6;
    let weight = |i: usize| rank[i] * sentences[i].confidence;
    order.sort_by(|&a, &b| {
        usable(b)
            .cmp(&usable(a))
            .then(weight(b).total_cmp(&weight(a)))
            .then(a.cmp(&b))
    });
    let want = if sentences.len() >= 6 { 3 } else { 2 };
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() >= want {
            break;
        }
        // A repeated sentence is as central as the first time it was said: say it once.
        let s = &sentences[i].text;
        if text::norm_key(s).is_empty()
            || chosen
                .iter()
                .any(|&c| text::near_duplicate(&sentences[c].text, s))
        {
            continue;
        }
        chosen.push(i);
    }
    chosen.sort_unstable();
    let s = chosen
        .into_iter()
        .map(|i| text::as_sentence(&sentences[i].text))
        .collect::<Vec<_>>()
        .join(" ");
    // A page summary, not the transcript: bounded even when a "sentence" is a long cue.
    text::fit(&s, 600)
}
