//! One episode: its state (live over the event stream, flagged when stuck), the transcript (searchable),
//! the rendered page, the clips in all four renditions with per-clip Regenerate and Delete, the scored
//! highlight candidates with why each was chosen, the social posts against each platform's limit,
//! stages, artifacts, cleanup history, and per-episode cleanup.
//! Everything that deletes shows its dry run first.

use super::deferred::PageSlot;
use super::episode_failed::RetryAction;
use super::live::{Live, LiveStatus, polling_off, use_live};
use super::nothing_said;
use super::widgets::{ErrorLine, ProgressBar, SAFETY_EVERY, StateBadge, StuckActions, StuckFlag};
use crate::api::{
    ApiError, CleanupReport, CleanupRunSummary, Clip, ClipOutcome, ClipVariant, EpisodeDetail,
    EpisodeMedia, EpisodeState, EpisodeSummary, ErrorCode, SocialPost, TranscriptLine,
    cleanup_episode, delete_clip, episode, regenerate_clip,
};
use crate::cache::{self, Group};
use crate::components::format;
use crate::components::session::{Session, use_session};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::collections::HashMap;

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
    // A state change over the stream that ends work (done, failed, cancelled): the media changed.
    let live_state = Memo::new(move |_| live.episodes.with(|m| m.get(&id()).map(|e| e.state)));
    Effect::new(move |prev: Option<Option<EpisodeState>>| {
        let now = live_state.get();
        if prev.is_some_and(|p| p != now) && now.is_some_and(|s| !s.is_active()) {
            detail.refetch();
        }
        now
    });
    // Polling fallback while the episode is being worked on and the stream is down (rarely while it is up).
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
        clips: super::episode_clips::ClipsUi::new(),
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
            {super::deferred::after_hydration(move || episode_part(EpisodePart::Cleanup(Signal::derive(id), session)))}
        </section>
        </Transition>
    }
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
        EpisodePart::Failed(cur, ui) => {
            super::episode_failed::failed_panel(cur, ui.retry, ui.stuck, ui.refetch)
        }
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
    /// Render a candidate, nudge a clip, look for candidates again (`episode_clips.rs`).
    clips: super::episode_clips::ClipsUi,
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
            {super::deferred::after_hydration(move || episode_part(EpisodePart::Failed(cur, ui)))}
            {super::deferred::after_hydration(move || episode_part(EpisodePart::Media(media, id, ui)))}
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
            {super::deferred::after_hydration(move || episode_part(EpisodePart::History(history_id, d.cleanup_runs)))}
    }
}

/// The transcript, the rendered page, the clips and the social posts.
fn episode_media(media: EpisodeMedia, id: String, ui: EpisodeUi) -> AnyView {
    let rendered: Vec<_> = media.clips.iter().map(|c| (c.n, c.posts.clone())).collect();
    view! {
            <Transcript lines=media.transcript engine=media.transcript_engine note=media.transcript_note
                empty=media.transcript_empty query=ui.query/>
            <RenderedPage url=media.page/>
            <section class="clips-section" aria-labelledby="clips-head">
                <h3 id="clips-head">"Clips"</h3>
                <ClipResult ui=ui/>
                {if media.clips.is_empty() {
                    view! { <p class="empty" data-testid="no-clips">{nothing_said::no_clips(media.transcript_empty, media.highlight_note.as_deref())}</p> }.into_any()
                } else {
                    view! {
                        <div class="clips">{media.clips.into_iter().map(|c| view! { <ClipCard clip=c episode=id.clone() ui=ui/> }).collect_view()}</div>
                    }.into_any()
                }}
            </section>
            <super::episode_clips::ClipManager episode=id.clone() candidates=media.candidates highlights=media.highlights
                rendered=rendered note=media.highlight_note discovery=media.discovery ui=ui.clips/>
            <SocialPosts posts=media.social/>
    }
    .into_any()
}

/// `m:ss` for a position in the episode.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// `text` cut into (piece, matches) around every case-insensitive (ASCII) occurrence of `q`.
fn marked(text: &str, q: &str) -> Vec<(String, bool)> {
    if q.is_empty() {
        return vec![(text.to_string(), false)];
    }
    // ASCII lowercasing keeps every byte offset, so offsets found in `hay` cut `text` on char boundaries.
    let hay = text.to_ascii_lowercase();
    let needle = q.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = hay[at..].find(&needle) {
        let start = at + i;
        if start > at {
            out.push((text[at..start].to_string(), false));
        }
        out.push((text[start..start + needle.len()].to_string(), true));
        at = start + needle.len();
    }
    if at < text.len() {
        out.push((text[at..].to_string(), false));
    }
    out
}

/// The transcript with a search box: only matching lines show, matches highlighted, with a count.
#[component]
fn Transcript(
    lines: Vec<TranscriptLine>,
    engine: Option<String>,
    note: Option<String>,
    /// A transcript was written and is empty.
    empty: bool,
    query: RwSignal<String>,
) -> impl IntoView {
    let total = lines.len();
    let lines = StoredValue::new(lines);
    let q = Memo::new(move |_| query.with(|q| q.trim().to_string()));
    let shown = move || {
        let q = q.get();
        lines.with_value(|ls| {
            ls.iter()
                .filter(|l| {
                    q.is_empty()
                        || l.text
                            .to_ascii_lowercase()
                            .contains(&q.to_ascii_lowercase())
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="transcript-section" aria-labelledby="transcript-head">
            <h3 id="transcript-head">"Transcript"</h3>
            {engine.map(|e| view! { <p class="muted" data-testid="transcript-engine">"Made by " {e}</p> })}
            {note.map(|n| view! { <p class="muted" data-testid="transcript-note">{n}</p> })}
            {if total == 0 {
                view! { <p class="empty" data-testid="no-transcript">{nothing_said::no_transcript(empty)}</p> }.into_any()
            } else {
                view! {
                    <div class="transcript-search">
                        <label for="transcript-search">"Search the transcript"</label>
                        <input id="transcript-search" type="search" data-testid="transcript-search" placeholder="a word or phrase"
                            prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                        <span class="muted" data-testid="transcript-count" aria-live="polite">{move || {
                            let n = shown().len();
                            if q.with(|q| q.is_empty()) { format!("{total} line(s)") } else { format!("{n} of {total} line(s) match") }
                        }}</span>
                    </div>
                    <ol class="transcript" data-testid="transcript">
                        {move || {
                            let q = q.get();
                            shown().into_iter().map(|l| view! {
                                <li data-testid="transcript-line">
                                    <span class="at">{clock(l.start)}</span>" "
                                    <span class="text">{marked(&l.text, &q).into_iter().map(|(piece, hit)| if hit {
                                        view! { <mark>{piece}</mark> }.into_any()
                                    } else {
                                        piece.into_any()
                                    }).collect_view()}</span>
                                </li>
                            }).collect_view()
                        }}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

/// The rendered page: a link that opens it and a preview in a frame.
#[component]
fn RenderedPage(url: Option<String>) -> impl IntoView {
    view! {
        <section class="page-section" aria-labelledby="page-head">
            <h3 id="page-head">"Page"</h3>
            {match url {
                Some(url) => view! {
                    <p><a href=url.clone() target="_blank" rel="noopener" data-testid="page-open">"Open the rendered page"</a></p>
                    // Same origin so its thumbnails load with the session cookie; no scripts ever run in it
                    // (allow-scripts is what would make allow-same-origin dangerous).
                    <iframe class="page-preview" src=url title="Preview of the rendered page" data-testid="page-preview"
                        sandbox="allow-same-origin"></iframe>
                }.into_any(),
                None => view! { <p class="empty" data-testid="no-page">"No page yet: it is rendered at the “rendered” stage. Process the episode to get it."</p> }.into_any(),
            }}
        </section>
    }
}

/// One clip: the chosen rendition playing, a switch between the four, Regenerate and Delete.
#[component]
fn ClipCard(clip: Clip, episode: String, ui: EpisodeUi) -> impl IntoView {
    let n = clip.n;
    let files = StoredValue::new(clip.files.clone());
    let first = ClipVariant::ALL
        .into_iter()
        .find(|v| clip.files.iter().any(|f| f.variant == *v));
    let chosen = Memo::new(move |_| {
        ui.variants
            .with(|m| m.get(&n).copied())
            .filter(|v| files.with_value(|fs| fs.iter().any(|f| f.variant == *v)))
            .or(first)
    });
    let url = move || {
        chosen.get().and_then(|v| {
            files.with_value(|fs| fs.iter().find(|f| f.variant == v).map(|f| f.url.clone()))
        })
    };
    let (ep_regen, ep_delete, ep_confirm) = (episode.clone(), episode.clone(), episode);
    let thumb = clip.thumb.clone();
    view! {
        <article class="clip" data-testid="clip" data-clip=n aria-labelledby=format!("clip-{n}-head")>
            <h4 id=format!("clip-{n}-head")>{format!("Clip {n}")}</h4>
            <video controls preload="none" src=url poster=clip.thumb.clone() data-testid="clip-video"
                data-variant=move || chosen.get().map(|v| v.as_str()).unwrap_or("")
                aria-label=move || format!("Clip {n}, {}", chosen.get().map(|v| v.label()).unwrap_or("no rendition"))></video>
            <div class="variant-switch" role="group" aria-label=format!("Clip {n} rendition")>
                {ClipVariant::ALL.into_iter().map(|v| {
                    let have = clip.files.iter().find(|f| f.variant == v).map(|f| f.bytes);
                    let title = match have {
                        Some(b) => format!("{} ({})", v.label(), format::bytes(b)),
                        None => format!("{} (missing)", v.label()),
                    };
                    view! {
                        <button type="button" data-testid=format!("variant-{}", v.as_str()) title=title
                            aria-pressed=move || (chosen.get() == Some(v)).to_string()
                            disabled=have.is_none()
                            on:click=move |_| ui.variants.update(|m| { m.insert(n, v); })>{v.label()}</button>
                    }
                }).collect_view()}
            </div>
            <div class="clip-actions">
                <button type="button" data-testid="clip-regenerate" disabled=move || ui.clip.pending().get()
                    on:click=move |_| { ui.clip.dispatch((ClipOp::Regenerate, ep_regen.clone(), n, true)); }>"Regenerate"</button>
                <button type="button" data-testid="clip-delete" disabled=move || ui.clip.pending().get()
                    on:click=move |_| { ui.clip.dispatch((ClipOp::Delete, ep_delete.clone(), n, true)); }>"Delete"</button>
            </div>
            {move || ui.clip_preview.get().filter(|(_, c, _)| *c == n).map(|(op, _, out)| {
                let ep = ep_confirm.clone();
                let (what, confirm) = match op {
                    ClipOp::Regenerate => ("Regenerate moves these files to the trash, then cuts this clip again:", "Regenerate clip"),
                    ClipOp::Delete => ("Delete moves these files to the trash (the other clips stay):", "Delete clip"),
                };
                let r = out.report;
                // The report names the clip's directory; its files are the ones this page knows.
                let mut names: Vec<(String, Option<i64>)> = files.with_value(|fs| {
                    fs.iter().map(|f| (f.url.trim_start_matches("/files/").to_string(), Some(f.bytes))).collect()
                });
                names.extend(thumb.clone().map(|t| (t.trim_start_matches("/files/").to_string(), None)));
                view! {
                    <div class="warning" data-testid="clip-preview">
                        <p>{what}</p>
                        <p data-testid="clip-preview-files">{format!("{} file(s), {} in {}", r.files, format::bytes(r.bytes), r.paths.join(", "))}</p>
                        <ul class="paths">{names.into_iter().map(|(p, b)| view! {
                            <li>{p}{b.map(|b| format!(" ({})", format::bytes(b)))}</li>
                        }).collect_view()}</ul>
                        <button type="button" class="danger" data-testid="clip-confirm"
                            on:click=move |_| { ui.clip.dispatch((op, ep.clone(), n, false)); }>{confirm}</button>
                        <button type="button" on:click=move |_| ui.clip_preview.set(None)>"Not now"</button>
                    </div>
                }
            })}
        </article>
    }
}

/// What the last per-clip action did (or why it was refused).
#[component]
fn ClipResult(ui: EpisodeUi) -> impl IntoView {
    move || {
        let (op, n, res) = ui.clip.value().get()?;
        Some(match res {
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
            Ok(out) if out.report.dry_run => ().into_any(),
            Ok(out) => {
                let r = &out.report;
                let moved = match r.kept_until {
                    Some(until) => format::moved_to_trash(r.paths.len(), until),
                    None => format!("removed {} file(s), {}", r.files, format::bytes(r.bytes)),
                };
                let text = match (op, &out.job) {
                    (ClipOp::Regenerate, Some(job)) => format!(
                        "Clip {n}: {moved}; job #{} {} cuts it again.",
                        job.id, job.state
                    ),
                    (ClipOp::Regenerate, None) => format!("Clip {n}: {moved}; no job was queued."),
                    (ClipOp::Delete, _) => format!("Clip {n} deleted: {moved}."),
                };
                view! {
                    <p class="notice" data-testid="clip-result" data-run=r.run_id.clone()
                        data-job=out.job.as_ref().map(|j| j.id.to_string())>{text}</p>
                }
                .into_any()
            }
        })
    }
}

/// The social posts as packaged, each with its length against its platform's limit.
#[component]
fn SocialPosts(posts: Vec<SocialPost>) -> impl IntoView {
    view! {
        <section class="social-section" aria-labelledby="social-head">
            <h3 id="social-head">"Social posts"</h3>
            {if posts.is_empty() {
                view! { <p class="empty" data-testid="no-social">"No social posts yet: they are written at the “packaged” stage. Process the episode to get them."</p> }.into_any()
            } else {
                view! {
                    <ul class="social">{posts.into_iter().map(|p| {
                        let over = p.chars > p.limit;
                        view! {
                            <li class="post" class:over=over data-testid="social-post" data-platform=p.platform.clone() data-over=over.to_string()>
                                <div class="post-head">
                                    <strong>{p.platform.clone()}</strong>
                                    <span class="chars" data-testid="social-count">{format!("{} / {}", p.chars, p.limit)}</span>
                                    {over.then(|| view! { <span class="badge over-limit">{format!("over the limit by {}", p.chars - p.limit)}</span> })}
                                    {p.clip.clone().map(|c| view! { <span class="muted">{format!("clip: {c}")}</span> })}
                                </div>
                                <p class="post-text">{p.text.clone()}</p>
                            </li>
                        }
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
    }
}
