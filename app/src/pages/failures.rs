//! Failures grouped by cause (stage and normalised error), with "Retry group with cleanup" and "Clean
//! group": each shows its dry run (paths and file count) first and acts only on a confirm. Both the dry
//! run and the confirm send the episodes the card shows (`previewed`): when the group changed meanwhile
//! the server answers 409 naming who joined or left, and the list is fetched again.

use super::live::Live;
use super::widgets::ErrorLine;
use crate::api::{
    ApiError, CleanupReport, EpisodeState, ErrorCode, FailureGroup, RetryOutcome, cleanup_failed,
    failure_groups, retry_failed,
};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupOp {
    Retry,
    Clean,
}

impl GroupOp {
    fn as_str(self) -> &'static str {
        match self {
            GroupOp::Retry => "retry",
            GroupOp::Clean => "clean",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum GroupOutcome {
    Retry(RetryOutcome),
    Clean(CleanupReport),
}

impl GroupOutcome {
    fn report(&self) -> &CleanupReport {
        match self {
            GroupOutcome::Retry(r) => &r.report,
            GroupOutcome::Clean(r) => r,
        }
    }
}

/// A dry run waiting for its confirm: the operation, the group, the episodes it was asked for (sent
/// again with the confirm), and its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    op: GroupOp,
    key: String,
    shown: Vec<String>,
    out: GroupOutcome,
}

/// What a group action asks: the operation, the group key, the episodes shown (sent as `previewed`),
/// and whether it is the dry run.
type GroupAsk = (GroupOp, String, Vec<String>, bool);
/// What it got: the same operation, key and episodes (kept for the confirm), and the answer.
type GroupAnswer = (GroupOp, String, Vec<String>, Result<GroupOutcome, ApiError>);
type GroupAction = Action<GroupAsk, GroupAnswer>;

/// The failure groups panel (nothing when nothing failed), loaded once the dashboard has hydrated
/// (`dashboard::dashboard_part`).
pub fn failure_groups_panel(live: Live) -> AnyView {
    view! { <FailureGroupsPanel live/> }.into_any()
}

/// A group's retry or cleanup (a dry run first), sent with the episodes the panel showed as
/// `previewed`, so the server refuses if the group changed since.
fn group_action() -> GroupAction {
    Action::new(|(op, key, shown, dry): &GroupAsk| {
        let (op, key, shown, dry) = (*op, key.clone(), shown.clone(), *dry);
        async move {
            let previewed = Some(shown.clone());
            let res = match op {
                GroupOp::Retry => retry_failed(None, Some(key.clone()), previewed, Some(dry))
                    .await
                    .map(GroupOutcome::Retry),
                GroupOp::Clean => cleanup_failed(None, Some(key.clone()), previewed, Some(dry))
                    .await
                    .map(GroupOutcome::Clean),
            };
            (op, key, shown, res)
        }
    })
}

#[component]
fn FailureGroupsPanel(live: Live) -> impl IntoView {
    let session = use_session();
    let bump = RwSignal::new(0u64);
    let groups = Resource::new(
        move || (session.refresh.get(), bump.get()),
        |_| failure_groups(),
    );
    // Refetch when an episode's state changes over the stream (a new failure, a retried one finishing).
    let states = Memo::new(move |_| {
        live.episodes.with(|m| {
            let mut v: Vec<(String, EpisodeState)> =
                m.values().map(|e| (e.id.clone(), e.state)).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        })
    });
    Effect::new(move |prev: Option<()>| {
        states.track();
        if prev.is_some() {
            bump.update(|n| *n += 1);
        }
    });

    let act = group_action();
    // The dry run waiting for a confirm, if any, with the episodes it was asked for.
    let preview = RwSignal::new(None::<Preview>);
    Effect::new(move |_| match act.value().get() {
        Some((op, key, shown, Ok(out))) if out.report().dry_run => preview.set(Some(Preview {
            op,
            key,
            shown,
            out,
        })),
        Some((_, _, _, Ok(_))) => {
            preview.set(None);
            bump.update(|n| *n += 1);
            session.refetch_all();
        }
        // The group changed since it was shown: what was previewed is not what would be done.
        Some((_, _, _, Err(e))) if e.code() == ErrorCode::Conflict => {
            preview.set(None);
            bump.update(|n| *n += 1);
        }
        _ => {}
    });

    view! {
        <Transition fallback=|| ()>
            {move || groups.get().map(|res| match res {
                // The list below already says what is wrong (not signed in, the server down).
                Err(_) => ().into_any(),
                Ok(list) if list.groups.is_empty() => view! {
                    {move || outcome_line(act)}
                }.into_any(),
                Ok(list) => view! {
                    <section class="failures" data-testid="failure-groups" aria-labelledby="failures-head">
                        <h3 id="failures-head">{format!("Failures: {} episode(s) in {} group(s)", list.failed, list.groups.len())}</h3>
                        <ul class="groups">
                            {list.groups.into_iter().map(|g| view! { <GroupCard g act preview/> }).collect_view()}
                        </ul>
                        {move || outcome_line(act)}
                    </section>
                }.into_any(),
            })}
        </Transition>
    }
}

/// One group: stage, signature, count, newest example, the two actions and a pending preview.
#[component]
fn GroupCard(
    g: FailureGroup,
    act: GroupAction,
    preview: RwSignal<Option<Preview>>,
) -> impl IntoView {
    let key = g.key.clone();
    let (k_retry, k_clean, k_show, k_err) = (key.clone(), key.clone(), key.clone(), key.clone());
    let example_href = format!("/episodes/{}", g.example.episode);
    let more = g.episodes.len().saturating_sub(1);
    let (shown_retry, shown_clean) = (g.episodes.clone(), g.episodes.clone());
    view! {
        <li class="group" data-testid="failure-group" data-key=key.clone() data-stage=g.stage.as_str()>
            <div class="group-head">
                <span class="badge state-failed">{g.stage.as_str()}</span>
                <strong class="count" data-testid="group-count">{format!("{} episode(s)", g.count)}</strong>
                <code class="signature" data-testid="group-signature">{g.signature.clone()}</code>
            </div>
            <p class="example">
                "Newest: " <A href=example_href>{g.example.episode.clone()}</A>
                {format!(" at {} UTC — {}", format::time(g.example.failed_at), g.example.error)}
                {(more > 0).then(|| format!(" (and {more} more)"))}
            </p>
            <div class="group-actions">
                <button type="button" data-testid="group-retry" disabled=move || act.pending().get()
                    on:click=move |_| { act.dispatch((GroupOp::Retry, k_retry.clone(), shown_retry.clone(), true)); }>"Retry group with cleanup"</button>
                <button type="button" data-testid="group-clean" disabled=move || act.pending().get()
                    on:click=move |_| { act.dispatch((GroupOp::Clean, k_clean.clone(), shown_clean.clone(), true)); }>"Clean group"</button>
            </div>
            {move || preview.get().filter(|p| p.key == k_show).map(|Preview { op, key, shown, out }| {
                let r = out.report().clone();
                let what = match op {
                    GroupOp::Retry => "Retry with cleanup removes what each failed attempt left, checks it is gone, then queues every episode in the group again:",
                    GroupOp::Clean => "Clean moves the episodes' derived files to the trash (transcripts and audio stay) and sets them back to idle:",
                };
                let confirm = match op {
                    GroupOp::Retry => "Clean and retry",
                    GroupOp::Clean => "Clean these episodes",
                };
                view! {
                    <div class="warning" data-testid="group-preview" data-op=op.as_str()>
                        <p>{what}</p>
                        <p data-testid="group-preview-files">{format!("{} file(s), {} in {}", r.files, format::bytes(r.bytes), format::plural(r.paths.len() as i64, "path"))}</p>
                        {if r.paths.is_empty() {
                            view! { <p class="muted">"No files left behind: nothing to delete."</p> }.into_any()
                        } else {
                            view! { <ul class="paths">{r.paths.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul> }.into_any()
                        }}
                        <button type="button" class="danger" data-testid="group-confirm"
                            on:click=move |_| { act.dispatch((op, key.clone(), shown.clone(), false)); }>{confirm}</button>
                        <button type="button" on:click=move |_| preview.set(None)>"Not now"</button>
                    </div>
                }
            })}
            {move || act.value().get().and_then(|(_, k, _, r)| (k == k_err).then_some(r)).and_then(|r| r.err())
                .map(|e| view! { <ErrorLine error=e/> })}
        </li>
    }
}

/// What the last real group action did.
fn outcome_line(act: GroupAction) -> Option<impl IntoView> {
    let (_, _, _, res) = act.value().get()?;
    let out = res.ok()?;
    let r = out.report();
    if r.dry_run {
        return None;
    }
    let trashed = match r.kept_until {
        Some(until) => format::moved_to_trash(r.paths.len(), until),
        None => format!("removed {} file(s), {}", r.files, format::bytes(r.bytes)),
    };
    let text = match &out {
        GroupOutcome::Retry(o) => format!("Retry: {trashed}; queued {} job(s).", o.jobs.len()),
        GroupOutcome::Clean(_) => format!("Clean: {trashed}; result {}.", r.result.as_str()),
    };
    Some(view! { <p class="notice" data-testid="group-result">{text}</p> })
}
