//! `ewg` command line: `serve` (default) and the same actions as the API for operators on the machine.
//!
//! Usage errors and unusable configuration exit with code 2 and one clear line on stderr.

use crate::config::{Cli, Command, Common, ServeArgs, TokenCommand, UserCommand, WorkerArgs};
use crate::error::{Error, Result};
use crate::studio::Studio;
use app::api::Role;
use app::api::{CleanEpisodeRequest, DeepCleanRequest, ProcessRequest, RetryRequest};
use clap::Parser;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("ewg: error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("ewg: error: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Help and version print as clap prints them; a usage error is one line (clap's first), exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("invalid arguments");
    eprintln!("ewg: {}", line.trim_start_matches("error: ").trim());
    ExitCode::from(2)
}

enum Failure {
    /// Configuration that cannot work (bad data dir, bad database URL): exit 2.
    Usage(String),
    Runtime(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Io { .. } | Error::BadRequest(_) | Error::InvalidId(_) => {
                Failure::Usage(e.to_string())
            }
            other => Failure::Runtime(other.to_string()),
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("EWG_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn open(common: &Common, serve: &ServeArgs) -> Result<Arc<Studio>, Failure> {
    Studio::open(common, serve).await.map_err(|e| match e {
        Error::Io { path, source } => {
            Failure::Usage(format!("data dir {path} is not usable: {source}"))
        }
        Error::Migrate(m) => Failure::Usage(format!("database schema could not be applied: {m}")),
        other => other.into(),
    })
}

/// The settings one-shot commands run with: `ewg serve`'s, with its environment variables honoured (so
/// `EWG_TRASH_RETENTION` applies to a CLI Deep Clean as to the server's).
fn env_defaults() -> ServeArgs {
    match Cli::try_parse_from(["ewg", "serve"]) {
        Ok(Cli {
            command: Some(Command::Serve(args)),
            ..
        }) => args,
        _ => ServeArgs::default(),
    }
}

fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("ewg: could not print result: {e}"),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let common = cli.common;
    // Plain `ewg` is `ewg serve`, with the same flags' environment variables honoured.
    let command = match cli.command {
        Some(c) => c,
        None => match Cli::try_parse_from(["ewg", "serve"]) {
            Ok(Cli {
                command: Some(c), ..
            }) => c,
            Ok(_) => Command::Serve(ServeArgs::default()),
            Err(e) => return Err(Failure::Usage(e.to_string().trim().to_string())),
        },
    };
    let defaults = env_defaults();
    match command {
        Command::Serve(args) => serve(common, args).await,
        Command::Worker(args) => worker(common, args).await,
        Command::Discover => {
            let studio = open(&common, &defaults).await?;
            // The same background scan the browser starts, waited for: a script wants the outcome.
            let scan = studio.scan_and_wait("cli").await?;
            print_json(&app::api::DiscoverReport {
                added: scan.added,
                skipped: scan.skipped,
            });
            Ok(())
        }
        Command::Process { ids, force } => process(&common, ids, force).await,
        Command::Clean {
            id,
            include_transcripts,
            include_audio,
            dry_run,
        } => {
            let studio = open(&common, &defaults).await?;
            let req = CleanEpisodeRequest {
                id,
                include_transcripts,
                include_audio,
                dry_run,
            };
            print_json(&studio.cleanup_episode("cli", req).await?);
            Ok(())
        }
        Command::Retry {
            ids,
            group,
            previewed,
            dry_run,
        } => {
            let studio = open(&common, &defaults).await?;
            let req = RetryRequest {
                select: app::api::FailedSelection {
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
        Command::Failures => {
            let studio = open(&common, &defaults).await?;
            print_json(&studio.failure_groups().await?);
            Ok(())
        }
        Command::DeepClean {
            dry_run,
            purge_now,
            confirm_orphans,
            orphans_digest,
        } => {
            let studio = open(&common, &defaults).await?;
            let req = DeepCleanRequest {
                dry_run,
                confirm_orphans,
                orphans_digest,
                purge_now,
            };
            print_json(&studio.deep_clean("cli", req).await?);
            Ok(())
        }
        Command::Restore {
            run,
            paths,
            dry_run,
        } => {
            let studio = open(&common, &defaults).await?;
            let req = app::api::RestoreRequest {
                run_id: run,
                paths: (!paths.is_empty()).then_some(paths),
                dry_run,
            };
            print_json(&studio.restore("cli", req).await?);
            Ok(())
        }
        Command::Trash { purge } => {
            let studio = open(&common, &defaults).await?;
            match purge.as_deref() {
                None => print_json(&studio.trash().await?),
                Some("all") => print_json(&studio.purge_trash("cli", None).await?),
                Some(run) => print_json(&studio.purge_trash("cli", Some(run.to_string())).await?),
            }
            Ok(())
        }
        Command::User(cmd) => user(&common, cmd).await,
        Command::Token(cmd) => token(&common, cmd).await,
    }
}

/// `ewg process ID…`: queue, run the workers here, wait, print each episode.
async fn process(common: &Common, ids: Vec<String>, force: bool) -> Result<(), Failure> {
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
        failed |= ep.episode.state != app::api::EpisodeState::Done;
        print_json(&ep.episode);
    }
    stop.cancel();
    if failed {
        return Err(Failure::Runtime("some episodes failed (see above)".into()));
    }
    Ok(())
}

async fn user(common: &Common, cmd: UserCommand) -> Result<(), Failure> {
    let defaults = ServeArgs::default();
    match cmd {
        UserCommand::Add { name, admin, role } => {
            let studio = open(common, &defaults).await?;
            let role = if admin {
                Role::Admin
            } else {
                Role::parse(&role).unwrap_or(Role::Viewer)
            };
            let (password, generated) = read_or_generate_password()?;
            let hash = crate::auth::hash_password(password.clone()).await?;
            studio.registry.add_user(&name, &hash, role).await?;
            if generated {
                println!("{password}");
                eprintln!(
                    "user {name} ({}) created; the password above is shown only once",
                    role.as_str()
                );
            } else {
                eprintln!("user {name} ({}) created", role.as_str());
            }
            Ok(())
        }
        UserCommand::Passwd { name } => {
            let studio = open(common, &defaults).await?;
            let user = studio
                .registry
                .user_by_name(&name)
                .await?
                .ok_or_else(|| Failure::Runtime(format!("no user `{name}`")))?;
            let (password, generated) = read_or_generate_password()?;
            let hash = crate::auth::hash_password(password.clone()).await?;
            studio.registry.set_password(user.id, &hash).await?;
            if generated {
                println!("{password}");
            }
            eprintln!("password of {name} changed; all of their sessions ended");
            Ok(())
        }
    }
}

async fn token(common: &Common, cmd: TokenCommand) -> Result<(), Failure> {
    let defaults = ServeArgs::default();
    let studio = open(common, &defaults).await?;
    match cmd {
        TokenCommand::Create { role, name } => {
            let role = Role::parse(&role).unwrap_or(Role::Viewer);
            let secret = crate::auth::new_secret()?;
            let id = studio
                .registry
                .create_token(&name, &crate::auth::secret_hash(&secret), role)
                .await?;
            println!("{secret}");
            eprintln!(
                "token {id} ({name}, {}) created; revoke with `ewg token revoke {id}`",
                role.as_str()
            );
        }
        TokenCommand::Revoke { id } => {
            if !studio.registry.revoke_token(id).await? {
                return Err(Failure::Runtime(format!("no live token with id {id}")));
            }
            eprintln!("token {id} revoked");
        }
        TokenCommand::List => {
            for (id, name, role, revoked) in studio.registry.list_tokens().await? {
                let state = if revoked.is_some() { "revoked" } else { "live" };
                println!("{id}\t{name}\t{role}\t{state}");
            }
        }
    }
    Ok(())
}

/// A password from stdin (one line) when something is piped in, else a generated one.
fn read_or_generate_password() -> Result<(String, bool), Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut s = String::new();
        stdin
            .lock()
            .read_to_string(&mut s)
            .map_err(|e| Failure::Runtime(format!("reading the password from stdin: {e}")))?;
        let pw = s.lines().next().unwrap_or("").to_string();
        if !pw.is_empty() {
            if pw.chars().count() < 8 {
                return Err(Failure::Usage(
                    "password must be at least 8 characters".into(),
                ));
            }
            return Ok((pw, false));
        }
    }
    let secret = crate::auth::new_secret().map_err(|e| Failure::Runtime(e.to_string()))?;
    Ok((secret[..20].to_string(), true))
}

async fn serve(common: Common, args: ServeArgs) -> Result<(), Failure> {
    let studio = open(&common, &args).await?;
    let leptos_options = leptos_options(args.addr);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let shutdown = CancellationToken::new();
    crate::node::announce(
        studio.registry.clone(),
        "serve",
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
async fn worker(common: Common, args: WorkerArgs) -> Result<(), Failure> {
    let studio = open(&common, &args.as_serve()).await?;
    let shutdown = CancellationToken::new();
    crate::node::announce(
        studio.registry.clone(),
        "worker",
        args.workers,
        shutdown.clone(),
    )
    .await;
    studio.jobs.start(args.workers, shutdown.clone());
    tracing::info!(node = crate::node::node_id(), slots = args.workers,
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
