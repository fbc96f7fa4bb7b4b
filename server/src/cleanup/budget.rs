//! The storage budget (`--max-derived-gb`): when registered derived data exceeds it, the scheduled
//! cleanup evicts regenerable artifacts of finished episodes — one audited run (trigger `budget`) that
//! keeps its trash like any cleanup, so an eviction can be undone.
//!
//! Order: cheapest to regenerate per byte first, oldest episode first within a kind. Audio is one fast
//! ffmpeg pass over the whole video and the largest output; clips are encodes; pages, social posts and
//! enriched text are tiny for the work they took. Transcripts are never evicted (the recognizer is the
//! most expensive stage, and they are the user's data), nor sources, nor anything of an episode with a
//! live job or another run. An episode that lost outputs goes back to idle (its transcripts stay), so the
//! list shows it needs processing again; restoring the run puts it back to done.

use super::execute::Spec;
use super::plan::{Plan, Target};
use super::{Cleanup, Outcome, Trigger};
use crate::error::Result;
use crate::ids::EpisodeId;
use crate::registry::Then;
use app::api::Eviction;

/// Kinds in eviction order; a kind not listed is never evicted.
const EVICT_ORDER: [&str; 6] = ["audio", "clip", "thumbnail", "page", "social", "enriched"];

impl Cleanup {
    /// What the budget would evict now (empty without a budget or within it), in order.
    pub async fn eviction_plan(&self) -> Result<Vec<Eviction>> {
        let Some(budget) = self.policy.max_derived_bytes else {
            return Ok(vec![]);
        };
        let total = self.registry.derived_bytes().await?;
        let budget = i64::try_from(budget).unwrap_or(i64::MAX);
        if total <= budget {
            return Ok(vec![]);
        }
        let mut groups = self.registry.evictable_groups().await?;
        groups.retain(|g| EVICT_ORDER.contains(&g.kind.as_str()));
        groups.sort_by_key(|g| {
            let rank = EVICT_ORDER.iter().position(|k| *k == g.kind);
            (rank, g.finished_at, g.episode.clone())
        });
        let mut over = total - budget;
        let mut out = Vec::new();
        for g in groups {
            if over <= 0 {
                break;
            }
            over -= g.bytes;
            out.push(Eviction {
                episode: g.episode,
                kind: g.kind,
                files: g.files,
                bytes: g.bytes,
            });
        }
        Ok(out)
    }

    /// Evicts what [`Self::eviction_plan`] names, as one run. `None` when nothing needs to go.
    pub async fn enforce_budget(&self, dry_run: bool) -> Result<Option<Outcome>> {
        let evictions = self.eviction_plan().await?;
        if evictions.is_empty() {
            return Ok(None);
        }
        let mut ids: Vec<EpisodeId> = evictions
            .iter()
            .filter_map(|e| EpisodeId::parse(&e.episode).ok())
            .collect();
        ids.sort();
        ids.dedup();
        let scope = format!("storage budget: {} episodes", ids.len());
        let spec = Spec::new(Trigger::Budget, "scheduler", scope)
            .dry_run(dry_run)
            .then(Then::Reset);
        let run = match self.begin_claimed(spec, &ids).await {
            Ok(run) => run,
            // An episode became busy since the plan: the next pass plans again.
            Err(crate::error::Error::Conflict(why)) => {
                tracing::info!(%why, "storage budget eviction postponed");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut plan = Plan::default();
        for e in &evictions {
            for row in self.registry.artifacts_of(&e.episode).await? {
                if row.kind == e.kind {
                    plan.targets.push(Target {
                        rel: row.path,
                        artifact_ids: vec![row.id],
                    });
                }
            }
        }
        Ok(Some(self.execute(run, plan).await?))
    }
}
