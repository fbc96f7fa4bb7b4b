//! The built-in offline recognizer: Debian's pocketsphinx (`pocketsphinx_continuous`, 0.8 CLI) with its
//! packaged US English model. No download: `apt-get install pocketsphinx pocketsphinx-en-us`.
//!
//! The prepped wav is fed in chunks of [`CHUNK_SECS`]: pocketsphinx keeps a whole utterance's search
//! lattice in memory, and with `-infile` a long recording can be one utterance, so chunking is what keeps
//! memory flat for an hour-long episode. Words stream out on stdout as they are decided, which is what
//! drives the progress percent.

use super::child::{self, GroupChild};
use super::cues::{self, Word};
use super::ffmpeg::{self, Input, ToolError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub const PROGRAM: &str = "pocketsphinx_continuous";
/// What to install when the recognizer or its model is missing.
pub const INSTALL_HINT: &str = "apt-get install pocketsphinx pocketsphinx-en-us";
/// Where `pocketsphinx-en-us` puts the model the binary uses by default.
pub const MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us/en-us";
/// Five minutes: long enough that a cut rarely lands mid-sentence more than a few times an hour, short
/// enough that one chunk's lattice stays small.
pub const CHUNK_SECS: f64 = 300.0;

/// Words recognized in a recording, and the recognizer's peak resident memory (`VmHWM`, kB) as sampled.
#[derive(Debug, Default)]
pub struct Recognized {
    pub words: Vec<Word>,
    pub peak_rss_kb: u64,
}

/// Whether the recognizer and its model are installed.
pub fn available() -> bool {
    Path::new(MODEL_DIR).is_dir() && which(PROGRAM).is_some()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// Recognizes `wav` (16 kHz mono, `duration` seconds), publishing percent done on `progress` (a watch
/// channel rather than a callback, so the caller decides when to write it to the registry).
/// Chunks are cut into `scratch` and removed as soon as they are read.
pub async fn recognize(
    wav: &Path,
    duration: f64,
    scratch: &Path,
    cancel: &CancellationToken,
    progress: &watch::Sender<u8>,
) -> Result<Recognized, ToolError> {
    let mut out = Recognized::default();
    let chunks = (duration / CHUNK_SECS).ceil().max(1.0) as usize;
    for i in 0..chunks {
        let offset = i as f64 * CHUNK_SECS;
        let input = if chunks == 1 {
            wav.to_path_buf()
        } else {
            let chunk = scratch.join("sphinx-chunk.wav");
            cut(wav, offset, &chunk, cancel).await?;
            chunk
        };
        let log = scratch.join("sphinx.log");
        let res = run_chunk(&input, &log, offset, cancel, &mut out, |at| {
            let pct = ((at / duration.max(1.0)) * 100.0).clamp(0.0, 99.0) as u8;
            progress.send_if_modified(|p| std::mem::replace(p, pct) != pct);
        })
        .await;
        if chunks > 1 {
            let _ = std::fs::remove_file(&input);
        }
        res?;
        let _ = std::fs::remove_file(&log);
    }
    progress.send_replace(100);
    Ok(out)
}

/// One chunk, starting `offset` seconds into the recording. Kills the recognizer when `cancel` fires.
async fn run_chunk(
    input: &Path,
    log: &Path,
    offset: f64,
    cancel: &CancellationToken,
    out: &mut Recognized,
    mut at: impl FnMut(f64),
) -> Result<(), ToolError> {
    let mut cmd = Command::new(PROGRAM);
    cmd.arg("-infile")
        .arg(input)
        .args(["-time", "yes", "-logfn"])
        .arg(log);
    // Its own process group, killed as a whole on cancel or drop, and dead with the server (PDEATHSIG).
    let mut child = child::spawn(cmd)?;
    // -logfn sends the log to a file; drain whatever still reaches stderr so the pipe never fills.
    if let Some(mut err) = child.child.stderr.take() {
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = err.read_to_end(&mut sink).await;
        });
    }
    let pid = child.child.id();
    let Some(stdout) = child.child.stdout.take() else {
        return Err(failed("no stdout".into()));
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut sampled = Instant::now() - Duration::from_secs(1);
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = cancel.cancelled() => return Err(kill(&mut child).await),
        };
        let Some(line) = line.map_err(|e| failed(e.to_string()))? else {
            break;
        };
        if sampled.elapsed() >= Duration::from_millis(200) {
            sampled = Instant::now();
            out.peak_rss_kb = out.peak_rss_kb.max(pid.map_or(0, vm_hwm_kb));
        }
        if let Some(w) = parse_word(&line, offset) {
            at(w.end);
            out.words.push(w);
        }
    }
    let status = tokio::select! {
        s = child.child.wait() => s.map_err(|e| failed(e.to_string()))?,
        _ = cancel.cancelled() => return Err(kill(&mut child).await),
    };
    if status.success() {
        Ok(())
    } else {
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let reason: Vec<&str> = tail.lines().filter(|l| !l.starts_with("INFO")).collect();
        Err(ToolError::Failed {
            program: PROGRAM.into(),
            status: status.to_string(),
            reason: reason[reason.len().saturating_sub(2)..].join(" | "),
        })
    }
}

/// Kills and reaps, so no recognizer outlives a cancelled job.
async fn kill(child: &mut GroupChild) -> ToolError {
    child.group.kill();
    let _ = child.child.wait().await;
    ToolError::Cancelled
}

fn failed(reason: String) -> ToolError {
    ToolError::Failed {
        program: PROGRAM.into(),
        status: "running".into(),
        reason,
    }
}

async fn cut(
    wav: &Path,
    offset: f64,
    to: &Path,
    cancel: &CancellationToken,
) -> Result<(), ToolError> {
    let mut c = ffmpeg::ffmpeg();
    c.args([
        "-ss",
        &format!("{offset:.3}"),
        "-t",
        &format!("{CHUNK_SECS:.3}"),
    ]);
    ffmpeg::input(&mut c, Input::Wav, wav);
    c.args(["-c:a", "pcm_s16le"]).arg(to);
    ffmpeg::run(c, cancel, ffmpeg::work_timeout(Some(CHUNK_SECS)))
        .await
        .map(|_| ())
}

/// `word start end confidence` (what `-time yes` prints per word); hypothesis lines and fillers → None.
fn parse_word(line: &str, offset: f64) -> Option<Word> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let [token, start, end, conf] = f.as_slice() else {
        return None;
    };
    let (start, end, confidence) = (
        start.parse::<f64>().ok()?,
        end.parse::<f64>().ok()?,
        conf.parse::<f64>().ok()?,
    );
    Some(Word {
        word: cues::display_word(token)?,
        start: offset + start,
        end: offset + end,
        confidence,
    })
}

/// Peak resident set size of a live process, in kB (0 once it has exited).
pub(crate) fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_word_lines_and_skips_the_rest() {
        let w = parse_word("the(2) 3.340 3.540 0.483026", 300.0).expect("a word");
        assert_eq!(w.word, "the");
        assert!((w.start - 303.34).abs() < 1e-9 && (w.end - 303.54).abs() < 1e-9);
        assert_eq!(w.confidence, 0.483026);
        assert!(parse_word("<sil> 0.930 1.540 0.998801", 0.0).is_none());
        assert!(parse_word("welcome to the show", 0.0).is_none());
        assert!(parse_word("", 0.0).is_none());
    }
}
