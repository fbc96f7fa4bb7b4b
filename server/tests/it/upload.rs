//! Browser uploads: `POST /api/upload?show=&name=` streams a real video into `inbox/<show>/`, refuses bad
//! names, roles, sizes and overwrites before anything lands, and never leaves a temp file behind — whether
//! the client aborts, the limit is passed, or a Deep Clean runs while the upload is in flight.

use crate::support::{Env, Options, make_media};
use app::api::{CleanupReport, EpisodeState, ProcessOutcome, UploadDone};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const VIDEO: &str = "ep001_2026-01-01.mp4";
const SUBS: &str = "ep001_2026-01-01.vtt";

/// A real generated episode (video + WebVTT), made outside the server's data root.
pub(crate) fn real_episode() -> (tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    make_media(
        dir.path(),
        &["--shows", "src", "--episodes", "1", "--seconds", "2"],
    );
    let video = std::fs::read(dir.path().join("src").join(VIDEO)).unwrap();
    let subs = std::fs::read(dir.path().join("src").join(SUBS)).unwrap();
    assert!(video.len() > 10_000, "a real video, not a stub");
    (dir, video, subs)
}

async fn upload(
    env: &Env,
    token: Option<&str>,
    query: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = env
        .http
        .post(format!("{}/api/upload?{query}", env.base))
        .header("content-type", "application/octet-stream")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    crate::support::status_and_json(req.send().await.expect("request")).await
}

/// Entries of a directory (empty when it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn uploads(env: &Env) -> Vec<String> {
    entries(&env.root().join("uploads"))
}

fn assert_error(status: u16, body: &serde_json::Value, want: u16, code: &str, says: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let msg = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains(says),
        "message {msg:?} should mention {says:?}"
    );
}

/// A hand-written HTTP/1.1 request whose body the test sends (or abandons) piece by piece.
pub(crate) async fn raw_request(env: &Env, query: &str, token: &str, framing: &str) -> TcpStream {
    let addr = env.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/upload?{query} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads the whole response; returns (status, JSON body).
pub(crate) async fn read_response(mut s: impl AsyncReadExt + Unpin) -> (u16, serde_json::Value) {
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(json!(body)))
}

/// Upload parts the registry holds as in flight (the rows every sweep in every process respects).
fn in_flight(env: &Env) -> Vec<String> {
    crate::db::sql(env.root(), "SELECT part FROM uploads ORDER BY part")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the server has a temp file in flight; returns its path relative to the data root.
pub(crate) async fn wait_in_flight(env: &Env) -> String {
    let start = Instant::now();
    loop {
        let busy: Vec<String> = in_flight(env);
        if let [rel] = busy.as_slice()
            && env.root().join(rel).exists()
        {
            return rel.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no upload in flight: {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_real_video_and_its_subtitles_land_in_the_inbox_are_discovered_and_process() {
    let (_src, video, subs) = real_episode();
    let env = Env::start(|_| {}).await;
    let (s, body) = upload(
        &env,
        Some(&env.operator),
        &format!("show=uploaded&name={VIDEO}"),
        video.clone(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "path": format!("inbox/uploaded/{VIDEO}"),
            "bytes": video.len(),
            "episode": "uploaded_ep001_2026-01-01",
        })
    );
    let (s, body) = upload(
        &env,
        Some(&env.admin),
        &format!("show=uploaded&name={SUBS}"),
        subs.clone(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let done: UploadDone = serde_json::from_value(body).unwrap();
    assert_eq!(done.path, format!("inbox/uploaded/{SUBS}"));
    assert_eq!(done.episode, "uploaded_ep001_2026-01-01");

    // Byte for byte what was sent, nothing left in uploads/, nothing registered as in flight.
    let inbox = env.root().join("inbox/uploaded");
    assert_eq!(std::fs::read(inbox.join(VIDEO)).unwrap(), video);
    assert_eq!(std::fs::read(inbox.join(SUBS)).unwrap(), subs);
    assert_eq!(entries(&inbox), vec![VIDEO.to_string(), SUBS.to_string()]);
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));
    assert!(in_flight(&env).is_empty());

    // Discovered by the upload itself: no scan needed.
    let id = "uploaded_ep001_2026-01-01";
    let d = env.episode(id).await;
    assert_eq!(d.source_path, format!("inbox/uploaded/{VIDEO}"));
    assert_eq!(d.episode.state, EpisodeState::Idle);

    // And it is a usable episode: the pipeline takes it to the end with the uploaded subtitles.
    env.ok::<ProcessOutcome>("process", json!({ "ids": [id] }))
        .await;
    let d = env.wait_settled(id, Duration::from_secs(120)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{d:?}");
}

#[tokio::test]
async fn bad_names_and_shows_are_refused_before_anything_is_written() {
    let (_src, video, _) = real_episode();
    let env = Env::start(|_| {}).await;
    for (query, says) in [
        ("show=uploaded&name=holiday.mp4", "ep<NNN>_<YYYY-MM-DD>.mp4"),
        (
            "show=uploaded&name=ep001_2026-01-01.mov",
            "ep<NNN>_<YYYY-MM-DD>.mp4",
        ),
        ("show=uploaded&name=ep001_2026-02-30.mp4", "date"),
        ("show=uploaded&name=ep1_2026-01-01.mp4", "ep001"),
        ("show=uploaded&name=..%2Fep001_2026-01-01.mp4", "ep<NNN>"),
        ("show=uploaded&name=ep001_2026-01-01.fail-at", "ep<NNN>"),
        ("show=uploaded", "missing `name`"),
        ("name=ep001_2026-01-01.mp4", "missing `show`"),
        ("show=Up+Loaded&name=ep001_2026-01-01.mp4", "lowercase"),
        ("show=..&name=ep001_2026-01-01.mp4", "lowercase"),
        ("show=..%2Fuploads&name=ep001_2026-01-01.mp4", "lowercase"),
    ] {
        let (s, body) = upload(&env, Some(&env.operator), query, video.clone()).await;
        assert_error(s, &body, 400, "bad_request", says);
    }
    // A multipart form is not the raw file.
    let res = env
        .http
        .post(format!(
            "{}/api/upload?show=uploaded&name={VIDEO}",
            env.base
        ))
        .bearer_auth(&env.operator)
        .header("content-type", "multipart/form-data; boundary=x")
        .body(video.clone())
        .send()
        .await
        .unwrap();
    let s = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_error(s, &body, 400, "bad_request", "raw bytes");
    // An empty body is not a video.
    let (s, body) = upload(
        &env,
        Some(&env.operator),
        &format!("show=uploaded&name={VIDEO}"),
        vec![],
    )
    .await;
    assert_error(s, &body, 400, "bad_request", "empty");

    assert!(entries(&env.root().join("inbox")).is_empty());
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));
}

#[tokio::test]
async fn an_existing_file_is_never_overwritten() {
    let (_src, video, subs) = real_episode();
    let env = Env::start(|inbox| make_media(inbox, &["--shows", "talk", "--episodes", "1"])).await;
    let original = std::fs::read(env.root().join("inbox/talk").join(VIDEO)).unwrap();
    let original_subs = std::fs::read(env.root().join("inbox/talk").join(SUBS)).unwrap();
    assert_ne!(original, video);
    let (s, body) = upload(
        &env,
        Some(&env.admin),
        &format!("show=talk&name={VIDEO}"),
        video,
    )
    .await;
    assert_error(s, &body, 409, "conflict", &format!("inbox/talk/{VIDEO}"));
    let (s, body) = upload(
        &env,
        Some(&env.admin),
        &format!("show=talk&name={SUBS}"),
        subs,
    )
    .await;
    assert_error(s, &body, 409, "conflict", "never overwritten");
    // A dry run says the same without a body.
    let (s, body) = upload(
        &env,
        Some(&env.admin),
        &format!("show=talk&name={VIDEO}&dry_run=true&size=1000"),
        vec![],
    )
    .await;
    assert_error(s, &body, 409, "conflict", "already exists");
    assert_eq!(
        std::fs::read(env.root().join("inbox/talk").join(VIDEO)).unwrap(),
        original
    );
    assert_eq!(
        std::fs::read(env.root().join("inbox/talk").join(SUBS)).unwrap(),
        original_subs
    );
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));
}

#[tokio::test]
async fn viewers_and_strangers_cannot_upload() {
    let (_src, video, _) = real_episode();
    let env = Env::start(|_| {}).await;
    let q = format!("show=uploaded&name={VIDEO}");
    let (s, body) = upload(&env, None, &q, video.clone()).await;
    assert_error(s, &body, 401, "unauthorized", "sign in");
    let (s, body) = upload(&env, Some("not-a-token"), &q, video.clone()).await;
    assert_error(s, &body, 401, "unauthorized", "token");
    let (s, body) = upload(&env, Some(&env.viewer), &q, video.clone()).await;
    assert_error(s, &body, 403, "forbidden", "operator");

    // A browser session works from the app's own origin and is refused from another site.
    crate::support::add_user(&env, "op", app::api::Role::Operator, "operator-pass").await;
    let (status, cookie) = crate::support::login(&env, "op", "operator-pass").await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("session cookie");
    let res = env
        .http
        .post(format!("{}/api/upload?{q}", env.base))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .body(video.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(entries(&env.root().join("inbox")).is_empty());
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));

    let res = env
        .http
        .post(format!("{}/api/upload?{q}", env.base))
        .header("cookie", &cookie)
        .header("origin", &env.base)
        .body(video.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        std::fs::read(env.root().join("inbox/uploaded").join(VIDEO)).unwrap(),
        video
    );
}

#[tokio::test]
async fn uploads_over_the_limit_get_413_and_leave_nothing() {
    let env = Env::start_with(
        Options {
            max_upload_mb: 1,
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let big = vec![7u8; 1024 * 1024 + 1];
    let q = format!("show=uploaded&name={VIDEO}");
    // Declared too large: refused before a byte is stored.
    let (s, body) = upload(&env, Some(&env.operator), &q, big.clone()).await;
    assert_error(s, &body, 413, "payload_too_large", "1 MiB");
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));

    // No length declared (chunked): counted while streaming, refused at the limit, temp file removed.
    let s = raw_request(&env, &q, &env.operator, "Transfer-Encoding: chunked").await;
    let (read, mut write) = s.into_split();
    let writer = tokio::spawn(async move {
        for piece in big.chunks(64 * 1024) {
            let frame = [
                format!("{:x}\r\n", piece.len()).into_bytes(),
                piece.to_vec(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if write.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let (status, body) = read_response(read).await;
    let _ = writer.await;
    assert_error(status, &body, 413, "payload_too_large", "EWG_MAX_UPLOAD_MB");
    wait_until("the temp file is removed", || uploads(&env).is_empty()).await;
    // The registry forgets the part right after (in the background, so the 413 is not delayed).
    wait_until("the upload is unregistered", || in_flight(&env).is_empty()).await;
    assert!(entries(&env.root().join("inbox")).is_empty());

    // A dry run announcing the size is refused the same way, and accepted under the limit, storing nothing.
    let (s, body) = upload(
        &env,
        Some(&env.operator),
        &format!("{q}&dry_run=true&size={}", 1024 * 1024 + 1),
        vec![],
    )
    .await;
    assert_error(s, &body, 413, "payload_too_large", "1 MiB");
    let (s, body) = upload(
        &env,
        Some(&env.operator),
        &format!("{q}&dry_run=true&size=1000"),
        vec![],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body,
        json!({ "path": format!("inbox/uploaded/{VIDEO}"), "bytes": 1000, "episode": "uploaded_ep001_2026-01-01" })
    );
    let (s, body) = upload(
        &env,
        Some(&env.viewer),
        &format!("{q}&dry_run=true&size=1000"),
        vec![],
    )
    .await;
    assert_error(s, &body, 403, "forbidden", "operator");
    assert!(entries(&env.root().join("inbox")).is_empty());
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));

    // Exactly at the limit is fine.
    let (s, body) = upload(&env, Some(&env.operator), &q, vec![7u8; 1024 * 1024]).await;
    assert_eq!(s, 200, "{body}");
    let done: UploadDone = serde_json::from_value(body).unwrap();
    assert_eq!(done.bytes, 1024 * 1024);
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing_and_deep_clean_spares_uploads_in_flight() {
    let (_src, video, _) = real_episode();
    let env = Env::start(|_| {}).await;
    let q = format!("show=uploaded&name={VIDEO}");
    let half = video.len() / 2;

    // 1. A Deep Clean while an upload streams leaves that upload alone; it then completes.
    let mut s = raw_request(
        &env,
        &q,
        &env.operator,
        &format!("Content-Length: {}", video.len()),
    )
    .await;
    s.write_all(&video[..half]).await.unwrap();
    let part = wait_in_flight(&env).await;
    assert!(
        part.starts_with("uploads/") && part.ends_with(".part"),
        "{part}"
    );
    let report: CleanupReport = env.ok("deep_clean", json!({ "dry_run": false })).await;
    assert!(!report.paths.contains(&part), "{report:?}");
    assert!(
        env.root().join(&part).exists(),
        "an upload in flight was swept"
    );
    s.write_all(&video[half..]).await.unwrap();
    let (status, body) = read_response(s).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read(env.root().join("inbox/uploaded").join(VIDEO)).unwrap(),
        video
    );
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));

    // 2. A client that goes away mid-upload: the temp file goes at once, nothing reaches the inbox.
    let q2 = "show=uploaded&name=ep002_2026-01-02.mp4";
    let mut s = raw_request(
        &env,
        q2,
        &env.operator,
        &format!("Content-Length: {}", video.len()),
    )
    .await;
    s.write_all(&video[..half]).await.unwrap();
    let part = wait_in_flight(&env).await;
    drop(s);
    wait_until("the aborted upload is unregistered", || {
        in_flight(&env).is_empty()
    })
    .await;
    assert!(!env.root().join(&part).exists(), "{part} left behind");
    assert!(
        !env.root()
            .join("inbox/uploaded/ep002_2026-01-02.mp4")
            .exists()
    );

    // 3. What a crash leaves (a temp file nobody writes) is swept by Deep Clean and reported.
    std::fs::write(env.root().join("uploads/crashed.part"), &video[..half]).unwrap();
    let report: CleanupReport = env.ok("deep_clean", json!({ "dry_run": false })).await;
    assert!(
        report.paths.iter().any(|p| p == "uploads/crashed.part"),
        "{report:?}"
    );
    assert!(uploads(&env).is_empty(), "{:?}", uploads(&env));
    assert_eq!(
        entries(&env.root().join("inbox/uploaded")),
        vec![VIDEO.to_string()]
    );
}
