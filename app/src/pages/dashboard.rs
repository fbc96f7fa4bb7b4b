//! The episode list: renders from the local cache at once, refreshes from the server, follows the event
//! stream (polling while it is down), flags stuck episodes, and groups failures above the list.

use super::live::{Live, LiveStatus, use_live};
use super::scan::{Scan, ScanInbox};
use super::widgets::{
    ErrorLine, ProgressBar, StateBadge, StuckActions, StuckFlag, poll_while_active,
};
use crate::api::{ApiError, EpisodeList, EpisodeState, EpisodeSummary, episodes};
use crate::cache::{self, Group};
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Dashboard() -> impl IntoView {
    let session = use_session();
    let state_filter = RwSignal::new(String::new());
    let show_filter = RwSignal::new(String::new());
    let list = Resource::new(
        move || (session.refresh.get(), state_filter.get(), show_filter.get()),
        |(_, state, show)| async move {
            let show = Some(show.trim().to_string()).filter(|s| !s.is_empty());
            episodes(EpisodeState::parse(&state), show, None, None).await
        },
    );
    let cached = cached_list(list);
    let live = use_live(|| None);
    poll_while_active(list, 1500);
    refetch_for_unknown_episodes(list, live, state_filter, show_filter);
    let stuck = StuckActions::new(move || list.refetch());

    let scan = Scan::new();

    view! {
        <LiveStatus live/>
        {super::deferred::after_hydration(move || dashboard_part(DashboardPart::FailureGroups(live)))}
        <header class="page-head">
            <h2>"Episodes"</h2>
            <ScanInbox scan/>
            <button data-testid="refresh" on:click=move |_| session.refetch_all()>"Refresh"</button>
        </header>
        {super::deferred::after_hydration(move || {
            let unfiltered = Signal::derive(move || {
                state_filter.get().is_empty() && show_filter.get().trim().is_empty()
            });
            dashboard_part(DashboardPart::ScanAndFirstStep(list, scan, live, unfiltered))
        })}
        <div class="filters">
            <label>"State "
                <select data-testid="filter-state" on:change=move |ev| state_filter.set(event_target_value(&ev))>
                    <option value="">"all"</option>
                    {EpisodeState::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Show "
                <input data-testid="filter-show" placeholder="any show" on:change=move |ev| show_filter.set(event_target_value(&ev))/>
            </label>
        </div>
        <Transition fallback=move || view! { <EpisodeTable list=cached.get() live stuck/> }>
            {move || list.get().map(|res| match res {
                Ok(list) => {
                    let filtered = !state_filter.get_untracked().is_empty()
                        || !show_filter.get_untracked().trim().is_empty();
                    view! { <EpisodeTable list=Some(list) filtered live stuck/> }.into_any()
                }
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
            })}
        </Transition>
    }
}

type EpisodeListResource = Resource<Result<EpisodeList, ApiError>>;

/// The list as last fetched, from the local cache: it shows while a refresh is in flight (client-side
/// navigation, polling). Each fetched list is cached, with what is processing now.
fn cached_list(list: EpisodeListResource) -> RwSignal<Option<EpisodeList>> {
    let cached = RwSignal::new(None::<EpisodeList>);
    Effect::new(move |_| cached.set(cache::read::<EpisodeList>(Group::Cache, "episodes")));
    Effect::new(move |_| {
        if let Some(Ok(list)) = list.get() {
            cache::write_stamped(Group::Cache, "episodes", &list);
            let active: Vec<String> = list
                .episodes
                .iter()
                .filter(|e| e.state.is_active())
                .map(|e| e.id.clone())
                .collect();
            cache::write(Group::Run, "processing_active", &!active.is_empty());
            cache::write(Group::Run, "processing_episodes", &active);
            cached.set(Some(list));
        }
    });
    cached
}

/// An episode the list does not know (just discovered or uploaded), or a stream that skipped events:
/// fetch the list again.
fn refetch_for_unknown_episodes(
    list: EpisodeListResource,
    live: Live,
    state_filter: RwSignal<String>,
    show_filter: RwSignal<String>,
) {
    Effect::new(move |prev: Option<u64>| {
        let n = live.resync.get();
        if prev.is_some_and(|p| p != n) {
            list.refetch();
        }
        n
    });
    // Asked about once each: an episode beyond the first page stays unknown, and must not refetch the
    // list on every progress event.
    let asked = StoredValue::new(std::collections::HashSet::<String>::new());
    Effect::new(move |_| {
        let unknown: Vec<String> = live.episodes.with(|m| {
            list.with_untracked(|l| match l {
                Some(Ok(l)) if l.episodes.len() as i64 >= l.total => m
                    .keys()
                    .filter(|id| !l.episodes.iter().any(|e| &e.id == *id))
                    .filter(|id| asked.with_value(|a| !a.contains(*id)))
                    .cloned()
                    .collect(),
                _ => Vec::new(),
            })
        });
        let unfiltered =
            state_filter.get_untracked().is_empty() && show_filter.get_untracked().is_empty();
        if !unknown.is_empty() && unfiltered {
            asked.update_value(|a| a.extend(unknown));
            list.refetch();
        }
    });
}

/// What the dashboard loads once it has hydrated, so that their code is not part of its first download
/// (the WebAssembly budget): the failure groups panel (nothing when nothing failed), and what the scan
/// did with the first step. One `#[lazy]` function for both, for the reason `episode::episode_part`
/// gives.
enum DashboardPart {
    FailureGroups(Live),
    ScanAndFirstStep(
        Resource<Result<EpisodeList, ApiError>>,
        Scan,
        Live,
        Signal<bool>,
    ),
}

#[lazy]
fn dashboard_part(part: DashboardPart) -> AnyView {
    match part {
        DashboardPart::FailureGroups(live) => super::failures::failure_groups_panel(live),
        DashboardPart::ScanAndFirstStep(list, scan, live, unfiltered) => {
            super::first_step::scan_and_first_step(list, scan, live, unfiltered)
        }
    }
}

#[component]
fn EpisodeTable(
    list: Option<EpisodeList>,
    /// A state or show filter is set: an empty list says so rather than "no episodes yet".
    #[prop(optional)]
    filtered: bool,
    live: Live,
    stuck: StuckActions,
) -> impl IntoView {
    let Some(list) = list else {
        return view! { <p class="empty">"Loading…"</p> }.into_any();
    };
    if list.episodes.is_empty() && filtered {
        return view! {
            <p class="empty" data-testid="empty">
                "No episode matches these filters. Set State to “all” and clear Show to see every episode."
            </p>
        }
        .into_any();
    }
    if list.episodes.is_empty() {
        return view! {
            <p class="empty" data-testid="empty">
                "No episodes yet. Drop videos into "<code>"inbox/<show>/ep001_2026-01-01.mp4"</code>
                " or "<A href="/upload">"upload them"</A>", then press “Scan inbox”."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll"><table class="episodes" data-testid="episodes">
            <thead><tr><th>"Episode"</th><th>"Show"</th><th>"Stage"</th><th>"State"</th><th>"Progress"</th><th>"Error"</th></tr></thead>
            <tbody>
                {list.episodes.into_iter().map(|ep| view! { <EpisodeRow ep live stuck/> }).collect_view()}
            </tbody>
        </table></div>
        <p class="muted">{format!("{} episode(s)", list.total)}</p>
    }
    .into_any()
}

/// One episode; its stage, state, progress, stuck flag and error follow the event stream.
#[component]
fn EpisodeRow(ep: EpisodeSummary, live: Live, stuck: StuckActions) -> impl IntoView {
    let id = ep.id.clone();
    let href = format!("/episodes/{id}");
    let title = ep.title.clone();
    let show = ep.show.clone();
    let link_text = id.clone();
    let cur = Memo::new(move |_| live.current(&ep));
    view! {
        <tr data-episode=id>
            <td><A href=href>{link_text}</A><div class="sub">{title}</div></td>
            <td>{show}</td>
            <td data-testid="stage">{move || cur.with(|e| e.stage_label())}</td>
            <td>
                {move || view! { <StateBadge ep=cur.get()/> }}
                {move || view! { <StuckFlag ep=cur.get() actions=stuck/> }}
            </td>
            <td>{move || view! { <ProgressBar ep=cur.get()/> }}</td>
            <td class="error-cell" data-testid="episode-error">{move || cur.with(|ep| ep.error.clone().map(|e| match ep.failed_stage {
                Some(s) => format!("{s}: {e}"),
                None => e,
            }))}</td>
        </tr>
    }
}
