//! Clip management on a generated spoken episode (espeak-ng, the built-in recognizer, real ffmpeg):
//! render a chosen candidate, nudge a clip by one sentence, drop one — each an audited run whose trash
//! Undo restores — and candidates looked for again with another preset and count.

use crate::faults::assert_rows_match_disk;
use crate::support::{Env, Options, make_media};
use app::api::{
    ClipEdit, ClipOutcome, ClipPreset, DiscoverClipsOutcome, EpisodeDetail, EpisodeState,
    ProcessOutcome, RestoreReport,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const EP: &str = "talk_ep001_2026-01-01";

/// About 75 s of plain sentences on three topics, one a paragraph: espeak-ng pauses ~0.6 s between
/// paragraphs, a pause the recognizer's word times keep (between sentences of one paragraph they can
/// shrink under the 0.25 s that splits sentences).
const SCRIPT: &str = "Good morning and welcome to the show.\n\nToday we talk about the weather in the mountains.\n\n\
The snow came early this year and closed the high roads.\n\nThe farmers in the valley had to move their animals down.\n\n\
Why does the snow come so early now?\n\nThe winds from the north are colder than they used to be.\n\n\
The old people in the village say they have never seen anything like it.\n\n\
Our second story is about the school in the village.\n\nThe teacher has worked there for twenty years.\n\n\
She says the children love to read books about the sea.\n\nThe school will get a new library next spring.\n\n\
The parents built the shelves themselves over the summer.\n\n\
Now for some music from a local band.\n\nThey play old songs on the violin and the guitar.\n\n\
Their first record comes out in the autumn, and they will play it here.\n\n\
Thank you for listening, and see you next week.\n";

async fn spoken_episode() -> Env {
    let opts = Options::keeping_trash(Duration::from_secs(86_400));
    Env::start_with(opts, |inbox| {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script.txt");
        std::fs::write(&script, SCRIPT).unwrap();
        make_media(
            inbox,
            &[
                "--shows",
                "talk",
                "--episodes",
                "1",
                "--speech-file",
                &script.to_string_lossy(),
            ],
        );
        // One short clip: the rest of the candidates are the operator's to choose from.
        std::fs::write(inbox.join("talk/show.clips"), "preset=short count=1\n").unwrap();
    })
    .await
}

/// Every file of each clip directory, name → bytes, by clip number.
fn clip_files(env: &Env) -> BTreeMap<u32, BTreeMap<String, Vec<u8>>> {
    let dir = env.root().join(format!("outputs/talk/2026/{EP}/clips"));
    let mut out = BTreeMap::new();
    for clip in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let n: u32 = clip.file_name().to_string_lossy().parse().unwrap();
        let files = std::fs::read_dir(clip.path())
            .unwrap()
            .flatten()
            .map(|f| {
                let name = f.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(f.path()).unwrap())
            })
            .collect();
        out.insert(n, files);
    }
    out
}

fn enriched(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.root().join(format!("enriched/{EP}.json"))).unwrap())
        .unwrap()
}

/// The recognizer's words, `(start, end)`.
fn words(env: &Env) -> Vec<(f64, f64)> {
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.root().join(format!("transcripts/{EP}.json"))).unwrap(),
    )
    .unwrap();
    json["words"]
        .as_array()
        .expect("the built-in recognizer's words")
        .iter()
        .map(|w| (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap()))
        .collect()
}

/// `t` lies in a pause of at least 0.25 s between two words (or before the first / after the last).
fn assert_on_sentence_edge(words: &[(f64, f64)], t: f64, what: &str) {
    assert!(
        !words.iter().any(|&(s, e)| s < t && t < e),
        "{what} at {t} cuts a word"
    );
    let before = words
        .iter()
        .filter(|w| w.1 <= t)
        .map(|w| w.1)
        .fold(f64::MIN, f64::max);
    let after = words
        .iter()
        .filter(|w| w.0 >= t)
        .map(|w| w.0)
        .fold(f64::MAX, f64::min);
    assert!(
        after - before >= 0.25 - 1e-6,
        "{what} at {t} is not in a pause between sentences ({before}..{after})"
    );
}

async fn settled(env: &Env) -> EpisodeDetail {
    let d = env.wait_settled(EP, Duration::from_secs(240)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{:?}", d.episode);
    assert_rows_match_disk(env, &[EP.to_string()]).await;
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_are_rendered_nudged_by_a_sentence_and_dropped_and_undo_restores_each() {
    let env = spoken_episode().await;
    let _: ProcessOutcome = env.ok("process", json!({ "ids": [EP] })).await;
    let d = settled(&env).await;
    let m = &d.media;
    assert_eq!(m.clips.len(), 1, "{}", enriched(&env));
    assert!(
        m.candidates.len() > 1,
        "more candidates than clips: {:?}",
        m.candidates
    );
    for clip in &m.clips {
        assert_eq!(clip.posts.len(), 5, "clip {} has its own posts", clip.n);
        for p in &clip.posts {
            assert!(p.chars <= p.limit, "{p:?}");
        }
    }
    let words = words(&env);

    // Refusals change nothing.
    let rendered = m.candidates.iter().position(|c| c.clip.is_some()).unwrap() + 1;
    for (name, body, status) in [
        (
            "render_candidate",
            json!({ "episode": EP, "candidate": 0 }),
            400,
        ),
        (
            "render_candidate",
            json!({ "episode": EP, "candidate": 99 }),
            404,
        ),
        (
            "render_candidate",
            json!({ "episode": EP, "candidate": rendered }),
            409,
        ),
        (
            "render_candidate",
            json!({ "episode": "talk_ep404_2026-01-01", "candidate": 1 }),
            404,
        ),
        (
            "nudge_clip",
            json!({ "episode": EP, "clip": 0, "edge": "start", "way": "later" }),
            400,
        ),
        (
            "nudge_clip",
            json!({ "episode": EP, "clip": 9, "edge": "start", "way": "later" }),
            404,
        ),
        (
            "nudge_clip",
            json!({ "episode": EP, "clip": 1, "edge": "middle", "way": "later" }),
            400,
        ),
        ("discover_clips", json!({ "episode": EP, "count": 0 }), 400),
    ] {
        let (s, e) = env.fail(&env.operator, name, body.clone()).await;
        assert_eq!(s.as_u16(), status, "{name} {body}: {e:?}");
        assert!(!e.error.message.is_empty());
    }
    let (s, _) = env
        .fail(
            &env.viewer,
            "render_candidate",
            json!({ "episode": EP, "candidate": 1 }),
        )
        .await;
    assert_eq!(s.as_u16(), 403);
    let before = clip_files(&env);
    assert_eq!(before.len(), 1);

    // Render a chosen candidate: previewed first, then cut as clip 2 by the clip job.
    let k = m.candidates.iter().position(|c| c.clip.is_none()).unwrap();
    let chosen = m.candidates[k].clone();
    let body = json!({ "episode": EP, "candidate": k + 1 });
    let dry: ClipEdit = env
        .ok(
            "render_candidate",
            json!({ "episode": EP, "candidate": k + 1, "dry_run": true }),
        )
        .await;
    assert!(dry.report.dry_run && dry.job.is_none());
    assert_eq!(
        (dry.clip, dry.start, dry.end),
        (2, chosen.start, chosen.end)
    );
    assert_eq!(clip_files(&env), before, "a preview moves nothing");
    assert_eq!(enriched(&env)["highlights"].as_array().unwrap().len(), 1);
    let made: ClipEdit = env.ok("render_candidate", body).await;
    assert_eq!(made.report.trigger, "clip");
    assert!(made.job.is_some());
    let d = settled(&env).await;
    let rendered = clip_files(&env);
    assert_eq!(
        rendered[&2].len(),
        6,
        "four renditions, thumbnail, posts: {:?}",
        rendered[&2].keys()
    );
    assert_eq!(rendered[&1], before[&1]);
    assert_eq!(d.media.candidates[k].clip, Some(2), "the page marks it");
    let secs = probe(
        &env.root()
            .join(format!("outputs/talk/2026/{EP}/clips/2/16x9_clean.mp4")),
    );
    assert!((secs - (chosen.end - chosen.start)).abs() < 0.3, "{secs} s");

    // Nudge clip 1's end one sentence later: its files go to the trash, the new bounds are clip 3.
    let old = enriched(&env)["highlights"][0].clone();
    let nudge = json!({ "episode": EP, "clip": 1, "edge": "end", "way": "later" });
    let moved: ClipEdit = env.ok("nudge_clip", nudge).await;
    assert_eq!(moved.clip, 3);
    assert_eq!(
        moved.start,
        old["start"].as_f64().unwrap(),
        "the start stays"
    );
    assert!(moved.end > old["end"].as_f64().unwrap());
    assert_on_sentence_edge(&words, moved.start, "start");
    assert_on_sentence_edge(&words, moved.end, "end");
    let old_end = old["end"].as_f64().unwrap();
    let inside = words
        .iter()
        .filter(|w| w.0 > old_end && w.1 < moved.end)
        .count();
    assert!(inside > 0, "one sentence more");
    assert!(
        !words
            .windows(2)
            .any(|p| p[0].0 > old_end && p[1].1 < moved.end && p[1].0 - p[0].1 >= 0.25),
        "exactly one sentence more: no pause between sentences inside the added part"
    );
    assert_eq!(
        moved.report.paths,
        [format!("outputs/talk/2026/{EP}/clips/1")]
    );
    assert!(moved.report.kept_until.is_some(), "kept for undo");
    settled(&env).await;
    let e = enriched(&env);
    assert_eq!(
        e["highlights"][2]["end"].as_f64(),
        Some(moved.end),
        "the registry keeps the bounds"
    );
    let files = clip_files(&env);
    assert!(!files.contains_key(&1));
    assert_eq!(files[&3].len(), 6);
    assert_eq!(
        e["highlights"][2]["sentences"].as_array().unwrap().len(),
        old["sentences"].as_array().unwrap().len() + 1
    );

    // Undo (restore the nudge's run): the old clip comes back byte for byte.
    let undo: RestoreReport = env
        .ok("restore", json!({ "run_id": moved.report.run_id }))
        .await;
    assert!(undo.rows >= 6, "{undo:?}");
    assert_eq!(clip_files(&env)[&1], before[&1]);
    assert_rows_match_disk(&env, &[EP.to_string()]).await;
    let d = env.episode(EP).await;
    let shown: Vec<u32> = d.media.clips.iter().map(|c| c.n).collect();
    assert_eq!(shown, [1, 2, 3]);

    // Drop clip 2 through delete_clip, then undo that too.
    let dropped: ClipOutcome = env
        .ok("delete_clip", json!({ "episode": EP, "clip": 2 }))
        .await;
    assert!(!clip_files(&env).contains_key(&2));
    let _: RestoreReport = env
        .ok("restore", json!({ "run_id": dropped.report.run_id }))
        .await;
    assert_eq!(clip_files(&env)[&2], rendered[&2]);
    assert_rows_match_disk(&env, &[EP.to_string()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_are_found_again_with_another_preset_and_count_and_clips_stay() {
    let env = spoken_episode().await;
    let _: ProcessOutcome = env.ok("process", json!({ "ids": [EP] })).await;
    settled(&env).await;
    let before = clip_files(&env);
    let highlights = enriched(&env)["highlights"].clone();

    let dry: DiscoverClipsOutcome = env
        .ok(
            "discover_clips",
            json!({ "episode": EP, "preset": "medium", "count": 1, "dry_run": true }),
        )
        .await;
    assert_eq!(dry.discovery.preset, ClipPreset::Medium);
    assert_eq!(
        enriched(&env)["discovery"]["preset"],
        "short",
        "a preview keeps nothing"
    );
    for c in &dry.candidates {
        assert!((20.0..=60.0).contains(&(c.end - c.start)), "{c:?}");
    }

    let out: DiscoverClipsOutcome = env
        .ok(
            "discover_clips",
            json!({ "episode": EP, "preset": "medium", "count": 4 }),
        )
        .await;
    assert_eq!(
        (out.discovery.preset, out.discovery.count),
        (ClipPreset::Medium, 4)
    );
    let e = enriched(&env);
    assert_eq!(e["discovery"]["preset"], "medium");
    assert_eq!(e["highlights"], highlights, "the rendered clips stay");
    assert_eq!(clip_files(&env), before, "their files too");
    let d = env.episode(EP).await;
    assert_eq!(
        d.media.candidates, out.candidates,
        "the page shows the new candidates"
    );
    assert_rows_match_disk(&env, &[EP.to_string()]).await;
}

fn probe(path: &Path) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
