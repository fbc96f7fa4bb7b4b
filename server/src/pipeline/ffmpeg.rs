//! ffmpeg and ffprobe on untrusted media.
//!
//! Uploaded files are untrusted, and ffmpeg detects a container from content: an HLS or concat playlist
//! named `.mp4` would make it open other local files or URLs. So every input is opened through [`input`]:
//! local files only (`-protocol_whitelist file`, the path as a `file:` URL so a name with a colon is never
//! read as a protocol), and only the demuxer the pipeline accepts for that input, forced with `-f` and
//! allowed by `-format_whitelist` (which also covers any nested open). [`check_video`] sniffs a video's first
//! bytes beforehand only to give a clear reason; the flags are what enforce the rule.
//!
//! Every run has a timeout: [`PROBE_TIMEOUT`] for ffprobe, [`work_timeout`] for ffmpeg. Processes are
//! started through [`super::child`], so they die with their job and with the server.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

pub use super::child::{Recorded, ToolError};
#[cfg(feature = "testing")]
pub use super::child::{start_recording, take_recording};

/// ffprobe reads a few headers; 20 s is far beyond any real file on a local disk, and short enough that a
/// probe stuck on a FIFO or a dead network mount cannot hold discovery or an upload's response for long.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The inputs the pipeline accepts, each with exactly one demuxer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// An episode video: MP4/QuickTime (the `mov` demuxer).
    Video,
    /// Audio the pipeline wrote itself (prep's output).
    Wav,
    /// A SubRip sidecar.
    Srt,
    /// A WebVTT sidecar.
    WebVtt,
}

impl Input {
    /// The demuxer forced with `-f`.
    fn demuxer(self) -> &'static str {
        match self {
            Input::Video => "mov",
            Input::Wav => "wav",
            Input::Srt => "srt",
            Input::WebVtt => "webvtt",
        }
    }

    /// The demuxer's full name list, as `-format_whitelist` matches it.
    fn whitelist(self) -> &'static str {
        match self {
            Input::Video => "mov,mp4,m4a,3gp,3g2,mj2",
            other => other.demuxer(),
        }
    }
}

/// Appends one restricted input (`-protocol_whitelist file -format_whitelist … -f … -i file:<path>`).
/// Works for ffmpeg and ffprobe alike.
pub fn input(cmd: &mut Command, kind: Input, path: &Path) {
    let mut url = std::ffi::OsString::from("file:");
    url.push(path);
    cmd.args(["-protocol_whitelist", "file"])
        .args(["-format_whitelist", kind.whitelist()])
        .args(["-f", kind.demuxer()])
        .arg("-i")
        .arg(url);
}

/// An ffmpeg command with the flags every invocation wants: quiet, never interactive, overwrite.
pub fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-nostdin", "-v", "error", "-y"]);
    c
}

/// How long an ffmpeg run over `media_secs` of media may take. Extracting audio and cutting short clips
/// run far faster than real time; 10× real time plus a minute only stops a tool that is stuck. Unknown
/// durations get two hours, enough for any episode.
pub fn work_timeout(media_secs: Option<f64>) -> Duration {
    match media_secs.filter(|s| s.is_finite() && *s > 0.0) {
        Some(s) => Duration::from_secs(60) + Duration::from_secs_f64((s * 10.0).min(12.0 * 3600.0)),
        None => Duration::from_secs(2 * 3600),
    }
}

/// Runs a tool through the group-killing spawner.
pub async fn run(
    cmd: Command,
    cancel: &CancellationToken,
    timeout: Duration,
) -> Result<Vec<u8>, ToolError> {
    super::child::run(cmd, cancel, Some(timeout)).await
}

/// Momentary loudness (EBU R 128, LUFS) of a wav every 100 ms, from ffmpeg's `ebur128` filter printed
/// through `ametadata` to stdout (about 2 MB an hour, inside what [`run`] keeps).
pub async fn loudness(
    wav: &Path,
    cancel: &CancellationToken,
    timeout: Duration,
) -> Result<Vec<f64>, ToolError> {
    let mut cmd = ffmpeg();
    input(&mut cmd, Input::Wav, wav);
    cmd.args([
        "-af",
        "ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.M:file=-",
        "-f",
        "null",
        "-",
    ]);
    let out = run(cmd, cancel, timeout).await?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("lavfi.r128.M="))
        .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NEG_INFINITY))
        .collect())
}

/// ISO base media / QuickTime top-level boxes a real MP4 or MOV file starts with.
const VIDEO_BOXES: [&[u8; 4]; 9] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp",
];

/// Refuses what is plainly not an MP4/MOV video, with a reason a user can act on. Opens without blocking
/// (a FIFO would otherwise hang here) and reads 12 bytes; never follows what the file says.
pub fn check_video(path: &Path) -> Result<(), ToolError> {
    let refuse = |why: &str| Err(ToolError::Refused(format!("refused the video: {why}")));
    let mut f = match std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => return refuse(&format!("cannot open it ({e})")),
    };
    match f.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => return refuse("not a regular file"),
        Err(e) => return refuse(&format!("cannot read it ({e})")),
    }
    let mut head = Vec::with_capacity(12);
    if let Err(e) = (&mut f).take(12).read_to_end(&mut head) {
        return refuse(&format!("cannot read it ({e})"));
    }
    let text = String::from_utf8_lossy(&head);
    if text.trim_start().starts_with("#EXTM3U") {
        return refuse(
            "it is an HLS playlist (#EXTM3U), not an MP4/MOV video; playlists are not accepted because \
             they make ffmpeg open other files or URLs",
        );
    }
    if text.starts_with("ffconcat") {
        return refuse("it is an ffmpeg concat script, not an MP4/MOV video");
    }
    if head.len() < 8 || !VIDEO_BOXES.iter().any(|b| &head[4..8] == *b) {
        return refuse("it is not an MP4/MOV video (no MP4 box at the start of the file)");
    }
    Ok(())
}

/// Duration of a media file in seconds, via ffprobe restricted to `kind`'s demuxer, within `timeout`.
pub async fn probe_duration(
    path: &Path,
    kind: Input,
    cancel: &CancellationToken,
    timeout: Duration,
) -> Result<f64, ToolError> {
    if kind == Input::Video {
        check_video(path)?;
    }
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error"]);
    input(&mut c, kind, path);
    c.args(["-show_entries", "format=duration", "-of", "csv=p=0"]);
    let out = run(c, cancel, timeout).await?;
    String::from_utf8_lossy(&out)
        .trim()
        .parse::<f64>()
        .map_err(|_| ToolError::Failed {
            program: "ffprobe".into(),
            status: "ok".into(),
            reason: "no duration in the file (not a playable video)".into(),
        })
}

#[cfg(test)]
#[path = "ffmpeg_tests.rs"]
mod tests;
