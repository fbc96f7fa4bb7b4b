//! A server killed mid-job: after a restart, the interrupted episode is failed ("interrupted") and the
//! half-written attempt is cleaned. Uses the real `ewg` binary and SIGKILL.

use crate::support::{Client, make_media, wire};
use app::api::{DiscoverReport, EpisodeDetail, EpisodeState, ProcessOutcome, Stage};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ID: &str = "demo-show_ep001_2026-01-01";

/// Kills the server when the test ends, however it ends.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ewg serve` with extra environment variables (failpoints).
pub(crate) fn serve_with(dir: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Server {
    let mut c = crate::db::ewg(dir);
    c.args([
        "serve",
        "--lease-secs",
        "2",
        "--workers",
        "1",
        "--addr",
        &format!("127.0.0.1:{port}"),
    ])
    .env("EWG_LOG", "warn")
    .env_remove("EWG_TRANSCRIBE_CMD")
    .envs(env.iter().copied())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    Server(c.spawn().expect("start ewg"))
}

/// `transcriber`: a slow EWG_TRANSCRIBE_CMD keeps the job busy at a known stage until we kill it.
pub(crate) fn serve(dir: &std::path::Path, port: u16, transcriber: Option<&str>) -> Server {
    let env: Vec<(&str, &str)> = transcriber
        .map(|cmd| ("EWG_TRANSCRIBE_CMD", cmd))
        .into_iter()
        .collect();
    serve_with(dir, port, &env)
}

/// The typed client for the server on `port`; every request gives up after 10 s.
pub(crate) fn client(port: u16) -> Client {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Client::new(format!("http://127.0.0.1:{port}"), http)
}

pub(crate) async fn wait_up(port: u16) {
    let start = Instant::now();
    while reqwest::get(format!("http://127.0.0.1:{port}/api/health"))
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_restart_after_a_kill_marks_the_interrupted_episode_failed_and_cleans_it() {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        &dir.path().join("inbox"),
        &["--episodes", "1", "--seconds", "3", "--no-subs"],
    );
    let token = crate::db::ewg(dir.path())
        .args(["token", "create", "--role", "operator"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let marker = dir.path().join("transcriber-started");
    let transcriber = format!("touch '{}' && sleep 60", marker.display());

    let port = free_port();
    let mut first = serve(dir.path(), port, Some(&transcriber));
    wait_up(port).await;
    let api = client(port);
    api.call::<DiscoverReport>(&token, "discover", json!({ "wait": true }))
        .await
        .expect("discover");
    let out: ProcessOutcome = api
        .call(&token, "process", json!({ "ids": [ID] }))
        .await
        .expect("process");
    assert_eq!(out.jobs[0].attempt, 1, "{out:?}");
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the job never reached transcription"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.path().join(format!("audio/{ID}.wav")).exists(),
        "prep wrote its audio"
    );
    // A crash: SIGKILL, nothing gets to clean up or record anything.
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let _ = Command::new("pkill")
        .args(["-f", &marker.display().to_string()])
        .status();
    assert!(
        dir.path().join(format!("work/{ID}/a1")).exists(),
        "the crash left scratch behind"
    );

    let port = free_port();
    let _second = serve(dir.path(), port, None);
    wait_up(port).await;
    let api = client(port);
    let start = Instant::now();
    let detail = loop {
        let d = api
            .call::<EpisodeDetail>(&token, "episode", json!({ "id": ID }))
            .await;
        // Failed first, then its attempt cleaned by the recovery run: wait for that run to end.
        if let Ok(d) = &d
            && d.episode.state == EpisodeState::Failed
            && d.job.is_none()
            && d.cleanup_runs
                .first()
                .is_some_and(|r| r.result != app::api::CleanupResult::Running)
        {
            break d.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never marked interrupted: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        detail.episode.error.as_deref(),
        Some("interrupted"),
        "{detail:?}"
    );
    assert_eq!(detail.episode.failed_stage, Some(Stage::Transcribed));
    assert!(detail.artifacts.is_empty(), "{detail:?}");
    assert!(
        !dir.path().join(format!("work/{ID}/a1")).exists(),
        "the attempt was cleaned"
    );
    assert!(
        !dir.path().join(format!("audio/{ID}.wav")).exists(),
        "its audio too"
    );
    assert_eq!(
        wire(&detail.cleanup_runs[0].trigger),
        "recovery",
        "{detail:?}"
    );
}
