//! Upload an episode video (and optionally its subtitles) from the browser into `inbox/<show>/`.
//!
//! The files go to `POST /api/upload` as raw bodies through `XMLHttpRequest`, the one browser API that
//! reports upload progress. Every file is first checked by a body-less dry run, so a refusal (name,
//! role, existing file, size) is known before any byte is sent. Browser-only code runs in event handlers
//! only, never during server rendering.

use crate::api::valid_show;
use crate::api::{ApiError, UploadDone};
use crate::components::session::use_studio;
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;

const EXPECTED: &str = "ep<NNN>_<YYYY-MM-DD>.mp4, e.g. ep004_2026-01-04.mp4";

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Done(Vec<UploadDone>),
    Failed(String),
}

/// What to send: the video's file name and, when subtitles were picked, the name they get beside it.
#[derive(Debug, PartialEq)]
struct Plan {
    video: String,
    subs: Option<String>,
}

/// `ep<NNN>_<YYYY-MM-DD>` with digits where digits belong (the server checks the date is real).
fn episode_stem(name: &str) -> bool {
    let b = name.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 16
        && name.starts_with("ep")
        && digits(2..5)
        && b[5] == b'_'
        && digits(6..10)
        && b[10] == b'-'
        && digits(11..13)
        && b[13] == b'-'
        && digits(14..16)
}

/// The client-side check: clear messages early. The server decides.
fn plan(show: &str, video: Option<&str>, subs: Option<&str>) -> Result<Plan, String> {
    if show.is_empty() {
        return Err("Enter the show the episode belongs to (e.g. talk).".into());
    }
    if !valid_show(show) {
        return Err(format!(
            "Show “{show}” must be lowercase letters, digits and dashes (e.g. morning-show)."
        ));
    }
    let Some(video) = video else {
        return Err("Choose the episode video (.mp4).".into());
    };
    let Some(stem) = video.strip_suffix(".mp4").filter(|s| episode_stem(s)) else {
        return Err(format!(
            "“{video}” is not named like an episode video: expected {EXPECTED}. Rename the file and choose it again."
        ));
    };
    let subs = match subs {
        None => None,
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            let ext = if lower.ends_with(".vtt") {
                "vtt"
            } else if lower.ends_with(".srt") {
                "srt"
            } else {
                return Err(format!(
                    "“{s}” is not a subtitle file: choose a .vtt or .srt file."
                ));
            };
            // Subtitles are stored beside the video under its name, whatever the local file was called.
            Some(format!("{stem}.{ext}"))
        }
    };
    Ok(Plan {
        video: video.to_string(),
        subs,
    })
}

/// Percent-encodes a query value (names are checked already; this keeps odd input harmless).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn upload_url(show: &str, name: &str) -> String {
    format!("/api/upload?show={}&name={}", encode(show), encode(name))
}

#[component]
pub fn UploadPage() -> impl IntoView {
    let studio = use_studio();
    let show = RwSignal::new(String::new());
    let video_input = NodeRef::<html::Input>::new();
    let subs_input = NodeRef::<html::Input>::new();
    let busy = RwSignal::new(false);
    // Percent of all bytes sent; `None` until an upload starts.
    let percent = RwSignal::new(None::<u32>);
    let current = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Outcome>);

    let on_upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        outcome.set(None);
        percent.set(None);
        let show_name = show.get_untracked().trim().to_string();
        let first_file = |input: NodeRef<html::Input>| {
            input
                .get_untracked()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
        };
        let video = first_file(video_input);
        let subs = first_file(subs_input);
        let checked = plan(
            &show_name,
            video.as_ref().map(|f| f.name()).as_deref(),
            subs.as_ref().map(|f| f.name()).as_deref(),
        );
        let (names, video) = match (checked, video) {
            (Ok(names), Some(video)) => (names, video),
            (Err(msg), _) => {
                outcome.set(Some(Outcome::Failed(msg)));
                return;
            }
            (Ok(_), None) => return,
        };
        let mut files = vec![(names.video, video)];
        if let (Some(name), Some(file)) = (names.subs, subs) {
            files.push((name, file));
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = send_all(&show_name, files, current, percent).await;
            busy.set(false);
            match result {
                Ok(done) => {
                    percent.set(Some(100));
                    outcome.set(Some(Outcome::Done(done)));
                    studio.refetch_all();
                }
                Err(msg) => outcome.set(Some(Outcome::Failed(msg))),
            }
        });
    };

    view! {
        <header class="page-head"><h2>"Upload"</h2></header>
        <p class="muted">
            "Put an episode into the inbox from this browser. The video must be named "
            <code>{EXPECTED}</code>"; subtitles (.vtt or .srt) are optional and are stored beside it. "
            "Existing files are never replaced."
        </p>
        <form class="upload" on:submit=on_upload>
            <label>"Show"
                <input data-testid="upload-show" placeholder="e.g. talk" autocomplete="off"
                    prop:value=show on:input=move |ev| show.set(event_target_value(&ev))/>
            </label>
            <label>"Video (.mp4)"
                <input type="file" data-testid="upload-video" accept="video/mp4,.mp4" node_ref=video_input/>
            </label>
            <label>"Subtitles (optional, .vtt or .srt)"
                <input type="file" data-testid="upload-subs" accept=".vtt,.srt,text/vtt" node_ref=subs_input/>
            </label>
            <div class="actions">
                <button type="submit" data-testid="upload" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Upload" }}
                </button>
            </div>
        </form>
        <Show when=move || percent.get().is_some()>
            <div class="upload-progress">
                <progress data-testid="upload-progress" max="100" value=move || percent.get().unwrap_or(0)></progress>
                <span data-testid="upload-percent">{move || format!("{}%", percent.get().unwrap_or(0))}</span>
                <span class="muted">{move || current.get()}</span>
            </div>
        </Show>
        {move || outcome.get().map(|o| match o {
            Outcome::Done(done) => {
                let episode = done.first().map(|d| d.episode.clone()).unwrap_or_default();
                let href = format!("/episodes/{episode}");
                let label = episode.clone();
                let files = done.iter().map(|d| format!("{} ({} bytes)", d.path, d.bytes)).collect::<Vec<_>>().join(", ");
                view! {
                    <p class="notice" data-testid="upload-done">
                        {format!("Uploaded {files}. Episode ")}<A href=href>{label}</A>" is ready to process."
                    </p>
                }.into_any()
            }
            Outcome::Failed(msg) => view! { <p class="error" data-testid="upload-error">{msg}</p> }.into_any(),
        })}
    }
}

/// Checks every file with a dry run, then sends them one after another, reporting overall progress.
async fn send_all(
    show: &str,
    files: Vec<(String, web_sys::File)>,
    current: RwSignal<String>,
    percent: RwSignal<Option<u32>>,
) -> Result<Vec<UploadDone>, String> {
    for (name, file) in &files {
        let url = format!(
            "{}&dry_run=true&size={}",
            upload_url(show, name),
            file.size()
        );
        xhr::send(&url, None, |_| {}).await?;
    }
    let total: f64 = files.iter().map(|(_, f)| f.size()).sum::<f64>().max(1.0);
    let mut sent = 0.0;
    percent.set(Some(0));
    let mut done = Vec::new();
    for (name, file) in files {
        current.set(format!("Sending {name}…"));
        let before = sent;
        let report = move |loaded: f64| {
            let pct = ((before + loaded) / total * 100.0)
                .floor()
                .clamp(0.0, 100.0) as u32;
            percent.set(Some(pct));
        };
        done.push(xhr::send(&upload_url(show, &name), Some(&file), report).await?);
        sent += file.size();
        percent.set(Some((sent / total * 100.0).floor().clamp(0.0, 100.0) as u32));
    }
    current.set(String::new());
    Ok(done)
}

/// `XMLHttpRequest` as a future: resolves when the server has answered (or the network failed).
mod xhr {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    fn js_err(e: JsValue) -> String {
        format!(
            "the browser refused the upload: {}",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        )
    }

    pub async fn send(
        url: &str,
        body: Option<&web_sys::File>,
        on_progress: impl Fn(f64) + 'static,
    ) -> Result<UploadDone, String> {
        let req = web_sys::XmlHttpRequest::new().map_err(js_err)?;
        req.open_with_async("POST", url, true).map_err(js_err)?;
        req.set_request_header("Content-Type", "application/octet-stream")
            .map_err(js_err)?;
        let (tx, rx) = futures::channel::oneshot::channel::<Result<(), String>>();
        let tx = Rc::new(RefCell::new(Some(tx)));
        let settle = move |r: Result<(), String>| {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(r);
            }
        };
        let progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() {
                    on_progress(e.loaded());
                }
            });
        let on_load = {
            let settle = settle.clone();
            Closure::<dyn FnMut()>::new(move || settle(Ok(())))
        };
        let on_error = {
            let settle = settle.clone();
            Closure::<dyn FnMut()>::new(move || {
                settle(Err(
                    "The connection to the server failed during the upload; nothing was stored. Try again."
                        .into(),
                ))
            })
        };
        let on_abort = Closure::<dyn FnMut()>::new(move || {
            settle(Err("The upload was cancelled; nothing was stored.".into()))
        });
        req.upload()
            .map_err(js_err)?
            .set_onprogress(Some(progress.as_ref().unchecked_ref()));
        req.set_onload(Some(on_load.as_ref().unchecked_ref()));
        req.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        req.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        match body {
            Some(file) => req.send_with_opt_blob(Some(file)),
            None => req.send(),
        }
        .map_err(js_err)?;
        let settled = rx
            .await
            .unwrap_or_else(|_| Err("The upload stopped unexpectedly.".into()));
        // The handlers have fired; they can go now.
        drop((progress, on_load, on_error, on_abort));
        settled?;
        let status = req.status().unwrap_or(0);
        let text = req.response_text().ok().flatten().unwrap_or_default();
        if status == 200 {
            serde_json::from_str::<UploadDone>(&text)
                .map_err(|e| format!("The server answered something unexpected: {e}"))
        } else {
            Err(serde_json::from_str::<ApiError>(&text)
                .map(|e| e.to_string())
                .unwrap_or_else(|_| format!("The upload failed (HTTP {status}).")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_subtitles_after_the_video() {
        assert_eq!(
            plan(
                "talk",
                Some("ep004_2026-01-04.mp4"),
                Some("My Subtitles.VTT")
            ),
            Ok(Plan {
                video: "ep004_2026-01-04.mp4".into(),
                subs: Some("ep004_2026-01-04.vtt".into()),
            })
        );
        assert_eq!(
            plan("talk", Some("ep004_2026-01-04.mp4"), None).map(|p| p.subs),
            Ok(None)
        );
    }

    #[test]
    fn explains_what_is_expected() {
        for (show, video, subs, says) in [
            ("", Some("ep004_2026-01-04.mp4"), None, "show"),
            ("Talk Show", Some("ep004_2026-01-04.mp4"), None, "lowercase"),
            ("talk", None, None, "Choose"),
            (
                "talk",
                Some("holiday.mp4"),
                None,
                "ep<NNN>_<YYYY-MM-DD>.mp4",
            ),
            ("talk", Some("ep4_2026-01-04.mp4"), None, "expected"),
            ("talk", Some("ep004_2026-01-04.mov"), None, "expected"),
            (
                "talk",
                Some("ep004_2026-01-04.mp4"),
                Some("notes.txt"),
                ".vtt",
            ),
        ] {
            let msg = plan(show, video, subs).unwrap_err();
            assert!(msg.contains(says), "{msg:?} should mention {says:?}");
        }
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("a b/&é"), "a%20b%2F%26%C3%A9");
        assert_eq!(
            upload_url("talk", "ep004_2026-01-04.mp4"),
            "/api/upload?show=talk&name=ep004_2026-01-04.mp4"
        );
    }
}
