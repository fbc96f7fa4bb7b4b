//! "Scan inbox" and its progress. The scan runs on the server in the background: the button answers at
//! once, the counts arrive over the event stream (`scan` events), or by polling `scan_status` while the
//! stream is down, and the list refreshes when the scan ends. A scan someone else started shows too.

use super::live::{Live, polling_off};
use super::widgets::ErrorLine;
use crate::api::{ScanState, ScanStatus, discover, scan_now};
use crate::components::session::use_session;
use leptos::prelude::*;

/// How often the status is polled while a scan runs and the event stream is down.
const POLL_MS: u64 = 1000;

/// Whether `new` should replace `old`: a later scan, or further along in the same one (events and
/// polled answers may arrive out of order, and a finished scan never goes back to running).
fn newer(old: Option<&ScanStatus>, new: &ScanStatus) -> bool {
    let Some(old) = old else { return true };
    if old.id != new.id {
        return new.started_at >= old.started_at;
    }
    match (old.running(), new.running()) {
        (false, true) => false,
        (true, false) => true,
        _ => new.probed >= old.probed,
    }
}

/// The page's scan: its newest status and the action that starts one (the header's button and the first
/// step both use it).
#[derive(Clone, Copy)]
pub struct Scan {
    pub status: RwSignal<Option<ScanStatus>>,
    pub start: Action<(), Result<ScanStatus, crate::api::ApiError>>,
}

impl Scan {
    pub fn new() -> Self {
        Scan {
            status: RwSignal::new(None),
            start: Action::new(|_: &()| discover(None)),
        }
    }

    pub fn running(&self) -> bool {
        self.status
            .with(|s| s.as_ref().is_some_and(|s| s.running()))
    }
}

/// The Scan inbox button. Following the scan is `follow`'s, which loads after hydration.
#[component]
pub fn ScanInbox(scan: Scan) -> impl IntoView {
    let running = move || scan.running();
    view! {
        <button data-testid="discover" disabled=running on:click=move |_| { scan.start.dispatch(()); }>
            {move || if running() { "Scanning…" } else { "Scan inbox" }}
        </button>
    }
}

/// Follows the scan (the page's own start, events, else polling) into `scan.status`, and refreshes the
/// list when it ends. Part of the dashboard's deferred code (`dashboard::dashboard_part`): until then
/// the button works and a start's answer waits in its action, which the first run here reads.
pub fn follow(scan: Scan, live: Live) {
    let session = use_session();
    let Scan { status, start } = scan;
    // A finished scan shows only when this page followed it: an old scan's report is not news.
    let take = move |s: ScanStatus| {
        let following = status.with_untracked(|o| o.as_ref().is_some_and(|o| o.id == s.id));
        if (s.running() || following) && status.with_untracked(|old| newer(old.as_ref(), &s)) {
            status.set(Some(s));
        }
    };
    let poll = Action::new(|_: &()| scan_now());
    Effect::new(move |_| {
        // The page's own start is followed even when it finished before the answer arrived.
        if let Some(Ok(s)) = start.value().get()
            && status.with_untracked(|old| newer(old.as_ref(), &s))
        {
            status.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(s))) = poll.value().get() {
            take(s);
        }
    });
    Effect::new(move |_| {
        if let Some(raw) = live.scan.get() {
            match serde_json::from_str::<ScanStatus>(&raw) {
                Ok(s) => take(s),
                Err(e) => leptos::logging::warn!("bad scan event: {e}"),
            }
        }
    });
    // A scan started elsewhere (another tab, the CLI is another process and does not show) is shown too.
    Effect::new(move |_| {
        poll.dispatch(());
    });
    Effect::new(move |_| {
        if polling_off() {
            return;
        }
        let tick = move || {
            let running = status.with_untracked(|s| s.as_ref().is_some_and(|s| s.running()));
            if running && !live.connected.get_untracked() {
                poll.dispatch(());
            }
        };
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(POLL_MS)) {
            on_cleanup(move || h.clear());
        }
    });
    // The list shows what the scan added once it ends.
    Effect::new(move |prev: Option<Option<String>>| {
        let ended = status.with(|s| s.as_ref().filter(|s| !s.running()).map(|s| s.id.clone()));
        if prev.is_some_and(|p| p != ended) && ended.is_some() {
            session.refetch_all();
        }
        ended
    });
}

/// What the scan is doing, or did; below the page's header.
#[component]
pub fn ScanResult(scan: Scan) -> impl IntoView {
    view! {
        {move || scan.start.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorLine error=e/> })}
        {move || scan.status.get().map(|s| view! { <ScanReport s/> })}
    }
}

#[component]
fn ScanReport(s: ScanStatus) -> impl IntoView {
    let state = match s.state {
        ScanState::Running => "running",
        ScanState::Done => "done",
        ScanState::Failed => "failed",
    };
    let total = s.total.unwrap_or(0);
    let counts = format!(
        "{} of {} probed · {} new · {} skipped · {:.0} files/s",
        s.probed,
        s.total.map_or("?".to_string(), |t| t.to_string()),
        s.added_count,
        s.skipped_count,
        s.files_per_sec
    );
    let body = match s.state {
        ScanState::Running => view! {
            <strong>{format!("Scanning the inbox ({} files seen): ", s.seen)}</strong>{counts}
            <progress max=total.max(1) value=s.probed></progress>
        }
        .into_any(),
        ScanState::Done => {
            let many = s.skipped.len() > 5;
            let skipped = s
                .skipped
                .into_iter()
                .map(|k| view! { <li>{format!("{}: {}", k.path, k.reason)}</li> })
                .collect_view();
            view! {
                {format!("{} new episode(s). ", s.added.len())}<span class="muted">{counts}</span>
                {(s.skipped_count > 0).then(|| view! {
                    <details open=!many><summary>{format!("{} file(s) skipped", s.skipped_count)}</summary>
                        <ul>{skipped}</ul>
                    </details>
                })}
            }
            .into_any()
        }
        ScanState::Failed => view! {
            {format!("The scan failed: {}", s.error.unwrap_or_default())}
        }
        .into_any(),
    };
    view! {
        <div class="notice" data-testid="discover-result" data-state=state data-probed=s.probed
            data-total=total aria-live="polite">{body}</div>
    }
}
