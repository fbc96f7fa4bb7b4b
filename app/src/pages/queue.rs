//! The queue (`/queue`, and `/workers`): what each worker is running now, what waits and in which order,
//! counts, and a rough estimate of when the queue is empty from the stage timings of recent attempts.
//! Follows the event stream (a running episode's progress refetches the view at most once a second)
//! and polls while the stream is down.

use super::live::{LiveStatus, polling_off, use_live};
use super::widgets::{ErrorLine, since};
use super::workers::WorkersPanel;
use crate::api::{QueueView, RunningJob, queue};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

/// How often the view may refetch.
const REFRESH_MS: u64 = 1000;

#[component]
pub fn QueuePage() -> impl IntoView {
    let session = use_session();
    let view_data = Resource::new(move || session.refresh.get(), |_| queue());
    let live = use_live(|| None);
    // Events mark the view stale; the tick refetches a stale view (or any view while the stream is down).
    let stale = StoredValue::new(false);
    Effect::new(move |_| {
        live.episodes.track();
        stale.set_value(true);
    });
    Effect::new(move |_| {
        let tick = move || {
            let due = stale.get_value() || (!live.connected.get_untracked() && !polling_off());
            if due && session.polling.get_untracked() {
                stale.set_value(false);
                view_data.refetch();
            }
        };
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(REFRESH_MS))
        {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <LiveStatus live/>
        <header class="page-head"><h2>"Queue"</h2></header>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || view_data.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(q) => view! { <QueueTables q/> }.into_any(),
            })}
        </Transition>
        <div id="workers"><WorkersPanel/></div>
    }
}

fn eta_text(q: &QueueView) -> String {
    match q.eta_ms {
        Some(0) => "nothing to do".into(),
        Some(ms) => format!(
            "about {} (from the average stage times of recent attempts)",
            since(ms)
        ),
        None if q.slots <= 0 => "unknown: no worker is online".into(),
        None => "unknown until an attempt has finished".into(),
    }
}

#[component]
fn QueueTables(q: QueueView) -> impl IntoView {
    let eta = eta_text(&q);
    let mut running = q.running;
    running.sort_by(|a, b| a.worker.cmp(&b.worker).then(a.job.cmp(&b.job)));
    let queued_empty = q.queued.is_empty();
    view! {
        <p class="queue-counts" data-testid="queue-counts" data-running=running.len() data-queued=q.queued.len()>
            <span>{format!("{} running", running.len())}</span>
            <span>{format!("{} queued", q.queued.len())}</span>
            <span>{format!("{} job slot(s) online", q.slots)}</span>
            <span>{format!("{} done, {} failed in 24 h", q.done_today, q.failed_today)}</span>
            <span data-testid="queue-eta">{format!("Queue empty in: {eta}")}</span>
        </p>
        <h3>"Running"</h3>
        {if running.is_empty() {
            view! { <p class="empty" data-testid="queue-running-empty">"Nothing is running."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll"><table class="runs" data-testid="queue-running">
                    <thead><tr><th>"Worker"</th><th>"Episode"</th><th>"Stage"</th><th>"Progress"</th><th>"Since"</th></tr></thead>
                    <tbody>{running.into_iter().map(|r| view! { <RunningRow r/> }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        }}
        <h3>"Queued"</h3>
        {if queued_empty {
            view! { <p class="empty" data-testid="queue-queued-empty">"Nothing waits."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll"><table class="runs" data-testid="queue-queued">
                    <thead><tr><th>"#"</th><th>"Episode"</th><th>"Queued"</th></tr></thead>
                    <tbody>{q.queued.into_iter().map(|j| {
                        let href = format!("/episodes/{}", j.episode);
                        let name = j.episode.clone();
                        view! {
                            <tr data-episode=j.episode>
                                <td>{j.position}</td>
                                <td><A href=href>{name}</A></td>
                                <td>{format::time(j.queued_at)}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        }}
        {(!q.stage_timings.is_empty()).then(|| view! {
            <h3>"Average stage times"</h3>
            <div class="table-scroll"><table class="runs" data-testid="stage-timings">
                <thead><tr><th>"Stage"</th><th>"Average"</th><th>"Attempts"</th></tr></thead>
                <tbody>{q.stage_timings.into_iter().map(|t| view! {
                    <tr><td>{t.stage.as_str()}</td><td>{since(t.avg_ms)}</td><td>{t.samples}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        })}
    }
}

#[component]
fn RunningRow(r: RunningJob) -> impl IntoView {
    let stage = r.stage.map(|s| s.doing()).unwrap_or("starting");
    let percent = r.percent.map(|p| format!("{p}%")).unwrap_or_default();
    let since = r.since.map(format::time).unwrap_or_default();
    let href = format!("/episodes/{}", r.episode);
    let name = r.episode.clone();
    view! {
        <tr data-episode=r.episode>
            <td><code>{r.worker.unwrap_or_else(|| "?".into())}</code></td>
            <td><A href=href>{name}</A></td>
            <td>{stage}</td><td>{percent}</td><td>{since}</td>
        </tr>
    }
}
