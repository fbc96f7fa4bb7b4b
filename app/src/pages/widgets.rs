//! Pieces several pages share.

use crate::api::{ApiError, EpisodeList, EpisodeSummary};
use crate::components::session::use_studio;
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

/// Refetches `list` every `period_ms` while any listed episode is queued or running, unless Deep Clean
/// has paused polling. The interval stops when the page goes away.
pub fn poll_while_active(list: Resource<Result<EpisodeList, ApiError>>, period_ms: u64) {
    let studio = use_studio();
    let tick = move || {
        let busy = list
            .get_untracked()
            .and_then(|r| r.ok())
            .is_some_and(|l| l.episodes.iter().any(|e| e.state.is_active()));
        if busy && studio.polling.get_untracked() {
            list.refetch();
        }
    };
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_millis(period_ms)) {
            on_cleanup(move || h.clear());
        }
    });
}
