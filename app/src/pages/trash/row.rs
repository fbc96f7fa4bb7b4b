//! One run of the trash list and what opens below it: the restore preview, the purge confirm step, the
//! paths the run took.

use super::super::widgets::ErrorLine;
use super::answers::{EpisodeLinks, RestoreError};
use super::{Purge, TrashUi};
use crate::api::{ApiError, RestoreReport, TrashRun, TrashState};
use crate::components::format;
use leptos::prelude::*;

const COLUMNS: &str = "11";

/// One run: what it took, its state and fate, its actions, and below it (when asked) the restore
/// preview, the purge confirm step and the paths it took.
#[component]
pub(super) fn TrashRow(run: TrashRun, ui: TrashUi, operator: bool, admin: bool) -> impl IntoView {
    let id = run.run_id.clone();
    let kept = run.state == TrashState::Kept;
    let (files, bytes) = measured(&run);
    let fate = fate(&run);
    let is_open = {
        let id = id.clone();
        move || ui.is_open(&id)
    };
    let toggle = {
        let id = id.clone();
        move |_| ui.toggle_paths(&id)
    };
    let previewing = {
        let id = id.clone();
        move || ui.is_previewing(&id)
    };
    let ask_restore = {
        let id = id.clone();
        move |_| ui.ask_restore(&id)
    };
    let ask_purge = {
        let id = id.clone();
        move |_| ui.confirming.set(Some(Purge::Run(id.clone())))
    };
    let confirming_this = {
        let what = Purge::Run(id.clone());
        move || ui.confirming.get().as_ref() == Some(&what)
    };
    let (is_open2, is_open3) = (is_open.clone(), is_open.clone());
    let (id_preview, id_paths, id_purge) = (id.clone(), id.clone(), id.clone());
    let busy = move || ui.preview.pending().get() || ui.restore.pending().get();
    view! {
        <tr data-testid="trash-run" data-run=id.clone() data-state=run.state.as_str() class=format!("trash-{}", run.state.as_str())>
            <td>{(run.paths > 0).then(|| view! {
                <button class="expand" data-testid="trash-expand" aria-expanded=move || is_open().to_string()
                    title="Show the paths this run took" on:click=toggle>
                    {move || if is_open3() { "▾" } else { "▸" }}
                </button>
            })}</td>
            <td class="when">{format::time(run.started_at)}</td>
            <td>{run.actor.clone()}</td>
            <td>{run.trigger.as_str()}</td>
            <td class="scope">{run.scope.clone()}</td>
            <td><span class=format!("badge trash-state-{}", run.state.as_str()) data-testid="trash-state">{run.state.as_str()}</span></td>
            <td>{run.paths}</td>
            <td data-testid="trash-files">{files}</td>
            <td data-testid="trash-bytes">{bytes}</td>
            <td>{fate}</td>
            <td><div class="row-actions">
                {(kept && operator).then(|| view! {
                    <button data-testid="restore" on:click=ask_restore disabled=busy>"Restore…"</button>
                })}
                {(kept && admin).then(|| view! {
                    <button class="danger" data-testid="purge" on:click=ask_purge disabled=move || ui.purge.pending().get()>"Purge now"</button>
                })}
            </div></td>
        </tr>
        <Show when=previewing>
            <tr class="trash-detail"><td colspan=COLUMNS><RestorePreview ui=ui run_id=id_preview.clone()/></td></tr>
        </Show>
        <Show when=confirming_this.clone()>
            <tr class="trash-detail"><td colspan=COLUMNS>
                <ConfirmPurge ui=ui what=Purge::Run(id_purge.clone())
                    text=format!("Purge run {id_purge} now? Its files are deleted for good and cannot be restored.")/>
            </td></tr>
        </Show>
        <Show when=is_open2>
            <tr class="trash-detail"><td colspan=COLUMNS><TrashPaths ui=ui run_id=id_paths.clone()/></td></tr>
        </Show>
    }
}

/// Files and bytes, once the run's size is measured ("measuring…" while a kept run is).
fn measured(run: &TrashRun) -> (String, String) {
    let kept = run.state == TrashState::Kept;
    let show = |v: Option<i64>, f: fn(i64) -> String| match v {
        Some(v) => f(v),
        None if kept => "measuring…".to_string(),
        None => "—".to_string(),
    };
    (
        show(run.files, |n| n.to_string()),
        show(run.bytes, format::bytes),
    )
}

/// Until when a kept run can be restored, or what became of it.
fn fate(run: &TrashRun) -> String {
    match run.state {
        TrashState::Kept => match run.expires_at {
            Some(t) => format!("restorable until {}", format::time(t)),
            None => "restorable".into(),
        },
        TrashState::Purging => "purging…".into(),
        TrashState::Restoring => "restoring…".into(),
        TrashState::Purged => {
            let when = run.purged_at.map(format::time).unwrap_or_default();
            match &run.purge_reason {
                Some(reason) => format!("purged {when} ({})", purge_reason(reason)),
                None => format!("purged {when}"),
            }
        }
        TrashState::Restored => match &run.restored_by {
            Some(by) => format!("restored by run {by}"),
            None => "restored".into(),
        },
    }
}

fn purge_reason(reason: &str) -> &str {
    match reason {
        "retention" => "retention ran out",
        "budget" => "trash over its size budget",
        "disk" => "disk space low",
        // "asked by <who>" (Purge now, Empty trash) reads well as it is.
        other => other,
    }
}

/// The dry run of a restore: what would come back, with "Restore now" and Cancel; a refusal of either
/// (the preview or the real restore) shows here, next to the buttons.
#[component]
fn RestorePreview(ui: TrashUi, run_id: String) -> impl IntoView {
    let mine = {
        let run_id = run_id.clone();
        move |v: &Option<(String, Result<RestoreReport, ApiError>)>| {
            v.as_ref()
                .filter(|(id, _)| *id == run_id)
                .map(|(_, r)| r.clone())
        }
    };
    let refused = {
        let mine = mine.clone();
        move || ui.restore.value().with(|v| mine(v)).and_then(|r| r.err())
    };
    let id = run_id.clone();
    view! {
        {move || ui.preview.value().with(|v| mine(v)).map(|res| match res {
            Err(e) => view! { <RestoreError run_id=id.clone() error=e/> }.into_any(),
            Ok(r) => {
                let id = id.clone();
                let run = id.clone();
                let summary = format!(
                    "Restore would move back {} ({} file(s), {}) and put back {} artifact row(s).",
                    format::plural(r.paths.len() as i64, "path"),
                    r.files,
                    format::bytes(r.bytes),
                    r.rows
                );
                view! {
                    <div class="warning" data-testid="restore-preview" data-run=run>
                        <p>{summary}</p>
                        <ul class="paths">{r.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                        <EpisodeLinks ids=r.episodes lead="Episodes put back in the state they had before the cleanup: "/>
                        <div class="actions">
                            <button data-testid="restore-confirm" disabled=move || ui.restore.pending().get()
                                on:click=move |_| { ui.restore.dispatch(id.clone()); }>
                                {move || if ui.restore.pending().get() { "Restoring…" } else { "Restore now" }}
                            </button>
                            <button data-testid="restore-cancel" on:click=move |_| {
                                ui.preview.value().set(None);
                                ui.restore.value().set(None);
                            }>"Cancel"</button>
                        </div>
                    </div>
                }
                .into_any()
            }
        })}
        {
            let id = run_id.clone();
            move || refused().map(|e| view! { <RestoreError run_id=id.clone() error=e/> })
        }
    }
}

#[component]
pub(super) fn ConfirmPurge(ui: TrashUi, what: Purge, text: String) -> impl IntoView {
    view! {
        <div class="warning" data-testid="purge-confirm-box">
            <p>{text}</p>
            <div class="actions">
                <button class="danger" data-testid="purge-confirm" disabled=move || ui.purge.pending().get()
                    on:click=move |_| { ui.purge.dispatch(what.clone()); }>
                    {move || if ui.purge.pending().get() { "Purging…" } else { "Purge for good" }}
                </button>
                <button data-testid="purge-cancel" on:click=move |_| ui.confirming.set(None)>"Cancel"</button>
            </div>
        </div>
    }
}

/// The paths one run took and the episodes a full restore puts back.
#[component]
fn TrashPaths(ui: TrashUi, run_id: String) -> impl IntoView {
    view! {
        <div data-testid="trash-paths">
            {move || match ui.details.with(|d| d.get(&run_id).cloned()) {
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorLine error=e/> }.into_any(),
                Some(Ok(d)) => view! {
                    <ul class="paths">{d.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    <EpisodeLinks ids=d.episodes lead="Episodes this run changed: "/>
                }.into_any(),
            }}
        </div>
    }
}
