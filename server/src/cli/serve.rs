//! `ewg serve` and `ewg worker`: the long-running processes, their scheduled cleanups and shutdown.

use super::config::{Common, ServeArgs, WorkerArgs};
use super::{Failure, open};
use crate::registry::liveness;
use crate::studio::Studio;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(super) async fn serve(common: Common, args: ServeArgs) -> Result<(), Failure> {
    let studio = open(&common, &args).await?;
    let leptos_options = leptos_options(args.addr);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let shutdown = CancellationToken::new();
    liveness::announce(
        studio.registry.clone(),
        app::api::NodeRole::Serve,
        args.workers,
        shutdown.clone(),
    )
    .await;
    studio.jobs.start(args.workers, shutdown.clone());
    spawn_scheduler(Arc::clone(&studio), &args, shutdown.clone());
    let app = crate::http::router(Arc::clone(&studio), leptos_options);
    tracing::info!(addr = %args.addr, data_dir = %studio.root.path().display(), "EWG Studio listening on http://{}", args.addr);
    let stop = shutdown.clone();
    // Connect info gives login limits the peer address.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stop.cancel();
        })
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))
}

/// `ewg worker`: claims and runs jobs until SIGTERM/Ctrl-C, then stops claiming and lets the jobs it
/// runs finish (a second signal, or a SIGKILL, leaves them to the lease reaper of any other process).
pub(super) async fn worker(common: Common, args: WorkerArgs) -> Result<(), Failure> {
    let studio = open(&common, &args.as_serve()).await?;
    let shutdown = CancellationToken::new();
    liveness::announce(
        studio.registry.clone(),
        app::api::NodeRole::Worker,
        args.workers,
        shutdown.clone(),
    )
    .await;
    studio.jobs.start(args.workers, shutdown.clone());
    tracing::info!(node = liveness::node_id(), slots = args.workers,
        data_dir = %studio.root.path().display(), registry = %studio.registry.describe(), "worker started");
    shutdown_signal().await;
    shutdown.cancel();
    tracing::info!("stopping: no new jobs; waiting for the running ones");
    tokio::select! {
        _ = studio.jobs.drained() => {}
        _ = shutdown_signal() => tracing::warn!("second signal: leaving running jobs to the reaper"),
    }
    Ok(())
}

/// Leptos settings: from cargo-leptos's environment when present, else the workspace defaults.
pub fn leptos_options(addr: std::net::SocketAddr) -> leptos::config::LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| {
            leptos::config::LeptosOptions::builder()
                .output_name("ewg")
                .site_root("target/site")
                .site_pkg_dir("pkg")
                .build()
        });
    options.site_addr = addr;
    options
}

/// How often the trash keeper looks at retention, the trash budget and free disk space: cheap (one
/// registry query and a `statvfs`), so disk pressure is met within a minute.
const TRASH_KEEPER_EVERY: Duration = Duration::from_secs(30);

fn spawn_scheduler(studio: Arc<Studio>, args: &ServeArgs, shutdown: CancellationToken) {
    let every = Duration::from_secs(args.cleanup_interval_secs);
    let keeper = Arc::clone(&studio);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(TRASH_KEEPER_EVERY.min(every)) => {}
            }
            match keeper.cleanup.maintain_trash().await {
                Ok(purged) if !purged.is_empty() => {
                    tracing::info!(runs = purged.len(), "trash keeper purged runs")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "trash keeper failed"),
            }
        }
    });
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            match studio.cleanup.scheduled().await {
                Ok(Some(r)) => {
                    tracing::info!(files = r.files, bytes = r.bytes, "scheduled cleanup")
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "scheduled cleanup failed"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
