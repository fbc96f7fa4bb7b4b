//! The one way the pipeline runs an external program (ffmpeg, ffprobe, the transcribe command), so that
//! no child outlives its job or the server.
//!
//! Guarantees, for every program started with [`spawn`] or [`run`]:
//! - It leads its own process group (`process_group(0)`), so everything it starts (the children of
//!   `sh -c`, a backgrounded `&`) can be killed with one `killpg(SIGKILL)`.
//! - The group is killed on cancellation, on timeout, when the leader exits (leftovers of the job must not
//!   outlive it, and they would hold our stdout/stderr pipes open), and when the [`ProcessGroup`] guard is
//!   dropped (a job task aborted mid-await).
//! - When the server dies, even by SIGKILL, the group dies too: the leader gets `PR_SET_PDEATHSIG(SIGKILL)`,
//!   and because grandchildren do not inherit that setting, a watchdog process inside the group blocks on a
//!   pipe whose only write end is held by the server; the kernel closes it when the server dies, the read
//!   returns EOF and the watchdog kills its whole group, itself included.
//!
//! Threads: PDEATHSIG fires when the *thread* that forked the child exits, not the process. Spawn only from
//! async code running on a runtime thread (tokio worker threads and a current-thread runtime's thread live
//! as long as the runtime, i.e. the server); never from `spawn_blocking` or `block_in_place`, whose threads
//! exit after idling and would take the leader with them. The watchdog's pipe belongs to the process, so the
//! server-death guarantee for the rest of the group does not depend on threads.
//!
//! The watchdog also keeps the group id reserved: a process group id cannot be reused while a member is
//! alive, so `killpg` after the leader was reaped can never hit an unrelated group.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cancelled")]
    Cancelled,
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("{program} did not finish within {} s and was stopped", after.as_secs())]
    TimedOut { program: String, after: Duration },
    #[error("{program} failed ({status}): {reason}")]
    Failed {
        program: String,
        status: String,
        reason: String,
    },
    /// The input was refused before any tool touched it (see `ffmpeg::check_video`).
    #[error("{0}")]
    Refused(String),
}

/// Most stdout kept (ffprobe answers are tiny; a chatty transcriber must not grow memory without bound).
const MAX_STDOUT: usize = 4 << 20;
/// Stderr kept from its end: that is where tools say why they failed.
const MAX_STDERR: usize = 64 << 10;
/// How long output readers may lag behind the group's death (a process that escaped the group with
/// `setsid` could hold the pipes forever; we stop waiting rather than hang the job).
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// A running child and its group. Field order matters: the group is killed before tokio's
/// `kill_on_drop` reaps the leader.
pub struct GroupChild {
    pub group: ProcessGroup,
    pub child: Child,
    pub program: String,
}

/// Kills its process group (SIGKILL) when dropped. Holds the write end of the watchdog's pipe.
pub struct ProcessGroup {
    pgid: libc::pid_t,
    _watch: OwnedFd,
}

impl ProcessGroup {
    /// The process group id (= the leader's pid).
    pub fn id(&self) -> i32 {
        self.pgid
    }

    /// SIGKILLs every member of the group. Idempotent; an empty group is not an error.
    pub fn kill(&self) {
        // SAFETY: killpg has no memory-safety preconditions; pgid > 0 was checked at spawn, so this can
        // never be killpg(0) (our own group) or -1.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `cmd` in its own process group with stdin null and stdout/stderr piped. See the module doc for
/// what that guarantees and from which threads it may be called.
pub fn spawn(mut cmd: Command) -> Result<GroupChild, ToolError> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let spawn_err = |source| ToolError::Spawn {
        program: program.clone(),
        source,
    };
    let (read_end, write_end) = watch_pipe().map_err(spawn_err)?;
    let parent = std::process::id() as libc::pid_t;
    let rd = read_end.as_raw_fd();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // syscalls (prctl, getppid, clone, dup2, close_range, read, kill, _exit); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || in_child(parent, rd));
    }
    let child = cmd.spawn().map_err(spawn_err)?;
    // Only the server may hold the write end, or the watchdog would never see EOF.
    drop(read_end);
    let pgid = child
        .id()
        .and_then(|p| libc::pid_t::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| spawn_err(io::Error::other("the child has no pid")))?;
    Ok(GroupChild {
        group: ProcessGroup {
            pgid,
            _watch: write_end,
        },
        child,
        program,
    })
}

/// A close-on-exec pipe whose read end is not 0..=2 (the child's stdio setup would overwrite it).
fn watch_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = std::io::pipe()?;
    let r = OwnedFd::from(r);
    let r = if r.as_raw_fd() < 3 { r.try_clone()? } else { r };
    Ok((r, OwnedFd::from(w)))
}

/// Runs in the forked child, before exec. Async-signal-safe only: no allocation, no locks.
fn in_child(parent: libc::pid_t, watch_rd: RawFd) -> io::Result<()> {
    // SAFETY: plain syscalls on values we own; see `spawn`.
    unsafe {
        if libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        // The server may have died between fork and prctl: we were reparented and no signal will come.
        if libc::getppid() != parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        // A raw clone (a fork without atfork handlers, which are not safe in a child of a threaded process).
        let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0);
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            watchdog(watch_rd);
        }
    }
    Ok(())
}

/// The group's watchdog: waits for EOF on the server's pipe, then kills its own group.
///
/// # Safety
/// Only to be called in a freshly forked child; never returns.
unsafe fn watchdog(rd: RawFd) -> ! {
    // SAFETY: async-signal-safe syscalls in a single-threaded child.
    unsafe {
        // Keep nothing else open: the job's stdout/stderr pipes would keep the server's readers waiting,
        // and other jobs' watch pipes would never reach EOF.
        libc::dup2(rd, 0);
        if libc::close_range(1, libc::c_uint::MAX, 0) != 0 {
            for fd in 1..4096 {
                libc::close(fd);
            }
        }
        let mut byte = 0u8;
        loop {
            let n = libc::read(0, (&raw mut byte).cast(), 1);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break;
        }
        libc::kill(0, libc::SIGKILL);
        libc::_exit(0)
    }
}

/// Runs `cmd` to completion and returns its stdout. The whole group is killed when `cancel` fires, when
/// `timeout` passes, when the leader exits, or when this future is dropped.
pub async fn run(
    cmd: Command,
    cancel: &CancellationToken,
    timeout: Option<Duration>,
) -> Result<Vec<u8>, ToolError> {
    record(&cmd);
    let mut c = spawn(cmd)?;
    let out = reader(c.child.stdout.take(), MAX_STDOUT, false);
    let err = reader(c.child.stderr.take(), MAX_STDERR, true);
    let expired = async {
        match timeout {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let early = tokio::select! {
        status = c.child.wait() => Ok(status),
        _ = cancel.cancelled() => Err(ToolError::Cancelled),
        _ = expired => Err(ToolError::TimedOut {
            program: c.program.clone(),
            after: timeout.unwrap_or_default(),
        }),
    };
    c.group.kill();
    let status = match early {
        Ok(status) => status,
        Err(e) => {
            // Reap the leader now so no zombie is left for the job's lifetime.
            let _ = c.child.wait().await;
            out.abort();
            err.abort();
            return Err(e);
        }
    };
    let stdout = drain(out).await;
    let stderr = drain(err).await;
    match status {
        Ok(s) if s.success() => Ok(stdout),
        Ok(s) => Err(ToolError::Failed {
            program: c.program.clone(),
            status: s.to_string(),
            reason: last_lines(&String::from_utf8_lossy(&stderr), 3),
        }),
        Err(source) => Err(ToolError::Spawn {
            program: c.program.clone(),
            source,
        }),
    }
}

/// Reads a pipe to its end, keeping at most `max` bytes: the first ones, or the last ones if `tail`.
fn reader<R>(pipe: Option<R>, max: usize, tail: bool) -> JoinHandle<Vec<u8>>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut kept = Vec::new();
        let Some(mut pipe) = pipe else { return kept };
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > max {
                if tail {
                    kept.drain(..kept.len() - max);
                } else {
                    kept.truncate(max);
                }
            }
        }
        kept
    })
}

async fn drain(task: JoinHandle<Vec<u8>>) -> Vec<u8> {
    let abort = task.abort_handle();
    match tokio::time::timeout(DRAIN_GRACE, task).await {
        Ok(r) => r.unwrap_or_default(),
        Err(_) => {
            abort.abort();
            Vec::new()
        }
    }
}

/// The end of a tool's stderr: where ffmpeg says why it failed.
pub(crate) fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    let text = lines[start..].join(" | ");
    if text.is_empty() {
        "no error output".into()
    } else {
        text
    }
}

/// A command as it was run, for benchmarks that replay the pipeline's tools directly.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub program: std::ffi::OsString,
    pub args: Vec<std::ffi::OsString>,
    pub cwd: Option<std::path::PathBuf>,
}

// The recorder is test machinery: it exists only with the `testing` feature (the benchmarks that use it
// require it). Without the feature `record` compiles to nothing.
#[cfg(feature = "testing")]
static RECORDER: std::sync::Mutex<Option<Vec<Recorded>>> = std::sync::Mutex::new(None);

/// Starts recording every command [`run`] executes (benchmarks only).
#[cfg(feature = "testing")]
pub fn start_recording() {
    *RECORDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
}

/// Stops recording and returns what ran.
#[cfg(feature = "testing")]
pub fn take_recording() -> Vec<Recorded> {
    RECORDER
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}

#[cfg(feature = "testing")]
fn record(cmd: &Command) {
    if let Some(log) = RECORDER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        let std = cmd.as_std();
        log.push(Recorded {
            program: std.get_program().to_owned(),
            args: std.get_args().map(|a| a.to_owned()).collect(),
            cwd: std.get_current_dir().map(|d| d.to_path_buf()),
        });
    }
}

#[cfg(not(feature = "testing"))]
#[inline(always)]
fn record(_cmd: &Command) {}

#[cfg(test)]
#[path = "child_tests.rs"]
mod tests;
