//! The episode page's clip management, inside its deferred media panels: the scored highlight
//! candidates with why each was chosen (Render one as a clip), every clip's bounds (nudge its start or
//! end by a sentence), and the discovery settings (preset, count) to look for candidates again.
//!
//! Every edit shows its dry run first, then goes through the per-clip path (an audited run, old files to
//! the trash, a clip job); the result says what moved and offers Undo (a restore of that run).

use crate::api::{
    ApiError, ClipEdge, ClipEdit, ClipPreset, DiscoverClipsOutcome, DiscoverySettings,
    HighlightCandidate, MAX_CLIP_COUNT, NudgeWay, SocialPost, discover_clips, nudge_clip,
    render_candidate, restore,
};
use crate::components::format;
use crate::components::session::{Session, use_session};
use crate::pages::widgets::ErrorLine;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// An edit the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Edit {
    /// Candidate `k` (1-based, best first) as a clip.
    Render(u32),
    Nudge(u32, ClipEdge, NudgeWay),
}

/// What the last real edit did, with its run for Undo.
#[derive(Clone, Debug)]
struct Done {
    text: String,
    run_id: String,
    undoable: bool,
}

/// Page-level state of the panel (created by the page, so a refetch that redraws the panel keeps it).
#[derive(Clone, Copy)]
pub struct ClipsUi {
    preview: RwSignal<Option<(Edit, ClipEdit)>>,
    done: RwSignal<Option<Result<Done, ApiError>>>,
    undone: RwSignal<Option<Result<String, ApiError>>>,
    found: RwSignal<Option<Result<DiscoverClipsOutcome, ApiError>>>,
    busy: RwSignal<bool>,
    session: Session,
}

impl ClipsUi {
    pub fn new() -> Self {
        ClipsUi {
            preview: RwSignal::new(None),
            done: RwSignal::new(None),
            undone: RwSignal::new(None),
            found: RwSignal::new(None),
            busy: RwSignal::new(false),
            session: use_session(),
        }
    }

    /// Runs `edit` (a dry run first, then the real one) and records its answer.
    fn run(self, episode: String, edit: Edit, dry: bool) {
        self.busy.set(true);
        spawn_local(async move {
            let res = match edit {
                Edit::Render(k) => render_candidate(episode, k, Some(dry)).await,
                Edit::Nudge(n, e, w) => nudge_clip(episode, n, e, w, Some(dry)).await,
            };
            self.busy.set(false);
            match res {
                Ok(out) if dry => self.preview.set(Some((edit, out))),
                Ok(out) => {
                    self.preview.set(None);
                    self.undone.set(None);
                    self.done.set(Some(Ok(done(edit, &out))));
                    self.session.refetch_all();
                }
                Err(e) => {
                    self.preview.set(None);
                    self.done.set(Some(Err(e)));
                }
            }
        });
    }

    fn undo(self, run_id: String) {
        self.busy.set(true);
        spawn_local(async move {
            let res = restore(run_id, None, Some(false)).await;
            self.busy.set(false);
            let ok = res.is_ok();
            self.undone.set(Some(res.map(|r| {
                format!(
                    "Undone: {} put back from the trash (run {}).",
                    format::plural(r.files, "file"),
                    r.from_run
                )
            })));
            if ok {
                self.session.refetch_all();
            }
        });
    }
}

fn done(edit: Edit, out: &ClipEdit) -> Done {
    let r = &out.report;
    let moved = match r.kept_until {
        Some(until) if !r.paths.is_empty() => {
            format!("{}; ", format::moved_to_trash(r.paths.len(), until))
        }
        _ => String::new(),
    };
    let what = match edit {
        Edit::Render(k) => format!("Candidate {k}"),
        Edit::Nudge(n, e, w) => format!("Clip {n} nudged ({} {})", edge(e), way(w)),
    };
    let job = out
        .job
        .as_ref()
        .map(|j| format!("job #{} ", j.id))
        .unwrap_or_default();
    Done {
        text: format!(
            "{what}: {moved}{job}cuts {}–{} as clip {}.",
            clock(out.start),
            clock(out.end),
            out.clip
        ),
        run_id: r.run_id.clone(),
        undoable: r.kept_until.is_some() && !r.paths.is_empty(),
    }
}

fn edge(e: ClipEdge) -> &'static str {
    match e {
        ClipEdge::Start => "start",
        ClipEdge::End => "end",
    }
}

fn way(w: NudgeWay) -> &'static str {
    match w {
        NudgeWay::Earlier => "earlier",
        NudgeWay::Later => "later",
    }
}

/// `m:ss` for a position in the episode.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The panel: candidates, clip bounds, discovery settings, the pending preview and the last result.
#[component]
pub fn ClipManager(
    episode: String,
    candidates: Vec<HighlightCandidate>,
    highlights: Vec<HighlightCandidate>,
    /// Clip numbers whose files exist, with each clip's own posts.
    rendered: Vec<(u32, Vec<SocialPost>)>,
    note: Option<String>,
    discovery: Option<DiscoverySettings>,
    ui: ClipsUi,
) -> impl IntoView {
    let ep = StoredValue::new(episode);
    let cut: Vec<u32> = rendered.iter().map(|(n, _)| *n).collect();
    view! {
        <section class="candidates-section" aria-labelledby="candidates-head">
            <h3 id="candidates-head">"Highlight candidates"</h3>
            {note.map(|n| view! { <p class="notice" data-testid="highlight-note">{n}</p> })}
            <EditPreview ep ui/>
            <EditResult ui/>
            {if candidates.is_empty() {
                view! { <p class="empty" data-testid="no-candidates">"No highlight candidates yet: they are scored at the “enriched” stage."</p> }.into_any()
            } else {
                view! {
                    <ol class="candidates" data-testid="candidates">{candidates.into_iter().enumerate().map(|(i, c)| {
                        let k = i as u32 + 1;
                        let live = c.clip.filter(|n| cut.contains(n));
                        view! {
                            <li class="candidate" data-testid="candidate" data-clip=c.clip.map(|n| n.to_string()).unwrap_or_default()>
                                <span class="when">{format!("{}–{} ({:.0} s)", clock(c.start), clock(c.end), c.end - c.start)}</span>
                                {c.clip.map(|n| view! { " " <span class="badge" data-testid="candidate-clip">{format!("clip {n}")}</span> })}
                                " " <span class="muted">{format!("score {:.2}", c.score)}</span>
                                {live.is_none().then(|| view! { " " <button type="button" data-testid="candidate-render" disabled=move || ui.busy.get()
                                    on:click=move |_| ui.run(ep.get_value(), Edit::Render(k), true)>"Render as a clip"</button> })}
                                <p class="why" data-testid="candidate-why">{c.why}</p>
                                <p class="said">{c.text}</p>
                            </li>
                        }
                    }).collect_view()}</ol>
                }.into_any()
            }}
            <ClipBounds highlights rendered ep ui/>
            <Rediscover discovery ep ui/>
        </section>
    }
}

/// Every clip the enrichment knows, with its bounds and why, and the four nudges.
#[component]
fn ClipBounds(
    highlights: Vec<HighlightCandidate>,
    rendered: Vec<(u32, Vec<SocialPost>)>,
    ep: StoredValue<String>,
    ui: ClipsUi,
) -> impl IntoView {
    let nudges = [
        (ClipEdge::Start, NudgeWay::Earlier, "Start ◀"),
        (ClipEdge::Start, NudgeWay::Later, "Start ▶"),
        (ClipEdge::End, NudgeWay::Earlier, "End ◀"),
        (ClipEdge::End, NudgeWay::Later, "End ▶"),
    ];
    (!highlights.is_empty()).then(|| view! {
        <h4>"Clip bounds"</h4>
        <ul class="clip-bounds" data-testid="clip-bounds">{highlights.into_iter().filter_map(|h| {
            let n = h.clip?;
            let posts = rendered.iter().find(|(c, _)| *c == n).map(|(_, p)| p.clone());
            let live = posts.is_some();
            Some(view! {
                <li data-testid="clip-bound" data-clip=n data-start=h.start.to_string() data-end=h.end.to_string()>
                    <strong>{format!("Clip {n}")}</strong>
                    {format!(" {}–{} ({:.0} s) ", clock(h.start), clock(h.end), h.end - h.start)}
                    {(!live).then(|| view! { <span class="badge">"dropped"</span> " " })}
                    {nudges.map(|(e, w, label)| view! {
                        <button type="button" data-testid=format!("nudge-{}-{}", edge(e), way(w)) disabled=move || ui.busy.get()
                            title=format!("Move clip {n}'s {} one sentence {}", edge(e), way(w))
                            on:click=move |_| ui.run(ep.get_value(), Edit::Nudge(n, e, w), true)>{label}</button>
                    }).into_iter().collect_view()}
                    <p class="why muted">{h.why}</p>
                    {posts.filter(|p| !p.is_empty()).map(|posts| view! {
                        <details class="clip-posts" data-testid="clip-posts">
                            <summary>{format!("Clip {n}'s posts ({})", posts.len())}</summary>
                            <ul class="social">{posts.into_iter().map(|p| view! {
                                <li class="post" data-platform=p.platform.clone()>
                                    <strong>{p.platform.clone()}</strong>" "
                                    <span class="chars">{format!("{} / {}", p.chars, p.limit)}</span>
                                    <p class="post-text">{p.text}</p>
                                </li>
                            }).collect_view()}</ul>
                        </details>
                    })}
                </li>
            })
        }).collect_view()}</ul>
    })
}

/// The dry run of the pending edit, with its confirm.
#[component]
fn EditPreview(ep: StoredValue<String>, ui: ClipsUi) -> impl IntoView {
    move || {
        let (edit, out) = ui.preview.get()?;
        let r = &out.report;
        let trashed = if r.paths.is_empty() {
            "Nothing moves to the trash".to_string()
        } else {
            format!(
                "{} file(s) of {} move to the trash (restorable)",
                r.files,
                r.paths.join(", ")
            )
        };
        let text = format!(
            "{trashed}; a clip job cuts {}–{} ({:.0} s) as clip {}.",
            clock(out.start),
            clock(out.end),
            out.end - out.start,
            out.clip
        );
        Some(view! {
            <div class="warning" data-testid="clip-edit-preview">
                <p>{text}</p>
                <button type="button" class="danger" data-testid="clip-edit-confirm" disabled=move || ui.busy.get()
                    on:click=move |_| ui.run(ep.get_value(), edit, false)>"Go ahead"</button>
                <button type="button" on:click=move |_| ui.preview.set(None)>"Not now"</button>
            </div>
        })
    }
}

/// What the last edit did, with Undo; or why it was refused.
#[component]
fn EditResult(ui: ClipsUi) -> impl IntoView {
    move || {
        let view = match ui.done.get()? {
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
            Ok(d) => {
                let run = d.run_id.clone();
                view! {
                    <p class="notice" data-testid="clip-edit-result" data-run=d.run_id.clone()>
                        {d.text}
                        {d.undoable.then(|| view! { " " <button type="button" data-testid="clip-edit-undo" disabled=move || ui.busy.get()
                            on:click=move |_| ui.undo(run.clone())>"Undo"</button> })}
                    </p>
                    {move || ui.undone.get().map(|r| match r {
                        Ok(t) => view! { <p class="notice" data-testid="clip-edit-undone">{t}</p> }.into_any(),
                        Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                    })}
                }
                .into_any()
            }
        };
        Some(view)
    }
}

/// Look for candidates again with another length preset and count; the rendered clips stay.
#[component]
fn Rediscover(
    discovery: Option<DiscoverySettings>,
    ep: StoredValue<String>,
    ui: ClipsUi,
) -> impl IntoView {
    let d = discovery.unwrap_or_default();
    let preset = RwSignal::new(d.preset);
    let count = RwSignal::new(d.count.max(1));
    let ask = move |dry: bool| {
        let (episode, p, c) = (
            ep.get_value(),
            preset.get_untracked(),
            count.get_untracked(),
        );
        ui.busy.set(true);
        spawn_local(async move {
            let res = discover_clips(episode, Some(p), Some(c), Some(dry)).await;
            ui.busy.set(false);
            let real = res.as_ref().is_ok_and(|o| !o.dry_run);
            ui.found.set(Some(res));
            if real {
                ui.session.refetch_all();
            }
        });
    };
    view! {
        <h4>"Look for candidates again"</h4>
        <div class="discover-form">
            <label>"Length " <select data-testid="discover-preset" on:change=move |ev| {
                if let Some(p) = ClipPreset::parse(&event_target_value(&ev)) { preset.set(p) }
            }>{ClipPreset::ALL.map(|p| view! {
                <option value=p.as_str() selected=move || preset.get() == p>{p.label()}</option>
            }).into_iter().collect_view()}</select></label>
            <label>" Clips " <input type="number" min="1" max=MAX_CLIP_COUNT.to_string() data-testid="discover-count"
                prop:value=move || count.get().to_string()
                on:input=move |ev| if let Ok(n) = event_target_value(&ev).parse() { count.set(n) }/></label>
            " " <button type="button" data-testid="discover-preview" disabled=move || ui.busy.get() on:click=move |_| ask(true)>"Preview"</button>
            " " <button type="button" data-testid="discover-apply" disabled=move || ui.busy.get() on:click=move |_| ask(false)>"Use these settings"</button>
        </div>
        {move || ui.found.get().map(|r| match r {
            Ok(o) => view! {
                <p class="notice" data-testid="discover-result">{format!(
                    "{} candidate(s) of {}{}{}",
                    o.candidates.len(),
                    o.discovery.preset.label(),
                    if o.dry_run { " would be listed (a preview: nothing kept)" } else { " listed; the rendered clips stay" },
                    o.note.map(|n| format!(". {n}")).unwrap_or_default()
                )}</p>
            }.into_any(),
            Err(e) => view! { <ErrorLine error=e/> }.into_any(),
        })}
    }
}
