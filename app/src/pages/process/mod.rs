//! Start processing: pick episodes (all, none, by show, failed only), see what Start will do with them
//! before pressing it, optionally force (with a dry-run preview of what will be deleted), watch progress,
//! retry failures with cleanup.

use super::widgets::{ErrorLine, ProgressBar, StateBadge, poll_while_active};
use crate::api::{
    ApiError, EpisodeList, EpisodeState, EpisodeSummary, ProcessOutcome, RetryOutcome, episodes,
    force_reprocess, process, retry_failed,
};
use crate::cache::{self, Group};
use crate::components::deep_clean::DeepClean;
use crate::components::deep_clean_button::DeepCleanButton;
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeSet;

mod plan;
use plan::{Plan, PlanLine};

/// The most episodes the page lists (the server's largest page).
const LIST_LIMIT: u32 = 500;

#[component]
pub fn ProcessPage() -> impl IntoView {
    let session = use_session();
    let list = Resource::new(
        move || session.refresh.get(),
        |_| episodes(None, None, None, Some(LIST_LIMIT)),
    );
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let clear_cache = RwSignal::new(true);
    let force = RwSignal::new(false);
    // Preferences survive Deep Clean; they are read only after hydration.
    Effect::new(move |_| {
        if let Some(v) = cache::read::<bool>(Group::Prefs, "clear_cache_on_start") {
            clear_cache.set(v);
        }
    });

    let preview = Action::new(|ids: &Vec<String>| force_preview(ids.clone()));
    let start = Action::new(|(ids, force, clear): &(Vec<String>, bool, bool)| {
        process(ids.clone(), Some(*force), Some(*clear))
    });
    // (the ids, or none for every failed one; the failed episodes the page shows, sent as `previewed`).
    let retry = Action::new(|(ids, shown): &(Option<Vec<String>>, Vec<String>)| {
        retry_failed(ids.clone(), None, Some(shown.clone()), Some(false))
    });

    Effect::new(move |_| {
        if force.get() && !selected.with(|s| s.is_empty()) {
            preview.dispatch(selected.get_untracked().into_iter().collect());
        }
    });
    after_outcomes(start, retry, selected, force);
    poll_while_active(list, 1000);

    // The listed episodes, copied by an effect (so nothing outside the Transition reads the resource while
    // hydrating), and what Start would do with the selection: the counts shown before pressing it.
    let listed = RwSignal::new(Vec::<EpisodeSummary>::new());
    Effect::new(move |_| {
        if let Some(Ok(l)) = list.get() {
            listed.set(l.episodes);
        }
    });
    let plan = Memo::new(move |_| listed.with(|eps| selected.with(|sel| Plan::of(eps, sel))));
    let on_start = move |_| {
        let ids = plan.with_untracked(|p| p.ids.clone());
        let clear = clear_cache.get_untracked();
        if clear {
            forget_cached(&ids);
        }
        cache::write(Group::Run, "processing_episodes", &ids);
        start.dispatch((ids, force.get_untracked(), clear));
    };

    view! {
        <header class="page-head"><h2>"Process"</h2></header>
        <StartOptions clear_cache=clear_cache force=force/>
        <Show when=move || force.get()>
            <ForcePreview preview=preview/>
        </Show>
        <Transition fallback=|| ()>
            {move || list.get().and_then(|r| r.ok()).map(|l| view! {
                <SelectBar episodes=l.episodes selected=selected/>
            })}
            <PlanLine plan=plan force=force selected=selected/>
        </Transition>
        <div class="actions">
            <button type="button" data-testid="start" on:click=on_start
                disabled=move || plan.with(|p| p.ids.is_empty() || (p.blocked() && !force.get())) || start.pending().get()>"Start"</button>
            <button type="button" data-testid="retry-all" on:click=move |_| {
                let shown = listed.with_untracked(|eps| eps.iter()
                    .filter(|e| e.state == EpisodeState::Failed).map(|e| e.id.clone()).collect());
                retry.dispatch((None, shown));
            }>"Retry all failed"</button>
            <DeepCleanButton state=DeepClean::create()/>
        </div>
        <Outcomes start=start retry=retry/>
        {episode_table(list, selected, retry)}
    }
}

/// After an outcome: every view refetches, and a Start that went through is done with its selection
/// (the queued episodes would otherwise read as "already done, Start refused" beside "n job(s)
/// queued", and a Force left ticked would restart them on a second click).
fn after_outcomes(
    start: StartAction,
    retry: RetryAction,
    selected: RwSignal<BTreeSet<String>>,
    force: RwSignal<bool>,
) {
    let session = use_session();
    Effect::new(move |_| {
        // Read both before deciding: a short-circuit would leave the effect deaf to the second one.
        let started = start.value().get().is_some();
        let retried = retry.value().get().is_some();
        if started || retried {
            session.refetch_all();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = start.value().get() {
            selected.set(BTreeSet::new());
            force.set(false);
        }
    });
}

/// The listed episodes, one row each, or why there are none.
fn episode_table(
    list: Resource<Result<EpisodeList, ApiError>>,
    selected: RwSignal<BTreeSet<String>>,
    retry: RetryAction,
) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || list.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(list) if list.episodes.is_empty() => view! {
                    <p class="empty" data-testid="process-empty">
                        "Nothing to process yet. Drop videos into "<code>"inbox/<show>/"</code>" or "
                        <A href="/upload">"upload them"</A>", then press “Scan inbox” on the "<A href="/">"Dashboard"</A>"."
                    </p>
                }.into_any(),
                Ok(list) => {
                    let more = (list.total > list.episodes.len() as i64).then(|| format!(
                        "Listing the first {} of {} episodes; selections apply to the listed ones.",
                        list.episodes.len(), list.total));
                    view! {
                        {more.map(|m| view! { <p class="muted">{m}</p> })}
                        <div class="table-scroll"><table class="episodes" data-testid="process-list">
                            <thead><tr><th><span class="visually-hidden">"Selected"</span></th><th>"Episode"</th><th>"Stage"</th><th>"State"</th><th>"Progress"</th><th>"Result"</th></tr></thead>
                            <tbody>{list.episodes.into_iter().map(|ep| view! {
                                <ProcessRow ep=ep selected=selected retry=retry/>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// What a force reprocess of the selected episodes would delete (a dry run), before Start.
#[component]
fn ForcePreview(preview: Action<Vec<String>, Result<Vec<String>, ApiError>>) -> impl IntoView {
    view! {
        <div class="warning" data-testid="force-warning">
            <strong>"Force reprocess deletes these files before starting again:"</strong>
            {move || match preview.value().get() {
                None => view! { <p>"Select episodes to see what will be deleted."</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorLine error=e/> }.into_any(),
                Some(Ok(paths)) if paths.is_empty() => view! { <p>"Nothing to delete."</p> }.into_any(),
                Some(Ok(paths)) => view! {
                    <ul class="paths">{paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                }.into_any(),
            }}
        </div>
    }
}

/// One episode: its checkbox, stage, state, progress, and for a failure the reason and a retry.
#[component]
fn ProcessRow(
    ep: EpisodeSummary,
    selected: RwSignal<BTreeSet<String>>,
    retry: RetryAction,
) -> impl IntoView {
    let id = ep.id.clone();
    let id2 = ep.id.clone();
    let failed = ep.state == EpisodeState::Failed;
    view! {
        <tr data-episode=ep.id.clone()>
            <td><input type="checkbox" data-testid="select" aria-label=format!("Select {}", ep.id)
                prop:checked=move || selected.with(|s| s.contains(&id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selected.update(|s| { if on { s.insert(id2.clone()); } else { s.remove(&id2); } });
                }/></td>
            <td>{ep.id.clone()}</td>
            <td data-testid="stage">{ep.stage_label()}</td>
            <td><StateBadge ep=ep.clone()/></td>
            <td><ProgressBar ep=ep.clone()/></td>
            <td>
                {ep.error.clone().map(|e| view! {
                    <span class="error" data-testid="episode-error">
                        {format!("{}: {e}", ep.failed_stage.map(|s| s.as_str()).unwrap_or("?"))}
                    </span>
                })}
                {failed.then(|| {
                    let id = ep.id.clone();
                    view! { <button type="button" data-testid="retry" on:click=move |_| { retry.dispatch((Some(vec![id.clone()]), vec![id.clone()])); }>"Retry with cleanup"</button> }
                })}
            </td>
        </tr>
    }
}

/// "Clear cache on start" (a preference that survives Deep Clean) and "Force reprocess".
#[component]
fn StartOptions(clear_cache: RwSignal<bool>, force: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="options">
            <label><input type="checkbox" data-testid="clear-cache" prop:checked=clear_cache on:change=move |ev| {
                let v = event_target_checked(&ev);
                clear_cache.set(v);
                cache::write(Group::Prefs, "clear_cache_on_start", &v);
            }/> " Clear cache on start"</label>
            <label><input type="checkbox" data-testid="force" prop:checked=force on:change=move |ev| force.set(event_target_checked(&ev))/>
                " Force reprocess (deletes previous outputs)"</label>
        </div>
    }
}

type StartAction = Action<(Vec<String>, bool, bool), Result<ProcessOutcome, ApiError>>;
type RetryAction = Action<(Option<Vec<String>>, Vec<String>), Result<RetryOutcome, ApiError>>;

/// What Start and Retry answered: jobs queued, files cleaned, or the error next to the action.
#[component]
fn Outcomes(start: StartAction, retry: RetryAction) -> impl IntoView {
    view! {
        {move || start.value().get().map(|r| match r {
            Ok(o) => view! { <p class="notice" data-testid="start-result">{format!("{} job(s) queued", o.jobs.len())}</p> }.into_any(),
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
        })}
        {move || retry.value().get().map(|r| match r {
            Ok(o) => {
                let cleaned = match o.report.kept_until {
                    Some(until) => format::moved_to_trash(o.report.paths.len(), until),
                    None => format!("Cleaned {} file(s)", o.report.files),
                };
                view! { <p class="notice" data-testid="retry-result">{format!("{cleaned}, queued {} job(s)", o.jobs.len())}</p> }.into_any()
            }
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
        })}
    }
}

/// Drops what this browser cached about these episodes before the server starts them fresh.
fn forget_cached(ids: &[String]) {
    for id in ids {
        cache::remove(Group::Cache, &format!("episode:{id}"));
        cache::remove(Group::Cache, &format!("clip_metadata:{id}"));
        cache::remove(Group::Cache, &format!("discovered_clips:{id}"));
    }
    cache::remove(Group::Run, "processing_results");
}

/// Every path a force reprocess of `ids` would delete (dry runs, one per episode).
async fn force_preview(ids: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut paths = Vec::new();
    for id in ids {
        let out = force_reprocess(id, Some(true)).await?;
        paths.extend(out.report.paths);
    }
    Ok(paths)
}

/// Select all, none, failed only, or one show's episodes (each replaces the selection).
#[component]
fn SelectBar(episodes: Vec<EpisodeSummary>, selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let shows: BTreeSet<String> = episodes.iter().map(|e| e.show.clone()).collect();
    let eps = StoredValue::new(episodes);
    let pick = move |keep: &dyn Fn(&EpisodeSummary) -> bool| {
        let ids = eps.with_value(|eps| {
            eps.iter()
                .filter(|e| keep(e))
                .map(|e| e.id.clone())
                .collect()
        });
        selected.set(ids);
    };
    let show_choice = RwSignal::new(String::new());
    view! {
        <div class="selectbar" role="group" aria-label="Select episodes">
            <span class="muted">"Select:"</span>
            <button type="button" data-testid="select-all" on:click=move |_| pick(&|_| true)>"All"</button>
            <button type="button" data-testid="select-none" on:click=move |_| { selected.set(BTreeSet::new()); show_choice.set(String::new()); }>"None"</button>
            <button type="button" data-testid="select-failed"
                on:click=move |_| pick(&|e| e.state == EpisodeState::Failed)>"Failed only"</button>
            <label>"Show "
                <select data-testid="select-show" prop:value=show_choice on:change=move |ev| {
                    let show = event_target_value(&ev);
                    show_choice.set(show.clone());
                    if !show.is_empty() {
                        pick(&|e| e.show == show);
                    }
                }>
                    <option value="">"—"</option>
                    {shows.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                </select>
            </label>
        </div>
    }
}
