//! The Deep Clean button with what the browser part did and, once there is one, the report of the
//! server part (its own chunk, `deep_clean_report.rs`).

use super::deep_clean::{DeepClean, use_deep_clean};
use leptos::prelude::*;

/// The button and its report: the page's Deep Clean unless given one of its own.
#[component]
pub fn DeepCleanButton(#[prop(optional)] state: Option<DeepClean>) -> impl IntoView {
    let state = state.unwrap_or_else(use_deep_clean);
    let DeepClean {
        server, browser, ..
    } = state;
    view! {
        <div class="deep-clean">
            <button class="danger" data-testid="deep-clean" on:click=move |_| state.run() disabled=move || server.pending().get()>
                {move || if server.pending().get() { "Cleaning…" } else { "Deep Clean" }}
            </button>
            {move || browser.get().map(|(n, ms)| view! {
                <p class="report-line" data-testid="deep-clean-browser" data-ms=format!("{ms:.2}")>
                    {format!("Browser: {n} cached keys removed in {ms:.1} ms")}
                </p>
            })}
            // The report (its paths, Undo) is its own chunk, loaded when there is one to show: every page's
            // first download carries the sidebar.
            {move || server.value().get().map(|res| {
                crate::pages::deferred::after_hydration(move || super::deep_clean_report::report(res, state))
            })}
        </div>
    }
}
