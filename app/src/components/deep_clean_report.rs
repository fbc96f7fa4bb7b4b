//! What a Deep Clean did, said in full: the paths it moved (relative to the data root, the first few and
//! how many more), whether anything was freed, its errors, and **Undo**, which restores the run's trash
//! (the Trash page's restore of the whole run). Loaded as its own chunk once there is a report to show.

use super::deep_clean::{DeepClean, UndoAction, guarded_count};
use super::format;
use crate::api::{ApiError, CleanupReport, CleanupResult, RestoreReport, restore};
use leptos::prelude::*;
use leptos_router::components::A;

/// Paths listed in the report; the rest are counted ("and 12 more") and listed on the Trash page.
const SHOWN_PATHS: usize = 8;

#[lazy]
pub fn report(res: Result<CleanupReport, ApiError>, state: DeepClean) -> AnyView {
    match res {
        Ok(r) => view! { <Report r=r state=state/> }.into_any(),
        Err(e) => view! { <Refused e=e state=state/> }.into_any(),
    }
}

#[component]
fn Report(r: CleanupReport, state: DeepClean) -> impl IntoView {
    let class = if r.result == CleanupResult::Ok {
        "report ok"
    } else {
        "report error"
    };
    let summary = match r.kept_until {
        Some(until) => format!(
            "Server: {} — {}; no files freed until then, {} errors, {} ms",
            r.result.as_str(),
            format::moved_to_trash(r.paths.len(), until),
            r.errors.len(),
            r.duration_ms
        ),
        None => format!(
            "Server: {} — {} files, {} freed, {} errors, {} ms",
            r.result.as_str(),
            r.files,
            format::bytes(r.bytes),
            r.errors.len(),
            r.duration_ms
        ),
    };
    let more = r.paths.len().saturating_sub(SHOWN_PATHS);
    let mut shown = r.paths.clone();
    shown.sort();
    shown.truncate(SHOWN_PATHS);
    let undoable = r.kept_until.is_some() && !r.paths.is_empty();
    let run_id = r.run_id.clone();
    view! {
        <div class=class data-testid="deep-clean-report" data-result=r.result.as_str() data-run=r.run_id.clone()>
            {summary}
            {(!r.paths.is_empty()).then(|| view! {
                <ul class="paths" data-testid="deep-clean-paths">
                    {shown.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            })}
            {(more > 0).then(|| view! {
                <p data-testid="deep-clean-more">{format!("and {more} more ")}<A href="/trash">"in the Trash"</A></p>
            })}
            <ul>{r.errors.into_iter().map(|e| view! { <li>{e.path} ": " {e.message}</li> }).collect_view()}</ul>
            {undoable.then(|| view! { <Undo run_id=run_id state=state/> })}
        </div>
    }
}

/// Undo, then what it restored (or why it could not).
#[component]
fn Undo(run_id: String, state: DeepClean) -> impl IntoView {
    let undo = state.undo.get_or_init(|| undo_action(state));
    let done = move || matches!(undo.value().get(), Some(Ok(_)));
    view! {
        <button type="button" data-testid="deep-clean-undo" disabled=move || undo.pending().get() || done()
            title="Put back everything this Deep Clean moved to the trash"
            on:click=move |_| { undo.dispatch(run_id.clone()); }>
            {move || if undo.pending().get() { "Undoing…" } else { "Undo" }}
        </button>
        {move || undo.value().get().map(|res| match res {
            Ok(r) => view! { <Undone r=r/> }.into_any(),
            Err(e) => view! { <p class="error" data-testid="deep-clean-undo-error">{format!("Undo failed: {e}")}</p> }.into_any(),
        })}
    }
}

/// Restores a run's whole trash; once it has, every page refetches.
fn undo_action(state: DeepClean) -> UndoAction {
    let undo: UndoAction = Action::new(|run: &String| restore(run.clone(), None, Some(false)));
    let session = state.session();
    Effect::new(move |_| {
        if matches!(undo.value().get(), Some(Ok(_))) {
            session.refetch_all();
        }
    });
    undo
}

#[component]
fn Undone(r: RestoreReport) -> impl IntoView {
    let episodes = if r.episodes.is_empty() {
        String::new()
    } else {
        format!(
            "; episodes back in their earlier state: {}",
            r.episodes.join(", ")
        )
    };
    view! {
        <p data-testid="deep-clean-undone">
            {format!("Undone: {} back ({} file(s), {}){episodes}.",
                format::plural(r.paths.len() as i64, "path"), r.files, format::bytes(r.bytes))}
        </p>
    }
}

/// The server part failed; when the orphan guard stopped it, the confirm that goes ahead anyway.
#[component]
fn Refused(e: ApiError, state: DeepClean) -> impl IntoView {
    let confirm = guarded_count(&e);
    let server = state.server;
    view! {
        <div class="report error" data-testid="deep-clean-report" data-result="failed">
            {format!("Server cleanup failed: {e}")}
            {confirm.map(|(n, digest)| view! {
                <button class="danger" data-testid="deep-clean-confirm"
                    on:click=move |_| { server.dispatch(Some((n, digest.clone()))); }>
                    {format!("Remove these {n} files anyway")}
                </button>
            })}
        </div>
    }
}
