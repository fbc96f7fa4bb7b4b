//! `/metrics` in Prometheus text format: cleanup runs, files, bytes, errors and durations by trigger, and
//! the nodes sharing the registry by role. Computed from the registry (the audited `cleanup_runs` table,
//! `nodes`, `jobs`), so the numbers survive restarts, match the UI, and are the same whichever server is
//! asked. Bounded: the duration histogram is bucketed by the database, and nodes are counted per role —
//! no label names a host or a process, and restarts add no series.

use crate::error::Result;
use crate::registry::{DURATION_BUCKETS_MS, DurationHistogram, RunTotals};
use crate::studio::Studio;
use std::fmt::Write;

pub async fn render(studio: &Studio) -> Result<String> {
    let mut out = String::new();
    render_runs(&mut out, &studio.registry.run_totals().await?);
    render_durations(&mut out, &studio.registry.run_duration_histogram().await?);
    render_episodes(&mut out, studio).await?;
    render_nodes(&mut out, &studio.workers().await?);
    Ok(out)
}

/// Runs by trigger and result, and the files, bytes and errors they counted, by trigger.
fn render_runs(out: &mut String, totals: &[RunTotals]) {
    let _ = writeln!(
        out,
        "# HELP ewg_cleanup_runs_total Cleanup runs (not dry runs) by trigger and result."
    );
    let _ = writeln!(out, "# TYPE ewg_cleanup_runs_total counter");
    for t in totals {
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
        for t in totals {
            *by_trigger.entry(&t.trigger).or_default() += [t.files, t.bytes, t.errors][idx];
        }
        for (trigger, v) in by_trigger {
            let _ = writeln!(out, "{name}{{trigger=\"{trigger}\"}} {v}");
        }
    }
}

/// Run durations as a histogram per trigger, bucketed by the database.
fn render_durations(out: &mut String, histograms: &[DurationHistogram]) {
    let _ = writeln!(
        out,
        "# HELP ewg_cleanup_duration_seconds Cleanup run duration."
    );
    let _ = writeln!(out, "# TYPE ewg_cleanup_duration_seconds histogram");
    for h in histograms {
        let t = &h.trigger;
        for (b, n) in DURATION_BUCKETS_MS.iter().zip(&h.buckets) {
            let _ = writeln!(
                out,
                "ewg_cleanup_duration_seconds_bucket{{trigger=\"{t}\",le=\"{}\"}} {n}",
                *b as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_bucket{{trigger=\"{t}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_sum{{trigger=\"{t}\"}} {}",
            h.sum_ms as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "ewg_cleanup_duration_seconds_count{{trigger=\"{t}\"}} {}",
            h.count
        );
    }
}

/// Episodes in the registry, and the running ones stuck past their stage's limit (alerting wants a
/// number, not a page).
async fn render_episodes(out: &mut String, studio: &Studio) -> Result<()> {
    let registry = &studio.registry;
    let _ = writeln!(out, "# HELP ewg_episodes Episodes in the registry.");
    let _ = writeln!(out, "# TYPE ewg_episodes gauge");
    let _ = writeln!(out, "ewg_episodes {}", registry.episode_count().await?);
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
    Ok(())
}

fn render_nodes(out: &mut String, list: &app::api::WorkerList) {
    use std::collections::BTreeMap;
    let _ = writeln!(
        out,
        "# HELP ewg_jobs_queued Jobs waiting for a worker slot."
    );
    let _ = writeln!(out, "# TYPE ewg_jobs_queued gauge");
    let _ = writeln!(out, "ewg_jobs_queued {}", list.queued);
    // Per role: (up, down, slots of live nodes, jobs running, oldest live heartbeat s, done, failed).
    let mut by_role: BTreeMap<&str, [i64; 7]> = BTreeMap::new();
    for n in &list.nodes {
        let r = by_role.entry(n.role.as_str()).or_default();
        if n.alive {
            r[0] += 1;
            r[2] += n.slots;
            r[3] += n.running.len() as i64;
            r[4] = r[4].max(n.silent_ms / 1000);
        } else {
            r[1] += 1;
        }
        r[5] += n.jobs_done;
        r[6] += n.jobs_failed;
    }
    let gauges = [
        (
            "ewg_nodes_up",
            "Nodes of the role whose heartbeat is current.",
            0,
        ),
        (
            "ewg_nodes_down",
            "Nodes of the role listed but not heartbeating (stopped or lost).",
            1,
        ),
        (
            "ewg_node_slots",
            "Jobs the live nodes of the role run at once, in all.",
            2,
        ),
        (
            "ewg_node_jobs_running",
            "Jobs the live nodes of the role run now.",
            3,
        ),
        (
            "ewg_node_heartbeat_age_seconds",
            "Seconds since the oldest heartbeat among the live nodes of the role.",
            4,
        ),
    ];
    for (name, help, i) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (role, v) in &by_role {
            let _ = writeln!(out, "{name}{{role=\"{role}\"}} {}", v[i]);
        }
    }
    let _ = writeln!(
        out,
        "# HELP ewg_node_jobs_total Jobs the listed nodes of the role finished, by outcome."
    );
    let _ = writeln!(out, "# TYPE ewg_node_jobs_total counter");
    for (role, v) in &by_role {
        for (outcome, n) in [("done", v[5]), ("failed", v[6])] {
            let _ = writeln!(
                out,
                "ewg_node_jobs_total{{role=\"{role}\",outcome=\"{outcome}\"}} {n}"
            );
        }
    }
}
