//! The one-shot subcommands: each opens the service with `ewg serve`'s settings (its environment
//! variables honoured), does what the API's action of the same name does, and prints the result as JSON.

use super::config::Common;
use super::{Failure, env_defaults, open};
use app::api::{
    CleanEpisodeRequest, DeepCleanRequest, EpisodeState, FailedSelection, ProcessRequest,
    RestoreRequest, RetryRequest,
};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("ewg: could not print result: {e}"),
    }
}

/// `ewg discover`: scan inbox/ for new episodes.
pub(super) async fn discover(common: &Common) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    // The same background scan the browser starts, waited for: a script wants the outcome.
    let scan = studio.scan_and_wait("cli").await?;
    print_json(&app::api::DiscoverReport {
        added: scan.added,
        skipped: scan.skipped,
    });
    Ok(())
}

/// `ewg process ID…`: queue, run the workers here, wait, print each episode.
pub(super) async fn process(common: &Common, ids: Vec<String>, force: bool) -> Result<(), Failure> {
    let defaults = env_defaults();
    let studio = open(common, &defaults).await?;
    let req = ProcessRequest {
        ids,
        force,
        clear_cache: true,
    };
    let jobs = studio.process("cli", req).await?;
    let stop = CancellationToken::new();
    studio.jobs.start(defaults.workers, stop.clone());
    let mut failed = false;
    for job in &jobs {
        loop {
            let j = studio.registry.job(job.id).await?;
            match j.as_ref().map(|j| j.state()) {
                Some(s) if s.is_live() => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => break,
            }
        }
        let ep = studio.detail(&job.episode).await?;
        failed |= ep.episode.state != EpisodeState::Done;
        print_json(&ep.episode);
    }
    stop.cancel();
    if failed {
        return Err(Failure::Runtime("some episodes failed (see above)".into()));
    }
    Ok(())
}

/// `ewg clean ID`: one episode's derived outputs to the trash.
pub(super) async fn clean(
    common: &Common,
    id: String,
    include_transcripts: bool,
    include_audio: bool,
    dry_run: bool,
) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    let req = CleanEpisodeRequest {
        id,
        include_transcripts,
        include_audio,
        dry_run,
    };
    print_json(&studio.cleanup_episode("cli", req).await?);
    Ok(())
}

/// `ewg retry`: clean failed episodes (named, a failure group, or all) and queue them again.
pub(super) async fn retry(
    common: &Common,
    ids: Vec<String>,
    group: Option<String>,
    previewed: Option<Vec<String>>,
    dry_run: bool,
) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    let req = RetryRequest {
        select: FailedSelection {
            ids: (!ids.is_empty()).then_some(ids),
            group,
            previewed,
        },
        dry_run,
    };
    let (report, jobs) = studio.retry_failed("cli", req).await?;
    print_json(&report);
    println!("queued {} job(s); `ewg serve` runs them", jobs.len());
    Ok(())
}

/// `ewg failures`: failed episodes grouped by cause.
pub(super) async fn failures(common: &Common) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    print_json(&studio.failure_groups().await?);
    Ok(())
}

/// `ewg deep-clean`: the server-side half of Deep Clean.
pub(super) async fn deep_clean(common: &Common, req: DeepCleanRequest) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    print_json(&studio.deep_clean("cli", req).await?);
    Ok(())
}

/// `ewg restore RUN [PATH…]`: put a run's trash back.
pub(super) async fn restore(
    common: &Common,
    run: String,
    paths: Vec<String>,
    dry_run: bool,
) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    let req = RestoreRequest {
        run_id: run,
        paths: (!paths.is_empty()).then_some(paths),
        dry_run,
    };
    print_json(&studio.restore("cli", req).await?);
    Ok(())
}

/// `ewg trash [--purge RUN|all]`: list the trash, or purge it now.
pub(super) async fn trash(common: &Common, purge: Option<String>) -> Result<(), Failure> {
    let studio = open(common, &env_defaults()).await?;
    match purge.as_deref() {
        None => print_json(&studio.trash().await?),
        Some("all") => print_json(&studio.purge_trash("cli", None).await?),
        Some(run) => print_json(&studio.purge_trash("cli", Some(run.to_string())).await?),
    }
    Ok(())
}
