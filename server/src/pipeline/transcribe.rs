//! The transcribe stage: a sidecar `.vtt`/`.srt` beside the video, else `EWG_TRANSCRIBE_CMD`, else the
//! built-in offline recognizer: Whisper ([`super::whisper`], tiny.en or `--asr-model base`), or
//! pocketsphinx ([`super::sphinx`]) when the Whisper environment is missing or broken.
//! `--transcriber` / `EWG_TRANSCRIBE` pins one source.

use super::cues::{self, Word};
use super::transcript::{self, Cue};
use super::whisper::{self, WhisperError};
use super::{Attempt, Step, StepError, child, ffmpeg, sphinx};
use app::api::Stage;
use serde::Serialize;

/// Which transcript source to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transcriber {
    /// Sidecar, else EWG_TRANSCRIBE_CMD, else the built-in recognizer.
    #[default]
    Auto,
    /// Only a `.vtt`/`.srt` beside the video.
    Sidecar,
    /// Only EWG_TRANSCRIBE_CMD.
    Command,
    /// Only the built-in offline recognizer (Whisper, else pocketsphinx).
    Builtin,
}

/// Which built-in recognizer a transcript would come from now (for `/api/health`): Whisper when its
/// environment and model are installed, else pocketsphinx with the reason, else `none: …`.
pub fn builtin_engine(env: &std::path::Path, model: whisper::AsrModel) -> String {
    match whisper::locate(env, model) {
        Ok(_) => model.engine().to_string(),
        Err(why) if sphinx::available() => {
            format!("pocketsphinx (fallback: {} missing: {why})", model.engine())
        }
        Err(why) => format!(
            "none: {} missing: {why}; pocketsphinx missing too ({})",
            model.engine(),
            sphinx::INSTALL_HINT
        ),
    }
}

/// What `transcripts/<episode>.json` holds: the cues as shown, and the recognizer's words when there are.
#[derive(Serialize)]
struct TranscriptJson<'a> {
    transcriber: Transcriber,
    /// What made it: `whisper tiny.en`, `whisper base`, `pocketsphinx`, `sidecar` or `command`.
    engine: &'a str,
    note: Option<&'a str>,
    cues: &'a [Cue],
    words: &'a [Word],
}

const NO_SPEECH: &str =
    "no speech recognized: the transcript is empty, so there are no highlights or clips";

impl Attempt<'_> {
    /// The cues, and the recognizer's timed words when it made them (highlights cut between words).
    pub(super) async fn transcribe(&self) -> Step<(Vec<Cue>, Vec<Word>)> {
        let Chosen {
            used,
            engine,
            cues,
            words,
            fallback,
        } = self.choose_transcript().await?;
        let mut notes: Vec<String> = fallback.into_iter().collect();
        if cues.is_empty() {
            tracing::warn!(episode = %self.id, transcriber = ?used, engine, "{NO_SPEECH}");
            notes.push(NO_SPEECH.into());
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        tracing::info!(episode = %self.id, engine, cues = cues.len(), words = words.len(), "transcribed");
        let stage = Stage::Transcribed;
        let t = |ext| self.p.root.transcript(&self.id, ext);
        let vtt = transcript::to_vtt(&cues);
        self.write(stage, "transcript", &t("vtt"), vtt.as_bytes())
            .await?;
        let txt = transcript::to_text(&cues);
        self.write(stage, "transcript", &t("txt"), txt.as_bytes())
            .await?;
        let json = TranscriptJson {
            transcriber: used,
            engine,
            note: note.as_deref(),
            cues: &cues,
            words: &words,
        };
        let json = serde_json::to_vec_pretty(&json).map_err(|e| StepError::Other(e.to_string()))?;
        self.write(stage, "transcript", &t("json"), &json).await?;
        Ok((cues, words))
    }

    /// The first source that applies, with the cues and (for the recognizer) the timed words.
    async fn choose_transcript(&self) -> Step<Chosen> {
        let mode = self.p.config.transcriber;
        if matches!(mode, Transcriber::Auto | Transcriber::Sidecar) {
            if let Some((name, text)) = self.sidecar_transcript() {
                let cues = transcript::parse(&text);
                if cues.is_empty() {
                    return Err(StepError::Other(format!(
                        "the sidecar {name} has no cues (expected WebVTT or SubRip)"
                    )));
                }
                return Ok(Chosen::plain(Transcriber::Sidecar, "sidecar", cues));
            }
            if mode == Transcriber::Sidecar {
                return Err(StepError::Other(format!(
                    "no transcript: --transcriber sidecar, but there is no {} (or .srt) beside the video; --transcriber auto falls back to EWG_TRANSCRIBE_CMD or the built-in recognizer",
                    self.sidecar_name()
                )));
            }
        }
        let use_command = match mode {
            Transcriber::Command => true,
            Transcriber::Auto => self.p.config.transcribe_cmd.is_some(),
            _ => false,
        };
        if use_command {
            return Ok(Chosen::plain(
                Transcriber::Command,
                "command",
                self.external_transcript().await?,
            ));
        }
        let model = self.p.config.asr_model;
        let unusable = match self.whisper_transcript(model).await {
            Ok(words) => {
                let doubt = low_confidence(&words);
                if let Some(d) = &doubt {
                    tracing::warn!(episode = %self.id, "{d}");
                }
                return Ok(Chosen {
                    used: Transcriber::Builtin,
                    engine: model.engine(),
                    cues: cues::group(&words),
                    words,
                    fallback: doubt,
                });
            }
            Err(WhisperError::Tool(e)) => return Err(StepError::Tool(e)),
            Err(e @ WhisperError::Unavailable { .. }) => e.to_string(),
        };
        tracing::warn!(episode = %self.id, reason = %unusable, "falling back to pocketsphinx");
        if !sphinx::available() {
            return Err(StepError::Other(if mode == Transcriber::Auto {
                format!(
                    "no transcript: put {} (or .srt) beside the video, set EWG_TRANSCRIBE_CMD, or install the built-in recognizer ({unusable}; the fallback pocketsphinx is missing too: {})",
                    self.sidecar_name(),
                    sphinx::INSTALL_HINT
                )
            } else {
                format!(
                    "no transcript: the built-in recognizer is not installed ({unusable}; the fallback pocketsphinx is missing too: {})",
                    sphinx::INSTALL_HINT
                )
            }));
        }
        let words = self.builtin_transcript().await?;
        Ok(Chosen {
            used: Transcriber::Builtin,
            engine: "pocketsphinx",
            cues: cues::group(&words),
            words,
            fallback: Some(format!(
                "transcribed by the fallback recognizer pocketsphinx (less accurate) because {unusable}"
            )),
        })
    }

    /// Whisper over the prepped wav; `Unavailable` when its environment is missing or broken.
    async fn whisper_transcript(
        &self,
        model: whisper::AsrModel,
    ) -> Result<Vec<Word>, WhisperError> {
        let wav = self.p.root.abs(&self.p.root.audio(&self.id));
        let (tx, rx) = tokio::sync::watch::channel(0u8);
        let env = self.p.config.asr_env();
        let work = whisper::recognize(&wav, &env, model, &self.scratch, &self.cancel, &tx);
        let recognized = self.with_progress(rx, work).await?;
        tracing::info!(
            episode = %self.id,
            engine = model.engine(),
            words = recognized.words.len(),
            peak_rss_kb = recognized.peak_rss_kb,
            "built-in recognizer finished"
        );
        Ok(recognized.words)
    }

    /// Runs `work`, writing the percent it publishes on `rx` to the registry between its steps (never
    /// from inside it).
    async fn with_progress<T>(
        &self,
        mut rx: tokio::sync::watch::Receiver<u8>,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                r = &mut work => break r,
                Ok(()) = rx.changed() => {
                    let pct = *rx.borrow_and_update();
                    self.p.set_progress(&self.id, Stage::Transcribed, pct).await;
                }
            }
        }
    }

    fn sidecar_name(&self) -> String {
        self.source
            .with_extension("vtt")
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn sidecar_transcript(&self) -> Option<(String, String)> {
        ["vtt", "srt"].iter().find_map(|ext| {
            let p = self.source.with_extension(ext);
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), text))
        })
    }

    async fn external_transcript(&self) -> Step<Vec<Cue>> {
        let Some(cmd) = &self.p.config.transcribe_cmd else {
            return Err(StepError::Other(
                "no transcript: --transcriber command, but EWG_TRANSCRIBE_CMD is not set".into(),
            ));
        };
        let out = self.scratch.join("transcript.vtt");
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .env("EWG_AUDIO", self.p.root.abs(&self.p.root.audio(&self.id)))
            .env("EWG_VTT", &out);
        // No timeout here: a transcriber's run time depends on its model; cancellation still ends it.
        child::run(c, &self.cancel, None).await?;
        let text = std::fs::read_to_string(&out).map_err(|e| {
            StepError::Other(format!(
                "EWG_TRANSCRIBE_CMD wrote no WebVTT to $EWG_VTT: {e}"
            ))
        })?;
        Ok(transcript::parse(&text))
    }

    async fn builtin_transcript(&self) -> Step<Vec<Word>> {
        let wav = self.p.root.abs(&self.p.root.audio(&self.id));
        let duration = if self.duration > 0.0 {
            self.duration
        } else {
            ffmpeg::probe_duration(
                &wav,
                ffmpeg::Input::Wav,
                &self.cancel,
                ffmpeg::PROBE_TIMEOUT,
            )
            .await?
        };
        let (tx, rx) = tokio::sync::watch::channel(0u8);
        let work = sphinx::recognize(&wav, duration, &self.scratch, &self.cancel, &tx);
        let recognized = self.with_progress(rx, work).await;
        let recognized = recognized.map_err(|e| match e {
            ffmpeg::ToolError::Spawn { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                StepError::Other(format!(
                    "no transcript: the built-in recognizer ({}) is not installed: {}",
                    sphinx::PROGRAM,
                    sphinx::INSTALL_HINT
                ))
            }
            other => StepError::Tool(other),
        })?;
        tracing::info!(
            episode = %self.id,
            words = recognized.words.len(),
            peak_rss_kb = recognized.peak_rss_kb,
            "fallback recognizer (pocketsphinx) finished"
        );
        Ok(recognized.words)
    }
}

/// Below this mean word probability a Whisper transcript is flagged. Measured: 0.94 on clear English
/// (espeak-ng), 0.56 on German speech, which tiny.en (English only) turns into made-up English.
pub const MIN_MEAN_PROBABILITY: f64 = 0.7;

/// A note when the recognizer was unsure of most words (another language, music with lyrics, noise).
fn low_confidence(words: &[Word]) -> Option<String> {
    if words.len() < 5 {
        return None;
    }
    let mean = words.iter().map(|w| w.confidence).sum::<f64>() / words.len() as f64;
    (mean < MIN_MEAN_PROBABILITY).then(|| {
        format!(
            "low confidence (mean word probability {mean:.2}): the speech may not be English, or is unclear; check the transcript"
        )
    })
}

/// A transcript source's result.
struct Chosen {
    used: Transcriber,
    engine: &'static str,
    cues: Vec<Cue>,
    words: Vec<Word>,
    /// Why the fallback recognizer made it, or why the words are doubtful.
    fallback: Option<String>,
}

impl Chosen {
    fn plain(used: Transcriber, engine: &'static str, cues: Vec<Cue>) -> Self {
        Chosen {
            used,
            engine,
            cues,
            words: Vec::new(),
            fallback: None,
        }
    }
}

#[cfg(test)]
#[path = "transcribe_tests.rs"]
mod tests;
