//! The dashboard's obvious next step: with no episodes, scan the inbox; with new ones nobody has
//! started, process them. Nothing is shown once work is under way or done.

use super::live::Live;
use super::scan::{self, Scan, ScanResult};
use super::widgets::ErrorLine;
use crate::api::{ApiError, EpisodeList, EpisodeState, Stage, process};
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

/// What the scan did and the first step, below the dashboard's header. Loaded once the dashboard has
/// hydrated (`dashboard::dashboard_part`). `unfiltered`: no state or show filter is set (a filtered
/// empty list says nothing about the inbox).
pub fn scan_and_first_step(
    list: Resource<Result<EpisodeList, ApiError>>,
    scan: Scan,
    live: Live,
    unfiltered: Signal<bool>,
) -> AnyView {
    scan::follow(scan, live);
    view! {
        <ScanResult scan/>
        {move || {
            list.get()
                .and_then(|r| r.ok())
                .filter(|_| unfiltered.get())
                .map(|l| view! { <FirstStep list=l scan live/> })
        }}
    }
    .into_any()
}

/// New: discovered and never started.
fn is_new(state: EpisodeState, stage: Stage, attempt: i64) -> bool {
    state == EpisodeState::Idle && stage == Stage::Discovered && attempt == 0
}

#[component]
fn FirstStep(list: EpisodeList, scan: Scan, live: Live) -> impl IntoView {
    let session = use_session();
    let busy = list
        .episodes
        .iter()
        .any(|e| live.current(e).state.is_active());
    let new: Vec<String> = list
        .episodes
        .iter()
        .map(|e| live.current(e))
        .filter(|e| is_new(e.state, e.stage, e.attempt))
        .map(|e| e.id)
        .collect();
    let start = Action::new(|ids: &Vec<String>| process(ids.clone(), None, None));
    Effect::new(move |_| {
        if let Some(Ok(_)) = start.value().get() {
            session.refetch_all();
        }
    });
    if list.total == 0 {
        return view! {
            <div class="first-step" data-testid="first-step" data-step="scan">
                <strong>"First step: "</strong>
                "put videos in "<code>"inbox/<show>/ep001_2026-01-31.mp4"</code>" (or "
                <A href="/upload">"upload them"</A>"), then "
                <button class="primary" data-testid="first-step-action" disabled=move || scan.running()
                    on:click=move |_| { scan.start.dispatch(()); }>"Scan inbox"</button>
            </div>
        }
        .into_any();
    }
    if busy || new.is_empty() {
        return ().into_any();
    }
    let n = new.len();
    view! {
        <div class="first-step" data-testid="first-step" data-step="process">
            <strong>{format!("{n} new episode(s) waiting. ")}</strong>
            <button class="primary" data-testid="first-step-action" disabled=move || start.pending().get()
                on:click=move |_| { start.dispatch(new.clone()); }>
                {format!("Process {n} new episode(s)")}
            </button>
            " or choose on the "<A href="/process">"Process page"</A>"."
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorLine error=e/> })}
        </div>
    }
    .into_any()
}
