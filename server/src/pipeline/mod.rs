//! The processing pipeline: seven idempotent stages with real ffmpeg. Every file is written in the
//! attempt's scratch dir (or to a temp name), renamed into place and recorded in `artifacts` with the
//! attempt number, so cleanup always knows exactly what a stage produced.
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | the pipeline's settings, and a show's or episode's highlight settings files |
//! | `attempt.rs` | one attempt: the stages in order (or one clip again), the checks before each, keeping files |
//! | `stages.rs` | prep, enrich, render and package |
//! | `transcribe.rs` | the transcribe stage: sidecar, command or the built-in recognizer |
//! | `clips.rs` | the clipped stage: one ffmpeg run per highlight, and its posts |
//! | `space.rs` | disk space: what a stage needs, the registry's reserve |
//! | `scratch.rs` | where an attempt writes its in-flight files |
//! | `ffmpeg.rs`, `child.rs` | ffmpeg and ffprobe on untrusted media; the one way a child program runs |
//! | `discover.rs` | `inbox/<show>/ep<NNN>_<YYYY-MM-DD>.mp4` → episodes, and what was skipped and why |
//! | `transcript.rs`, `cues.rs` | reading and writing WebVTT/SubRip cues; cues from the recognizer's timed words |
//! | `whisper.rs`, `sphinx.rs` | the built-in recognizers (Whisper, pocketsphinx as the fallback) |
//! | `wer.rs` | word error rate, for measuring the built-in recognizer |
//! | `enrich.rs`, `text.rs` | title, summary, key phrases and the highlights chosen from the transcript |
//! | `highlights/` | candidate clips: sentences, topics, scoring, selection |
//! | `clip_edit.rs` | the operator's clip edits: nudge by a sentence, a candidate made a clip, look again |
//! | `social.rs` | the social posts, within each platform's limit |
//! | `render.rs` | the episode's static web page |
//!
//! Longer unit tests sit beside their file as `<file>_tests.rs` (`transcribe_tests.rs` runs the whole
//! pipeline on generated episodes).

mod attempt;
mod clips;
mod config;
mod stages;

pub mod child;
pub mod clip_edit;
pub mod cues;
pub mod discover;
pub mod enrich;
pub mod ffmpeg;
pub mod highlights;
pub mod render;
pub mod scratch;
pub mod social;
pub mod space;
pub mod sphinx;
pub mod text;
pub mod transcribe;
pub mod transcript;
pub mod wer;
pub mod whisper;

pub use config::{PipelineConfig, discovery_for};

use crate::error::Error;
use crate::ids::EpisodeId;
use crate::registry::Registry;
use crate::storage::DataRoot;
use app::api::Stage;
use ffmpeg::ToolError;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// Why an attempt stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cancelled")]
    Cancelled,
    #[error("{stage}: {reason}")]
    Failed { stage: Stage, reason: String },
}

#[derive(Clone)]
pub struct Pipeline {
    pub root: DataRoot,
    pub registry: Registry,
    pub config: PipelineConfig,
    /// Where attempts write in-flight files: `work/` in the data root, or a node-local `--scratch-dir`.
    pub scratch: scratch::Scratch,
}

/// One attempt at one episode.
struct Attempt<'a> {
    p: &'a Pipeline,
    id: EpisodeId,
    n: i64,
    source: PathBuf,
    scratch: PathBuf,
    duration: f64,
    cancel: CancellationToken,
}

/// Why one step of a stage failed: a tool (its cancellation included), the store, or a reason.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Store(#[from] Error),
    #[error("{0}")]
    Other(String),
}

type Step<T = ()> = Result<T, StepError>;
