//! A server killed mid-job: after a restart, the interrupted episode is failed ("interrupted") and the
//! half-written attempt is cleaned. Uses the real `ewg` binary and SIGKILL.

use crate::support::make_media;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ID: &str = "demo-show_ep001_2026-01-01";

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `transcriber`: a slow EWG_TRANSCRIBE_CMD keeps the job busy at a known stage until we kill it.
fn serve(dir: &std::path::Path, port: u16, transcriber: Option<&str>) -> Server {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ewg"));
    c.args([
        "serve",
        "--lease-secs",
        "2",
        "--workers",
        "1",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir)
    .env("EWG_LOG", "warn")
    .env_remove("EWG_TRANSCRIBE_CMD")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(cmd) = transcriber {
        c.env("EWG_TRANSCRIBE_CMD", cmd);
    }
    Server(c.spawn().expect("start ewg"))
}

async fn call(port: u16, token: &str, name: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/{name}"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(10))
        .json(&body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

async fn wait_up(port: u16) {
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
    let token = Command::new(env!("CARGO_BIN_EXE_ewg"))
        .args(["token", "create", "--role", "operator", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let marker = dir.path().join("transcriber-started");
    let transcriber = format!("touch '{}' && sleep 60", marker.display());

    let port = free_port();
    let mut first = serve(dir.path(), port, Some(&transcriber));
    wait_up(port).await;
    call(port, &token, "discover", serde_json::json!({})).await;
    let out = call(port, &token, "process", serde_json::json!({ "ids": [ID] })).await;
    assert_eq!(out["jobs"][0]["attempt"], 1, "{out}");
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
    let start = Instant::now();
    let detail = loop {
        let d = call(port, &token, "episode", serde_json::json!({ "id": ID })).await;
        if d["episode"]["state"] == "failed" && d["job"].is_null() {
            break d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never marked interrupted: {d}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(detail["episode"]["error"], "interrupted", "{detail}");
    assert_eq!(detail["episode"]["failed_stage"], "transcribed");
    assert!(
        detail["artifacts"].as_array().unwrap().is_empty(),
        "{detail}"
    );
    assert!(
        !dir.path().join(format!("work/{ID}/a1")).exists(),
        "the attempt was cleaned"
    );
    assert!(
        !dir.path().join(format!("audio/{ID}.wav")).exists(),
        "its audio too"
    );
    assert_eq!(detail["cleanup_runs"][0]["trigger"], "recovery", "{detail}");
}
