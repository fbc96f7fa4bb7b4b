//! One episode: stages, artifacts, error, clip previews, cleanup history, and per-episode cleanup with a
//! dry-run preview before anything is deleted.

use super::widgets::{ErrorLine, ProgressBar, StateBadge};
use crate::api::{CleanupReport, EpisodeDetail, cleanup_episode, episode};
use crate::cache::{self, Group};
use crate::components::format;
use crate::components::session::use_studio;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EpisodePage() -> impl IntoView {
    let studio = use_studio();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let detail = Resource::new(move || (studio.refresh.get(), id()), |(_, id)| episode(id));
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            cache::write_stamped(Group::Cache, &format!("episode:{}", d.episode.id), &d);
        }
    });

    let include_transcripts = RwSignal::new(false);
    let include_audio = RwSignal::new(false);
    let clean = Action::new(|(id, t, a, dry): &(String, bool, bool, bool)| {
        cleanup_episode(id.clone(), Some(*t), Some(*a), Some(*dry))
    });
    let preview = RwSignal::new(None::<CleanupReport>);
    Effect::new(move |_| match clean.value().get() {
        Some(Ok(r)) if r.dry_run => preview.set(Some(r)),
        Some(Ok(_)) => {
            preview.set(None);
            studio.refetch_all();
        }
        _ => {}
    });
    let ask = move |dry: bool| {
        clean.dispatch((
            id(),
            include_transcripts.get_untracked(),
            include_audio.get_untracked(),
            dry,
        ))
    };

    view! {
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || detail.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(d) => view! { <EpisodeView d=d/> }.into_any(),
            })}
        </Transition>
        <section class="cleanup">
            <h3>"Clean up this episode"</h3>
            <label><input type="checkbox" prop:checked=include_transcripts on:change=move |ev| include_transcripts.set(event_target_checked(&ev))/>" include transcripts"</label>
            <label><input type="checkbox" prop:checked=include_audio on:change=move |ev| include_audio.set(event_target_checked(&ev))/>" include audio"</label>
            <button data-testid="cleanup-preview" on:click=move |_| { ask(true); }>"Preview cleanup"</button>
            {move || preview.get().map(|r| view! {
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
        </section>
    }
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

/// The episode as the registry knows it: state, failure, stages, clips, artifacts, cleanup history.
#[component]
fn EpisodeView(d: EpisodeDetail) -> impl IntoView {
    let ep = d.episode.clone();
    view! {
            <header class="page-head">
                <h2 data-testid="episode-title">{ep.title.clone()}</h2>
                <StateBadge ep=ep.clone()/>
            </header>
            <p class="muted">{ep.id.clone()} " · " {d.source_path.clone()} " · attempt " {ep.attempt}</p>
            <ProgressBar ep=ep.clone()/>
            {ep.error.clone().map(|e| view! {
                <div class="report error" data-testid="episode-failure">
                    <strong>{format!("Failed at {}: ", ep.failed_stage.map(|s| s.as_str()).unwrap_or("?"))}</strong>{e}
                </div>
            })}
            <h3>"Stages"</h3>
            <ul class="stages">{d.stages.iter().map(|s| view! {
                <li>{s.stage.as_str()} " — " {format::time(s.finished_at)}</li>
            }).collect_view()}</ul>
            <h3>"Clips"</h3>
            <div class="clips">{d.artifacts.iter().filter(|a| a.path.ends_with("/16x9_subtitled.mp4")).map(|a| {
                let poster = a.path.replace("16x9_subtitled.mp4", "thumb.jpg");
                view! {
                    <video controls preload="none" src=format!("/files/{}", a.path)
                        poster=format!("/files/{poster}") title=a.path.clone()></video>
                }
            }).collect_view()}</div>
            <h3>"Artifacts"</h3>
            <table class="artifacts" data-testid="artifacts">
                <thead><tr><th>"Kind"</th><th>"Path"</th><th>"Size"</th><th>"Attempt"</th></tr></thead>
                <tbody>{d.artifacts.iter().map(|a| view! {
                    <tr><td>{a.kind.clone()}</td><td><code>{a.path.clone()}</code></td><td>{format::bytes(a.bytes)}</td><td>{a.attempt}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <h3>"Cleanup history"</h3>
            <ul class="runs">{d.cleanup_runs.iter().map(|r| view! {
                <li>{format!("{} · {} by {} · {} · {} files, {}{}", format::time(r.started_at), r.trigger, r.actor,
                    r.result.as_str(), r.files, format::bytes(r.bytes), if r.dry_run { " (dry run)" } else { "" })}</li>
            }).collect_view()}</ul>
    }
}
