//! Server functions: one stable path each (`/api/<name>`), JSON arguments in, JSON out.
//!
//! Each body authenticates and checks the role itself (never trusting the page that called it), then
//! delegates to the [`Backend`](super::backend::Backend) the server put into context, which validates
//! the request (once, for every client: the CLI calls the same service).

use super::clips::*;
use super::codec::Json;
use super::console::*;
use super::error::ApiError;
use super::media::*;
use super::queue::*;
use super::types::*;
use super::undo::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use super::super::backend::{Actor, SharedBackend};
    use super::super::error::ApiError;
    use super::super::types::Role;
    use leptos::prelude::*;

    pub fn backend() -> Result<SharedBackend, ApiError> {
        use_context::<SharedBackend>()
            .ok_or_else(|| ApiError::internal("server misconfigured: no backend in context"))
    }

    pub fn parts() -> Result<http::request::Parts, ApiError> {
        use_context::<http::request::Parts>()
            .ok_or_else(|| ApiError::internal("server misconfigured: no request in context"))
    }

    /// The caller, who must hold at least `role`: 401 when nobody is signed in, 403 when the role is short.
    pub async fn authorize(role: Role) -> Result<(SharedBackend, Actor), ApiError> {
        let backend = backend()?;
        let actor = backend
            .authenticate(&parts()?)
            .await?
            .ok_or_else(|| ApiError::unauthorized("sign in or send an API token"))?;
        if actor.role < role {
            return Err(ApiError::forbidden(format!(
                "this action needs the {} role; you are {}",
                role.as_str(),
                actor.role.as_str()
            )));
        }
        Ok((backend, actor))
    }

    /// What `delete_clip` and `regenerate_clip` both take.
    pub fn clip_request(episode: String, clip: u32, dry_run: Option<bool>) -> super::ClipRequest {
        super::ClipRequest {
            episode,
            clip,
            dry_run: dry_run.unwrap_or(false),
        }
    }

    pub fn set_cookie(value: &str) {
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(value),
        ) {
            res.append_header(http::header::SET_COOKIE, v);
        }
    }
}

#[server(endpoint = "health", input = Json, output = Json)]
pub async fn health() -> Result<HealthInfo, ApiError> {
    Ok(ssr::backend()?.health().await)
}

#[server(endpoint = "me", input = Json, output = Json)]
pub async fn me() -> Result<Option<SessionUser>, ApiError> {
    let backend = ssr::backend()?;
    Ok(backend
        .authenticate(&ssr::parts()?)
        .await?
        .map(|a| SessionUser {
            username: a.name,
            role: a.role,
        }))
}

#[server(endpoint = "login", input = Json, output = Json)]
pub async fn login(username: String, password: String) -> Result<SessionUser, ApiError> {
    let backend = ssr::backend()?;
    let (me, cookie) = backend.login(&ssr::parts()?, &username, &password).await?;
    ssr::set_cookie(&cookie);
    Ok(me)
}

#[server(endpoint = "logout", input = Json, output = Json)]
pub async fn logout() -> Result<(), ApiError> {
    let backend = ssr::backend()?;
    let cookie = backend.logout(&ssr::parts()?).await?;
    ssr::set_cookie(&cookie);
    Ok(())
}

#[server(endpoint = "change_password", input = Json, output = Json)]
pub async fn change_password(current: String, new: String) -> Result<(), ApiError> {
    let (backend, actor) = ssr::authorize(Role::Viewer).await?;
    let cookie = backend.change_password(&actor, &current, &new).await?;
    ssr::set_cookie(&cookie);
    Ok(())
}

#[server(endpoint = "episodes", input = Json, output = Json)]
pub async fn episodes(
    state: Option<EpisodeState>,
    show: Option<String>,
    offset: Option<u32>,
    limit: Option<u32>,
) -> Result<EpisodeList, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend
        .episodes(super::backend::EpisodeQuery {
            state,
            show,
            offset: offset.unwrap_or(0),
            limit: limit.unwrap_or(100),
        })
        .await
}

#[server(endpoint = "episode", input = Json, output = Json)]
pub async fn episode(id: String) -> Result<EpisodeDetail, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.episode(&id).await
}

/// Starts a scan of the inbox in the background (or joins the one running) and answers at once with its
/// status; `wait`: answer when it has finished instead (scripts).
#[server(endpoint = "discover", input = Json, output = Json)]
pub async fn discover(wait: Option<bool>) -> Result<ScanStatus, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    backend.discover(&actor, wait.unwrap_or(false)).await
}

/// The running inbox scan, else the last one (`null` before the first). Also `GET /api/scan`.
#[server(endpoint = "scan_status", input = Json, output = Json)]
pub async fn scan_now() -> Result<Option<ScanStatus>, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.scan_status().await
}

/// Running jobs per worker, queued jobs in order, counts and an estimate of when the queue is empty.
#[server(endpoint = "queue", input = Json, output = Json)]
pub async fn queue() -> Result<QueueView, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.queue().await
}

/// An episode's processing attempts, newest first: trigger, start, duration, outcome.
#[server(endpoint = "episode_history", input = Json, output = Json)]
pub async fn episode_attempts(id: String) -> Result<EpisodeHistory, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.episode_history(&id).await
}

#[server(endpoint = "process", input = Json, output = Json)]
pub async fn process(
    ids: Vec<String>,
    force: Option<bool>,
    clear_cache: Option<bool>,
) -> Result<ProcessOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = super::ProcessRequest {
        ids,
        force: force.unwrap_or(false),
        clear_cache: clear_cache.unwrap_or(false),
    };
    backend.process(&actor, req).await
}

#[server(endpoint = "cancel", input = Json, output = Json)]
pub async fn cancel(id: String) -> Result<JobInfo, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    backend.cancel(&actor, &id).await
}

#[server(endpoint = "cleanup_episode", input = Json, output = Json)]
pub async fn cleanup_episode(
    id: String,
    include_transcripts: Option<bool>,
    include_audio: Option<bool>,
    dry_run: Option<bool>,
) -> Result<CleanupReport, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = super::CleanEpisodeRequest {
        id,
        include_transcripts: include_transcripts.unwrap_or(false),
        include_audio: include_audio.unwrap_or(false),
        dry_run: dry_run.unwrap_or(false),
    };
    backend.cleanup_episode(&actor, req).await
}

#[server(endpoint = "force_reprocess", input = Json, output = Json)]
pub async fn force_reprocess(
    id: String,
    dry_run: Option<bool>,
) -> Result<ReprocessOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = super::ReprocessRequest {
        id,
        dry_run: dry_run.unwrap_or(false),
    };
    backend.force_reprocess(&actor, req).await
}

/// The named failed episodes, one failure group (`group`: a key from `failure_groups`), or every
/// failed episode: each failed attempt cleaned and verified gone, then queued again. `previewed`: the
/// episodes the caller was shown (the group's `episodes`); when the selection names others now, 409.
#[server(endpoint = "retry_failed", input = Json, output = Json)]
pub async fn retry_failed(
    ids: Option<Vec<String>>,
    group: Option<String>,
    previewed: Option<Vec<String>>,
    dry_run: Option<bool>,
) -> Result<RetryOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = super::RetryRequest {
        select: FailedSelection {
            ids,
            group,
            previewed,
        },
        dry_run: dry_run.unwrap_or(false),
    };
    backend.retry_failed(&actor, req).await
}

/// Failed episodes grouped by stage and normalised error, largest group first.
#[server(endpoint = "failure_groups", input = Json, output = Json)]
pub async fn failure_groups() -> Result<FailureGroupList, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.failure_groups().await
}

/// Like `retry_failed` without the requeue: what the failed attempts left goes (to the trash), and the
/// episodes are set back to idle. 404 for an unknown group; 409 when `previewed` is given and the
/// selection names other episodes now.
#[server(endpoint = "cleanup_failed", input = Json, output = Json)]
pub async fn cleanup_failed(
    ids: Option<Vec<String>>,
    group: Option<String>,
    previewed: Option<Vec<String>>,
    dry_run: Option<bool>,
) -> Result<CleanupReport, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = CleanFailedRequest {
        select: FailedSelection {
            ids,
            group,
            previewed,
        },
        dry_run: dry_run.unwrap_or(false),
    };
    backend.cleanup_failed(&actor, req).await
}

/// One clip's files (all four renditions and the thumbnail) to the trash, audited; the other clips and
/// the episode's state stay. 404 unknown episode or clip, 409 while the episode is being processed.
#[server(endpoint = "delete_clip", input = Json, output = Json)]
pub async fn delete_clip(
    episode: String,
    clip: u32,
    dry_run: Option<bool>,
) -> Result<ClipOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    backend
        .delete_clip(&actor, ssr::clip_request(episode, clip, dry_run))
        .await
}

/// Cuts one clip again from the source: its old files go to the trash, then a job renders just that
/// clip. Same refusals as `delete_clip`.
#[server(endpoint = "regenerate_clip", input = Json, output = Json)]
pub async fn regenerate_clip(
    episode: String,
    clip: u32,
    dry_run: Option<bool>,
) -> Result<ClipOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    backend
        .regenerate_clip(&actor, ssr::clip_request(episode, clip, dry_run))
        .await
}

/// Cuts a scored candidate (1-based, best first, as the episode page lists it) as a new clip: an
/// audited run, then a clip job renders its four renditions. 400 candidate 0, 404 no such candidate,
/// 409 already a clip or the episode busy.
#[server(endpoint = "render_candidate", input = Json, output = Json)]
pub async fn render_candidate(
    episode: String,
    candidate: u32,
    dry_run: Option<bool>,
) -> Result<ClipEdit, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = CandidateRequest {
        episode,
        candidate,
        dry_run: dry_run.unwrap_or(false),
    };
    backend.render_candidate(&actor, req).await
}

/// Moves a clip's start or end one sentence earlier or later: the old clip's files go to the trash (an
/// audited run, restorable), and a clip job cuts the new bounds as a new clip.
#[server(endpoint = "nudge_clip", input = Json, output = Json)]
pub async fn nudge_clip(
    episode: String,
    clip: u32,
    edge: ClipEdge,
    way: NudgeWay,
    dry_run: Option<bool>,
) -> Result<ClipEdit, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = NudgeRequest {
        episode,
        clip,
        edge,
        way,
        dry_run: dry_run.unwrap_or(false),
    };
    backend.nudge_clip(&actor, req).await
}

/// Scores the episode's highlight candidates again with another preset or count; the rendered clips
/// stay. `dry_run` answers the candidates without keeping them.
#[server(endpoint = "discover_clips", input = Json, output = Json)]
pub async fn discover_clips(
    episode: String,
    preset: Option<ClipPreset>,
    count: Option<u32>,
    dry_run: Option<bool>,
) -> Result<DiscoverClipsOutcome, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = DiscoverClipsRequest {
        episode,
        preset,
        count,
        dry_run: dry_run.unwrap_or(false),
    };
    backend.discover_clips(&actor, req).await
}

/// `confirm_orphans` and `orphans_digest`: when the orphan guard stopped a sweep (409), the file count
/// and digest it named, to go ahead (a sweep whose files changed since is refused again).
/// `purge_now`: free the space at once instead of keeping the run's trash for the retention window.
#[server(endpoint = "deep_clean", input = Json, output = Json)]
pub async fn deep_clean(
    dry_run: Option<bool>,
    confirm_orphans: Option<i64>,
    orphans_digest: Option<String>,
    purge_now: Option<bool>,
) -> Result<CleanupReport, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Admin).await?;
    let req = super::DeepCleanRequest {
        dry_run: dry_run.unwrap_or(false),
        confirm_orphans,
        orphans_digest,
        purge_now: purge_now.unwrap_or(false),
    };
    backend.deep_clean(&actor, req).await
}

/// The processes sharing the registry: servers and workers, their heartbeats and jobs.
#[server(endpoint = "workers", input = Json, output = Json)]
pub async fn workers() -> Result<WorkerList, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.workers().await
}

#[server(endpoint = "cleanup_runs", input = Json, output = Json)]
pub async fn cleanup_runs(
    episode: Option<String>,
    limit: Option<u32>,
) -> Result<CleanupRunList, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.cleanup_runs(episode, limit.unwrap_or(50)).await
}

/// Runs in the trash (kept, and recently purged or restored), newest first, with the policy in force.
#[server(endpoint = "trash", input = Json, output = Json)]
pub async fn trash() -> Result<TrashList, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.trash().await
}

/// The paths one run took and the episodes it changed.
#[server(endpoint = "trash_paths", input = Json, output = Json)]
pub async fn trash_paths(run_id: String) -> Result<TrashDetail, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.trash_paths(&run_id).await
}

/// Moves a run's trash back (all of it, or `paths`), with its rows and the episodes' earlier state.
/// 404 unknown run, 410 purged, 409 an occupied path or a live job, 400 paths not in the run.
#[server(endpoint = "restore", input = Json, output = Json)]
pub async fn restore(
    run_id: String,
    paths: Option<Vec<String>>,
    dry_run: Option<bool>,
) -> Result<RestoreReport, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Operator).await?;
    let req = super::RestoreRequest {
        run_id,
        paths,
        dry_run: dry_run.unwrap_or(false),
    };
    backend.restore(&actor, req).await
}

/// Frees trash at once: one run's (`run_id`), or all of it ("Empty trash").
#[server(endpoint = "purge_trash", input = Json, output = Json)]
pub async fn purge_trash(run_id: Option<String>) -> Result<PurgeReport, ApiError> {
    let (backend, actor) = ssr::authorize(Role::Admin).await?;
    backend.purge_trash(&actor, run_id).await
}

/// Where the disk goes: derived directories, shows, the largest episodes, the trash, free space.
#[server(endpoint = "storage", input = Json, output = Json)]
pub async fn storage() -> Result<StorageReport, ApiError> {
    let (backend, _) = ssr::authorize(Role::Viewer).await?;
    backend.storage().await
}
