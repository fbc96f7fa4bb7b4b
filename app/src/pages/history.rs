//! An episode's history: its processing attempts (trigger, start, duration, outcome) and its cleanup
//! runs, dry runs folded away. Loaded once the episode page has hydrated (`episode::episode_part`).

use super::widgets::ErrorLine;
use crate::api::{AttemptInfo, CleanupRunSummary, episode_attempts};
use crate::components::format;
use leptos::prelude::*;

pub fn episode_history(id: String, runs: Vec<CleanupRunSummary>) -> AnyView {
    view! {
        <ProcessingHistory id/>
        <CleanupHistory runs/>
    }
    .into_any()
}

/// `4.2 s`, `3 min 5 s`: how long an attempt took.
fn took(ms: i64) -> String {
    match ms {
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

#[component]
fn ProcessingHistory(id: String) -> impl IntoView {
    let attempts = LocalResource::new(move || episode_attempts(id.clone()));
    view! {
        <section class="history" aria-labelledby="history-head">
            <h3 id="history-head">"Processing history"</h3>
            {move || attempts.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(h) if h.attempts.is_empty() => view! {
                    <p class="empty" data-testid="history-empty">"Not processed yet: start it on the Process page."</p>
                }.into_any(),
                Ok(h) => view! {
                    <div class="table-scroll"><table class="attempts" data-testid="history">
                        <thead><tr><th>"Attempt"</th><th>"Trigger"</th><th>"Started"</th><th>"Duration"</th><th>"Outcome"</th></tr></thead>
                        <tbody>{h.attempts.into_iter().map(|a| view! { <AttemptRow a/> }).collect_view()}</tbody>
                    </table></div>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn AttemptRow(a: AttemptInfo) -> impl IntoView {
    let started = a
        .started_at
        .map(format::time)
        .unwrap_or_else(|| format!("queued {}", format::time(a.queued_at)));
    let duration = a.duration_ms.map(took).unwrap_or_else(|| "—".into());
    let outcome = match &a.error {
        Some(e) => format!("{}: {e}", a.outcome),
        None => a.outcome.to_string(),
    };
    view! {
        <tr data-testid="attempt" data-outcome=a.outcome.as_str() data-trigger=a.trigger.as_str()>
            <td>{a.attempt}</td><td>{a.trigger.as_str()}</td><td>{started}</td><td>{duration}</td>
            <td class="error-cell">{outcome}</td>
        </tr>
    }
}

/// Cleanup runs of this episode, newest first; previews (dry runs) changed nothing and are folded away.
#[component]
fn CleanupHistory(runs: Vec<CleanupRunSummary>) -> impl IntoView {
    let (dry, real): (Vec<_>, Vec<_>) = runs.into_iter().partition(|r| r.dry_run);
    let line = |r: CleanupRunSummary| {
        view! {
            <li>{format!("{} · {} by {} · {} · {} files, {}{}", format::time(r.started_at), r.trigger, r.actor,
                r.result.as_str(), r.files, format::bytes(r.bytes), if r.dry_run { " (dry run)" } else { "" })}</li>
        }
    };
    let dry_count = dry.len();
    view! {
        <h3>"Cleanup history"</h3>
        {real.is_empty().then(|| view! { <p class="empty">"No cleanup has changed this episode."</p> })}
        <ul class="runs" data-testid="cleanup-history">{real.into_iter().map(line).collect_view()}</ul>
        {(dry_count > 0).then(|| view! {
            <details class="dry-runs" data-testid="dry-runs">
                <summary>{format!("{dry_count} preview(s) (dry runs, nothing changed)")}</summary>
                <ul class="dry-list">{dry.into_iter().map(line).collect_view()}</ul>
            </details>
        })}
    }
}
