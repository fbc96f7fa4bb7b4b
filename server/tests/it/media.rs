//! Children and untrusted media through the real server: a playlist uploaded as `.mp4` fails its own
//! episode with a reason, opens nothing else and holds up no other episode; the transcriber's whole
//! process group (children of `sh -c` included) dies when the `ewg` server is SIGKILLed; an episode whose
//! video has no duration is recorded beside others in any order (PostgreSQL).

use crate::support::{Env, make_media};
use serde_json::json;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const GOOD: &str = "demo-show_ep001_2026-01-01";
const PLAYLIST: &str = "demo-show_ep002_2026-01-02";

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_named_mp4_fails_its_episode_and_reads_nothing_else() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let env = Env::start(|inbox| {
        make_media(inbox, &["--episodes", "1", "--seconds", "3"]);
        let show = inbox.join("demo-show");
        // Opening the FIFO for reading would block: a job that read it would hang, not fail.
        mkfifo(&show.join("secret.ts"));
        std::fs::write(
            show.join("ep002_2026-01-02.mp4"),
            format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nsecret.ts\n\
                 #EXTINF:1,\nhttp://127.0.0.1:{port}/seg.ts\n#EXT-X-ENDLIST\n"
            ),
        )
        .unwrap();
        std::fs::copy(
            show.join("ep001_2026-01-01.vtt"),
            show.join("ep002_2026-01-02.vtt"),
        )
        .unwrap();
    })
    .await;
    env.ok::<app::api::ProcessOutcome>("process", json!({ "ids": [PLAYLIST, GOOD] }))
        .await;
    let bad = env.wait_settled(PLAYLIST, Duration::from_secs(60)).await;
    assert_eq!(bad.episode.state, app::api::EpisodeState::Failed, "{bad:?}");
    assert_eq!(
        bad.episode.failed_stage,
        Some(app::api::Stage::Prepped),
        "{bad:?}"
    );
    let reason = bad.episode.error.clone().unwrap_or_default();
    assert!(reason.contains("HLS playlist"), "{reason}");
    let good = env.wait_settled(GOOD, Duration::from_secs(120)).await;
    assert_eq!(good.episode.state, app::api::EpisodeState::Done, "{good:?}");
    assert!(
        listener.accept().is_err(),
        "something connected to the URL in the playlist"
    );
}

/// Live (non-zombie) members of process group `pgid`, from `/proc/<pid>/stat`.
fn live_members(pgid: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[0] != "Z" && f[0] != "X" && f[2] == pgid.to_string() {
            pids.push(pid);
        }
    }
    pids
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcribers_whole_group_dies_with_a_sigkilled_server() {
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
    let pidfile = dir.path().join("transcriber.pid");
    // A compound command, so `sh` stays the parent of two sleeps that never saw PDEATHSIG.
    let transcriber = format!("echo $$ > '{}'; sleep 300 & sleep 300", pidfile.display());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server(
        crate::db::ewg(dir.path())
            .args(["serve", "--workers", "1", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .env("EWG_LOG", "warn")
            .env("EWG_TRANSCRIBE_CMD", &transcriber)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let post = |name: &str, body: serde_json::Value| {
        http.post(format!("http://127.0.0.1:{port}/api/{name}"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
    };
    let start = Instant::now();
    while post("discover", json!({ "wait": true })).await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "server down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = post("process", json!({ "ids": [GOOD] })).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut pgid = 0;
    until("the transcriber to start", Duration::from_secs(60), || {
        pgid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pgid > 0 && live_members(pgid).len() >= 3
    })
    .await;

    server.0.kill().unwrap();
    server.0.wait().unwrap();
    until(
        "the transcriber's group to die with the server",
        Duration::from_secs(10),
        || live_members(pgid).is_empty(),
    )
    .await;
}

/// A video ffprobe cannot read is recorded with no duration, beside others that have one, in whatever
/// order the parallel probes finish. sqlx 0.8.6's `Any` driver sends a missing `f64` as a float4 NULL
/// (its `Real`/`Double` are swapped for nulls), and PostgreSQL keeps the parameter types a statement was
/// first prepared with on a connection: an episode with a duration recorded later on that connection was
/// refused ("incorrect binary data format in bind parameter 5"), failing the whole scan one run in four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_without_a_duration_never_breaks_the_next_ones_record() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::db::url_for(dir.path());
    let reg = ewg::registry::Registry::open(url.as_deref(), dir.path())
        .await
        .expect("registry");
    // As a scan records them: side by side, on whichever connections the pool hands out, rounds of
    // episodes without a duration first and then ones with.
    for round in 0..4 {
        let records = (0..16).map(|i| {
            let reg = reg.clone();
            let duration_secs = (i >= 8).then_some(f64::from(i) + 0.25);
            async move {
                let id = format!("talk_ep{:03}_2026-01-01", round * 16 + i + 1);
                let new = ewg::registry::NewEpisode {
                    id: id.clone(),
                    show: "talk".into(),
                    source_path: format!("inbox/talk/{}.mp4", &id[5..]),
                    title: id.clone(),
                    duration_secs,
                };
                if i >= 8 {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                let added = reg.upsert_discovered(&new).await;
                assert!(
                    matches!(added, Ok(true)),
                    "{id} ({duration_secs:?}): {added:?}"
                );
                let row = reg.episode(&id).await.expect("read").expect("recorded");
                assert_eq!(row.duration_secs, duration_secs, "{id}");
            }
        });
        futures::future::join_all(records).await;
    }
}
