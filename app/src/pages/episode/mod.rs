//! One episode: its state (live over the event stream, flagged when stuck), the transcript (searchable),
//! the rendered page, the clips in all four renditions with per-clip Regenerate and Delete, the scored
//! highlight candidates with why each was chosen, the social posts against each platform's limit,
//! stages, artifacts, cleanup history, and per-episode cleanup.
//! Everything that deletes shows its dry run first.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the page, its shared state, the per-episode cleanup, what loads after hydration |
//! | `media.rs` | transcript, rendered page, clip cards, social posts |
//! | `clips.rs` | clip management: candidates, render, nudge, discover again |
//! | `failed.rs` | a failed episode's causes, retry and cleanup |

use crate::api::{
    ApiError, CleanupReport, CleanupRunSummary, ClipOutcome, ClipVariant, EpisodeDetail,
    EpisodeMedia, EpisodeState, EpisodeSummary, ErrorCode, cleanup_episode, delete_clip, episode,
    regenerate_clip,
};
use crate::cache::{self, Group};
use crate::components::format;
use crate::components::session::{Session, use_session};
use crate::pages::deferred::PageSlot;
use crate::pages::live::{Live, LiveStatus, polling_off, use_live};
use crate::pages::widgets::{
    ErrorLine, ProgressBar, SAFETY_EVERY, StateBadge, StuckActions, StuckFlag,
};
use failed::RetryAction;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::collections::HashMap;

mod clips;
mod failed;
mod media;
use media::episode_media;

#[component]
pub fn EpisodePage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    // Blocking: an unknown episode is known before the response starts, so its page answers 404.
    let detail = Resource::new_blocking(
        move || (session.refresh.get(), id()),
        |(_, id)| async move {
            let d = episode(id).await;
            #[cfg(feature = "ssr")]
            if d.as_ref().is_err_and(|e| unknown_episode(e.code()))
                && let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            {
                res.set_status(http::StatusCode::NOT_FOUND);
            }
            d
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            cache::write_stamped(Group::Cache, &format!("episode:{}", d.episode.id), &d);
        }
    });

    let live = use_live(move || Some(id()).filter(|id| !id.is_empty()));
    refetch_when_work_ends(detail, live, Signal::derive(id), session);
    let stuck = StuckActions::new(move || detail.refetch());
    let ui = EpisodeUi {
        live,
        stuck,
        retry: PageSlot::new(),
        refetch: Callback::new(move |_| detail.refetch()),
        query: RwSignal::new(String::new()),
        variants: RwSignal::new(HashMap::new()),
        clip: clip_action(),
        clip_preview: RwSignal::new(None),
        clips: clips::ClipsUi::new(),
    };
    Effect::new(move |_| match ui.clip.value().get() {
        Some((op, n, Ok(out))) if out.report.dry_run => ui.clip_preview.set(Some((op, n, out))),
        Some((_, _, Ok(_))) => {
            ui.clip_preview.set(None);
            detail.refetch();
        }
        _ => {}
    });

    view! {
        <LiveStatus live/>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || detail.get().map(|res| match res {
                Err(e) if unknown_episode(e.code()) => view! {
                    <p class="empty" data-testid="episode-not-found">
                        {format!("No episode {}. ", id())}<A href="/">"Go to the episode list"</A>
                    </p>
                }.into_any(),
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(d) => view! { <EpisodeView d=d ui=ui/> }.into_any(),
            })}
        // Inside the Transition (which waits for `detail`): nothing to clean up for an unknown episode.
        <section class="cleanup" hidden=move || detail.with(|d| matches!(d, Some(Err(_))))>
            {crate::pages::deferred::after_hydration(move || episode_part(EpisodePart::Cleanup(Signal::derive(id), session)))}
        </section>
        </Transition>
    }
}

/// The detail is fetched again when the event stream says the episode's work ended (done, failed,
/// cancelled: the media changed), and polled while it is being worked on and the stream is down (rarely
/// while it is up).
fn refetch_when_work_ends(
    detail: Resource<Result<EpisodeDetail, ApiError>>,
    live: Live,
    id: Signal<String>,
    session: Session,
) {
    let live_state = Memo::new(move |_| live.episodes.with(|m| m.get(&id.get()).map(|e| e.state)));
    Effect::new(move |prev: Option<Option<EpisodeState>>| {
        let now = live_state.get();
        if prev.is_some_and(|p| p != now) && now.is_some_and(|s| !s.is_active()) {
            detail.refetch();
        }
        now
    });
    Effect::new(move |_| {
        if polling_off() {
            return;
        }
        let ticks = StoredValue::new(0u64);
        let tick = move || {
            let active = detail
                .get_untracked()
                .and_then(|r| r.ok())
                .is_some_and(|d| live.current(&d.episode).state.is_active());
            ticks.update_value(|n| *n += 1);
            let due =
                !live.connected.get_untracked() || ticks.get_value().is_multiple_of(SAFETY_EVERY);
            if active && due && session.polling.get_untracked() {
                detail.refetch();
            }
        };
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(1500)) {
            on_cleanup(move || h.clear());
        }
    });
}

/// The address names no episode: an unknown id, or one that is not an episode id at all.
fn unknown_episode(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::NotFound | ErrorCode::BadRequest)
}

/// What the episode page loads once it has hydrated, so that their code is not part of its first
/// download (the WebAssembly budget). Each value is made once and moved straight into the call, so its
/// size does not matter.
#[allow(clippy::large_enum_variant)]
enum EpisodePart {
    Cleanup(Signal<String>, Session),
    Failed(Memo<EpisodeSummary>, EpisodeUi),
    Media(EpisodeMedia, String, EpisodeUi),
    History(String, Vec<CleanupRunSummary>),
}

/// One `#[lazy]` function for all the parts: each lazy function is a split of its own, and the splitter
/// cuts the code splits share into a chunk per set of splits sharing it, each its own download. Four
/// small splits here made the first visits of the dashboard, episode and process pages each ~3 KB gzip
/// larger than this one (measured on the split manifest).
#[lazy]
fn episode_part(part: EpisodePart) -> AnyView {
    match part {
        EpisodePart::Cleanup(id, session) => episode_cleanup(id, session),
        EpisodePart::Failed(cur, ui) => failed::failed_panel(cur, ui.retry, ui.stuck, ui.refetch),
        EpisodePart::Media(media, id, ui) => episode_media(media, id, ui),
        EpisodePart::History(id, runs) => super::history::episode_history(id, runs),
    }
}

/// "Clean up this episode": a preview (dry run), then the real cleanup.
fn episode_cleanup(id: Signal<String>, session: Session) -> AnyView {
    let include_transcripts = RwSignal::new(false);
    let include_audio = RwSignal::new(false);
    let clean = Action::new(move |(id, t, a, dry): &(String, bool, bool, bool)| {
        let res = cleanup_episode(id.clone(), Some(*t), Some(*a), Some(*dry));
        async move {
            let res = res.await;
            if res.as_ref().is_ok_and(|r| !r.dry_run) {
                session.refetch_all();
            }
            res
        }
    });
    // The last answer, when it was a dry run: the list waiting for its confirm.
    let preview = move || {
        clean
            .value()
            .get()
            .and_then(Result::ok)
            .filter(|r| r.dry_run)
    };
    let ask = move |dry: bool| {
        clean.dispatch((
            id.get_untracked(),
            include_transcripts.get_untracked(),
            include_audio.get_untracked(),
            dry,
        ))
    };
    view! {
            <h3>"Clean up this episode"</h3>
            <label><input type="checkbox" prop:checked=include_transcripts on:change=move |ev| include_transcripts.set(event_target_checked(&ev))/>" include transcripts"</label>
            <label><input type="checkbox" prop:checked=include_audio on:change=move |ev| include_audio.set(event_target_checked(&ev))/>" include audio"</label>
            <button data-testid="cleanup-preview" on:click=move |_| { ask(true); }>"Preview cleanup"</button>
            {move || preview().map(|r| view! {
                <div class="warning" data-testid="cleanup-preview-list">
                    <p>{format!("{} file(s), {} will be removed:", r.files, format::bytes(r.bytes))}</p>
                    <ul class="paths">{r.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    <button class="danger" data-testid="cleanup-confirm" on:click=move |_| { ask(false); }>"Delete these files"</button>
                </div>
            })}
            {move || clean.value().get().map(|r| match r {
                Ok(r) if !r.dry_run => view! { <CleanupDone r=r/> }.into_any(),
                Ok(_) => ().into_any(),
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
            })}
    }
    .into_any()
}

/// What a real cleanup did: moved to the trash (restorable, nothing freed yet) or removed for good.
#[component]
fn CleanupDone(r: CleanupReport) -> impl IntoView {
    let text = match r.kept_until {
        Some(until) => format!(
            "{}, result {}.",
            format::moved_to_trash(r.paths.len(), until),
            r.result.as_str()
        ),
        None if r.files == 0 && r.paths.is_empty() && r.errors.is_empty() => {
            "Nothing to remove: this episode has no derived files left to clean.".to_string()
        }
        None => format!(
            "Removed {} file(s) ({}), result {}",
            r.files,
            format::bytes(r.bytes),
            r.result.as_str()
        ),
    };
    let kept = r.kept_until.is_some();
    view! {
        <p class="notice" data-testid="cleanup-done" data-run=r.run_id data-kept=kept.to_string()>
            {text}
            {kept.then(|| view! { " " <A href="/trash">"Open the trash"</A> })}
        </p>
    }
}

/// Page-level state the episode view reads, so that a refetch that redraws it keeps the search, the
/// chosen renditions and a pending confirmation.
#[derive(Clone, Copy)]
struct EpisodeUi {
    live: Live,
    stuck: StuckActions,
    /// Retry with cleanup, for a failed episode (its Force reprocess is `stuck.force`).
    retry: PageSlot<RetryAction>,
    /// Fetches the episode again.
    refetch: Callback<()>,
    /// The transcript search.
    query: RwSignal<String>,
    /// The rendition chosen per clip (clips not in here show their first one).
    variants: RwSignal<HashMap<u32, ClipVariant>>,
    clip: ClipAction,
    /// A per-clip dry run waiting for its confirm.
    clip_preview: RwSignal<Option<(ClipOp, u32, ClipOutcome)>>,
    /// Render a candidate, nudge a clip, look for candidates again (`clips.rs`).
    clips: clips::ClipsUi,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClipOp {
    Regenerate,
    Delete,
}

/// (operation, episode, clip, dry run) → (operation, clip, answer).
type ClipAction = Action<(ClipOp, String, u32, bool), (ClipOp, u32, Result<ClipOutcome, ApiError>)>;

fn clip_action() -> ClipAction {
    Action::new(|(op, ep, n, dry): &(ClipOp, String, u32, bool)| {
        let (op, ep, n, dry) = (*op, ep.clone(), *n, *dry);
        async move {
            let res = match op {
                ClipOp::Regenerate => regenerate_clip(ep, n, Some(dry)).await,
                ClipOp::Delete => delete_clip(ep, n, Some(dry)).await,
            };
            (op, n, res)
        }
    })
}

/// The episode as the registry knows it: state, failure, media, stages, artifacts, cleanup history.
#[component]
fn EpisodeView(d: EpisodeDetail, ui: EpisodeUi) -> impl IntoView {
    let fetched = d.episode.clone();
    let cur = Memo::new(move |_| ui.live.current(&fetched));
    let ep = d.episode.clone();
    let id = ep.id.clone();
    let media = d.media.clone();
    let history_id = ep.id.clone();
    view! {
            <header class="page-head">
                <h2 data-testid="episode-title">{ep.title.clone()}</h2>
                {move || view! { <StateBadge ep=cur.get()/> }}
            </header>
            {move || view! { <StuckFlag ep=cur.get() actions=ui.stuck/> }}
            <p class="muted">{ep.id.clone()} " · " {d.source_path.clone()} " · attempt " {ep.attempt}</p>
            {move || view! { <ProgressBar ep=cur.get()/> }}
            {ep.error.clone().map(|e| view! {
                <div class="report error" data-testid="episode-failure">
                    <strong>{format!("Failed at {}: ", ep.failed_stage.map(|s| s.as_str()).unwrap_or("?"))}</strong>{e}
                </div>
            })}
            // Retry and Force reprocess while the episode is failed.
            {crate::pages::deferred::after_hydration(move || episode_part(EpisodePart::Failed(cur, ui)))}
            {crate::pages::deferred::after_hydration(move || episode_part(EpisodePart::Media(media, id, ui)))}
            <h3>"Stages"</h3>
            <ul class="stages">{d.stages.iter().map(|s| view! {
                <li>{s.stage.as_str()} " — " {format::time(s.finished_at)}</li>
            }).collect_view()}</ul>
            <h3>"Artifacts"</h3>
            <div class="table-scroll"><table class="artifacts" data-testid="artifacts">
                <thead><tr><th>"Kind"</th><th>"Path"</th><th>"Size"</th><th>"Attempt"</th></tr></thead>
                <tbody>{d.artifacts.iter().map(|a| view! {
                    <tr><td>{a.kind.clone()}</td><td><code>{a.path.clone()}</code></td><td>{format::bytes(a.bytes)}</td><td>{a.attempt}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
            {crate::pages::deferred::after_hydration(move || episode_part(EpisodePart::History(history_id, d.cleanup_runs)))}
    }
}
