//! Highlight discovery without a model: candidate clips are runs of whole sentences that start and end
//! in a pause, scored on features any transcript has (topic cohesion, the episode's key phrases, hooks,
//! questions answered, speech rate, recognizer confidence) and chosen so they do not overlap, spread
//! over the episode and vary in topic.
//!
//! A "sentence" here is a stretch of speech between pauses: recognizer output has no punctuation, and
//! a pause is the one place a cut cannot land inside a word. With word times (the built-in recognizer)
//! sentences are split at pauses of at least [`PAUSE_SECS`]; without them (sidecar subtitles), each cue
//! is one sentence and cue bounds are the cut points.

use super::cues::Word;
use super::text;
use super::transcript::Cue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The gap between two words that makes a sentence boundary, i.e. a place a clip may start or end.
/// Measured (cues.rs): sentence ends 0.3–0.4 s, gaps inside a phrase mostly ≤ 0.15 s.
pub const PAUSE_SECS: f64 = 0.25;
/// Silence kept before a clip's first word and after its last one so the cut does not clip the breath
/// around the words; never more than half the pause, so it never reaches the neighbouring word.
pub const PAD_SECS: f64 = 0.25;

/// Clip length presets, as the system EWG Studio replaces offered them (seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 15–30 s: TikTok, Reels, Shorts at their snappiest.
    Short,
    /// 20–60 s: the short-form sweet spot.
    #[default]
    Medium,
    /// 60–120 s: a full answer, for YouTube and Facebook.
    Long,
}

impl Preset {
    pub fn range(self) -> (f64, f64) {
        match self {
            Preset::Short => (15.0, 30.0),
            Preset::Medium => (20.0, 60.0),
            Preset::Long => (60.0, 120.0),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "short" => Some(Preset::Short),
            "medium" => Some(Preset::Medium),
            "long" => Some(Preset::Long),
            _ => None,
        }
    }
}

/// Discovery parameters: how many clips to cut and how long. Stored in the enriched json so the page
/// shows what the candidates were chosen for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    pub preset: Preset,
    /// Clips rendered; more candidates than this are scored and kept for the operator.
    pub count: usize,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            preset: Preset::Medium,
            count: 3,
        }
    }
}

impl Discovery {
    /// Applies settings text (`preset=short count=5`, whitespace- or line-separated, `#` comments) from
    /// a show's `show.clips` or an episode's `<video stem>.clips`. Unknown keys and bad values are
    /// reported and leave the setting as it was: a typo must not stop an episode.
    pub fn with_settings(mut self, text: &str) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        for item in text
            .lines()
            // `preset = long` reads like `preset=long`.
            .map(|l| {
                let l = l.split('#').next().unwrap_or("");
                l.split('=').map(str::trim).collect::<Vec<_>>().join("=")
            })
            .collect::<Vec<_>>()
            .iter()
            .flat_map(|l| l.split_whitespace())
        {
            let Some((k, v)) = item.split_once('=') else {
                problems.push(format!("`{item}` is not key=value"));
                continue;
            };
            match (k.trim(), v.trim()) {
                ("preset", v) => match Preset::parse(v) {
                    Some(p) => self.preset = p,
                    None => problems.push(format!("preset `{v}` is not short|medium|long")),
                },
                ("count", v) => match v.parse::<usize>() {
                    Ok(n) if n <= 50 => self.count = n,
                    _ => problems.push(format!("count `{v}` is not a number of clips (0–50)")),
                },
                (k, _) => problems.push(format!("unknown setting `{k}` (preset, count)")),
            }
        }
        (self, problems)
    }
}

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

/// Gap index `g` sits between sentence `g` and `g + 1`. TextTiling (Hearst 1997): cosine similarity of
/// the content words in a window of sentences on each side of every gap; a gap much less similar than
/// the peaks around it (its depth) is a topic boundary. Returns the boundary gaps.
pub fn topic_boundaries(s: &[Sentence]) -> Vec<usize> {
    if s.len() < 4 {
        return Vec::new();
    }
    // About 30 s of speech on each side: enough words for counts to mean something.
    let mean_len = s.iter().map(|x| x.end - x.start).sum::<f64>() / s.len() as f64;
    let w = ((30.0 / mean_len.max(0.5)).round() as usize).clamp(2, 12);
    let bag = |range: std::ops::Range<usize>| {
        let mut m: BTreeMap<&str, f64> = BTreeMap::new();
        for x in &s[range] {
            for t in x.tokens.iter().filter(|t| text::is_content(t)) {
                *m.entry(t.as_str()).or_default() += 1.0;
            }
        }
        m
    };
    let cos = |a: &BTreeMap<&str, f64>, b: &BTreeMap<&str, f64>| {
        let dot: f64 = a.iter().filter_map(|(k, v)| b.get(k).map(|u| u * v)).sum();
        let na: f64 = a.values().map(|v| v * v).sum::<f64>().sqrt();
        let nb: f64 = b.values().map(|v| v * v).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            dot / (na * nb)
        }
    };
    let gaps = s.len() - 1;
    let sim: Vec<f64> = (0..gaps)
        .map(|g| {
            let left = bag(g.saturating_sub(w - 1)..g + 1);
            let right = bag(g + 1..(g + 1 + w).min(s.len()));
            cos(&left, &right)
        })
        .collect();
    // Depth: climb to the highest similarity on each side, as far as it keeps rising.
    let depth: Vec<f64> = (0..gaps)
        .map(|g| {
            let mut l = sim[g];
            for k in (0..g).rev() {
                if sim[k] < l {
                    break;
                }
                l = sim[k];
            }
            let mut r = sim[g];
            for &v in &sim[g + 1..] {
                if v < r {
                    break;
                }
                r = v;
            }
            (l - sim[g]) + (r - sim[g])
        })
        .collect();
    let mean = depth.iter().sum::<f64>() / gaps as f64;
    let sd = (depth.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / gaps as f64).sqrt();
    let cutoff = (mean + sd / 2.0).max(0.1);
    // Local maxima above the cutoff, at least `w` sentences apart (one boundary per valley).
    let mut out: Vec<usize> = Vec::new();
    let mut order: Vec<usize> = (0..gaps).filter(|&g| depth[g] > cutoff).collect();
    order.sort_by(|&a, &b| depth[b].total_cmp(&depth[a]).then(a.cmp(&b)));
    for g in order {
        if out.iter().all(|&o| o.abs_diff(g) >= w) {
            out.push(g);
        }
    }
    out.sort_unstable();
    out
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

/// The episode-level context scoring needs, computed once.
pub struct Context {
    pub phrases: Vec<String>,
    pub boundaries: Vec<usize>,
    /// Topic segment of each sentence.
    pub topic: Vec<usize>,
    pub median_rate: f64,
    /// Drop candidates that do not sound like speech ([`speech_like`]): the sentences are recognizer words.
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
    median: Option<f64>,
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
    fn mean(&self, a: f64, b: f64) -> Option<f64> {
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

/// Every run of whole sentences whose padded cut fits the preset, scored. Quadratic only in the
/// sentences one clip can hold, so an hour-long episode stays in milliseconds.
pub fn candidates(s: &[Sentence], ctx: &Context, preset: Preset, duration: f64) -> Vec<Candidate> {
    let (min, max) = preset.range();
    let f = Features {
        // Which key phrases each sentence says, counted once here rather than per candidate.
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
    };
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

/// Per-sentence features shared by every candidate containing the sentence.
struct Features {
    /// Indices into [`Context::phrases`].
    phrases: Vec<Vec<usize>>,
    question: Vec<bool>,
    hook: Vec<bool>,
}

fn score(
    s: &[Sentence],
    ctx: &Context,
    f: &Features,
    (i, j): (usize, usize),
    (start, end): (f64, f64),
    preset: Preset,
) -> Candidate {
    let (question, hook) = (&f.question, &f.hook);
    let run = &s[i..=j];
    let words: usize = run.iter().map(|x| x.tokens.len()).sum();
    let speech: f64 = run.iter().map(|x| x.end - x.start).sum();
    let mut parts: Vec<(f64, String)> = Vec::new();

    // Key phrases of the episode per 20 words: what the episode is about, said here.
    let said: Vec<usize> = f.phrases[i..=j].iter().flatten().copied().collect();
    let density = said.len() as f64 * 20.0 / words.max(1) as f64;
    // The two best-ranked phrases it says, for the why.
    let found: Vec<&str> = (0..ctx.phrases.len())
        .filter(|k| said.contains(k))
        .take(2)
        .map(|k| ctx.phrases[k].as_str())
        .collect();
    let key = density.min(2.0) / 2.0;
    if !found.is_empty() {
        parts.push((
            key,
            format!(
                "key phrases {}",
                found
                    .iter()
                    .map(|p| format!("“{p}”"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    // A hook or a question in the opening sentence: the clip grabs attention on its own.
    let mut opening = 0.0;
    if hook[i] {
        opening = 1.0;
        parts.push((1.0, "opens with a hook".into()));
    }
    // A question answered inside the clip: a complete exchange.
    let answered = (i..j).any(|k| question[k] && !question[k + 1] && s[k + 1].tokens.len() >= 4);
    let qa = if answered {
        parts.push((1.0, "a question and its answer".into()));
        1.0
    } else if question[j] {
        // Ends on an open question: a cliffhanger without the answer frustrates viewers.
        -0.5
    } else {
        0.0
    };
    if !hook[i] && question[i] && answered {
        opening = 0.7;
    }
    let hooks_inside = hook[i..=j].iter().filter(|h| **h).count();

    // Lively delivery: faster than the episode's median rate, up to a point.
    let rate = words as f64 / speech.max(0.5);
    let lively = ((rate / ctx.median_rate.max(0.1) - 0.9) / 0.3).clamp(0.0, 1.0);
    if lively > 0.6 {
        parts.push((lively * 0.5, "lively delivery".into()));
    }

    // Topic: one topic reads as a whole; starting where a topic starts needs no context.
    let crossed = ctx.boundaries.iter().filter(|&&g| g >= i && g < j).count();
    let starts_topic = i == 0 || ctx.boundaries.contains(&(i - 1));
    let topic_score = if crossed == 0 { 0.6 } else { 0.0 } - 0.4 * crossed as f64
        + if starts_topic { 0.4 } else { 0.0 };
    if crossed == 0 && starts_topic {
        parts.push((0.8, "a whole topic from its start".into()));
    } else if crossed == 0 {
        parts.push((0.4, "stays on one topic".into()));
    }

    // Recognizer confidence: a clip full of misheard words makes bad subtitles.
    let conf = run
        .iter()
        .map(|x| x.confidence * x.tokens.len() as f64)
        .sum::<f64>()
        / words.max(1) as f64;
    let conf_penalty = ((0.7 - conf) * 2.0).max(0.0);
    if conf_penalty > 0.2 {
        parts.push((-conf_penalty, format!("low confidence ({conf:.2})")));
    }

    // Little speech in the cut (long silences) is dead air.
    let fill = (speech / (end - start).max(0.1)).min(1.0);

    // Loudness against the episode's median: a raised voice is an animated moment (a few LU up), a
    // mumbled aside is not. Neutral when unmeasured.
    let loud = match (ctx.loudness.mean(start, end), ctx.loudness.median) {
        (Some(m), Some(median)) => ((m - median + 1.0) / 4.0).clamp(-0.5, 1.0),
        _ => 0.0,
    };
    if loud > 0.6 {
        parts.push((loud * 0.5, "animated (louder than usual)".into()));
    }

    // Length: the lower part of the preset's range holds attention best (a 30 s clip out of 20–60),
    // and shorter picks leave room for more clips on a short episode.
    let (min, max) = preset.range();
    let target = min + 0.25 * (max - min);
    let fit_len = 1.0 - ((end - start) - target).abs() / (max - min);

    let score = 1.0 * key
        + 0.8 * opening
        + 0.8 * qa
        + 0.15 * (hooks_inside.min(3) as f64)
        + 0.4 * lively
        + 0.6 * topic_score
        + 0.5 * (fill - 0.7).max(-0.5)
        + 0.3 * fit_len
        + 0.3 * loud
        - conf_penalty;
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut why: Vec<String> = parts.into_iter().take(3).map(|(_, w)| w).collect();
    if why.is_empty() {
        why.push("whole sentences between pauses".into());
    }
    // The topic the clip mostly lies in: the one of its middle sentence.
    let topic = ctx.topic[(i + j) / 2];
    Candidate {
        first: i,
        last: j,
        start,
        end,
        score: (score * 1000.0).round() / 1000.0,
        why: format!("{} ({:.0} s)", why.join("; "), end - start),
        topic,
    }
}

/// Picks up to `n` candidates, best first: no two overlap, each further pick is penalised for sharing a
/// topic with, or sitting in the same stretch of the episode as, the picks before it (spread, variety).
pub fn select(mut pool: Vec<Candidate>, n: usize, span: (f64, f64)) -> Vec<Candidate> {
    let mut picked: Vec<Candidate> = Vec::new();
    let zones = n.max(3) as f64;
    let width = (span.1 - span.0).max(1.0);
    let zone = |c: &Candidate| (((c.start + c.end) / 2.0 - span.0) / width * zones).floor() as i64;
    while picked.len() < n && !pool.is_empty() {
        let mut topics: HashMap<usize, usize> = HashMap::new();
        for p in &picked {
            *topics.entry(p.topic).or_default() += 1;
        }
        let adjusted = |c: &Candidate| {
            let same_topic = topics.get(&c.topic).copied().unwrap_or(0) as f64;
            let same_zone = picked.iter().filter(|p| zone(p) == zone(c)).count() as f64;
            c.score - 0.6 * same_topic - 0.5 * same_zone
        };
        let Some(best) = pool
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| {
                adjusted(a)
                    .total_cmp(&adjusted(b))
                    // Deterministic ties: the earlier clip wins.
                    .then(b.start.total_cmp(&a.start))
                    .then(ib.cmp(ia))
            })
            .map(|(k, _)| k)
        else {
            break;
        };
        let c = pool.swap_remove(best);
        pool.retain(|o| o.end <= c.start || o.start >= c.end);
        picked.push(c);
    }
    picked
}

#[cfg(test)]
#[path = "highlights_tests.rs"]
mod tests;
