//! Running ffmpeg/ffprobe (and other external tools) as cancellable child processes.
//!
//! A cancelled job must not leave a child running: on cancellation the child is killed *and reaped*
//! before we return, so no zombie or orphan ffmpeg survives the job.

use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cancelled")]
    Cancelled,
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {reason}")]
    Failed {
        program: String,
        status: String,
        reason: String,
    },
}

/// A command as it was run, for benchmarks that replay the pipeline's tools directly.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub program: std::ffi::OsString,
    pub args: Vec<std::ffi::OsString>,
    pub cwd: Option<std::path::PathBuf>,
}

static RECORDER: std::sync::Mutex<Option<Vec<Recorded>>> = std::sync::Mutex::new(None);

/// Starts recording every command [`run`] executes (benchmarks only).
pub fn start_recording() {
    *RECORDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
}

/// Stops recording and returns what ran.
pub fn take_recording() -> Vec<Recorded> {
    RECORDER
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}

/// Runs `cmd` to completion, or kills it when `cancel` fires. Returns stdout.
pub async fn run(mut cmd: Command, cancel: &CancellationToken) -> Result<Vec<u8>, ToolError> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    if let Some(log) = RECORDER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        let std = cmd.as_std();
        log.push(Recorded {
            program: std.get_program().to_owned(),
            args: std.get_args().map(|a| a.to_owned()).collect(),
            cwd: std.get_current_dir().map(|d| d.to_path_buf()),
        });
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| ToolError::Spawn {
        program: program.clone(),
        source,
    })?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf).await;
        }
        buf
    });
    let err_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf).await;
        }
        buf
    });
    let status = tokio::select! {
        status = child.wait() => status,
        _ = cancel.cancelled() => {
            // kill() sends SIGKILL and waits for the exit, so the process is gone when we return.
            let _ = child.kill().await;
            return Err(ToolError::Cancelled);
        }
    };
    let stdout = out_task.await.unwrap_or_default();
    let stderr = err_task.await.unwrap_or_default();
    match status {
        Ok(s) if s.success() => Ok(stdout),
        Ok(s) => Err(ToolError::Failed {
            program,
            status: s.to_string(),
            reason: last_lines(&String::from_utf8_lossy(&stderr), 3),
        }),
        Err(e) => Err(ToolError::Spawn { program, source: e }),
    }
}

/// The end of a tool's stderr: where ffmpeg says why it failed.
fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    let text = lines[start..].join(" | ");
    if text.is_empty() {
        "no error output".into()
    } else {
        text
    }
}

/// An ffmpeg command with the flags every invocation wants: quiet, never interactive, overwrite.
pub fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-nostdin", "-v", "error", "-y"]);
    c
}

/// Duration of a media file in seconds, via ffprobe.
pub async fn probe_duration(path: &Path, cancel: &CancellationToken) -> Result<f64, ToolError> {
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
    ])
    .arg(path);
    let out = run(c, cancel).await?;
    String::from_utf8_lossy(&out)
        .trim()
        .parse::<f64>()
        .map_err(|_| ToolError::Failed {
            program: "ffprobe".into(),
            status: "ok".into(),
            reason: "no duration in the file (not a playable video)".into(),
        })
}
