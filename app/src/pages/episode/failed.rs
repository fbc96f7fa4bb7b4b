//! A failed episode's own Retry with cleanup and Force reprocess, beside its failure. Each shows its dry
//! run first (what goes to the trash) and acts on a confirm, as the dashboard's failure groups and the
//! stuck flag do; then the page shows the new job. The actions live with the page (a [`PageSlot`] and
//! [`StuckActions`]), so a refetch that redraws the episode keeps a pending preview and the outcome.

use crate::api::{ApiError, CleanupReport, EpisodeState, EpisodeSummary, JobInfo, RetryOutcome};
use crate::components::format;
use crate::pages::deferred::PageSlot;
use crate::pages::widgets::{ErrorLine, StuckActions};
use leptos::prelude::*;

/// (episode, dry run) → (episode, answer).
type Retry = Action<(String, bool), (String, Result<RetryOutcome, ApiError>)>;

/// Retry with cleanup of one failed episode, kept by the page.
#[derive(Clone, Copy)]
pub struct RetryAction {
    act: Retry,
    /// The episode whose retry preview is showing.
    confirming: RwSignal<Option<String>>,
}

impl RetryAction {
    /// `done` runs after a real retry queued the episode again (refetch what is shown).
    pub fn new(done: impl Fn() + Send + Sync + 'static) -> Self {
        let act: Retry = Action::new(|(id, dry): &(String, bool)| {
            let (id, dry) = (id.clone(), *dry);
            async move {
                let res = crate::api::retry_failed(Some(vec![id.clone()]), None, None, Some(dry));
                (id, res.await)
            }
        });
        let confirming = RwSignal::new(None::<String>);
        Effect::new(move |_| match act.value().get() {
            Some((id, Ok(r))) if r.report.dry_run => confirming.set(Some(id)),
            Some((_, Ok(_))) => {
                confirming.set(None);
                done();
            }
            _ => {}
        });
        RetryAction { act, confirming }
    }
}

/// Retry and Force reprocess for the episode `cur` while it is failed, and what the last one did. Loaded
/// once the page has hydrated (`episode::episode_part`).
pub fn failed_panel(
    cur: Memo<EpisodeSummary>,
    retry: PageSlot<RetryAction>,
    force: StuckActions,
    refetch: Callback<()>,
) -> AnyView {
    let retry = retry.get_or_init(|| RetryAction::new(move || refetch.run(())));
    view! { <FailedPanel cur retry force/> }.into_any()
}

#[component]
fn FailedPanel(
    cur: Memo<EpisodeSummary>,
    retry: RetryAction,
    force: StuckActions,
) -> impl IntoView {
    let id = move || cur.with(|e| e.id.clone());
    let failed = move || cur.with(|e| e.state == EpisodeState::Failed);
    let busy = move || retry.act.pending().get() || force.force.pending().get();
    view! {
        <Show when=failed>
            <div class="failed-actions" data-testid="failed-actions">
                <button type="button" data-testid="episode-retry" disabled=busy
                    title="Remove what the failed attempt left, check it is gone, then queue the episode again"
                    on:click=move |_| { force.confirming.set(None); retry.act.dispatch((id(), true)); }>"Retry with cleanup"</button>
                <button type="button" data-testid="episode-force" disabled=busy
                    title="Remove everything derived from this episode and process it from the start"
                    on:click=move |_| { retry.confirming.set(None); force.force.dispatch((id(), true)); }>"Force reprocess"</button>
                {move || retry_preview(id(), retry)}
                {move || force_preview(id(), force)}
            </div>
        </Show>
        {move || outcome(id(), retry, force)}
    }
}

/// The retry's dry run, waiting for its confirm.
fn retry_preview(id: String, retry: RetryAction) -> Option<impl IntoView> {
    if retry.confirming.with(|c| c.as_deref() != Some(id.as_str())) {
        return None;
    }
    let (_, res) = retry.act.value().get()?;
    let r = res.ok().filter(|r| r.report.dry_run)?.report;
    Some(view! {
        <div class="warning" data-testid="episode-retry-preview">
            <p>"Retry with cleanup moves what the failed attempt left to the trash, checks it is gone, then queues the episode again:"</p>
            <Paths r=r/>
            <button type="button" class="danger" data-testid="episode-retry-confirm"
                on:click=move |_| { retry.act.dispatch((id.clone(), false)); }>"Clean and retry"</button>
            <button type="button" on:click=move |_| retry.confirming.set(None)>"Not now"</button>
        </div>
    })
}

/// Force reprocess's dry run, waiting for its confirm.
fn force_preview(id: String, force: StuckActions) -> Option<impl IntoView> {
    if force.confirming.with(|c| c.as_deref() != Some(id.as_str())) {
        return None;
    }
    let (_, res) = force.force.value().get()?;
    let r = res.ok().filter(|r| r.report.dry_run)?.report;
    Some(view! {
        <div class="warning" data-testid="episode-force-preview">
            <p>"Force reprocess moves everything derived from this episode to the trash and processes it from the start:"</p>
            <Paths r=r/>
            <button type="button" class="danger" data-testid="episode-force-confirm"
                on:click=move |_| { force.force.dispatch((id.clone(), false)); }>"Delete and start again"</button>
            <button type="button" on:click=move |_| force.confirming.set(None)>"Not now"</button>
        </div>
    })
}

#[component]
fn Paths(r: CleanupReport) -> impl IntoView {
    view! {
        <p>{format!("{} file(s), {}:", r.files, format::bytes(r.bytes))}</p>
        {if r.paths.is_empty() {
            view! { <p class="muted">"Nothing is left on disk to remove."</p> }.into_any()
        } else {
            view! { <ul class="paths">{r.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul> }.into_any()
        }}
    }
}

/// What the last real retry or force reprocess of this episode did (the job it queued), or why it was
/// refused.
fn outcome(id: String, retry: RetryAction, force: StuckActions) -> Option<AnyView> {
    let retried = retry
        .act
        .value()
        .get()
        .filter(|(i, _)| *i == id)
        .map(|(_, r)| r.map(|o| ("Retry", o.report, o.jobs.into_iter().next())));
    let forced = force
        .force
        .value()
        .get()
        .filter(|(i, _)| *i == id)
        .map(|(_, r)| r.map(|o| ("Force reprocess", o.report, o.job)));
    // The later of the two: the one whose action is not the older answer. Only one runs at a time, and
    // each button clears the other's preview, so at most one answer is current for the operator.
    let last = if force.force.version().get() > retry.act.version().get() {
        forced.or(retried)
    } else {
        retried.or(forced)
    }?;
    Some(match last {
        Err(e) => view! { <ErrorLine error=e/> }.into_any(),
        Ok((_, r, _)) if r.dry_run => ().into_any(),
        Ok((what, r, job)) => view! { <Queued what r job/> }.into_any(),
    })
}

#[component]
fn Queued(what: &'static str, r: CleanupReport, job: Option<JobInfo>) -> impl IntoView {
    let moved = match r.kept_until {
        Some(until) => format::moved_to_trash(r.paths.len(), until),
        None => format!("removed {} file(s), {}", r.files, format::bytes(r.bytes)),
    };
    let queued = match &job {
        Some(j) => format!("job #{} queued (attempt {})", j.id, j.attempt),
        None => "no job was queued".to_string(),
    };
    view! {
        <p class="notice" data-testid="episode-requeued" data-job=job.map(|j| j.id.to_string())>
            {format!("{what}: {moved}; {queued}.")}
        </p>
    }
}
