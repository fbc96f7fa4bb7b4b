//! The seam between the API contract (this crate) and its implementation (the `server` crate).
//!
//! Server functions only authenticate, check the role and translate; everything else goes through this
//! trait object, which the server provides as Leptos context. That keeps domain code out of the UI crate
//! and lets `server` depend on `app`, never the reverse.

use super::clips::*;
use super::console::*;
use super::error::ApiError;
use super::queue::*;
use super::requests::*;
use super::types::*;
use super::undo::*;
use std::sync::Arc;

/// The caller of an API function, resolved from the session cookie or bearer token.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpisodeQuery {
    pub state: Option<EpisodeState>,
    pub show: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Who sent this request, if anyone. Refuses state-changing browser calls from a foreign origin.
    async fn authenticate(&self, parts: &http::request::Parts) -> Result<Option<Actor>, ApiError>;
    async fn health(&self) -> HealthInfo;
    async fn episodes(&self, query: EpisodeQuery) -> Result<EpisodeList, ApiError>;
    async fn episode(&self, id: &str) -> Result<EpisodeDetail, ApiError>;
    async fn discover(&self, actor: &Actor, wait: bool) -> Result<ScanStatus, ApiError>;
    async fn scan_status(&self) -> Result<Option<ScanStatus>, ApiError>;
    async fn queue(&self) -> Result<QueueView, ApiError>;
    async fn episode_history(&self, id: &str) -> Result<EpisodeHistory, ApiError>;
    async fn process(&self, actor: &Actor, req: ProcessRequest)
    -> Result<ProcessOutcome, ApiError>;
    async fn cancel(&self, actor: &Actor, id: &str) -> Result<JobInfo, ApiError>;
    async fn cleanup_episode(
        &self,
        actor: &Actor,
        req: CleanEpisodeRequest,
    ) -> Result<CleanupReport, ApiError>;
    async fn force_reprocess(
        &self,
        actor: &Actor,
        req: ReprocessRequest,
    ) -> Result<ReprocessOutcome, ApiError>;
    async fn retry_failed(
        &self,
        actor: &Actor,
        req: RetryRequest,
    ) -> Result<RetryOutcome, ApiError>;
    async fn deep_clean(
        &self,
        actor: &Actor,
        req: DeepCleanRequest,
    ) -> Result<CleanupReport, ApiError>;
    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError>;
    async fn workers(&self) -> Result<WorkerList, ApiError>;
    async fn failure_groups(&self) -> Result<FailureGroupList, ApiError>;
    async fn cleanup_failed(
        &self,
        actor: &Actor,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport, ApiError>;
    async fn delete_clip(&self, actor: &Actor, req: ClipRequest) -> Result<ClipOutcome, ApiError>;
    async fn regenerate_clip(
        &self,
        actor: &Actor,
        req: ClipRequest,
    ) -> Result<ClipOutcome, ApiError>;
    async fn render_candidate(
        &self,
        actor: &Actor,
        req: CandidateRequest,
    ) -> Result<ClipEdit, ApiError>;
    async fn nudge_clip(&self, actor: &Actor, req: NudgeRequest) -> Result<ClipEdit, ApiError>;
    async fn discover_clips(
        &self,
        actor: &Actor,
        req: DiscoverClipsRequest,
    ) -> Result<DiscoverClipsOutcome, ApiError>;
    async fn trash(&self) -> Result<TrashList, ApiError>;
    async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail, ApiError>;
    async fn restore(&self, actor: &Actor, req: RestoreRequest) -> Result<RestoreReport, ApiError>;
    async fn purge_trash(
        &self,
        actor: &Actor,
        run_id: Option<String>,
    ) -> Result<PurgeReport, ApiError>;
    async fn storage(&self) -> Result<StorageReport, ApiError>;
    /// Checks a password and returns the Set-Cookie value of a new server-side session.
    async fn login(
        &self,
        parts: &http::request::Parts,
        username: &str,
        password: &str,
    ) -> Result<(SessionUser, String), ApiError>;
    /// Changes the caller's password; every session of theirs ends, and a fresh one is returned as the
    /// Set-Cookie value so this browser stays signed in.
    async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<String, ApiError>;
    /// Ends the caller's session on the server and returns the Set-Cookie value that clears it.
    async fn logout(&self, parts: &http::request::Parts) -> Result<String, ApiError>;
}

pub type SharedBackend = Arc<dyn Backend>;
