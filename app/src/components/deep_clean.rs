//! Deep Clean, one click: stop polling → wipe `cache:`/`run:` keys → tell other tabs → server cleanup →
//! show its report → refetch. The browser part is done even when the server part fails, and a server
//! failure is shown as a failure.

use super::format;
use super::session::use_studio;
use crate::api::{ApiError, CleanupReport, CleanupResult, ErrorCode, deep_clean};
use crate::cache;
use leptos::prelude::*;

/// A Deep Clean button's state, kept by whoever places the button so that what it reports survives
/// the button being rendered again: the sidebar renders it anew whenever the session is refetched,
/// which Deep Clean itself does when it ends.
#[derive(Clone, Copy)]
pub struct DeepClean {
    /// `Some((n, digest))`: the second click after the orphan guard stopped the sweep, confirming the
    /// count and the digest of the files it named (so files that changed since are not removed unseen).
    server: Action<Option<(i64, String)>, Result<CleanupReport, ApiError>>,
    browser: RwSignal<Option<(usize, f64)>>,
}

impl DeepClean {
    pub fn create() -> Self {
        let studio = use_studio();
        let server = Action::new(|confirm: &Option<(i64, String)>| {
            let (count, digest) = confirm.clone().unzip();
            deep_clean(Some(false), count, digest, None)
        });
        Effect::new(move |_| {
            if server.value().get().is_some() {
                studio.polling.set(true);
                studio.refetch_all();
            }
        });
        DeepClean {
            server,
            browser: RwSignal::new(None),
        }
    }
}

#[component]
pub fn DeepCleanButton(state: DeepClean) -> impl IntoView {
    let studio = use_studio();
    let DeepClean { server, browser } = state;

    let run = move |_| {
        studio.polling.set(false);
        let started = cache::js_sys_now();
        let removed = cache::wipe_volatile();
        let took = cache::js_sys_now() - started;
        cache::broadcast_wipe();
        browser.set(Some((removed, took)));
        server.dispatch(None);
    };

    view! {
        <div class="deep-clean">
            <button class="danger" data-testid="deep-clean" on:click=run disabled=move || server.pending().get()>
                {move || if server.pending().get() { "Cleaning…" } else { "Deep Clean" }}
            </button>
            {move || browser.get().map(|(n, ms)| view! {
                <p class="report-line" data-testid="deep-clean-browser" data-ms=format!("{ms:.2}")>
                    {format!("Browser: {n} cached keys removed in {ms:.1} ms")}
                </p>
            })}
            {move || server.value().get().map(|res| match res {
                Ok(r) => {
                    let class = if r.result == CleanupResult::Ok { "report ok" } else { "report error" };
                    view! {
                        <div class=class data-testid="deep-clean-report" data-result=r.result.as_str()>
                            {match r.kept_until {
                                Some(until) => format!("Server: {} — {}; no files freed until then, {} errors, {} ms",
                                    r.result.as_str(), format::moved_to_trash(r.paths.len(), until), r.errors.len(), r.duration_ms),
                                None => format!("Server: {} — {} files, {} freed, {} errors, {} ms",
                                    r.result.as_str(), r.files, format::bytes(r.bytes), r.errors.len(), r.duration_ms),
                            }}
                            <ul>{r.errors.into_iter().map(|e| view! { <li>{e.path} ": " {e.message}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any()
                }
                Err(e) => {
                    let confirm = guarded_count(&e);
                    view! {
                        <div class="report error" data-testid="deep-clean-report" data-result="failed">
                            {format!("Server cleanup failed: {e}")}
                            {confirm.map(|(n, digest)| view! {
                                <button class="danger" data-testid="deep-clean-confirm"
                                    on:click=move |_| { server.dispatch(Some((n, digest.clone()))); }>
                                    {format!("Remove these {n} files anyway")}
                                </button>
                            })}
                        </div>
                    }.into_any()
                }
            })}
        </div>
    }
}

/// The file count and digest a 409 from the orphan guard asks to be confirmed
/// (`"confirm_orphans": N, "orphans_digest": "…"`).
fn guarded_count(e: &ApiError) -> Option<(i64, String)> {
    if e.code() != ErrorCode::Conflict {
        return None;
    }
    let msg = e.to_string();
    let rest = msg.split("\"confirm_orphans\": ").nth(1)?;
    let count = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let digest = msg
        .split("\"orphans_digest\": \"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    Some((count, digest))
}
