//! What the last restore or purge answered, above the trash list.

use super::super::widgets::ErrorLine;
use super::{Purge, TrashUi};
use crate::api::{ApiError, ErrorCode, RestoreReport};
use crate::components::format;
use leptos::prelude::*;
use leptos_router::components::A;

/// What the last restore or purge answered, above the list (rows are rebuilt when the list refetches).
#[component]
pub(super) fn Answers(ui: TrashUi) -> impl IntoView {
    view! {
        {move || ui.restore.value().get().map(|(id, res)| match res {
            Ok(r) => view! { <RestoreDone r=r/> }.into_any(),
            // Shown in the open preview of that run; here only once the preview is gone.
            Err(_) if ui.preview.value().with(|p| p.as_ref().is_some_and(|(p, _)| *p == id)) => ().into_any(),
            Err(e) => view! { <RestoreError run_id=id error=e/> }.into_any(),
        })}
        {move || ui.purge.value().get().map(|(what, res)| match res {
            Ok(r) => {
                let what = match what {
                    Purge::All => "Emptied the trash".to_string(),
                    Purge::Run(id) => format!("Purged run {id}"),
                };
                let class = if r.errors.is_empty() { "report ok" } else { "report error" };
                view! {
                    <div class=class data-testid="purge-done">
                        {format!("{what}: {} freed ({} file(s) from {}), {} error(s).",
                            format::bytes(r.bytes), r.files, format::plural(r.runs.len() as i64, "run"), r.errors.len())}
                        <ul>{r.errors.into_iter().map(|e| view! { <li>{e.path} ": " {e.message}</li> }).collect_view()}</ul>
                    </div>
                }.into_any()
            }
            Err(e) => view! {
                <div class="report error" data-testid="purge-error">
                    <ErrorLine error=e/>
                </div>
            }.into_any(),
        })}
    }
}

#[component]
fn RestoreDone(r: RestoreReport) -> impl IntoView {
    let left = (r.left_in_trash > 0).then(|| {
        format!(
            " {} still in the trash.",
            format::plural(r.left_in_trash, "path")
        )
    });
    view! {
        <div class="report ok" data-testid="restore-done" data-run=r.run_id.clone()>
            {format!("Restored {} ({} file(s), {}) from run {}: {} artifact row(s) back.",
                format::plural(r.paths.len() as i64, "path"), r.files, format::bytes(r.bytes), r.from_run, r.rows)}
            {left}
            <EpisodeLinks ids=r.episodes lead="Episodes back in their earlier state: "/>
        </div>
    }
}

/// A refused restore, with what the refusal means and what to do about it.
#[component]
pub(super) fn RestoreError(run_id: String, error: ApiError) -> impl IntoView {
    let hint = match error.code() {
        ErrorCode::Conflict => {
            "Nothing was moved. Something is in the way: a path the run took exists again, or a job is \
             running on one of its episodes. Wait for the job to finish (or cancel it), or clean up what \
             is there now, then restore again."
        }
        ErrorCode::Gone => {
            "This run's trash is gone for good (purged, or restored already): there is nothing left to \
             bring back. Reprocess the episode instead."
        }
        ErrorCode::Forbidden => "Restoring needs the operator role.",
        ErrorCode::NotFound => "No such cleanup run: refresh the list.",
        _ => "",
    };
    let code = format!("{:?}", error.code());
    view! {
        <div class="report error" data-testid="restore-error" data-code=code>
            <strong>{format!("Could not restore run {run_id}.")}</strong>
            <ErrorLine error=error/>
            {(!hint.is_empty()).then(|| view! { <p>{hint}</p> })}
        </div>
    }
}

#[component]
pub(super) fn EpisodeLinks(ids: Vec<String>, lead: &'static str) -> impl IntoView {
    (!ids.is_empty()).then(|| {
        view! {
            <p class="episode-links">
                {lead}
                {ids.into_iter().map(|id| view! {
                    <A href=format!("/episodes/{id}")>{id.clone()}</A>" "
                }).collect_view()}
            </p>
        }
    })
}
