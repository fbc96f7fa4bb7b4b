//! This process's identity in the registry. Runs, jobs and uploads record the node that owns them, so
//! recovery can tell a dead owner (heartbeat expired) from a live one in another process or machine.

use crate::registry::Registry;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a process renews its row in `nodes`.
pub const HEARTBEAT_MS: i64 = 2_000;

/// Registers this process in `nodes` as `role` with `slots` job slots, renews it until `shutdown`, then
/// marks it stopped. Registry trouble is logged, never fatal: the node row is for people, leases and
/// run heartbeats are what coordination rests on.
pub async fn announce(
    registry: Registry,
    role: &'static str,
    slots: u16,
    shutdown: CancellationToken,
) {
    let id = node_id();
    if let Err(e) = registry
        .register_node(id, role, &hostname(), i64::from(slots))
        .await
    {
        tracing::warn!(error = %e, "could not register this node");
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_millis(HEARTBEAT_MS as u64)) => {}
            }
            if let Err(e) = registry.heartbeat_node(id).await {
                tracing::warn!(error = %e, "node heartbeat failed");
            }
        }
        if let Err(e) = registry.stop_node(id).await {
            tracing::warn!(error = %e, "could not mark this node stopped");
        }
    });
}

/// `<host>-<pid>-<random>`: unique even when a pid is reused after a restart.
pub fn node_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = hostname();
        let mut rnd = [0u8; 3];
        let _ = getrandom::fill(&mut rnd);
        format!("{host}-{}-{}", std::process::id(), hex::encode(rnd))
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// True when `owner` is a node id of a process on this machine that no longer exists. Lets recovery
/// finish a crashed process's work at once instead of waiting for its heartbeat to expire; an owner on
/// another machine (or a pid that is alive) is judged by its heartbeat alone.
pub fn is_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, '-');
    let (Some(_rnd), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if owner == node_id() || host != hostname() {
        return false;
    }
    pid.parse::<u32>()
        .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_dead_local_pid_is_gone_and_others_are_not() {
        let me = super::node_id();
        assert!(!super::is_gone(me));
        let host = super::hostname();
        // Pid 0 is never a user process.
        assert!(
            super::is_gone(&format!("{host}-0-abcdef"))
                || !std::path::Path::new("/proc/0").exists()
        );
        assert!(
            !super::is_gone("elsewhere-1-abcdef"),
            "another machine: heartbeat decides"
        );
        assert!(
            !super::is_gone(&format!("{host}-1-abcdef")),
            "pid 1 is alive"
        );
    }
}
