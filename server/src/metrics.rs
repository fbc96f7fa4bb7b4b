//! `/metrics` in Prometheus text format: cleanup runs, files, bytes, errors and durations by trigger, and
//! the nodes sharing the registry. Computed from the registry (the audited `cleanup_runs` table, `nodes`,
//! `jobs`), so the numbers survive restarts, match the UI, and are the same whichever server is asked.

use crate::error::Result;
use crate::studio::Studio;
use std::fmt::Write;

const BUCKETS_MS: [i64; 8] = [10, 50, 100, 500, 1000, 5000, 30000, 120000];

pub async fn render(studio: &Studio) -> Result<String> {
    let registry = &studio.registry;
    let mut out = String::new();
    let totals = registry.run_totals().await?;
    let _ = writeln!(
        out,
        "# HELP ewg_cleanup_runs_total Cleanup runs (not dry runs) by trigger and result."
    );
    let _ = writeln!(out, "# TYPE ewg_cleanup_runs_total counter");
    for t in &totals {
        let _ = writeln!(
            out,
            "ewg_cleanup_runs_total{{trigger=\"{}\",result=\"{}\"}} {}",
            t.trigger, t.result, t.runs
        );
    }
    for (name, help, idx) in [
        ("ewg_cleanup_files_total", "Files removed by cleanup.", 0),
        ("ewg_cleanup_bytes_total", "Bytes freed by cleanup.", 1),
        (
            "ewg_cleanup_errors_total",
            "Paths cleanup could not remove.",
            2,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let mut by_trigger: std::collections::BTreeMap<&str, i64> = Default::default();
        for t in &totals {
            *by_trigger.entry(&t.trigger).or_default() += [t.files, t.bytes, t.errors][idx];
        }
        for (trigger, v) in by_trigger {
            let _ = writeln!(out, "{name}{{trigger=\"{trigger}\"}} {v}");
        }
    }
    let durations = registry.run_durations().await?;
    let _ = writeln!(
        out,
        "# HELP ewg_cleanup_duration_seconds Cleanup run duration."
    );
    let _ = writeln!(out, "# TYPE ewg_cleanup_duration_seconds histogram");
    let mut triggers: Vec<&str> = durations.iter().map(|(t, _)| t.as_str()).collect();
    triggers.sort_unstable();
    triggers.dedup();
    for t in triggers {
        let ds: Vec<i64> = durations
            .iter()
            .filter(|(x, _)| x == t)
            .map(|(_, d)| *d)
            .collect();
        for b in BUCKETS_MS {
            let n = ds.iter().filter(|d| **d <= b).count();
            let _ = writeln!(
                out,
                "ewg_cleanup_duration_seconds_bucket{{trigger=\"{t}\",le=\"{}\"}} {n}",
                b as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_bucket{{trigger=\"{t}\",le=\"+Inf\"}} {}",
            ds.len()
        );
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_sum{{trigger=\"{t}\"}} {}",
            ds.iter().sum::<i64>() as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_count{{trigger=\"{t}\"}} {}",
            ds.len()
        );
    }
    let _ = writeln!(out, "# HELP ewg_episodes Episodes in the registry.");
    let _ = writeln!(out, "# TYPE ewg_episodes gauge");
    let _ = writeln!(out, "ewg_episodes {}", registry.episode_count().await?);
    // Alerting wants a number, not a page: running episodes whose progress stood still past the limit.
    let now = crate::now_ms();
    let running = registry
        .episodes_in_states(&[app::api::EpisodeState::Running])
        .await?;
    let stuck = running
        .iter()
        .filter(|r| studio.stuck.summary(r, now).stuck.is_some())
        .count();
    let _ = writeln!(
        out,
        "# HELP ewg_episodes_stuck Running episodes whose progress has not moved for longer than their stage's --stuck-after limit."
    );
    let _ = writeln!(out, "# TYPE ewg_episodes_stuck gauge");
    let _ = writeln!(out, "ewg_episodes_stuck {stuck}");
    render_nodes(&mut out, &studio.workers().await?);
    Ok(out)
}

/// Reads one gauge's value off a node.
type NodeGauge = fn(&app::api::NodeInfo) -> i64;

fn render_nodes(out: &mut String, list: &app::api::WorkerList) {
    let _ = writeln!(
        out,
        "# HELP ewg_jobs_queued Jobs waiting for a worker slot."
    );
    let _ = writeln!(out, "# TYPE ewg_jobs_queued gauge");
    let _ = writeln!(out, "ewg_jobs_queued {}", list.queued);
    let gauges: [(&str, &str, NodeGauge); 4] = [
        ("ewg_node_up", "1 while the node heartbeats.", |n| {
            i64::from(n.alive)
        }),
        ("ewg_node_slots", "Jobs the node runs at once.", |n| n.slots),
        ("ewg_node_jobs_running", "Jobs the node runs now.", |n| {
            n.running.len() as i64
        }),
        (
            "ewg_node_heartbeat_age_seconds",
            "Seconds since the node's last heartbeat.",
            |n| n.silent_ms / 1000,
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for n in &list.nodes {
            let _ = writeln!(
                out,
                "{name}{{node=\"{}\",role=\"{}\"}} {}",
                n.id,
                n.role,
                value(n)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP ewg_node_jobs_total Jobs the node finished, by outcome."
    );
    let _ = writeln!(out, "# TYPE ewg_node_jobs_total counter");
    for n in &list.nodes {
        for (outcome, v) in [("done", n.jobs_done), ("failed", n.jobs_failed)] {
            let _ = writeln!(
                out,
                "ewg_node_jobs_total{{node=\"{}\",outcome=\"{outcome}\"}} {v}",
                n.id
            );
        }
    }
}
