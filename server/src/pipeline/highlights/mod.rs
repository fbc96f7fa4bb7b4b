//! Highlight discovery without a model: candidate clips are runs of whole sentences that start and end
//! in a pause, scored on features any transcript has (topic cohesion, the episode's key phrases, hooks,
//! questions answered, speech rate, recognizer confidence) and chosen so they do not overlap, spread
//! over the episode and vary in topic.
//!
//! A "sentence" here is a stretch of speech between pauses: recognizer output has no punctuation, and
//! a pause is the one place a cut cannot land inside a word. With word times (the built-in recognizer)
//! sentences are split at pauses of at least [`PAUSE_SECS`]; without them (sidecar subtitles), each cue
//! is one sentence and cue bounds are the cut points.
//!
//! | file | what |
//! |---|---|
//! | `discovery.rs` | what to look for: the length presets, `show.clips` / `<video stem>.clips` settings |
//! | `sentences.rs` | the transcript as sentences between pauses, and where a clip over them is cut |
//! | `topics.rs` | topic boundaries (TextTiling) |
//! | `context.rs` | what scoring needs from the whole episode: key phrases, topics, speech rate, loudness |
//! | `candidates.rs` | every run of sentences that fits the preset and sounds like speech |
//! | `scoring.rs` | one candidate's score and its why, one step per feature |
//! | `selection.rs` | the best candidates that do not overlap, spread out and varied in topic |
//! | `highlights_tests.rs` | the rules above on synthetic multi-minute transcripts |

mod candidates;
mod context;
mod discovery;
mod scoring;
mod selection;
mod sentences;
mod topics;

pub use candidates::{Candidate, MIN_WORDS_PER_SEC, candidates, speech_like};
pub use context::{Context, LOUDNESS_STEP, Loudness, context};
pub use discovery::{Discovery, Preset};
pub use selection::select;
pub use sentences::{Sentence, cut_bounds, sentences};
pub use topics::topic_boundaries;

/// The gap between two words that makes a sentence boundary, i.e. a place a clip may start or end.
/// Measured (cues.rs): sentence ends 0.3–0.4 s, gaps inside a phrase mostly ≤ 0.15 s.
pub const PAUSE_SECS: f64 = 0.25;
/// Silence kept before a clip's first word and after its last one so the cut does not clip the breath
/// around the words; never more than half the pause, so it never reaches the neighbouring word.
pub const PAD_SECS: f64 = 0.25;

// What the tests build their transcripts from.
#[cfg(test)]
use super::{cues::Word, text, transcript::Cue};

#[cfg(test)]
#[path = "highlights_tests.rs"]
mod tests;
