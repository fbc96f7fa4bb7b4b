//! This process's identity in the registry (`<host>-<pid>.<pid namespace>-<random>`), its heartbeat in
//! `nodes`, and whether another owner is certainly gone. Runs, jobs and uploads record the node that owns
//! them, so recovery can tell a dead owner (heartbeat expired) from a live one in another process or
//! machine. It lives with the registry because the registry's own queries ([`super::runs`]) judge owners.

use super::Registry;
use app::api::NodeRole;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a process renews its row in `nodes`.
pub const HEARTBEAT_MS: i64 = 2_000;

/// Registers this process in `nodes` as `role` with `slots` job slots, renews it until `shutdown`, then
/// marks it stopped. Registry trouble is logged, never fatal: the node row is for people, leases and
/// run heartbeats are what coordination rests on.
pub async fn announce(registry: Registry, role: NodeRole, slots: u16, shutdown: CancellationToken) {
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

/// `<host>-<pid>.<pid namespace>-<random>`: unique even when a pid is reused after a restart. The
/// namespace part names the boot and the PID namespace the pid is counted in, so [`is_gone`] can tell
/// when this process's `/proc` is the owner's `/proc`.
pub fn node_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = hostname();
        let mut rnd = [0u8; 3];
        let _ = getrandom::fill(&mut rnd);
        format!(
            "{host}-{}.{}-{}",
            std::process::id(),
            pid_namespace().unwrap_or_else(|| "unknown".into()),
            hex::encode(rnd)
        )
    })
}

/// This process's PID namespace on this boot, as 12 hex digits: the kernel's boot id and the namespace's
/// inode, hashed. `None` when either cannot be read (then no pid of ours is ever judged locally).
fn pid_namespace() -> Option<String> {
    use sha2::Digest;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let digest = sha2::Sha256::digest(format!("{}|{}", boot.trim(), ns.display()));
    Some(hex::encode(&digest[..6]))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// True when `owner` is certainly a process that no longer exists: same host name, same boot and same PID
/// namespace as this process, and its pid is not in our `/proc`. Lets recovery finish a crashed process's
/// work at once instead of waiting for its heartbeat to expire. Anything less than certain — another
/// machine, another container or PID namespace on this host (its pids mean nothing in our `/proc`), an
/// id from an older build without the namespace part, a pid that is alive — is judged by its heartbeat
/// on the registry's clock alone.
pub fn is_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, '-');
    let (Some(_rnd), Some(pid_ns), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some((pid, ns)) = pid_ns.split_once('.') else {
        return false;
    };
    if owner == node_id() || host != hostname() || Some(ns) != pid_namespace().as_deref() {
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
        let ns = super::pid_namespace().expect("this machine has /proc");
        // Pid 0 is never a user process.
        assert!(super::is_gone(&format!("{host}-0.{ns}-abcdef")));
        assert!(
            !super::is_gone(&format!("elsewhere-0.{ns}-abcdef")),
            "another machine: heartbeat decides"
        );
        assert!(
            !super::is_gone(&format!("{host}-0.0123456789ab-abcdef")),
            "another PID namespace: its pids mean nothing in our /proc"
        );
        assert!(
            !super::is_gone(&format!("{host}-0-abcdef")),
            "an id without its namespace: heartbeat decides"
        );
        assert!(
            !super::is_gone(&format!("{host}-1.{ns}-abcdef")),
            "pid 1 is alive"
        );
    }
}
