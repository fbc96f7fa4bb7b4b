//! What an episode made: the transcript (searchable), the rendered page, the clips in all four
//! renditions with Regenerate and Delete, the highlight candidates and the social posts.

use super::{ClipOp, EpisodeUi};
use crate::api::{Clip, ClipVariant, EpisodeMedia, SocialPost, TranscriptLine};
use crate::components::format;
use crate::pages::nothing_said;
use crate::pages::widgets::ErrorLine;
use leptos::prelude::*;

/// The transcript, the rendered page, the clips and the social posts.
pub(super) fn episode_media(media: EpisodeMedia, id: String, ui: EpisodeUi) -> AnyView {
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
            <super::clips::ClipManager episode=id.clone() candidates=media.candidates highlights=media.highlights
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
