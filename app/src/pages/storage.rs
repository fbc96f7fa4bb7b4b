//! Where the disk goes: each derived directory, the inbox and the trash as horizontal bars, the data
//! root's filesystem, bytes per show, the largest episodes, and what the storage budget would evict.

use super::widgets::ErrorLine;
use crate::api::{EpisodeUsage, Eviction, StorageReport, Usage, storage};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn StoragePage() -> impl IntoView {
    let session = use_session();
    let report = Resource::new(move || session.refresh.get(), |_| storage());
    view! {
        <header class="page-head">
            <h2>"Storage"</h2>
            <button data-testid="storage-refresh" on:click=move |_| report.refetch()>"Refresh"</button>
        </header>
        <Transition fallback=|| view! { <p class="empty">"Measuring…"</p> }>
            {move || report.get().map(|res| match res {
                Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                Ok(r) => view! { <StorageView r=r/> }.into_any(),
            })}
        </Transition>
    }
}

/// A share of `of` as a CSS width, at least a sliver for anything non-zero so it stays visible.
fn width(part: i64, of: i64) -> String {
    if part <= 0 || of <= 0 {
        return "width:0%".into();
    }
    let pct = (part as f64 / of as f64 * 100.0).clamp(0.5, 100.0);
    format!("width:{pct:.1}%")
}

#[component]
fn StorageView(r: StorageReport) -> impl IntoView {
    let used = (r.fs_total_bytes - r.fs_free_bytes).max(0);
    let free_pct = if r.fs_total_bytes > 0 {
        r.fs_free_bytes as f64 / r.fs_total_bytes as f64 * 100.0
    } else {
        0.0
    };
    let derived = match r.max_derived_bytes {
        Some(max) => format!(
            "Derived files: {} of a {} budget.",
            format::bytes(r.derived_bytes),
            format::bytes(max)
        ),
        None => format!(
            "Derived files: {} (no storage budget set).",
            format::bytes(r.derived_bytes)
        ),
    };
    let trash = if r.trash_runs == 0 {
        "Trash: empty.".to_string()
    } else {
        format!(
            "Trash: {} kept, {} — restorable until each run's retention runs out.",
            format::plural(r.trash_runs, "run"),
            format::bytes(r.trash_bytes)
        )
    };
    view! {
        <section class="storage" data-testid="storage">
            <h3>"Disk"</h3>
            <div class="fs" data-testid="storage-fs" data-free=r.fs_free_bytes.to_string() data-total=r.fs_total_bytes.to_string()>
                <div class="track"><div class="fill" style=width(used, r.fs_total_bytes)></div></div>
                <p>{format!("{} used of {}; {} free ({free_pct:.0}%).",
                    format::bytes(used), format::bytes(r.fs_total_bytes), format::bytes(r.fs_free_bytes))}</p>
            </div>
            <p data-testid="storage-derived">{derived}</p>
            <p data-testid="storage-trash" data-bytes=r.trash_bytes.to_string()>{trash}" "<A href="/trash">"Open the trash"</A></p>

            <h3>"By directory"</h3>
            <RootBars roots=r.roots/>

            <h3>"By show"</h3>
            {show_table(r.shows)}

            <h3>"Largest episodes"</h3>
            {largest_table(r.largest)}

            {eviction_table(r.eviction_preview)}
        </section>
    }
}

/// Derived bytes per show.
fn show_table(shows: Vec<Usage>) -> AnyView {
    if shows.is_empty() {
        view! {
            <p class="empty" data-testid="storage-shows-empty">
                "No derived files registered yet: start an episode on the "<A href="/process">"Process"</A>" page."
            </p>
        }.into_any()
    } else {
        view! {
            <table class="runs" data-testid="storage-shows">
                <thead><tr><th>"Show"</th><th>"Files"</th><th>"Size"</th></tr></thead>
                <tbody>{shows.into_iter().map(|s| view! {
                    <tr data-show=s.name.clone()><td>{s.name.clone()}</td><td>{s.files}</td><td>{format::bytes(s.bytes)}</td></tr>
                }).collect_view()}</tbody>
            </table>
        }.into_any()
    }
}

/// The episodes with the most derived bytes.
fn largest_table(largest: Vec<EpisodeUsage>) -> AnyView {
    if largest.is_empty() {
        view! {
            <p class="empty" data-testid="storage-largest-empty">
                "No episode has derived files yet: they appear here once processing writes audio, transcripts and clips."
            </p>
        }.into_any()
    } else {
        view! {
            <table class="runs" data-testid="storage-largest">
                <thead><tr><th>"Episode"</th><th>"Show"</th><th>"Size"</th></tr></thead>
                <tbody>{largest.into_iter().map(|e| {
                    let href = format!("/episodes/{}", e.id);
                    let text = e.id.clone();
                    view! {
                    <tr data-episode=e.id.clone()>
                        <td><A href=href>{text}</A><div class="sub">{e.title}</div></td>
                        <td>{e.show}</td><td>{format::bytes(e.bytes)}</td>
                    </tr>
                }}).collect_view()}</tbody>
            </table>
        }
        .into_any()
    }
}

/// What the storage budget would evict now, oldest episode's cheapest outputs first (nothing when
/// the budget is met).
fn eviction_table(preview: Vec<Eviction>) -> impl IntoView {
    (!preview.is_empty()).then(|| view! {
        <h3>"The storage budget would evict now"</h3>
        <table class="runs" data-testid="storage-eviction">
            <thead><tr><th>"Episode"</th><th>"Kind"</th><th>"Files"</th><th>"Size"</th></tr></thead>
            <tbody>{preview.into_iter().map(|e| view! {
                <tr>
                    <td><A href=format!("/episodes/{}", e.episode)>{e.episode.clone()}</A></td>
                    <td>{e.kind}</td><td>{e.files}</td><td>{format::bytes(e.bytes)}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    })
}

/// Bytes per directory as horizontal bars, scaled to the largest.
#[component]
fn RootBars(roots: Vec<Usage>) -> impl IntoView {
    let max = roots.iter().map(|u| u.bytes).max().unwrap_or(0);
    view! {
        <div class="hbars" role="list" aria-label="bytes per directory">
            {roots.into_iter().map(|u| {
                let kind = match u.name.as_str() {
                    "inbox" => "source",
                    ".trash" => "trash",
                    _ => "derived",
                };
                view! {
                    <div class=format!("hbar {kind}") role="listitem" data-testid="storage-root"
                        data-root=u.name.clone() data-bytes=u.bytes.to_string() data-files=u.files.to_string()>
                        <span class="label">{u.name.clone()}</span>
                        <div class="track"><div class="fill" style=width(u.bytes, max)></div></div>
                        <span class="value">{format!("{} · {} file(s)", format::bytes(u.bytes), u.files)}</span>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}
