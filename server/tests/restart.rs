//! A server killed mid-job: after a restart, the interrupted episode is failed ("interrupted") and the
//! half-written attempt is cleaned. Uses the real `ewg` binary and SIGKILL.

mod common;
use common::{ffmpeg_processes, make_media};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ID: &str = "demo-show_ep001_2026-01-01";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ewg"))
        .args([
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
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start ewg")
}

async fn call(port: u16, token: &str, name: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/{name}"))
        .bearer_auth(token)
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
        &["--episodes", "1", "--seconds", "60", "--size", "640x360"],
    );
    std::fs::write(
        dir.path().join("inbox/demo-show/ep001_2026-01-01.vtt"),
        "WEBVTT\n\n00:00:00.000 --> 00:00:25.000\nthe first long part\n\n00:00:25.000 --> 00:00:50.000\nthe second long part\n",
    )
    .unwrap();
    let token = Command::new(env!("CARGO_BIN_EXE_ewg"))
        .args(["token", "create", "--role", "operator", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let needle = dir.path().to_string_lossy().into_owned();

    let port = free_port();
    let mut first = serve(dir.path(), port);
    wait_up(port).await;
    call(port, &token, "discover", serde_json::json!({})).await;
    let out = call(port, &token, "process", serde_json::json!({ "ids": [ID] })).await;
    assert_eq!(out["jobs"][0]["attempt"], 1, "{out}");
    let start = Instant::now();
    while ffmpeg_processes(&needle).is_empty()
        || call(port, &token, "episode", serde_json::json!({ "id": ID })).await["episode"]["progress"]
            ["stage"]
            != "clipped"
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never started clipping"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A crash: the server and its ffmpeg die at once, nothing gets to clean up.
    let pgid = first.id() as i32;
    Command::new("kill")
        .args(["-9", &format!("-{pgid}")])
        .status()
        .unwrap();
    first.wait().unwrap();
    let start = Instant::now();
    while !ffmpeg_processes(&needle).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.path().join(format!("work/{ID}/a1")).exists(),
        "the crash left scratch behind"
    );

    let port = free_port();
    let mut second = serve(dir.path(), port);
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
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(detail["episode"]["error"], "interrupted", "{detail}");
    assert_eq!(detail["episode"]["failed_stage"], "clipped");
    assert!(
        detail["artifacts"].as_array().unwrap().is_empty(),
        "{detail}"
    );
    assert!(
        !dir.path().join(format!("work/{ID}/a1")).exists(),
        "the attempt was cleaned"
    );
    assert!(
        detail["cleanup_runs"][0]["trigger"] == "recovery",
        "{detail}"
    );
}
