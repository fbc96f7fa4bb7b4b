//! The pipeline's settings: what the command line hands it ([`PipelineConfig`]), and what a show's or
//! an episode's own settings file asks of highlight discovery ([`discovery_for`]).

use super::{highlights, transcribe, whisper};
use crate::ids::EpisodeId;
use app::api::Stage;
use std::path::{Path, PathBuf};

/// Pipeline settings that do not change while the server runs. Plain settings: the command line
/// (`cli::config`) fills them in from its flags and `EWG_*` variables; the pipeline reads no flag's
/// variable itself. [`Default`] is what `ewg serve` runs with when nothing is set (tests, benchmarks).
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// `EWG_FAIL_AT`: fail every attempt at this stage (tests, drills).
    pub fail_at: Option<Stage>,
    /// `--transcribe-cmd` / `EWG_TRANSCRIBE_CMD`: shell command reading `$EWG_AUDIO` and writing WebVTT
    /// to `$EWG_VTT`.
    pub transcribe_cmd: Option<String>,
    /// Most clips cut per episode (`--max-clips` / `EWG_MAX_CLIPS`, default 3).
    pub max_clips: usize,
    /// `--clip-preset` / `EWG_CLIP_PRESET`: short (15–30 s), medium (20–60 s, the default) or long
    /// (60–120 s) clips.
    pub clip_preset: highlights::Preset,
    /// Keep each attempt's scratch dir after success (benchmarks replay commands that read it).
    pub keep_scratch: bool,
    /// `--transcriber` / `EWG_TRANSCRIBE`: which transcript source the transcribe stage uses.
    pub transcriber: transcribe::Transcriber,
    /// `--disk-reserve-mb` / `EWG_DISK_RESERVE_MB`: the registry's reserve in bytes; `None`: a twentieth
    /// of the data root's file system, at most 64 MiB (see [`super::space`]).
    pub disk_reserve: Option<u64>,
    /// `--asr-model` / `EWG_ASR_MODEL`: the Whisper model of the built-in recognizer.
    pub asr_model: whisper::AsrModel,
    /// The Whisper virtualenv; `None`: [`whisper::env_dir`] (`EWG_ASR_DIR`, else `.tools/asr`).
    pub asr_dir: Option<PathBuf>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            fail_at: None,
            transcribe_cmd: None,
            max_clips: 3,
            clip_preset: highlights::Preset::default(),
            keep_scratch: false,
            transcriber: transcribe::Transcriber::default(),
            disk_reserve: None,
            asr_model: whisper::AsrModel::default(),
            asr_dir: None,
        }
    }
}

impl PipelineConfig {
    /// Where the built-in recognizer's Whisper environment is.
    pub fn asr_env(&self) -> PathBuf {
        self.asr_dir.clone().unwrap_or_else(whisper::env_dir)
    }
}

/// What to look for in an episode: `--clip-preset` / `--max-clips` (or `EWG_CLIP_PRESET` /
/// `EWG_MAX_CLIPS`, as [`PipelineConfig`] has them), then the show's defaults in `inbox/<show>/show.clips`, then this episode's
/// `<video stem>.clips` (e.g. `preset=long count=5`).
pub fn discovery_for(
    config: &PipelineConfig,
    source: &Path,
    id: &EpisodeId,
) -> highlights::Discovery {
    let mut d = highlights::Discovery {
        preset: config.clip_preset,
        count: config.max_clips,
    };
    let files = [
        source.parent().map(|dir| dir.join("show.clips")),
        Some(source.with_extension("clips")),
    ];
    for file in files.into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let (next, problems) = d.with_settings(&text);
        for problem in problems {
            tracing::warn!(episode = %id, file = %file.display(), "{problem}; ignored");
        }
        d = next;
    }
    d
}
