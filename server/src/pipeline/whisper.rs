//! The built-in recognizer: faster-whisper (CTranslate2) with OpenAI's Whisper tiny.en, or base with
//! `--asr-model base`, in a Python virtualenv that `scripts/setup` installs under `.tools/asr` (every
//! package pinned by version and SHA-256; the weights ship inside PyPI packages, nothing downloads at run
//! time). pocketsphinx ([`super::sphinx`]) remains the fallback when that environment is missing or broken.
//!
//! The helper ([`SCRIPT`], `whisper.py` beside this file, embedded in the binary) reads the prepped 16 kHz
//! wav in 1-minute chunks cut at pauses, so memory stays flat for any length, and streams one JSON word
//! a line on stdout and `progress DONE TOTAL` on stderr. It runs through [`super::child`]: its own
//! process group, killed whole on cancel, drop or server death.

use super::child::{self, GroupChild, ToolError};
use super::cues::Word;
use super::sphinx::{Recognized, vm_hwm_kb};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The helper the venv's python runs (written into the attempt's scratch dir first).
pub const SCRIPT: &str = include_str!("whisper.py");
/// What to run when the environment is missing.
pub const INSTALL_HINT: &str = "run scripts/setup (it installs faster-whisper and Whisper tiny.en into .tools/asr; EWG_ASR_MODEL=base scripts/setup adds base)";
/// Audio per recognition call: memory is bounded by the chunk, not the episode. Measured on 10 minutes of
/// speech (tiny.en): peak RSS 401 MB at 60 s, 463 MB at 120 s, 676 MB at 300 s (the voice activity filter
/// runs over the whole chunk at once), same WER (0.034 / 0.034 / 0.032), 60 s slightly faster.
pub const CHUNK_SECS: f64 = 60.0;
/// The helper's exit status when faster-whisper or the model cannot be loaded (→ pocketsphinx fallback).
const EXIT_BROKEN_ENV: i32 = 3;
/// Stderr lines kept (other than progress) for a failure's reason.
const KEPT_STDERR_LINES: usize = 6;

/// Which Whisper model the built-in recognizer loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum AsrModel {
    /// Whisper tiny.en (English only, ~75 MB): the default.
    #[default]
    #[value(name = "tiny.en", alias = "tiny")]
    #[serde(rename = "tiny.en")]
    TinyEn,
    /// Whisper base (~145 MB, slower, a little more accurate): `EWG_ASR_MODEL=base scripts/setup`.
    #[value(name = "base")]
    #[serde(rename = "base")]
    Base,
}

impl AsrModel {
    /// The model's folder under `.tools/asr/models/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            AsrModel::TinyEn => "tiny.en",
            AsrModel::Base => "base",
        }
    }

    /// How transcripts and `/api/health` name the engine.
    pub fn engine(self) -> &'static str {
        match self {
            AsrModel::TinyEn => "whisper tiny.en",
            AsrModel::Base => "whisper base",
        }
    }
}

/// Why the Whisper recognizer produced no words.
#[derive(Debug, thiserror::Error)]
pub enum WhisperError {
    /// The environment cannot run (missing python, faster-whisper or model): fall back to pocketsphinx.
    #[error("Whisper ({engine}) is not usable: {reason}")]
    Unavailable {
        engine: &'static str,
        reason: String,
    },
    /// It ran and failed (bad input, crash) or was cancelled: the stage fails with this.
    #[error(transparent)]
    Tool(#[from] ToolError),
}

/// The transcriber's virtualenv: `EWG_ASR_DIR`, else `.tools/asr` in the working directory (where
/// `scripts/run` starts the server), else the one in the checkout this binary was built from.
pub fn env_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("EWG_ASR_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let local = PathBuf::from(".tools/asr");
    if local.join("bin/python").is_file() {
        return std::path::absolute(&local).unwrap_or(local);
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/asr"))
}

/// The python and model folder for `model` in the virtualenv `dir`, or why they are missing.
pub fn locate(dir: &Path, model: AsrModel) -> Result<(PathBuf, PathBuf), String> {
    let python = dir.join("bin/python");
    let models = dir.join("models").join(model.dir_name());
    if !python.is_file() {
        return Err(format!("no {} ({INSTALL_HINT})", python.display()));
    }
    if !models.join("model.bin").is_file() {
        return Err(format!(
            "no {} ({INSTALL_HINT})",
            models.join("model.bin").display()
        ));
    }
    Ok((python, models))
}

/// Whether the environment and the model's files are in place (a cheap check, no process started).
pub fn available(dir: &Path, model: AsrModel) -> bool {
    locate(dir, model).is_ok()
}

/// One line of the helper's stdout.
#[derive(Deserialize)]
struct Line {
    w: Option<String>,
    s: Option<f64>,
    e: Option<f64>,
    p: Option<f64>,
    done: Option<bool>,
}

/// Recognizes `wav` (the prep stage's 16 kHz mono PCM) with the virtualenv `env` (see [`env_dir`]),
/// publishing percent done on `progress`.
pub async fn recognize(
    wav: &Path,
    env: &Path,
    model: AsrModel,
    scratch: &Path,
    cancel: &CancellationToken,
    progress: &watch::Sender<u8>,
) -> Result<Recognized, WhisperError> {
    let engine = model.engine();
    let (python, model_dir) =
        locate(env, model).map_err(|reason| WhisperError::Unavailable { engine, reason })?;
    let script = scratch.join("whisper.py");
    std::fs::write(&script, SCRIPT).map_err(|e| {
        WhisperError::Tool(ToolError::Failed {
            program: engine.into(),
            status: "not started".into(),
            reason: format!("cannot write {}: {e}", script.display()),
        })
    })?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
    let mut cmd = Command::new(&python);
    // -I: isolated (no PYTHON* variables, no user site-packages, no cwd on sys.path).
    cmd.arg("-I")
        .arg(&script)
        .arg("--model-dir")
        .arg(&model_dir)
        .args(["--model-name", engine])
        .args(["--threads", &threads.to_string()])
        .args(["--chunk-secs", &format!("{CHUNK_SECS}")])
        .arg(wav)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("TRANSFORMERS_OFFLINE", "1")
        .env("OMP_NUM_THREADS", threads.to_string());
    let mut child = child::spawn(cmd).map_err(|e| match e {
        ToolError::Spawn { source, .. } => WhisperError::Unavailable {
            engine,
            reason: format!("cannot start {}: {source}", python.display()),
        },
        other => WhisperError::Tool(other),
    })?;
    let res = read_output(&mut child, engine, cancel, progress).await;
    match res {
        Ok(out) => {
            progress.send_replace(100);
            Ok(out)
        }
        Err(e) => {
            // Reap the leader; the group (and any helper threads' children) dies with it.
            child.group.kill();
            let _ = child.child.wait().await;
            Err(e)
        }
    }
}

/// What the helper has said so far: its words, whether it reached its end marker, and its last lines
/// on stderr (the reason when it fails).
#[derive(Default)]
struct Heard {
    out: Recognized,
    said: VecDeque<String>,
    done: bool,
}

impl Heard {
    /// One JSON line on stdout: a word with its times and probability, or the end marker.
    fn stdout_line(&mut self, line: &str) {
        let Ok(l) = serde_json::from_str::<Line>(line) else {
            return;
        };
        self.done |= l.done == Some(true);
        if let (Some(w), Some(s), Some(e)) = (l.w, l.s, l.e) {
            push_word(&mut self.out.words, w, s, e, l.p.unwrap_or(0.0));
        }
    }

    /// One line on stderr: progress, or something to keep for the reason of a failure.
    fn stderr_line(&mut self, line: &str, progress: &watch::Sender<u8>) {
        if let Some(pct) = parse_progress(line) {
            progress.send_if_modified(|p| std::mem::replace(p, pct) != pct);
        } else if !line.trim().is_empty() {
            if self.said.len() == KEPT_STDERR_LINES {
                self.said.pop_front();
            }
            self.said.push_back(line.chars().take(500).collect());
        }
    }

    /// The outcome once the helper exited with `status`.
    fn verdict(
        self,
        engine: &'static str,
        status: std::process::ExitStatus,
    ) -> Result<Recognized, WhisperError> {
        // The warnings a working run prints (e.g. from onnxruntime) are not the reason for a failure:
        // the helper's own message is its last line.
        let reason = self
            .said
            .back()
            .cloned()
            .unwrap_or_else(|| "no error output".into());
        if status.code() == Some(EXIT_BROKEN_ENV) {
            return Err(WhisperError::Unavailable { engine, reason });
        }
        if !status.success() {
            return Err(WhisperError::Tool(ToolError::Failed {
                program: engine.into(),
                status: status.to_string(),
                reason: self.said.iter().cloned().collect::<Vec<_>>().join(" | "),
            }));
        }
        if !self.done {
            return Err(failed(
                engine,
                format!("it exited before the end: {reason}"),
            ));
        }
        Ok(self.out)
    }
}

fn failed(engine: &'static str, reason: String) -> WhisperError {
    WhisperError::Tool(ToolError::Failed {
        program: engine.into(),
        status: "running".into(),
        reason,
    })
}

/// Reads the helper's two pipes to their end (sampling its peak memory on the way), then judges its
/// exit.
async fn read_output(
    child: &mut GroupChild,
    engine: &'static str,
    cancel: &CancellationToken,
    progress: &watch::Sender<u8>,
) -> Result<Recognized, WhisperError> {
    let (Some(stdout), Some(stderr)) = (child.child.stdout.take(), child.child.stderr.take())
    else {
        return Err(failed(engine, "no stdout/stderr pipe".into()));
    };
    let pid = child.child.id();
    let mut heard = Heard::default();
    let mut stdout = BufReader::new(stdout).lines();
    let mut stderr = BufReader::new(stderr).lines();
    let (mut out_open, mut err_open) = (true, true);
    let mut sampled = Instant::now() - Duration::from_secs(1);
    while out_open || err_open {
        tokio::select! {
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => heard.stdout_line(&line),
                Ok(None) | Err(_) => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => heard.stderr_line(&line, progress),
                Ok(None) | Err(_) => err_open = false,
            },
            _ = cancel.cancelled() => return Err(ToolError::Cancelled.into()),
        }
        // VmHWM is a high-water mark: the sample at the helper's last line is its peak.
        if heard.done || sampled.elapsed() >= Duration::from_millis(200) {
            sampled = Instant::now();
            heard.out.peak_rss_kb = heard.out.peak_rss_kb.max(pid.map_or(0, vm_hwm_kb));
        }
    }
    let status = tokio::select! {
        s = child.child.wait() => s.map_err(|e| failed(engine, e.to_string()))?,
        _ = cancel.cancelled() => return Err(ToolError::Cancelled.into()),
    };
    heard.verdict(engine, status)
}

/// Adds a word, keeping the list in time order with `start <= end` (cues need both).
fn push_word(words: &mut Vec<Word>, word: String, start: f64, end: f64, p: f64) {
    if !(start.is_finite() && end.is_finite()) || word.trim().is_empty() {
        return;
    }
    let start = words.last().map_or(start, |l| start.max(l.start)).max(0.0);
    words.push(Word {
        word: word.trim().to_string(),
        start,
        end: end.max(start),
        confidence: p.clamp(0.0, 1.0),
    });
}

/// `progress DONE TOTAL` (seconds) → percent, at most 99 until the helper has finished.
fn parse_progress(line: &str) -> Option<u8> {
    let mut f = line.strip_prefix("progress ")?.split_whitespace();
    let done: f64 = f.next()?.parse().ok()?;
    let total: f64 = f.next()?.parse().ok()?;
    Some(((done / total.max(0.001)) * 100.0).clamp(0.0, 99.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_become_percent() {
        assert_eq!(parse_progress("progress 0 23.42"), Some(0));
        assert_eq!(parse_progress("progress 11.71 23.42"), Some(50));
        assert_eq!(parse_progress("progress 23.42 23.42"), Some(99));
        assert_eq!(parse_progress("progress 1 0"), Some(99));
        assert_eq!(parse_progress("UserWarning: something"), None);
        assert_eq!(parse_progress("progress x y"), None);
    }

    #[test]
    fn words_stay_in_time_order_and_well_formed() {
        let mut w = Vec::new();
        push_word(&mut w, " Hello,".into(), 1.0, 1.4, 0.9);
        push_word(&mut w, "world.".into(), 0.9, 0.8, 1.7);
        push_word(&mut w, " ".into(), 2.0, 2.1, 0.5);
        push_word(&mut w, "nan".into(), f64::NAN, 2.1, 0.5);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].word, "Hello,");
        assert_eq!((w[1].start, w[1].end, w[1].confidence), (1.0, 1.0, 1.0));
    }

    #[test]
    fn the_model_flag_takes_both_spellings() {
        use clap::ValueEnum;
        assert_eq!(AsrModel::from_str("tiny.en", true), Ok(AsrModel::TinyEn));
        assert_eq!(AsrModel::from_str("tiny", true), Ok(AsrModel::TinyEn));
        assert_eq!(AsrModel::from_str("base", true), Ok(AsrModel::Base));
        assert!(AsrModel::from_str("large", true).is_err());
    }
}
