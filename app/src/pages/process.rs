//! Start processing: pick episodes, optionally force (with a dry-run preview of what will be deleted),
//! watch progress, retry failures with cleanup.

use super::widgets::{ErrorLine, ProgressBar, StateBadge, poll_while_active};
use crate::api::{
    ApiError, EpisodeState, EpisodeSummary, ProcessOutcome, RetryOutcome, episodes,
    force_reprocess, process, retry_failed,
};
use crate::cache::{self, Group};
use crate::components::deep_clean::DeepCleanButton;
use crate::components::format;
use crate::components::session::use_studio;
use leptos::prelude::*;
use std::collections::BTreeSet;

#[component]
pub fn ProcessPage() -> impl IntoView {
    let studio = use_studio();
    let list = Resource::new(
        move || studio.refresh.get(),
        |_| episodes(None, None, None, None),
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
    let retry = Action::new(|ids: &Option<Vec<String>>| retry_failed(ids.clone(), Some(false)));

    Effect::new(move |_| {
        if force.get() && !selected.with(|s| s.is_empty()) {
            preview.dispatch(selected.get_untracked().into_iter().collect());
        }
    });
    Effect::new(move |_| {
        // Read both before deciding: a short-circuit would leave the effect deaf to the second one.
        let started = start.value().get().is_some();
        let retried = retry.value().get().is_some();
        if started || retried {
            studio.refetch_all();
        }
    });
    poll_while_active(list, 1000);

    let on_start = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
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
        <div class="actions">
            <button data-testid="start" on:click=on_start disabled=move || selected.with(|s| s.is_empty()) || start.pending().get()>"Start"</button>
            <button data-testid="retry-all" on:click=move |_| { retry.dispatch(None); }>"Retry all failed"</button>
            <DeepCleanButton/>
        </div>
        <Outcomes start=start retry=retry/>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || list.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(list) => view! {
                    <table class="episodes" data-testid="process-list">
                        <thead><tr><th></th><th>"Episode"</th><th>"Stage"</th><th>"State"</th><th>"Progress"</th><th>"Result"</th></tr></thead>
                        <tbody>{list.episodes.into_iter().map(|ep| view! {
                            <ProcessRow ep=ep selected=selected retry=retry/>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
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
            <td><input type="checkbox" data-testid="select"
                prop:checked=move || selected.with(|s| s.contains(&id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selected.update(|s| { if on { s.insert(id2.clone()); } else { s.remove(&id2); } });
                }/></td>
            <td>{ep.id.clone()}</td>
            <td data-testid="stage">{ep.stage.as_str()}</td>
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
                    view! { <button data-testid="retry" on:click=move |_| { retry.dispatch(Some(vec![id.clone()])); }>"Retry with cleanup"</button> }
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
type RetryAction = Action<Option<Vec<String>>, Result<RetryOutcome, ApiError>>;

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
