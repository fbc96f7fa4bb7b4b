//! The operator's console over the real server: failures grouped and handled as a group, stuck
//! episodes, the live event stream (progress, runs, a session that ends), an episode's media, and
//! per-clip delete and regenerate that leave every other clip alone.

use crate::support::{Env, Options, add_user, login, make_media};
use app::api::{
    CleanupReport, ClipOutcome, ClipVariant, EpisodeHistory, EpisodeState, EpisodeSummary,
    ErrorCode, FailureGroupList, ProcessOutcome, RetryOutcome, Role, Stage, events,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const EP1: &str = "talk_ep001_2026-01-01";
const EP2: &str = "talk_ep002_2026-01-02";
const EP3: &str = "talk_ep003_2026-01-03";

fn talk(inbox: &Path, episodes: &str) {
    make_media(
        inbox,
        &["--shows", "talk", "--episodes", episodes, "--seconds", "4"],
    );
}

/// Episodes long enough for three clips: 66 s of back-to-back 3 s cues, and the show's `show.clips`
/// asks for short (15–30 s) clips, so three fit with room to spare. The 4 s `talk` episodes are
/// shorter than any clip preset: they get one clip of all their speech.
fn long_talk(inbox: &Path, episodes: &str) {
    make_media(
        inbox,
        &[
            "--shows",
            "talk",
            "--episodes",
            episodes,
            "--seconds",
            "66",
            "--cues",
            "22",
        ],
    );
    std::fs::write(inbox.join("talk/show.clips"), "preset=short\n").unwrap();
}

async fn process(env: &Env, ids: &[&str]) {
    let out: ProcessOutcome = env.ok("process", json!({ "ids": ids })).await;
    assert_eq!(out.jobs.len(), ids.len());
    for id in ids {
        env.wait_settled(id, Duration::from_secs(120)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_grouped_by_cause_and_a_group_is_retried_to_done_or_cleaned() {
    let env = Env::start(|inbox| {
        talk(inbox, "3");
        for (ep, stage) in [
            ("ep001_2026-01-01", "render"),
            ("ep002_2026-01-02", "render"),
            ("ep003_2026-01-03", "prep"),
        ] {
            std::fs::write(inbox.join(format!("talk/{ep}.fail-at")), stage).unwrap();
        }
    })
    .await;
    process(&env, &[EP1, EP2, EP3]).await;

    let list: FailureGroupList = env
        .call(&env.viewer, "failure_groups", json!({}))
        .await
        .unwrap();
    assert_eq!(list.failed, 3);
    assert_eq!(list.groups.len(), 2, "{list:?}");
    let render = &list.groups[0];
    assert_eq!((render.stage, render.count), (Stage::Rendered, 2));
    let mut members = render.episodes.clone();
    members.sort();
    assert_eq!(members, [EP1, EP2]);
    assert!(
        !render.signature.contains("ep001") && render.signature.contains("<n>"),
        "per-episode details normalised away: {}",
        render.signature
    );
    assert!(
        render.example.error.contains("fail-at"),
        "{:?}",
        render.example
    );
    let prep = &list.groups[1];
    assert_eq!((prep.stage, prep.count), (Stage::Prepped, 1));

    // Bad requests lose nothing.
    let (status, e) = env
        .fail(
            &env.operator,
            "retry_failed",
            json!({ "group": "rendered-0000000000000000" }),
        )
        .await;
    assert_eq!(
        (status.as_u16(), e.code()),
        (404, ErrorCode::NotFound),
        "{e:?}"
    );
    let (status, _) = env
        .fail(
            &env.operator,
            "retry_failed",
            json!({ "group": render.key, "ids": [EP1] }),
        )
        .await;
    assert_eq!(status.as_u16(), 400);
    let (status, _) = env
        .fail(&env.viewer, "retry_failed", json!({ "group": render.key }))
        .await;
    assert_eq!(status.as_u16(), 403);
    let preview: RetryOutcome = env
        .ok(
            "retry_failed",
            json!({ "group": render.key, "dry_run": true }),
        )
        .await;
    assert!(preview.report.dry_run && preview.jobs.is_empty());
    let again: FailureGroupList = env.ok("failure_groups", json!({})).await;
    assert_eq!(again, list, "a preview changes nothing");

    // The cause goes away; the group is retried with cleanup and every member ends done.
    for ep in ["ep001_2026-01-01", "ep002_2026-01-02"] {
        std::fs::remove_file(env.root().join(format!("inbox/talk/{ep}.fail-at"))).unwrap();
    }
    let retried: RetryOutcome = env
        .call(
            &env.operator,
            "retry_failed",
            json!({ "group": render.key }),
        )
        .await
        .unwrap();
    assert_eq!(retried.jobs.len(), 2);
    for id in [EP1, EP2] {
        let d = env.wait_settled(id, Duration::from_secs(120)).await;
        assert_eq!(d.episode.state, EpisodeState::Done, "{id}: {:?}", d.episode);
    }
    let left: FailureGroupList = env.ok("failure_groups", json!({})).await;
    assert_eq!(left.groups.len(), 1);
    assert_eq!(left.groups[0].key, prep.key, "the other group is untouched");

    // Clean group: a preview first, then the episode goes back to idle and the group is gone.
    let dry: CleanupReport = env
        .ok(
            "cleanup_failed",
            json!({ "group": prep.key, "dry_run": true }),
        )
        .await;
    assert!(dry.dry_run);
    assert_eq!(env.episode(EP3).await.episode.state, EpisodeState::Failed);
    let done: CleanupReport = env
        .call(
            &env.operator,
            "cleanup_failed",
            json!({ "group": prep.key }),
        )
        .await
        .unwrap();
    assert_eq!(done.trigger, "clean-failed");
    assert_eq!(env.episode(EP3).await.episode.state, EpisodeState::Idle);
    let none: FailureGroupList = env.ok("failure_groups", json!({})).await;
    assert_eq!((none.failed, none.groups.len()), (0, 0));
    let (status, _) = env
        .fail(
            &env.operator,
            "cleanup_failed",
            json!({ "group": prep.key }),
        )
        .await;
    assert_eq!(status.as_u16(), 404, "a group that is gone is not found");
}

/// A server-sent event stream read frame by frame.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(env: &Env, auth: Auth<'_>, query: &str) -> reqwest::Response {
        let req = env.http.get(format!("{}/api/events{query}", env.base));
        let req = match auth {
            Auth::Token(t) => req.bearer_auth(t),
            Auth::Cookie(c) => req.header("cookie", c),
            Auth::Nobody => req,
        };
        req.send().await.expect("connect")
    }

    async fn start(env: &Env, auth: Auth<'_>, query: &str) -> Stream {
        let res = Self::open(env, auth, query).await;
        assert_eq!(res.status(), 200);
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Stream {
            res,
            buf: String::new(),
        }
    }

    /// The next named event, or `None` when the stream ended or nothing came within `within`.
    async fn next(&mut self, within: Duration) -> Option<(String, serde_json::Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                match name {
                    Some(n) => return Some((n, serde_json::from_str(&data).expect("json data"))),
                    None => continue,
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .ok()?;
            match chunk.expect("read the stream") {
                Some(bytes) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    Token(&'a str),
    Cookie(&'a str),
    Nobody,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_pushes_progress_state_and_cleanup_runs_and_filters_by_episode() {
    let env = Env::start(|inbox| talk(inbox, "2")).await;
    let mut all = Stream::start(&env, Auth::Token(&env.viewer), "").await;
    let mut only = Stream::start(&env, Auth::Token(&env.viewer), &format!("?episode={EP2}")).await;
    let _: ProcessOutcome = env.ok("process", json!({ "ids": [EP1] })).await;

    let mut states = Vec::new();
    let mut progress = Vec::new();
    let mut runs = Vec::new();
    let start = Instant::now();
    while !states.contains(&EpisodeState::Done) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no done event: {states:?}"
        );
        let Some((name, data)) = all.next(Duration::from_secs(60)).await else {
            panic!("the stream ended or went quiet: {states:?}");
        };
        match name.as_str() {
            events::EPISODE => {
                let e: EpisodeSummary = serde_json::from_value(data).unwrap();
                assert_eq!(e.id, EP1, "only what changed is pushed");
                states.push(e.state);
                progress.extend(e.progress.map(|p| p.stage));
            }
            events::CLEANUP => runs.push(data["trigger"].as_str().unwrap().to_string()),
            other => panic!("unexpected event {other}"),
        }
    }
    assert!(states.contains(&EpisodeState::Running), "{states:?}");
    assert!(
        progress.contains(&Stage::Clipped),
        "progress pushed stage by stage: {progress:?}"
    );
    // The scratch cleanup after success is a run like any other; it may land just after `done`.
    while !runs.iter().any(|t| t == "scratch") {
        let Some((name, data)) = all.next(Duration::from_secs(10)).await else {
            panic!("no cleanup run pushed: {runs:?}");
        };
        if name == events::CLEANUP {
            runs.push(data["trigger"].as_str().unwrap().to_string());
        }
    }
    assert!(
        only.next(Duration::from_millis(1500)).await.is_none(),
        "a stream for {EP2} hears nothing of {EP1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_event_requests_are_refused_and_an_ended_session_ends_the_stream() {
    let env = Env::start(|inbox| talk(inbox, "1")).await;
    for (query, status) in [
        ("?since=yesterday", 400),
        ("?episode=..%2Fetc", 400),
        ("?episode=talk_ep009_2026-01-09", 404),
    ] {
        let res = Stream::open(&env, Auth::Token(&env.viewer), query).await;
        assert_eq!(res.status().as_u16(), status, "{query}");
        let body: serde_json::Value = res.json().await.expect("a JSON error");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    let res = Stream::open(&env, Auth::Nobody, "").await;
    assert_eq!(res.status().as_u16(), 401);

    add_user(&env, "ana", Role::Viewer, "correct horse battery").await;
    let (status, cookie) = login(&env, "ana", "correct horse battery").await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("session cookie");
    let mut stream = Stream::start(&env, Auth::Cookie(&cookie), "").await;
    let res = env
        .http
        .post(format!("{}/api/logout", env.base))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (name, data) = stream
        .next(Duration::from_secs(10))
        .await
        .expect("a session_ended event");
    assert_eq!(name, events::SESSION_ENDED);
    assert!(
        data["message"].as_str().unwrap().contains("sign in"),
        "{data}"
    );
    assert!(
        stream.next(Duration::from_secs(5)).await.is_none(),
        "the stream closes after it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_whose_progress_stands_still_is_flagged_stuck_live_and_cancel_clears_it() {
    let opts = Options {
        workers: 1,
        stuck_after: Some("transcribe=1s"),
        transcriber: Some(ewg::pipeline::transcribe::Transcriber::Command),
        transcribe_cmd: Some("sleep 60"),
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| talk(inbox, "1")).await;
    let mut stream =
        Stream::start(&env, Auth::Token(&env.viewer), &format!("?episode={EP1}")).await;
    let _: ProcessOutcome = env.ok("process", json!({ "ids": [EP1] })).await;
    let start = Instant::now();
    let flagged = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never flagged stuck"
        );
        let (name, data) = stream.next(Duration::from_secs(30)).await.expect("events");
        assert_eq!(name, events::EPISODE);
        let e: EpisodeSummary = serde_json::from_value(data).unwrap();
        if let Some(stuck) = e.stuck {
            break stuck;
        }
    };
    assert_eq!(flagged.stage, Stage::Transcribed);
    assert!(flagged.still_ms > flagged.limit_ms && flagged.limit_ms == 1000);
    let listed: app::api::EpisodeList = env.ok("episodes", json!({})).await;
    assert!(listed.episodes[0].stuck.is_some(), "the list shows it too");
    let metrics = env
        .http
        .get(format!("{}/metrics", env.base))
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("\newg_episodes_stuck 1\n"), "{metrics}");

    let _: app::api::JobInfo = env.ok("cancel", json!({ "id": EP1 })).await;
    let d = env.episode(EP1).await;
    assert_eq!(d.episode.state, EpisodeState::Cancelled);
    assert!(d.episode.stuck.is_none());
}

/// Size and modification time of every file of each clip, by clip number.
fn clip_files(env: &Env, id: &str) -> BTreeMap<u32, Vec<(String, u64, SystemTime)>> {
    let dir = env.root().join(format!("outputs/talk/2026/{id}/clips"));
    let mut out = BTreeMap::new();
    for clip in std::fs::read_dir(&dir).unwrap().flatten() {
        let n: u32 = clip.file_name().to_str().unwrap().parse().unwrap();
        let mut files: Vec<_> = std::fs::read_dir(clip.path())
            .unwrap()
            .flatten()
            .map(|f| {
                let m = f.metadata().unwrap();
                (
                    f.file_name().to_string_lossy().into_owned(),
                    m.len(),
                    m.modified().unwrap(),
                )
            })
            .collect();
        files.sort();
        out.insert(n, files);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_episode_page_data_has_transcript_page_four_variants_and_posts_within_limits() {
    let env = Env::start(|inbox| long_talk(inbox, "1")).await;
    process(&env, &[EP1]).await;
    let m = env.episode(EP1).await.media;
    assert_eq!(m.transcript.len(), 22);
    assert!(
        m.transcript[1].text.contains("part 2"),
        "{:?}",
        m.transcript
    );
    assert_eq!(
        m.page.as_deref(),
        Some(format!("/files/public/shows/talk/{EP1}/index.html").as_str())
    );
    assert_eq!(m.clips.len(), 3);
    for clip in &m.clips {
        let variants: Vec<ClipVariant> = clip.files.iter().map(|f| f.variant).collect();
        assert_eq!(variants, ClipVariant::ALL, "clip {}", clip.n);
        for f in &clip.files {
            let res = env
                .http
                .get(format!("{}{}", env.base, f.url))
                .bearer_auth(&env.viewer)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{}", f.url);
            assert_eq!(res.bytes().await.unwrap().len() as i64, f.bytes);
        }
        assert!(clip.thumb.is_some());
    }
    let platforms: Vec<&str> = m.social.iter().map(|p| p.platform.as_str()).collect();
    assert_eq!(
        platforms,
        ["facebook", "instagram", "tiktok", "x", "youtube"]
    );
    for p in &m.social {
        assert_eq!(p.chars, p.text.chars().count() as i64);
        assert!(p.chars <= p.limit, "{p:?}");
    }
    let x = m.social.iter().find(|p| p.platform == "x").unwrap();
    assert_eq!(x.limit, 280);

    // The three clips are runs of whole cues in the show's short preset (15–30 s), each with its why.
    let e: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.root().join(format!("enriched/{EP1}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(e["discovery"]["preset"], "short");
    let hs = e["highlights"].as_array().unwrap();
    assert_eq!(hs.len(), 3, "{e}");
    for h in hs {
        let (start, end) = (h["start"].as_f64().unwrap(), h["end"].as_f64().unwrap());
        assert!((15.0..=30.0).contains(&(end - start)), "{h}");
        assert!(
            start % 3.0 < 1e-6 && end % 3.0 < 1e-6,
            "cut at cue bounds: {h}"
        );
        assert!(!h["why"].as_str().unwrap().is_empty(), "{h}");
    }
    assert!(e["candidates"].as_array().unwrap().len() >= 3, "{e}");
    // ... and the episode's data carries the scored candidates, the rendered ones marked with their clip.
    assert!(m.candidates.len() >= 3, "{:?}", m.candidates);
    let mut rendered: Vec<u32> = m.candidates.iter().filter_map(|c| c.clip).collect();
    rendered.sort_unstable();
    assert_eq!(rendered, [1, 2, 3]);
    assert!(
        m.candidates
            .iter()
            .all(|c| !c.why.is_empty() && !c.text.is_empty())
    );
    assert!(m.highlight_note.is_none(), "{:?}", m.highlight_note);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_one_clip_recuts_only_it_and_deleting_one_leaves_the_others() {
    let env = Env::start(|inbox| long_talk(inbox, "2")).await;
    process(&env, &[EP1]).await;
    let before = clip_files(&env, EP1);
    let rows_before = env.episode(EP1).await.artifacts.len();

    // Refusals first: nothing may change.
    for (body, status) in [
        (json!({ "episode": EP1, "clip": 9 }), 404),
        (json!({ "episode": EP1, "clip": 0 }), 400),
        (
            json!({ "episode": "talk_ep404_2026-01-01", "clip": 1 }),
            404,
        ),
    ] {
        let (s, e) = env
            .fail(&env.operator, "regenerate_clip", body.clone())
            .await;
        assert_eq!(s.as_u16(), status, "{body}: {e:?}");
        let (s, _) = env.fail(&env.operator, "delete_clip", body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body}");
    }
    let (s, _) = env
        .fail(
            &env.viewer,
            "delete_clip",
            json!({ "episode": EP1, "clip": 1 }),
        )
        .await;
    assert_eq!(s.as_u16(), 403);
    let dry: ClipOutcome = env
        .ok(
            "regenerate_clip",
            json!({ "episode": EP1, "clip": 1, "dry_run": true }),
        )
        .await;
    assert!(dry.report.dry_run && dry.job.is_none());
    assert_eq!(
        dry.report.paths,
        [format!("outputs/talk/2026/{EP1}/clips/1")]
    );
    assert_eq!(clip_files(&env, EP1), before, "a preview moves nothing");

    tokio::time::sleep(Duration::from_millis(20)).await;
    let regen: ClipOutcome = env
        .call(
            &env.operator,
            "regenerate_clip",
            json!({ "episode": EP1, "clip": 1 }),
        )
        .await
        .unwrap();
    assert_eq!(regen.report.trigger, "clip");
    assert!(regen.job.is_some());
    let d = env.wait_settled(EP1, Duration::from_secs(120)).await;
    assert_eq!(
        (d.episode.state, d.episode.stage),
        (EpisodeState::Done, Stage::Packaged)
    );
    assert_eq!(
        d.artifacts.len(),
        rows_before,
        "one row per file, none duplicated"
    );
    assert!(
        d.stages.iter().any(|s| s.stage == Stage::Transcribed),
        "the stages done before stay listed: {:?}",
        d.stages
    );
    let after = clip_files(&env, EP1);
    assert_eq!(after[&2], before[&2], "clip 2 untouched");
    assert_eq!(after[&3], before[&3], "clip 3 untouched");
    assert_eq!(after[&1].len(), before[&1].len());
    for (new, old) in after[&1].iter().zip(&before[&1]) {
        assert_eq!(new.0, old.0);
        assert!(new.2 > old.2, "{} was cut again", new.0);
    }

    // Delete clip 2: its files and rows go, the episode stays done, the other clips stay.
    let del: ClipOutcome = env
        .call(
            &env.operator,
            "delete_clip",
            json!({ "episode": EP1, "clip": 2 }),
        )
        .await
        .unwrap();
    assert!(del.job.is_none());
    let gone = clip_files(&env, EP1);
    assert!(!gone.contains_key(&2));
    assert_eq!(gone[&1], after[&1]);
    assert_eq!(gone[&3], after[&3]);
    let d = env.episode(EP1).await;
    assert_eq!(d.episode.state, EpisodeState::Done);
    assert!(!d.artifacts.iter().any(|a| a.path.contains("/clips/2/")));
    assert_eq!(
        d.media.clips.iter().map(|c| c.n).collect::<Vec<_>>(),
        [1, 3]
    );
    let (s, _) = env
        .fail(
            &env.operator,
            "delete_clip",
            json!({ "episode": EP1, "clip": 2 }),
        )
        .await;
    assert_eq!(s.as_u16(), 404, "a deleted clip is not found");
    // ... but it can be cut again: the highlight is still there.
    let _: ClipOutcome = env
        .ok("regenerate_clip", json!({ "episode": EP1, "clip": 2 }))
        .await;
    env.wait_settled(EP1, Duration::from_secs(120)).await;
    assert_eq!(
        clip_files(&env, EP1)[&2].len(),
        6,
        "renditions, thumbnail, posts"
    );
    // The episode's history tells the clip jobs from its processing attempt.
    let h: EpisodeHistory = env
        .call(&env.viewer, "episode_history", json!({ "id": EP1 }))
        .await
        .unwrap();
    let last = &h.attempts[0];
    assert_eq!(
        (
            last.kind.as_str(),
            last.trigger.as_str(),
            last.outcome.as_str()
        ),
        ("clip", "regenerate clip", "done"),
        "{h:?}"
    );
    let first = h.attempts.last().unwrap();
    assert_eq!(
        (first.kind.as_str(), first.trigger.as_str()),
        ("process", "start"),
        "{h:?}"
    );

    // A running episode's clips are not touched: 409 naming its job.
    let out: ProcessOutcome = env.ok("process", json!({ "ids": [EP2] })).await;
    let job = out.jobs[0].id;
    let (s, e) = env
        .fail(
            &env.operator,
            "delete_clip",
            json!({ "episode": EP2, "clip": 1 }),
        )
        .await;
    assert_eq!(s.as_u16(), 409);
    assert!(e.error.message.contains(&format!("job {job}")), "{e:?}");
    env.wait_settled(EP2, Duration::from_secs(120)).await;
}
