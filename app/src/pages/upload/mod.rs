//! Upload an episode video (and optionally its subtitles) from the browser into `inbox/<show>/`.
//!
//! The files go to `POST /api/upload` as raw bodies through `XMLHttpRequest`, the one browser API that
//! reports upload progress. Every file is first checked by a body-less dry run, so a refusal (name,
//! role, existing file, size) is known before any byte is sent. Browser-only code runs in event handlers
//! only, never during server rendering.
//!
//! `plan.rs` checks the picked files and builds the query; `xhr.rs` is the upload client; this file is
//! the page.

mod plan;
mod xhr;

use plan::{EXPECTED, plan, upload_url};

use crate::api::UploadDone;
use crate::components::session::use_session;
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Done(Vec<UploadDone>),
    Failed(String),
}

#[component]
pub fn UploadPage() -> impl IntoView {
    let session = use_session();
    // Read from the field when the form is submitted: not bound to a signal, so hydration keeps a show
    // name typed before the page came alive.
    let show_input = NodeRef::<html::Input>::new();
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
        let Some((show_name, files)) = picked(show_input, video_input, subs_input, outcome) else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = send_all(&show_name, files, current, percent).await;
            busy.set(false);
            if result.is_ok() {
                percent.set(Some(100));
                session.refetch_all();
            }
            outcome.set(Some(result.map_or_else(Outcome::Failed, Outcome::Done)));
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
                    node_ref=show_input/>
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
        <UploadStatus percent=percent current=current outcome=outcome/>
    }
}

/// The show and the files to send under their inbox names, checked as the server will check them; a
/// refusal is shown as the outcome.
fn picked(
    show_input: NodeRef<html::Input>,
    video_input: NodeRef<html::Input>,
    subs_input: NodeRef<html::Input>,
    outcome: RwSignal<Option<Outcome>>,
) -> Option<(String, Vec<(String, web_sys::File)>)> {
    let show_name = show_input
        .get_untracked()
        .map(|i| i.value().trim().to_string())
        .unwrap_or_default();
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
            return None;
        }
        (Ok(_), None) => return None,
    };
    let mut files = vec![(names.video, video)];
    if let (Some(name), Some(file)) = (names.subs, subs) {
        files.push((name, file));
    }
    Some((show_name, files))
}

/// The first file picked in a file input, if any.
fn first_file(input: NodeRef<html::Input>) -> Option<web_sys::File> {
    input
        .get_untracked()
        .and_then(|i| i.files())
        .and_then(|f| f.get(0))
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

/// Progress while sending, then what was stored (with a link to the episode) or why not.
#[component]
fn UploadStatus(
    percent: RwSignal<Option<u32>>,
    current: RwSignal<String>,
    outcome: RwSignal<Option<Outcome>>,
) -> impl IntoView {
    view! {
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
