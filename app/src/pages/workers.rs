//! The nodes sharing the registry — the server and `ewg worker`s on other machines — with their
//! heartbeats and jobs, so an operator sees at a glance whether anyone is processing the queue.

use super::widgets::ErrorLine;
use crate::api::{NodeInfo, workers};
use crate::components::format;
use crate::components::session::use_session;
use leptos::prelude::*;

#[component]
pub fn WorkersPanel() -> impl IntoView {
    let session = use_session();
    let list = Resource::new(move || session.refresh.get(), |_| workers());
    view! {
        <section class="workers" aria-labelledby="workers-title">
            <h3 id="workers-title">"Workers"</h3>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || list.get().map(|res| match res {
                    Err(e) => view! { <ErrorLine error=e/> }.into_any(),
                    Ok(l) => {
                        let slots: i64 = l.nodes.iter().filter(|n| n.alive).map(|n| n.slots).sum();
                        if l.nodes.is_empty() {
                            return view! {
                                <p data-testid="workers-summary">{summary(l.queued, slots)}</p>
                                <p class="empty" data-testid="workers-empty">
                                    "No node has registered with this registry yet: one appears here when "
                                    <code>"ewg serve"</code>" or "<code>"ewg worker"</code>" starts."
                                </p>
                            }.into_any();
                        }
                        view! {
                            <p data-testid="workers-summary">{summary(l.queued, slots)}</p>
                            <div class="table-scroll"><table class="runs" data-testid="workers">
                                <thead><tr><th>"Node"</th><th>"Role"</th><th>"Status"</th><th>"Slots"</th>
                                    <th>"Running"</th><th>"Done"</th><th>"Failed"</th><th>"Started"</th></tr></thead>
                                <tbody>{l.nodes.into_iter().map(|n| view! { <NodeRow node=n/> }).collect_view()}</tbody>
                            </table></div>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn NodeRow(node: NodeInfo) -> impl IntoView {
    let status = if node.alive {
        format!("alive ({} s ago)", node.silent_ms / 1000)
    } else if node.stopped_at.is_some() {
        "stopped".to_string()
    } else {
        format!("silent for {} s", node.silent_ms / 1000)
    };
    view! {
        <tr class:dead=!node.alive>
            <td><code>{node.id}</code></td><td>{node.role.as_str()}</td><td>{status}</td><td>{node.slots}</td>
            <td>{node.running.join(", ")}</td><td>{node.jobs_done}</td><td>{node.jobs_failed}</td>
            <td>{format::time(node.started_at)}</td>
        </tr>
    }
}

fn summary(queued: i64, slots: i64) -> String {
    match (queued, slots) {
        (0, 0) => {
            "Queue empty; 0 job slot(s) online: queued jobs wait until `ewg serve --workers N` or \
                   `ewg worker` runs."
                .to_string()
        }
        (0, _) => {
            format!("Queue empty; {slots} job slot(s) online. Start episodes on the Process page.")
        }
        (q, 0) => format!(
            "{q} job(s) queued and no worker online: start `ewg worker` or `ewg serve --workers N`."
        ),
        (q, s) => format!("{q} job(s) queued; {s} job slot(s) online."),
    }
}
