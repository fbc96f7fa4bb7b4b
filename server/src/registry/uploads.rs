//! Uploads in flight: a row per `uploads/<random>.part` while a client streams it, renewed by its owner's
//! heartbeat. Sweeps in any process skip parts with a live row; a row whose heartbeat stopped (the
//! process died) no longer protects its part.

use super::{DB_NOW, Registry};
use crate::error::Result;
use crate::now_ms;
use std::collections::HashSet;

impl Registry {
    pub async fn begin_upload(&self, part: &str, owner: &str) -> Result<()> {
        let sql = format!(
            "INSERT INTO uploads (part, owner, started_at, heartbeat_at) VALUES ($1, $2, $3, {DB_NOW})"
        );
        sqlx::query(&sql)
            .bind(part)
            .bind(owner)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn heartbeat_upload(&self, part: &str) -> Result<()> {
        let sql = format!("UPDATE uploads SET heartbeat_at = {DB_NOW} WHERE part = $1");
        sqlx::query(&sql).bind(part).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn end_upload(&self, part: &str) -> Result<()> {
        sqlx::query("DELETE FROM uploads WHERE part = $1")
            .bind(part)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Parts whose owner renewed its heartbeat within `stale_ms`: never swept.
    pub async fn live_uploads(&self, stale_ms: i64) -> Result<HashSet<String>> {
        let sql = format!("SELECT part FROM uploads WHERE heartbeat_at >= {DB_NOW} - $1");
        let rows: Vec<String> = sqlx::query_scalar(&sql)
            .bind(stale_ms)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Forgets rows whose owner stopped heartbeating (their parts are swept like any stale upload).
    pub async fn forget_stale_uploads(&self, stale_ms: i64) -> Result<()> {
        let sql = format!("DELETE FROM uploads WHERE heartbeat_at < {DB_NOW} - $1");
        sqlx::query(&sql).bind(stale_ms).execute(&self.pool).await?;
        Ok(())
    }
}
