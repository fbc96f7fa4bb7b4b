//! The trash: what cleanups took out of the live tree and still keep, until retention, the trash budget
//! or disk pressure purges it. A kept run can be restored (a dry-run preview first, then the real move)
//! and an admin can purge one run or empty the whole trash (each after a confirm step).
//!
//! Rows are re-created whenever the list refetches (after an action, and while a run is being measured,
//! purged or restored), so everything a row shows beyond its data — expanded, previewing, confirming,
//! the last answer — lives in page-level signals keyed by run id.

use super::widgets::ErrorLine;
use crate::api::{
    ApiError, ErrorCode, PurgeReport, RestoreReport, Role, TrashDetail, TrashList, TrashRun,
    TrashState, purge_trash, restore, trash, trash_paths,
};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::{BTreeMap, BTreeSet};

/// How often the list refetches while a run is being measured, purged or restored.
const POLL_MS: u64 = 1500;

/// What a purge is for: one run, or the whole trash ("Empty trash").
#[derive(Clone, Debug, PartialEq)]
enum Purge {
    Run(String),
    All,
}

impl Purge {
    fn run_id(&self) -> Option<String> {
        match self {
            Purge::Run(id) => Some(id.clone()),
            Purge::All => None,
        }
    }
}

type RestoreAction = Action<String, (String, Result<RestoreReport, ApiError>)>;
type PurgeAction = Action<Purge, (Purge, Result<PurgeReport, ApiError>)>;
type PathsAction = Action<String, (String, Result<TrashDetail, ApiError>)>;

/// The page's state, shared by every row.
#[derive(Clone, Copy)]
struct TrashUi {
    list: Resource<Result<TrashList, ApiError>>,
    /// Runs whose paths are shown, and what `trash_paths` answered for each.
    expanded: RwSignal<BTreeSet<String>>,
    details: RwSignal<BTreeMap<String, Result<TrashDetail, ApiError>>>,
    load_paths: PathsAction,
    /// The dry run of a restore (the preview), then the real one.
    preview: RestoreAction,
    restore: RestoreAction,
    /// The purge waiting for its confirm click, and the purge itself.
    confirming: RwSignal<Option<Purge>>,
    purge: PurgeAction,
}

#[component]
pub fn TrashPage() -> impl IntoView {
    let session = use_session();
    let ui = TrashUi {
        list: Resource::new(move || session.refresh.get(), |_| trash()),
        expanded: RwSignal::new(BTreeSet::new()),
        details: RwSignal::new(BTreeMap::new()),
        load_paths: Action::new(|id: &String| {
            let id = id.clone();
            async move { (id.clone(), trash_paths(id).await) }
        }),
        preview: Action::new(|id: &String| {
            let id = id.clone();
            async move { (id.clone(), restore(id, None, Some(true)).await) }
        }),
        restore: Action::new(|id: &String| {
            let id = id.clone();
            async move { (id.clone(), restore(id, None, Some(false)).await) }
        }),
        confirming: RwSignal::new(None),
        purge: Action::new(|what: &Purge| {
            let what = what.clone();
            async move { (what.clone(), purge_trash(what.run_id()).await) }
        }),
    };
    Effect::new(move |_| {
        if let Some((id, res)) = ui.load_paths.value().get() {
            ui.details.update(|d| {
                d.insert(id, res);
            });
        }
    });
    // A restore or purge changed the trash: the preview is spent, the list and paths are stale. A refused
    // restore keeps its preview open (the refusal shows there) but may have found the run gone meanwhile.
    Effect::new(move |_| {
        let restored = ui.restore.value().get().map(|(_, r)| r.is_ok());
        let purged = ui.purge.value().get().is_some();
        if restored == Some(true) || purged {
            ui.preview.value().set(None);
            ui.confirming.set(None);
            ui.details.set(BTreeMap::new());
            ui.expanded.set(BTreeSet::new());
        }
        if restored.is_some() || purged {
            ui.list.refetch();
        }
    });
    poll_while_changing(ui.list);

    view! {
        <header class="page-head">
            <h2>"Trash"</h2>
            <button data-testid="trash-refresh" on:click=move |_| ui.list.refetch()>"Refresh"</button>
        </header>
        <div data-testid="trash-page">
            <Answers ui=ui/>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    let role = session.me.get().and_then(|m| m.ok()).flatten().map(|u| u.role);
                    ui.list.get().map(|res| match res {
                        Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                        Ok(l) => view! { <TrashView l=l ui=ui role=role/> }.into_any(),
                    })
                }}
            </Transition>
        </div>
    }
}

/// Refetches the list while a run's size is still being measured or it is being purged or restored.
fn poll_while_changing(list: Resource<Result<TrashList, ApiError>>) {
    let session = use_session();
    let tick = move || {
        let changing = list
            .get_untracked()
            .and_then(|r| r.ok())
            .is_some_and(|l| l.runs.iter().any(changing));
        if changing && session.polling.get_untracked() {
            list.refetch();
        }
    };
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(POLL_MS)) {
            on_cleanup(move || h.clear());
        }
    });
}

fn changing(r: &TrashRun) -> bool {
    match r.state {
        TrashState::Kept => r.bytes.is_none(),
        TrashState::Purging | TrashState::Restoring => true,
        TrashState::Purged | TrashState::Restored => false,
    }
}

/// What the last restore or purge answered, above the list (rows are rebuilt when the list refetches).
#[component]
fn Answers(ui: TrashUi) -> impl IntoView {
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
fn RestoreError(run_id: String, error: ApiError) -> impl IntoView {
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
fn EpisodeLinks(ids: Vec<String>, lead: &'static str) -> impl IntoView {
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

#[component]
fn TrashView(l: TrashList, ui: TrashUi, role: Option<Role>) -> impl IntoView {
    let operator = role.is_some_and(|r| r >= Role::Operator);
    let admin = role == Some(Role::Admin);
    let retention = format::duration_secs(l.retention_secs);
    let policy = if l.retention_secs == 0 {
        "Trash retention is off (--trash-retention 0): cleanups free their space at once and cannot be \
         undone."
            .to_string()
    } else {
        format!(
            "Cleanups keep what they remove here for {retention}. Older trash goes first when the trash \
             passes {} or free space on the data disk falls below {}%.",
            format::bytes(l.max_bytes),
            l.min_free_pct
        )
    };
    if l.runs.is_empty() {
        let text = if l.retention_secs == 0 {
            policy.clone()
        } else {
            format!(
                "Nothing in the trash. When an episode's cleanup, a retry with cleanup or Deep Clean \
                 removes files, they wait here for {retention} and one Restore puts them back."
            )
        };
        return view! {
            <p class="muted" data-testid="trash-policy">{policy}</p>
            <p class="empty" data-testid="trash-empty">{text}</p>
        }
        .into_any();
    }
    let totals = if l.kept_runs == 0 {
        "Nothing kept right now; below are runs purged or restored lately.".to_string()
    } else {
        format!(
            "{} in the trash, {}.",
            format::plural(l.kept_runs, "run"),
            format::bytes(l.kept_bytes)
        )
    };
    let kept_any = l.kept_runs > 0;
    let empty_text = format!(
        "Empty the trash? Every kept run is purged now ({}); none of it can be restored afterwards.",
        format::bytes(l.kept_bytes)
    );
    view! {
        <p class="muted" data-testid="trash-policy">{policy}</p>
        <div class="actions">
            <span data-testid="trash-totals">{totals}</span>
            {(admin && kept_any).then(|| view! {
                <button class="danger" data-testid="trash-empty-all"
                    on:click=move |_| ui.confirming.set(Some(Purge::All))>"Empty trash…"</button>
            })}
        </div>
        <Show when=move || ui.confirming.get() == Some(Purge::All)>
            <ConfirmPurge ui=ui what=Purge::All text=empty_text.clone()/>
        </Show>
        <table class="runs trash" data-testid="trash-runs">
            <thead><tr>
                <th></th><th>"When"</th><th>"Who"</th><th>"Trigger"</th><th>"Scope"</th><th>"State"</th>
                <th>"Paths"</th><th>"Files"</th><th>"Size"</th><th>"Until / fate"</th><th></th>
            </tr></thead>
            <tbody>{l.runs.into_iter().map(|run| view! {
                <TrashRow run=run ui=ui operator=operator admin=admin/>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

const COLUMNS: &str = "11";

#[component]
fn TrashRow(run: TrashRun, ui: TrashUi, operator: bool, admin: bool) -> impl IntoView {
    let id = run.run_id.clone();
    let kept = run.state == TrashState::Kept;
    let measured = |v: Option<i64>, f: fn(i64) -> String| match v {
        Some(v) => f(v),
        None if kept => "measuring…".to_string(),
        None => "—".to_string(),
    };
    let files = measured(run.files, |n| n.to_string());
    let bytes = measured(run.bytes, format::bytes);
    let fate = fate(&run);
    let is_open = {
        let id = id.clone();
        move || ui.expanded.with(|e| e.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            let open = ui.expanded.with_untracked(|e| e.contains(&id));
            ui.expanded.update(|e| {
                if open {
                    e.remove(&id);
                } else {
                    e.insert(id.clone());
                }
            });
            if !open && !ui.details.with_untracked(|d| d.contains_key(&id)) {
                ui.load_paths.dispatch(id.clone());
            }
        }
    };
    let previewing = {
        let id = id.clone();
        move || {
            ui.preview
                .value()
                .with(|v| v.as_ref().is_some_and(|(p, _)| *p == id))
        }
    };
    let ask_restore = {
        let id = id.clone();
        move |_| {
            ui.restore.value().set(None);
            ui.preview.dispatch(id.clone());
        }
    };
    let ask_purge = {
        let id = id.clone();
        move |_| ui.confirming.set(Some(Purge::Run(id.clone())))
    };
    let confirming_this = {
        let what = Purge::Run(id.clone());
        move || ui.confirming.get().as_ref() == Some(&what)
    };
    let previewing2 = previewing.clone();
    let is_open2 = is_open.clone();
    let is_open3 = is_open.clone();
    let id_preview = id.clone();
    let id_paths = id.clone();
    let id_purge = id.clone();
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
        <Show when=previewing2>
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
fn ConfirmPurge(ui: TrashUi, what: Purge, text: String) -> impl IntoView {
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
