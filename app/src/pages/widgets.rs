//! Pieces several pages share.

use crate::api::{ApiError, EpisodeSummary};
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
