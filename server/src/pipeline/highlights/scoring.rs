//! Scoring one candidate clip on features any transcript has. Each step below weighs one thing a good
//! clip has (the episode's key phrases, an opening that grabs, a question answered, lively delivery, one
//! topic, words the recognizer was sure of, little dead air, a raised voice, a length that holds
//! attention) and names it for the operator's "why" when it stands out.

use super::{Candidate, Context, Preset, Sentence};
use crate::pipeline::text;

/// Phrases that open a clip well: a promise, a surprise, a direct address. A clip that starts with one
/// does not need the minute before it.
const HOOKS: &[&str] = &[
    "the secret",
    "the truth",
    "the problem",
    "the key",
    "the reason",
    "the biggest",
    "the best",
    "the worst",
    "the most important",
    "here's why",
    "here is why",
    "here's the thing",
    "here is the thing",
    "what if",
    "imagine",
    "believe",
    "never",
    "mistake",
    "surprising",
    "surprised",
    "nobody",
    "everyone",
    "let me tell you",
    "turns out",
    "it turns out",
    "the first time",
    "remember",
    "story",
    "lesson",
    "learned",
    "important",
    "amazing",
    "incredible",
    "dangerous",
    "you need",
    "you have to",
    "you should",
];

fn has_hook(tokens: &[String]) -> bool {
    let joined = format!(" {} ", tokens.join(" "));
    HOOKS.iter().any(|h| joined.contains(&format!(" {h} ")))
}

/// Per-sentence features shared by every candidate containing the sentence.
pub(super) struct Features {
    /// Indices into [`Context::phrases`].
    phrases: Vec<Vec<usize>>,
    question: Vec<bool>,
    hook: Vec<bool>,
}

impl Features {
    /// Computed once per episode rather than per candidate.
    pub(super) fn of(s: &[Sentence], ctx: &Context) -> Features {
        Features {
            // Which key phrases each sentence says.
            phrases: s
                .iter()
                .map(|x| {
                    let joined = format!(" {} ", x.tokens.join(" "));
                    (0..ctx.phrases.len())
                        .filter(|&k| joined.contains(&format!(" {} ", ctx.phrases[k])))
                        .collect()
                })
                .collect(),
            question: s
                .iter()
                .map(|x| text::looks_like_question(&x.text))
                .collect(),
            hook: s.iter().map(|x| has_hook(&x.tokens)).collect(),
        }
    }
}

/// The candidate being scored: sentences `i..=j` of the episode, cut at `start..end`.
struct Run<'a> {
    s: &'a [Sentence],
    i: usize,
    j: usize,
    start: f64,
    end: f64,
    /// Words said in the run.
    words: usize,
    /// Seconds of speech in the run (the sentences' spans, pauses left out).
    speech: f64,
}

impl Run<'_> {
    fn sentences(&self) -> &[Sentence] {
        &self.s[self.i..=self.j]
    }

    fn secs(&self) -> f64 {
        self.end - self.start
    }
}

/// The reasons a candidate scored well (or badly), with their weight: the strongest few become its why.
#[derive(Default)]
struct Why(Vec<(f64, String)>);

impl Why {
    fn add(&mut self, weight: f64, reason: impl Into<String>) {
        self.0.push((weight, reason.into()));
    }

    /// The three strongest reasons, and the cut's length.
    fn finish(mut self, secs: f64) -> String {
        self.0.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut why: Vec<String> = self.0.into_iter().take(3).map(|(_, w)| w).collect();
        if why.is_empty() {
            why.push("whole sentences between pauses".into());
        }
        format!("{} ({:.0} s)", why.join("; "), secs)
    }
}

/// Each feature's value for one candidate; [`Scores::total`] weighs them into its score.
struct Scores {
    key: f64,
    opening: f64,
    qa: f64,
    hooks_inside: usize,
    lively: f64,
    topic: f64,
    fill: f64,
    fit_len: f64,
    loud: f64,
    conf_penalty: f64,
}

impl Scores {
    fn total(&self) -> f64 {
        1.0 * self.key
            + 0.8 * self.opening
            + 0.8 * self.qa
            + 0.15 * (self.hooks_inside.min(3) as f64)
            + 0.4 * self.lively
            + 0.6 * self.topic
            + 0.5 * (self.fill - 0.7).max(-0.5)
            + 0.3 * self.fit_len
            + 0.3 * self.loud
            - self.conf_penalty
    }
}

pub(super) fn score(
    s: &[Sentence],
    ctx: &Context,
    f: &Features,
    (i, j): (usize, usize),
    (start, end): (f64, f64),
    preset: Preset,
) -> Candidate {
    let run = Run {
        s,
        i,
        j,
        start,
        end,
        words: s[i..=j].iter().map(|x| x.tokens.len()).sum(),
        speech: s[i..=j].iter().map(|x| x.end - x.start).sum(),
    };
    // The steps push their reasons in this order; ties in weight keep it.
    let mut why = Why::default();
    let key = key_phrases(&run, ctx, f, &mut why);
    let (opening, qa) = opening_and_answer(&run, f, &mut why);
    let scores = Scores {
        key,
        opening,
        qa,
        hooks_inside: f.hook[i..=j].iter().filter(|h| **h).count(),
        lively: lively(&run, ctx, &mut why),
        topic: one_topic(&run, ctx, &mut why),
        conf_penalty: low_confidence(&run, &mut why),
        fill: fill(&run),
        loud: loudness(&run, ctx, &mut why),
        fit_len: fit_length(&run, preset),
    };
    Candidate {
        first: i,
        last: j,
        start,
        end,
        score: (scores.total() * 1000.0).round() / 1000.0,
        why: why.finish(run.secs()),
        // The topic the clip mostly lies in: the one of its middle sentence.
        topic: ctx.topic[(i + j) / 2],
    }
}

/// Key phrases of the episode per 20 words: what the episode is about, said here.
fn key_phrases(run: &Run, ctx: &Context, f: &Features, why: &mut Why) -> f64 {
    let said: Vec<usize> = f.phrases[run.i..=run.j].iter().flatten().copied().collect();
    let density = said.len() as f64 * 20.0 / run.words.max(1) as f64;
    // The two best-ranked phrases it says, for the why.
    let found: Vec<&str> = (0..ctx.phrases.len())
        .filter(|k| said.contains(k))
        .take(2)
        .map(|k| ctx.phrases[k].as_str())
        .collect();
    let key = density.min(2.0) / 2.0;
    if !found.is_empty() {
        let quoted: Vec<String> = found.iter().map(|p| format!("“{p}”")).collect();
        why.add(key, format!("key phrases {}", quoted.join(", ")));
    }
    key
}

/// A hook or a question in the opening sentence: the clip grabs attention on its own. A question
/// answered inside the clip is a complete exchange; one left open at its end is a cliffhanger without
/// the answer, which frustrates viewers. Returns (opening, question and answer).
fn opening_and_answer(run: &Run, f: &Features, why: &mut Why) -> (f64, f64) {
    let (s, i, j) = (run.s, run.i, run.j);
    let (question, hook) = (&f.question, &f.hook);
    let mut opening = 0.0;
    if hook[i] {
        opening = 1.0;
        why.add(1.0, "opens with a hook");
    }
    let answered = (i..j).any(|k| question[k] && !question[k + 1] && s[k + 1].tokens.len() >= 4);
    let qa = if answered {
        why.add(1.0, "a question and its answer");
        1.0
    } else if question[j] {
        // Ends on an open question.
        -0.5
    } else {
        0.0
    };
    if !hook[i] && question[i] && answered {
        opening = 0.7;
    }
    (opening, qa)
}

/// Lively delivery: faster than the episode's median rate, up to a point.
fn lively(run: &Run, ctx: &Context, why: &mut Why) -> f64 {
    let rate = run.words as f64 / run.speech.max(0.5);
    let lively = ((rate / ctx.median_rate.max(0.1) - 0.9) / 0.3).clamp(0.0, 1.0);
    if lively > 0.6 {
        why.add(lively * 0.5, "lively delivery");
    }
    lively
}

/// Topic: one topic reads as a whole; starting where a topic starts needs no context.
fn one_topic(run: &Run, ctx: &Context, why: &mut Why) -> f64 {
    let (i, j) = (run.i, run.j);
    let crossed = ctx.boundaries.iter().filter(|&&g| g >= i && g < j).count();
    let starts_topic = i == 0 || ctx.boundaries.contains(&(i - 1));
    let topic_score = if crossed == 0 { 0.6 } else { 0.0 } - 0.4 * crossed as f64
        + if starts_topic { 0.4 } else { 0.0 };
    if crossed == 0 && starts_topic {
        why.add(0.8, "a whole topic from its start");
    } else if crossed == 0 {
        why.add(0.4, "stays on one topic");
    }
    topic_score
}

/// Recognizer confidence: a clip full of misheard words makes bad subtitles. The penalty.
fn low_confidence(run: &Run, why: &mut Why) -> f64 {
    let conf = run
        .sentences()
        .iter()
        .map(|x| x.confidence * x.tokens.len() as f64)
        .sum::<f64>()
        / run.words.max(1) as f64;
    let conf_penalty = ((0.7 - conf) * 2.0).max(0.0);
    if conf_penalty > 0.2 {
        why.add(-conf_penalty, format!("low confidence ({conf:.2})"));
    }
    conf_penalty
}

/// Little speech in the cut (long silences) is dead air.
fn fill(run: &Run) -> f64 {
    (run.speech / run.secs().max(0.1)).min(1.0)
}

/// Loudness against the episode's median: a raised voice is an animated moment (a few LU up), a
/// mumbled aside is not. Neutral when unmeasured.
fn loudness(run: &Run, ctx: &Context, why: &mut Why) -> f64 {
    let loud = match (ctx.loudness.mean(run.start, run.end), ctx.loudness.median) {
        (Some(m), Some(median)) => ((m - median + 1.0) / 4.0).clamp(-0.5, 1.0),
        _ => 0.0,
    };
    if loud > 0.6 {
        why.add(loud * 0.5, "animated (louder than usual)");
    }
    loud
}

/// Length: the lower part of the preset's range holds attention best (a 30 s clip out of 20–60), and
/// shorter picks leave room for more clips on a short episode.
fn fit_length(run: &Run, preset: Preset) -> f64 {
    let (min, max) = preset.range();
    let target = min + 0.25 * (max - min);
    1.0 - (run.secs() - target).abs() / (max - min)
}
