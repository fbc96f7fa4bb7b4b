//! Live updates over server-sent events (`GET /api/events`, see [`crate::api::events`]): episode state,
//! progress and stuck flags, and cleanup runs, pushed as they happen.
//!
//! A page calls [`use_live`] once; the stream opens after hydration when someone is signed in and closes
//! when the page goes away. Polling stays as the fallback: [`super::widgets::poll_while_active`] polls
//! while the stream is down, and only rarely (a safety net) while it is up.
//!
//! `localStorage['ewg.poll'] = 'off'` (read when a page starts) turns polling off altogether, so that a
//! test can prove updates arrive over the stream alone. Any other value, or none, leaves polling on.

use crate::api::{CleanupRunSummary, EpisodeSummary};
use crate::components::session::use_session;
use leptos::prelude::*;
use std::collections::HashMap;

/// What the stream delivered, for the page to merge into what it fetched.
#[derive(Clone, Copy)]
pub struct Live {
    /// The stream is open; polling can rest.
    pub connected: RwSignal<bool>,
    /// The newest summary per episode that arrived over the stream.
    pub episodes: RwSignal<HashMap<String, EpisodeSummary>>,
    /// Cleanup runs announced over the stream (started or ended), newest first, one per run.
    pub runs: RwSignal<Vec<CleanupRunSummary>>,
    /// The inbox scan's newest status as the stream pushed it: the event's JSON (a `ScanStatus`), parsed
    /// by the page that shows scans, so its decoder is not in every page's first download.
    pub scan: RwSignal<Option<String>>,
    /// Bumped on `resync`: the stream skipped events, refetch what is shown.
    pub resync: RwSignal<u64>,
    /// Set by `session_ended`, with the server's message.
    pub ended: RwSignal<Option<String>>,
}

impl Live {
    /// `runs` (fetched) with the runs the stream announced since: a newer copy replaces the fetched one,
    /// new ones go on top.
    pub fn merge_runs(&self, mut runs: Vec<CleanupRunSummary>) -> Vec<CleanupRunSummary> {
        self.runs.with(|live| {
            for run in live.iter().rev() {
                match runs.iter_mut().find(|r| r.run_id == run.run_id) {
                    Some(r) => *r = run.clone(),
                    None => runs.insert(0, run.clone()),
                }
            }
        });
        runs
    }

    /// `ep`, or the stream's newer copy of it.
    pub fn current(&self, ep: &EpisodeSummary) -> EpisodeSummary {
        self.episodes
            .with(|m| {
                m.get(&ep.id)
                    .filter(|l| l.updated_at >= ep.updated_at)
                    .cloned()
            })
            .unwrap_or_else(|| ep.clone())
    }
}

/// True when `localStorage['ewg.poll'] == 'off'`. Always false during SSR.
pub fn polling_off() -> bool {
    #[cfg(not(feature = "ssr"))]
    {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item("ewg.poll").ok().flatten())
            .is_some_and(|v| v == "off")
    }
    #[cfg(feature = "ssr")]
    false
}

/// Opens the event stream for this page (`episode`: only that episode's events) and provides the
/// [`Live`] state as context, so `poll_while_active` on the same page knows whether to poll.
pub fn use_live(episode: impl Fn() -> Option<String> + Send + Sync + 'static) -> Live {
    let live = Live {
        connected: RwSignal::new(false),
        episodes: RwSignal::new(HashMap::new()),
        runs: RwSignal::new(Vec::new()),
        scan: RwSignal::new(None),
        resync: RwSignal::new(0),
        ended: RwSignal::new(None),
    };
    provide_context(live);
    let session = use_session();
    let signed_in = Memo::new(move |_| matches!(session.me.get(), Some(Ok(Some(_)))));
    Effect::new(move |_| {
        let ep = episode();
        if signed_in.get() {
            connect(live, ep);
        }
    });
    live
}

#[cfg(feature = "ssr")]
fn connect(_live: Live, _episode: Option<String>) {}

#[cfg(not(feature = "ssr"))]
type Handler = Box<dyn FnMut(web_sys::MessageEvent)>;

/// Opens the event stream and routes its events into `live` until the page goes away.
#[cfg(not(feature = "ssr"))]
fn connect(live: Live, episode: Option<String>) {
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    let url = match &episode {
        Some(id) => format!("/api/events?episode={}", crate::url::encode_query_value(id)),
        None => "/api/events".to_string(),
    };
    let Ok(es) = EventSource::new(&url) else {
        return;
    };
    let mut handlers: Vec<Closure<dyn FnMut(MessageEvent)>> = Vec::new();
    for (name, f) in connection_handlers(live, &es)
        .into_iter()
        .chain(data_handlers(live, &es))
    {
        let c = Closure::wrap(f);
        let _ = es.add_event_listener_with_callback(name, c.as_ref().unchecked_ref());
        handlers.push(c);
    }
    let held = StoredValue::new_local(Some((es, handlers)));
    on_cleanup(move || {
        if let Some(Some((es, _handlers))) = held.try_update_value(|h| h.take()) {
            es.close();
        }
        live.connected.set(false);
    });
}

/// Up or down: polling takes over while the stream is down.
#[cfg(not(feature = "ssr"))]
fn connection_handlers(live: Live, es: &web_sys::EventSource) -> Vec<(&'static str, Handler)> {
    let es = es.clone();
    vec![
        ("open", Box::new(move |_| live.connected.set(true))),
        (
            "error",
            Box::new(move |_| {
                // The browser reconnects by itself unless the stream was refused (then it is CLOSED):
                // either way polling takes over until `open` says otherwise.
                live.connected.set(false);
                if es.ready_state() == web_sys::EventSource::CLOSED {
                    leptos::logging::warn!("event stream closed; polling instead");
                }
            }),
        ),
    ]
}

/// What the server says: episodes and cleanup runs as they change, the scan, a resync, a session end.
#[cfg(not(feature = "ssr"))]
fn data_handlers(live: Live, es: &web_sys::EventSource) -> Vec<(&'static str, Handler)> {
    use crate::api::events;
    let data = |ev: &web_sys::MessageEvent| ev.data().as_string().unwrap_or_default();
    let es = es.clone();
    vec![
        (
            events::EPISODE,
            Box::new(
                move |ev| match serde_json::from_str::<EpisodeSummary>(&data(&ev)) {
                    Ok(ep) => live.episodes.update(|m| {
                        let newer = m
                            .get(&ep.id)
                            .is_none_or(|old| ep.updated_at >= old.updated_at);
                        if newer {
                            m.insert(ep.id.clone(), ep);
                        }
                    }),
                    Err(e) => leptos::logging::warn!("bad episode event: {e}"),
                },
            ),
        ),
        (
            events::CLEANUP,
            Box::new(
                move |ev| match serde_json::from_str::<CleanupRunSummary>(&data(&ev)) {
                    Ok(run) => live.runs.update(|runs| {
                        runs.retain(|r| r.run_id != run.run_id);
                        runs.insert(0, run);
                    }),
                    Err(e) => leptos::logging::warn!("bad cleanup event: {e}"),
                },
            ),
        ),
        (
            events::SCAN,
            Box::new(move |ev| live.scan.set(Some(data(&ev)))),
        ),
        (
            events::RESYNC,
            Box::new(move |_| live.resync.update(|n| *n += 1)),
        ),
        (
            events::SESSION_ENDED,
            Box::new(move |ev| {
                #[derive(serde::Deserialize)]
                struct Ended {
                    message: String,
                }
                let message = serde_json::from_str::<Ended>(&data(&ev))
                    .map(|e| e.message)
                    .unwrap_or_else(|_| "your session ended".to_string());
                // Closed here, or the browser would reconnect and be refused.
                es.close();
                live.connected.set(false);
                live.ended.set(Some(message));
            }),
        ),
    ]
}

/// Whether updates arrive live or by polling (a small pill), and "Your session ended — sign in again"
/// when the stream said so.
#[component]
pub fn LiveStatus(live: Live) -> impl IntoView {
    let pill = move || {
        let on = live.connected.get();
        view! {
            <span class="live-status" class:on=on data-testid="live-status" data-connected=on.to_string()
                title=if on { "Updates arrive as they happen (server-sent events)" } else { "Updates arrive by polling" }>
                {if on { "live" } else { "polling" }}
            </span>
        }
    };
    let ended = move || {
        live.ended.get().map(|message| {
            let next = web_path();
            view! {
                <p class="report error session-ended" role="alert" data-testid="session-ended">
                    {format!("Your session ended ({message}) — ")}
                    <a href=format!("/login?next={next}")>"sign in again"</a>
                </p>
            }
        })
    };
    view! { {pill} {ended} }
}

/// The page's path, for coming back after signing in.
fn web_path() -> String {
    #[cfg(not(feature = "ssr"))]
    {
        web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .filter(|p| p.starts_with('/') && !p.starts_with("//"))
            .unwrap_or_else(|| "/".into())
    }
    #[cfg(feature = "ssr")]
    "/".to_string()
}
