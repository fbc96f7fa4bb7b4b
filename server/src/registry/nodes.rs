//! The processes sharing a registry — `ewg serve` and `ewg worker` on any number of machines — and the
//! identity of the data root they all must see. A node row is renewed by its heartbeat on the registry's
//! clock; the job counts come from `jobs.worker`, which holds the node id of whoever claimed the job.

use super::{DB_NOW, Registry};
use crate::error::Result;
use crate::now_ms;
use app::api::{NodeInfo, NodeRole, WorkerList};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct NodeRow {
    id: String,
    #[sqlx(try_from = "String")]
    role: NodeRole,
    host: String,
    slots: i64,
    started_at: i64,
    stopped_at: Option<i64>,
    silent_ms: i64,
}

impl Registry {
    /// The data root this registry serves (the id in its `.ewg-root-id`), once one was recorded.
    pub async fn root_id(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'root_id'")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records `id` as the served root unless one is recorded already; returns the recorded one (the
    /// first of two processes racing to set up a new root wins, and the other sees its id).
    pub async fn adopt_root_id(&self, id: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('root_id', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(self.root_id().await?.unwrap_or_else(|| id.to_string()))
    }

    /// Announces this process (again, after a restart with the same id).
    pub async fn register_node(
        &self,
        id: &str,
        role: NodeRole,
        host: &str,
        slots: i64,
    ) -> Result<()> {
        let sql = format!(
            "INSERT INTO nodes (id, role, host, slots, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, {DB_NOW})
             ON CONFLICT (id) DO UPDATE SET role = excluded.role, slots = excluded.slots,
                heartbeat_at = excluded.heartbeat_at, stopped_at = NULL"
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(role.as_str())
            .bind(host)
            .bind(slots)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn heartbeat_node(&self, id: &str) -> Result<()> {
        let sql = format!("UPDATE nodes SET heartbeat_at = {DB_NOW} WHERE id = $1");
        sqlx::query(&sql).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// A clean shutdown: the node shows as stopped at once instead of fading out with its heartbeat.
    pub async fn stop_node(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE nodes SET stopped_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every node seen in the last day, with what it runs and has run. A node is alive while its
    /// heartbeat is younger than `alive_ms` and it has not stopped.
    pub async fn workers(&self, alive_ms: i64) -> Result<WorkerList> {
        let sql = format!(
            "SELECT id, role, host, slots, started_at, stopped_at, {DB_NOW} - heartbeat_at AS silent_ms
             FROM nodes WHERE heartbeat_at > {DB_NOW} - 86400000 ORDER BY started_at, id"
        );
        let rows: Vec<NodeRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        let counts: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT worker, state, COUNT(*) FROM jobs WHERE worker IS NOT NULL GROUP BY worker, state",
        )
        .fetch_all(&self.pool)
        .await?;
        let running: Vec<(String, String)> = sqlx::query_as(
            "SELECT worker, episode FROM jobs WHERE state = 'running' AND worker IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        let mut count: HashMap<(String, String), i64> = HashMap::new();
        for (worker, state, n) in counts {
            count.insert((worker, state), n);
        }
        let get = |id: &str, state: &str| {
            count
                .get(&(id.to_string(), state.to_string()))
                .copied()
                .unwrap_or(0)
        };
        let mut nodes: Vec<NodeInfo> = rows
            .into_iter()
            .map(|r| NodeInfo {
                alive: r.stopped_at.is_none() && r.silent_ms < alive_ms,
                running: running
                    .iter()
                    .filter(|(w, _)| *w == r.id)
                    .map(|(_, e)| e.clone())
                    .collect(),
                jobs_done: get(&r.id, "done"),
                jobs_failed: get(&r.id, "failed") + get(&r.id, "interrupted"),
                id: r.id,
                role: r.role,
                host: r.host,
                slots: r.slots,
                silent_ms: r.silent_ms,
                started_at: r.started_at,
                stopped_at: r.stopped_at,
            })
            .collect();
        nodes.sort_by_key(|n| (!n.alive, n.silent_ms));
        Ok(WorkerList { nodes, queued })
    }
}
