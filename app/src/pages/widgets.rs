//! Pieces several pages share.

use crate::api::{ApiError, EpisodeList, EpisodeSummary, JobInfo, ReprocessOutcome};
use crate::components::session::use_session;
use leptos::prelude::*;

/// A server error, readable, next to the action that caused it.
#[component]
pub fn ErrorLine(error: ApiError) -> impl IntoView {
    view! {
        <p class="error" data-testid="error" data-code=format!("{:?}", error.code())>
            {error.to_string()}
        </p>
    }
}

#[component]
pub fn StateBadge(ep: EpisodeSummary) -> impl IntoView {
    let class = format!("badge state-{}", ep.state.as_str());
    view! { <span class=class data-testid="state">{ep.state.as_str()}</span> }
}

#[component]
pub fn ProgressBar(ep: EpisodeSummary) -> impl IntoView {
    let (label, pct) = match &ep.progress {
        Some(p) if ep.state.is_active() => {
            (format!("{} {}%", p.stage.doing(), p.percent), p.percent)
        }
        Some(p) => (format!("{} {}%", p.stage, p.percent), p.percent),
        None if ep.state == crate::api::EpisodeState::Done => ("done".into(), 100),
        None => (String::new(), 0),
    };
    let title = label.clone();
    view! {
        <div class="progress" title=title>
            <div class="bar" style=format!("width:{pct}%")></div>
            <span>{label}</span>
        </div>
    }
}

/// While the event stream is open, polling still runs every this many periods: a stuck flag appears by
/// time passing, not by an event.
pub const SAFETY_EVERY: u64 = 4;

/// While the event stream is down, a list with nothing in progress is still refetched every this many
/// periods: work another client starts shows up without a reload.
pub const IDLE_EVERY: u64 = 4;

/// Refetches `list` every `period_ms` while any listed episode is queued or running, unless Deep Clean
/// has paused polling. While the page's event stream (see [`super::live`]) is open it polls only every
/// [`SAFETY_EVERY`]th period; while the stream is down it also polls a quiet list every
/// [`IDLE_EVERY`]th period, since nothing else would tell it that another client started work; with
/// `localStorage['ewg.poll'] = 'off'` it never polls. The interval stops when the page goes away.
pub fn poll_while_active(list: Resource<Result<EpisodeList, ApiError>>, period_ms: u64) {
    let session = use_session();
    let live = use_context::<super::live::Live>();
    let ticks = StoredValue::new(0u64);
    let tick = move || {
        let busy = list.get_untracked().and_then(|r| r.ok()).is_some_and(|l| {
            l.episodes.iter().any(|e| {
                let e = live.map(|l| l.current(e)).unwrap_or_else(|| e.clone());
                e.state.is_active()
            })
        });
        ticks.update_value(|n| *n += 1);
        let n = ticks.get_value();
        let streaming = live.is_some_and(|l| l.connected.get_untracked());
        let due = match (streaming, busy) {
            (true, busy) => busy && n.is_multiple_of(SAFETY_EVERY),
            (false, true) => true,
            (false, false) => n.is_multiple_of(IDLE_EVERY),
        };
        if due && session.polling.get_untracked() {
            list.refetch();
        }
    };
    Effect::new(move |_| {
        if super::live::polling_off() {
            return;
        }
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(period_ms)) {
            on_cleanup(move || h.clear());
        }
    });
}

/// `12 s`, `4 min`, `2 h 5 min`: how long something has stood still.
pub fn since(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Cancel and Force reprocess for stuck episodes, one pair per page so that a refetch that redraws the
/// list keeps a pending confirmation. Each answer carries the episode it was for. Force reprocess shows
/// what it deletes (a dry run) first.
#[derive(Clone, Copy)]
pub struct StuckActions {
    pub cancel: Action<String, (String, Result<JobInfo, ApiError>)>,
    pub force: Action<(String, bool), (String, Result<ReprocessOutcome, ApiError>)>,
    /// The episode whose force-reprocess preview is showing.
    pub confirming: RwSignal<Option<String>>,
}

impl StuckActions {
    /// `done` runs after a real cancel or force reprocess succeeded (refetch what is shown).
    pub fn new(done: impl Fn() + Send + Sync + 'static) -> Self {
        let cancel = Action::new(|id: &String| {
            let id = id.clone();
            async move { (id.clone(), crate::api::cancel(id).await) }
        });
        let force = Action::new(|(id, dry): &(String, bool)| {
            let (id, dry) = (id.clone(), *dry);
            async move { (id.clone(), crate::api::force_reprocess(id, Some(dry)).await) }
        });
        let confirming = RwSignal::new(None::<String>);
        Effect::new(move |_| {
            let cancelled = matches!(cancel.value().get(), Some((_, Ok(_))));
            let forced = match force.value().get() {
                Some((id, Ok(r))) if r.report.dry_run => {
                    confirming.set(Some(id));
                    false
                }
                Some((_, Ok(_))) => true,
                _ => false,
            };
            if cancelled || forced {
                confirming.set(None);
                done();
            }
        });
        StuckActions {
            cancel,
            force,
            confirming,
        }
    }
}

/// A running episode whose progress has not moved past its stage's limit: the flag, how long, and what
/// to do about it. Nothing for an episode that is not stuck.
#[component]
pub fn StuckFlag(ep: EpisodeSummary, actions: StuckActions) -> impl IntoView {
    let stuck = ep.stuck.clone()?;
    let id = ep.id.clone();
    let text = format!(
        "stuck at {} for {} (limit {})",
        stuck.stage,
        since(stuck.still_ms),
        since(stuck.limit_ms)
    );
    let title = text.clone();
    let (id_cancel, id_force, id_show, id_err) = (id.clone(), id.clone(), id.clone(), id.clone());
    Some(view! {
        <div class="stuck" data-testid="stuck" data-stage=stuck.stage.as_str()>
            <span class="badge state-stuck" title=title>{text}</span>
            <button type="button" data-testid="stuck-cancel" aria-label=format!("Cancel {id}")
                disabled=move || actions.cancel.pending().get()
                on:click=move |_| { actions.cancel.dispatch(id_cancel.clone()); }>"Cancel"</button>
            <button type="button" data-testid="stuck-force" aria-label=format!("Force reprocess {id}")
                on:click=move |_| { actions.force.dispatch((id_force.clone(), true)); }>"Force reprocess"</button>
            {move || {
                let mine = actions.confirming.with(|c| c.as_deref() == Some(id_show.as_str()));
                let preview = actions.force.value().get().and_then(|(_, r)| r.ok()).filter(|r| r.report.dry_run);
                mine.then_some(preview).flatten().map(|r| {
                    let id = id_show.clone();
                    view! {
                        <div class="warning" data-testid="stuck-force-preview">
                            <p>{format!("Force reprocess stops the job and deletes {} file(s):", r.report.paths.len())}</p>
                            <ul class="paths">{r.report.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                            <button type="button" class="danger" data-testid="stuck-force-confirm"
                                on:click=move |_| { actions.force.dispatch((id.clone(), false)); }>"Delete and start again"</button>
                            <button type="button" on:click=move |_| actions.confirming.set(None)>"Keep it"</button>
                        </div>
                    }
                })
            }}
            {move || {
                let cancel_err = actions.cancel.value().get().filter(|(i, _)| *i == id_err).and_then(|(_, r)| r.err());
                let force_err = actions.force.value().get().filter(|(i, _)| *i == id_err).and_then(|(_, r)| r.err());
                cancel_err.or(force_err).map(|e| view! { <ErrorLine error=e/> })
            }}
        </div>
    })
}
