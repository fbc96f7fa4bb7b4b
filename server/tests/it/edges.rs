//! Actions do what was previewed, and the edges are bounded (issue #25), over the real server:
//! a group action after a new failure joined the group answers 409 and changes nothing; a Deep Clean
//! confirmation names the orphans' digest, not only their count; a dropped login keeps its hashing slot
//! until argon2 returns; event streams are capped per user and in all and still end when the session
//! does; `/metrics` needs a token or an allowed address and names no host; uploads that would not fit
//! get 507 and past the cap 429, losing nothing.

use crate::support::{Env, Options, add_user, login, make_media};
use crate::upload::{VIDEO, raw_request, read_response, real_episode, wait_in_flight};
use app::api::{CleanupReport, ErrorCode, FailureGroupList, ProcessOutcome, Role, events};
use ewg::cli::config::EdgeArgs;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const EP1: &str = "talk_ep001_2026-01-01";
const EP2: &str = "talk_ep002_2026-01-02";
const EP3: &str = "talk_ep003_2026-01-03";

async fn settle(env: &Env, ids: &[&str]) {
    let out: ProcessOutcome = env.ok("process", json!({ "ids": ids })).await;
    assert_eq!(out.jobs.len(), ids.len());
    for id in ids {
        env.wait_settled(id, Duration::from_secs(120)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_action_after_a_new_failure_joined_answers_409_and_changes_nothing() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "3", "--seconds", "3"],
        );
        for ep in ["ep001_2026-01-01", "ep002_2026-01-02", "ep003_2026-01-03"] {
            std::fs::write(inbox.join(format!("talk/{ep}.fail-at")), "render").unwrap();
        }
    })
    .await;
    settle(&env, &[EP1, EP2]).await;
    let list: FailureGroupList = env.ok("failure_groups", json!({})).await;
    let group = list.groups[0].clone();
    let mut shown = group.episodes.clone();
    shown.sort();
    assert_eq!(shown, [EP1, EP2]);

    // The operator previews the group as shown...
    let preview: app::api::RetryOutcome = env
        .ok(
            "retry_failed",
            json!({ "group": group.key, "previewed": group.episodes, "dry_run": true }),
        )
        .await;
    assert!(preview.report.dry_run);
    // ...a third episode fails the same way meanwhile...
    settle(&env, &[EP3]).await;
    let now: FailureGroupList = env.ok("failure_groups", json!({})).await;
    assert_eq!(now.groups[0].key, group.key);
    assert_eq!(now.groups[0].count, 3, "it joined the same group");
    let files = env.files();

    // ...and the confirm is refused, naming who joined: nothing is cleaned or queued.
    for call in ["retry_failed", "cleanup_failed"] {
        let (status, e) = env
            .fail(
                &env.operator,
                call,
                json!({ "group": group.key, "previewed": group.episodes }),
            )
            .await;
        assert_eq!(
            (status.as_u16(), e.code()),
            (409, ErrorCode::Conflict),
            "{call}: {e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("the group changed since the preview")
                && msg.contains("1 episode joined")
                && msg.contains(EP3)
                && msg.contains("preview again"),
            "{call}: {msg}"
        );
    }
    assert_eq!(env.files(), files, "nothing was cleaned");
    for id in [EP1, EP2, EP3] {
        let d = env.episode(id).await;
        assert_eq!(d.episode.state, app::api::EpisodeState::Failed, "{id}");
        assert!(d.job.is_none(), "{id}: nothing was queued");
    }
    // An episode that left since (one retried elsewhere) is named too.
    let (status, e) = env
        .fail(
            &env.operator,
            "cleanup_failed",
            json!({ "group": group.key, "previewed": [EP1, EP2, EP3, "talk_ep009_2026-01-09"] }),
        )
        .await;
    assert_eq!(status.as_u16(), 409);
    assert!(
        e.to_string()
            .contains("1 episode left (talk_ep009_2026-01-09)"),
        "{e:?}"
    );

    // Previewed again, the same list goes ahead and acts on exactly those three.
    let members = now.groups[0].episodes.clone();
    let dry: CleanupReport = env
        .ok(
            "cleanup_failed",
            json!({ "group": group.key, "previewed": members, "dry_run": true }),
        )
        .await;
    assert!(dry.dry_run);
    let done: CleanupReport = env
        .ok(
            "cleanup_failed",
            json!({ "group": group.key, "previewed": members }),
        )
        .await;
    assert!(!done.dry_run);
    for id in [EP1, EP2, EP3] {
        assert_eq!(
            env.episode(id).await.episode.state,
            app::api::EpisodeState::Idle,
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_clean_confirmation_names_the_orphans_digest_and_refuses_other_files() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "talk", "--episodes", "1", "--seconds", "2"],
        );
    })
    .await;
    // Files in a known episode's output directory with no rows: the guard stops the sweep.
    let dir = env.root().join(format!("outputs/talk/2026/{EP1}"));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..25 {
        std::fs::write(dir.join(format!("stray{i:02}.txt")), format!("stray {i}")).unwrap();
    }
    let (status, e) = env.fail(&env.admin, "deep_clean", json!({})).await;
    assert_eq!(status.as_u16(), 409, "{e:?}");
    let msg = e.to_string();
    let count: i64 = msg
        .split("\"confirm_orphans\": ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {msg}"));
    let digest = msg
        .split("\"orphans_digest\": \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no digest in {msg}"))
        .to_string();
    assert_eq!(count, 25);
    assert_eq!(digest.len(), 16, "{digest}");

    // Same count, other files: one stray replaced by another after the preview.
    std::fs::remove_file(dir.join("stray00.txt")).unwrap();
    std::fs::write(dir.join("arrived-later.txt"), "not previewed").unwrap();
    let (status, e) = env
        .fail(
            &env.admin,
            "deep_clean",
            json!({ "confirm_orphans": count, "orphans_digest": digest }),
        )
        .await;
    assert_eq!(
        (status.as_u16(), e.code()),
        (409, ErrorCode::Conflict),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("the orphans changed since the preview"),
        "{e:?}"
    );
    assert!(dir.join("arrived-later.txt").exists(), "nothing removed");
    // One more file: the count differs too, still 409 (not a typo: the digest says what was seen).
    std::fs::write(dir.join("one-more.txt"), "x").unwrap();
    let (status, e) = env
        .fail(
            &env.admin,
            "deep_clean",
            json!({ "confirm_orphans": count, "orphans_digest": digest }),
        )
        .await;
    assert_eq!(status.as_u16(), 409, "{e:?}");
    assert!(
        e.to_string().contains("26 files now, 25 were confirmed"),
        "{e:?}"
    );
    // A digest without a count means nothing.
    let (status, _) = env
        .fail(
            &env.admin,
            "deep_clean",
            json!({ "orphans_digest": digest }),
        )
        .await;
    assert_eq!(status.as_u16(), 400);

    // Previewed again, the new count and digest go ahead.
    let (_, e) = env.fail(&env.admin, "deep_clean", json!({})).await;
    let msg = e.to_string();
    let digest = msg
        .split("\"orphans_digest\": \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let report: CleanupReport = env
        .ok(
            "deep_clean",
            json!({ "confirm_orphans": 26, "orphans_digest": digest }),
        )
        .await;
    assert!(!report.paths.is_empty(), "{report:?}");
    assert!(!dir.join("arrived-later.txt").exists(), "{report:?}");
}

/// What `Auth::new` sizes the hashing slots to.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_logins_never_run_more_argon2_than_there_are_slots() {
    let env = Env::start(|_| {}).await;
    add_user(&env, "ada", Role::Viewer, "correct horse battery").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let peak = {
        let studio = std::sync::Arc::clone(&env.studio);
        let stop = std::sync::Arc::clone(&stop);
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(studio.auth.hashes_running());
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            peak
        })
    };
    // Impatient clients: a login every few ms, each given up after 8 ms — while argon2 runs on.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(8))
        .build()
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..60 {
        let c = impatient.clone();
        let url = format!("{}/api/login", env.base);
        // Distinct names, so the per-name limiter never answers first.
        let body = json!({ "username": format!("user{i}"), "password": "wrong" });
        sent.push(tokio::spawn(async move {
            c.post(url).json(&body).send().await.is_ok()
        }));
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    let mut dropped = 0;
    for s in sent {
        if !s.await.unwrap() {
            dropped += 1;
        }
    }
    // Every argon2 run finishes; then the slots are all free again.
    let start = Instant::now();
    while env.studio.auth.hashes_running() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "argon2 runs never ended"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = peak.await.unwrap();
    eprintln!(
        "{dropped} of 60 logins dropped by their client; peak argon2 runs {peak}, slots {}",
        hashing_slots()
    );
    assert!(dropped > 30, "the clients gave up: {dropped}");
    assert!(peak >= 1, "argon2 ran");
    assert!(
        peak <= hashing_slots(),
        "{peak} argon2 runs at once with {} slots",
        hashing_slots()
    );
    assert_eq!(login(&env, "ada", "correct horse battery").await.0, 200);
}

/// Opens `GET /api/events` with a bearer token; returns the response (a stream on 200).
async fn events(env: &Env, token: &str) -> reqwest::Response {
    env.http
        .get(format!("{}/api/events", env.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Waits for a named event on an open stream.
async fn next_event(res: &mut reqwest::Response, within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = String::new();
    loop {
        if let Some(line) = buf.lines().find_map(|l| l.strip_prefix("event:")) {
            return Some(line.trim().to_string());
        }
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(b))) => buf.push_str(&String::from_utf8_lossy(&b)),
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_user_and_overall_and_revocation_still_ends_them() {
    let env = Env::start_with(
        Options {
            edges: EdgeArgs {
                events_per_user: 2,
                events_max: 3,
                events_session_check_secs: 3,
                ..EdgeArgs::default()
            },
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let a = events(&env, &env.viewer).await;
    let b = events(&env, &env.viewer).await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let third = events(&env, &env.viewer).await;
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EWG_EVENTS_PER_USER"),
        "{body}"
    );
    let c = events(&env, &env.operator).await;
    assert_eq!(c.status(), 200, "another user has slots of their own");
    let full = events(&env, &env.admin).await;
    assert_eq!(full.status(), 429);
    let body: serde_json::Value = full.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EWG_EVENTS_MAX"),
        "{body}"
    );

    // A closed stream gives its slot back.
    drop(a);
    let start = Instant::now();
    let mut again = loop {
        let r = events(&env, &env.viewer).await;
        if r.status() == 200 {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "a closed stream's slot came back after {:?}",
        start.elapsed()
    );
    drop((b, c));

    // A token revoked behind the server's back (as `ewg token revoke` in another process does) ends
    // the stream within the session-check window.
    let secret = ewg::auth::new_secret().unwrap();
    let id = env
        .studio
        .registry
        .create_token(
            "short-lived",
            &ewg::auth::secret_hash(&secret),
            Role::Viewer,
        )
        .await
        .unwrap();
    drop(again);
    let start = Instant::now();
    again = loop {
        let r = events(&env, &secret).await;
        if r.status() == 200 {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "no slot for the new token"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(env.studio.registry.revoke_token(id).await.unwrap());
    let revoked = Instant::now();
    let ev = next_event(&mut again, Duration::from_secs(15)).await;
    assert_eq!(ev.as_deref(), Some(events::SESSION_ENDED));
    eprintln!(
        "a revoked token's stream ended after {:?}",
        revoked.elapsed()
    );
    assert!(
        revoked.elapsed() < Duration::from_secs(8),
        "{:?}",
        revoked.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_token_or_an_allowed_address_and_name_no_host_or_pid() {
    let env = Env::start(|_| {}).await;
    for _ in 0..3 {
        env.ok::<CleanupReport>("deep_clean", json!({})).await;
    }
    let url = format!("{}/metrics", env.base);
    let anon = env.http.get(&url).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let body: serde_json::Value = anon.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--metrics-allow"),
        "{body}"
    );
    let bad = env
        .http
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let text = env
        .http
        .get(&url)
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert!(!text.contains("node=\""), "{text}");
    assert!(
        host.trim().is_empty() || !text.contains(host.trim()),
        "{text}"
    );
    assert!(text.contains("# TYPE ewg_nodes_up gauge"), "{text}");
    // The histogram, bucketed by the registry: cumulative, ending at the count.
    assert!(
        text.contains("ewg_cleanup_duration_seconds_count{trigger=\"deep-clean\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("ewg_cleanup_duration_seconds_bucket{trigger=\"deep-clean\",le=\"+Inf\"} 3"),
        "{text}"
    );
    let buckets: Vec<i64> = text
        .lines()
        .filter(|l| l.starts_with("ewg_cleanup_duration_seconds_bucket{trigger=\"deep-clean\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 9, "{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");

    // A scraper on an allowed address needs no token.
    let allowed = Env::start_with(
        Options {
            edges: EdgeArgs {
                metrics_allow: vec!["127.0.0.1".parse().unwrap()],
                ..EdgeArgs::default()
            },
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let res = allowed
        .http
        .get(format!("{}/metrics", allowed.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("# TYPE ewg_episodes gauge")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_would_not_fit_get_507_past_the_cap_429_and_nothing_is_lost() {
    let (_src, video, _) = real_episode();
    let env = Env::start_with(
        Options {
            tmpfs_mib: Some(48),
            edges: EdgeArgs {
                max_uploads: 1,
                upload_margin_mb: 8,
                ..EdgeArgs::default()
            },
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let uploads = || crate::support::count_files(&env.root().join("uploads"));
    let inbox = || crate::support::count_files(&env.root().join("inbox"));

    // Declared too big for the free space (less the margin): refused before a byte is written.
    let q = format!("show=big&name={VIDEO}");
    let big = 44u64 << 20;
    let (status, body) = crate::support::status_and_json(
        env.http
            .post(format!(
                "{}/api/upload?{q}&dry_run=true&size={big}",
                env.base
            ))
            .bearer_auth(&env.operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_storage", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EWG_UPLOAD_MARGIN_MB"),
        "{body}"
    );
    let s = raw_request(&env, &q, &env.operator, &format!("Content-Length: {big}")).await;
    let (status, body) = read_response(s).await;
    assert_eq!(status, 507, "{body}");
    assert_eq!((uploads(), inbox()), (0, 0));

    // Undeclared (chunked) and too big: refused once it would eat into the margin, its part removed.
    let mut s = raw_request(&env, &q, &env.operator, "Transfer-Encoding: chunked").await;
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..44 {
        let head = format!("{:x}\r\n", chunk.len());
        if s.write_all(head.as_bytes()).await.is_err()
            || s.write_all(&chunk).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let (status, body) = read_response(s).await;
    assert_eq!(status, 507, "{body}");
    let start = Instant::now();
    while uploads() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the refused part stayed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(inbox(), 0);

    // One upload at a time: a second one while the first streams gets 429; both land afterwards.
    let half = video.len() / 2;
    let mut first = raw_request(
        &env,
        &format!("show=cap&name={VIDEO}"),
        &env.operator,
        &format!("Content-Length: {}", video.len()),
    )
    .await;
    first.write_all(&video[..half]).await.unwrap();
    wait_in_flight(&env).await;
    let second_q = "show=cap&name=ep002_2026-01-02.mp4";
    let second = || {
        env.http
            .post(format!("{}/api/upload?{second_q}", env.base))
            .bearer_auth(&env.operator)
            .header("content-type", "application/octet-stream")
            .body(video.clone())
            .send()
    };
    let (status, body) = crate::support::status_and_json(second().await.unwrap()).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EWG_MAX_UPLOADS"),
        "{body}"
    );
    first.write_all(&video[half..]).await.unwrap();
    let (status, body) = read_response(first).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = crate::support::status_and_json(second().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    for name in [VIDEO, "ep002_2026-01-02.mp4"] {
        assert_eq!(
            std::fs::read(env.root().join("inbox/cap").join(name)).unwrap(),
            video,
            "{name} stored whole"
        );
    }
    assert_eq!(uploads(), 0);
}
