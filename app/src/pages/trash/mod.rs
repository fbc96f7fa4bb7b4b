//! The trash: what cleanups took out of the live tree and still keep, until retention, the trash budget
//! or disk pressure purges it. A kept run can be restored (a dry-run preview first, then the real move)
//! and an admin can purge one run or empty the whole trash (each after a confirm step).
//!
//! Rows are re-created whenever the list refetches (after an action, and while a run is being measured,
//! purged or restored), so everything a row shows beyond its data — expanded, previewing, confirming,
//! the last answer — lives in page-level signals keyed by run id.

use super::widgets::ErrorLine;
use crate::api::{
    ApiError, PurgeReport, RestoreReport, Role, TrashDetail, TrashList, TrashRun, TrashState,
    purge_trash, restore, trash, trash_paths,
};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

mod answers;
mod row;
use answers::Answers;
use row::{ConfirmPurge, TrashRow};

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

impl TrashUi {
    fn is_open(self, id: &str) -> bool {
        self.expanded.with(|e| e.contains(id))
    }

    /// Shows or hides a run's paths, fetching them the first time.
    fn toggle_paths(self, id: &str) {
        let open = self.expanded.with_untracked(|e| e.contains(id));
        self.expanded.update(|e| {
            if open {
                e.remove(id);
            } else {
                e.insert(id.to_string());
            }
        });
        if !open && !self.details.with_untracked(|d| d.contains_key(id)) {
            self.load_paths.dispatch(id.to_string());
        }
    }

    /// Whether the restore preview on show is this run's.
    fn is_previewing(self, id: &str) -> bool {
        self.preview
            .value()
            .with(|v| v.as_ref().is_some_and(|(p, _)| p == id))
    }

    /// A restore starts with its dry run: the preview, with "Restore now" beside it.
    fn ask_restore(self, id: &str) {
        self.restore.value().set(None);
        self.preview.dispatch(id.to_string());
    }
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
