//! The seam between the API contract (this crate) and its implementation (the `server` crate).
//!
//! Server functions only authenticate, check the role and translate; everything else goes through this
//! trait object, which the server provides as Leptos context. That keeps domain code out of the UI crate
//! and lets `server` depend on `app`, never the reverse.
//!
//! The contract is cut by role, one narrow trait per area of the service (as its implementation is cut
//! into files): [`Sessions`], [`Episodes`], [`Scanning`], [`Work`], [`Cleaning`], [`Failures`],
//! [`ClipEditing`], [`TrashAndStorage`]. [`Backend`] is all of them, what the server puts in context; a
//! reader looking for an action's implementation finds it beside the service's code for that area
//! (`server/src/studio/<area>.rs`). The service validates every request itself (the CLI calls it too),
//! so the server functions do not.

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

/// Who is calling: sessions and sign-in.
#[async_trait::async_trait]
pub trait Sessions {
    /// Who sent this request, if anyone. Refuses state-changing browser calls from a foreign origin.
    async fn authenticate(&self, parts: &http::request::Parts) -> Result<Option<Actor>, ApiError>;
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

/// The episodes and their cleanup history.
#[async_trait::async_trait]
pub trait Episodes {
    async fn health(&self) -> HealthInfo;
    async fn episodes(&self, query: EpisodeQuery) -> Result<EpisodeList, ApiError>;
    async fn episode(&self, id: &str) -> Result<EpisodeDetail, ApiError>;
    async fn cancel(&self, actor: &Actor, id: &str) -> Result<JobInfo, ApiError>;
    async fn cleanup_runs(
        &self,
        episode: Option<String>,
        limit: u32,
    ) -> Result<CleanupRunList, ApiError>;
}

/// The inbox scan.
#[async_trait::async_trait]
pub trait Scanning {
    async fn discover(&self, actor: &Actor, wait: bool) -> Result<ScanStatus, ApiError>;
    async fn scan_status(&self) -> Result<Option<ScanStatus>, ApiError>;
}

/// What is queued and running, where, and each episode's attempts.
#[async_trait::async_trait]
pub trait Work {
    async fn queue(&self) -> Result<QueueView, ApiError>;
    async fn episode_history(&self, id: &str) -> Result<EpisodeHistory, ApiError>;
    async fn workers(&self) -> Result<WorkerList, ApiError>;
}

/// Processing and starting over: process, clean one episode, force reprocess, retry, Deep Clean.
#[async_trait::async_trait]
pub trait Cleaning {
    async fn process(&self, actor: &Actor, req: ProcessRequest)
    -> Result<ProcessOutcome, ApiError>;
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
}

/// Failed episodes grouped by cause, and cleaning a selection of them.
#[async_trait::async_trait]
pub trait Failures {
    async fn failure_groups(&self) -> Result<FailureGroupList, ApiError>;
    async fn cleanup_failed(
        &self,
        actor: &Actor,
        req: CleanFailedRequest,
    ) -> Result<CleanupReport, ApiError>;
}

/// One clip at a time: delete, cut again, render a candidate, nudge, discover candidates again.
#[async_trait::async_trait]
pub trait ClipEditing {
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
}

/// The trash (list, inspect, restore, purge) and where the disk goes.
#[async_trait::async_trait]
pub trait TrashAndStorage {
    async fn trash(&self) -> Result<TrashList, ApiError>;
    async fn trash_paths(&self, run_id: &str) -> Result<TrashDetail, ApiError>;
    async fn restore(&self, actor: &Actor, req: RestoreRequest) -> Result<RestoreReport, ApiError>;
    async fn purge_trash(
        &self,
        actor: &Actor,
        run_id: Option<String>,
    ) -> Result<PurgeReport, ApiError>;
    async fn storage(&self) -> Result<StorageReport, ApiError>;
}

/// The whole contract: what the server provides as context for the server functions.
pub trait Backend:
    Sessions
    + Episodes
    + Scanning
    + Work
    + Cleaning
    + Failures
    + ClipEditing
    + TrashAndStorage
    + Send
    + Sync
    + 'static
{
}

impl<T> Backend for T where
    T: Sessions
        + Episodes
        + Scanning
        + Work
        + Cleaning
        + Failures
        + ClipEditing
        + TrashAndStorage
        + Send
        + Sync
        + 'static
{
}

pub type SharedBackend = Arc<dyn Backend>;
