//! The nodes processing the queue, cleanup history, a chart of what cleanup freed, and the Deep Clean
//! dry-run preview with a button that runs it (the sidebar's one click: its report, with Undo, shows
//! there).

use super::live::{LiveStatus, use_live};
use super::widgets::ErrorLine;
use super::workers::WorkersPanel;
use crate::api::{CleanupRunSummary, cleanup_runs, deep_clean};
use crate::components::deep_clean::use_deep_clean;
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let session = use_session();
    let runs = Resource::new(
        move || session.refresh.get(),
        |_| cleanup_runs(None, Some(200)),
    );
    let preview = Action::new(|_: &()| deep_clean(Some(true), None, None, None));
    let deep = use_deep_clean();
    // Cleanup runs arrive over the event stream as they start and end; a skipped stretch refetches.
    let live = use_live(|| None);
    Effect::new(move |prev: Option<u64>| {
        let n = live.resync.get();
        if prev.is_some_and(|p| p != n) {
            runs.refetch();
        }
        n
    });
    view! {
        <LiveStatus live/>
        <header class="page-head">
            <h2>"Maintenance"</h2>
            <button data-testid="deep-clean-preview" on:click=move |_| { preview.dispatch(()); }>"Preview Deep Clean"</button>
        </header>
        {move || preview.value().get().map(|r| match r {
            Ok(r) => view! {
                <div class="warning" data-testid="deep-clean-preview-list">
                    <p>{format!("Deep Clean would remove {} file(s), {}.", r.files, format::bytes(r.bytes))}</p>
                    <ul class="paths">{r.paths.into_iter().take(200).map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    <button class="danger" data-testid="deep-clean-run" disabled=move || deep.pending().get()
                        on:click=move |_| { preview.value().set(None); deep.run(); }>"Run Deep Clean"</button>
                    <span class="muted">" Runs on what is there when you click; its report, with Undo, appears under Deep Clean in the menu."</span>
                </div>
            }.into_any(),
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
        })}
        <WorkersPanel/>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || runs.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(r) => {
                    let runs = live.merge_runs(r.runs);
                    view! {
                    <Chart runs=runs.clone()/>
                    <table class="runs" data-testid="cleanup-runs">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"Trigger"</th><th>"Scope"</th><th>"Result"</th><th>"Files"</th><th>"Bytes"</th><th>"Errors"</th><th>"Duration"</th></tr></thead>
                        <tbody>{runs.into_iter().map(|run| view! {
                            <tr>
                                <td>{format::time(run.started_at)}</td><td>{run.actor}</td>
                                <td>{run.trigger.as_str()}{run.dry_run.then_some(" (dry run)")}</td><td>{run.scope}</td>
                                <td>{run.result.as_str()}</td><td>{run.files}</td><td>{format::bytes(run.bytes)}</td>
                                <td>{run.errors}</td><td>{format!("{} ms", run.duration_ms)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
                }
            })}
        </Transition>
    }
}

/// Bytes freed per real run, oldest on the left, as a bar chart in SVG.
#[component]
fn Chart(runs: Vec<CleanupRunSummary>) -> impl IntoView {
    let mut real: Vec<_> = runs.into_iter().filter(|r| !r.dry_run).collect();
    real.reverse();
    if real.is_empty() {
        return view! {
            <p class="empty" data-testid="chart-empty">
                "No cleanup has freed anything yet, so there is nothing to chart. Each cleanup adds a bar here: \
                 press “Preview Deep Clean” to see what one would remove, or wait for the scheduled cleanup."
            </p>
        }
        .into_any();
    }
    let max = real.iter().map(|r| r.bytes).max().unwrap_or(0).max(1) as f64;
    let width = 600.0;
    // Thin bars for many runs, never wider than 40 px for a few.
    let bar = if real.is_empty() {
        0.0
    } else {
        (width / real.len() as f64).min(40.0)
    };
    view! {
        <figure class="chart">
            <svg viewBox="0 0 600 120" width="600" height="120" role="img" aria-label="bytes freed per cleanup run">
                {real.iter().enumerate().map(|(i, r)| {
                    let h = (r.bytes as f64 / max) * 100.0;
                    view! {
                        <rect x=format!("{:.1}", i as f64 * bar) y=format!("{:.1}", 110.0 - h)
                            width=format!("{:.1}", (bar - 2.0).max(1.0)) height=format!("{h:.1}") class="bar">
                            <title>{format!("{}: {} freed, {} files", r.trigger, format::bytes(r.bytes), r.files)}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
            <figcaption>{format!("{} cleanup runs; tallest bar {}", real.len(), format::bytes(max as i64))}</figcaption>
        </figure>
    }
    .into_any()
}
