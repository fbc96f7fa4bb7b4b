//! `ewg` command line: `serve` (default) and the same actions as the API for operators on the machine.
//! It is the top of the house: flags are parsed here ([`config`]) into the settings the layers below
//! define, and every subcommand goes through [`Studio`], as the API does.
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | the flags and `EWG_*` variables, and the settings they make |
//! | `actions.rs` | one function per one-shot subcommand (discover, process, clean, retry, …) |
//! | `accounts.rs` | `ewg user` and `ewg token` |
//! | `serve.rs` | `ewg serve`, `ewg worker`, the scheduler, shutdown |
//!
//! Usage errors and unusable configuration exit with code 2 and one clear line on stderr.

mod accounts;
mod actions;
pub mod config;
mod serve;

pub use serve::leptos_options;

use crate::error::Error;
use crate::studio::Studio;
use clap::Parser;
use config::{Cli, Command, Common, ServeArgs};
use std::process::ExitCode;
use std::sync::Arc;

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

pub(crate) enum Failure {
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

pub(crate) async fn open(common: &Common, serve: &ServeArgs) -> Result<Arc<Studio>, Failure> {
    Studio::open(&serve.settings(common))
        .await
        .map_err(|e| match e {
            Error::Io { path, source } => {
                Failure::Usage(format!("data dir {path} is not usable: {source}"))
            }
            Error::Migrate(m) => {
                Failure::Usage(format!("database schema could not be applied: {m}"))
            }
            other => other.into(),
        })
}

/// The settings one-shot commands (and `bench_pipeline`) run with: `ewg serve`'s, with its environment
/// variables honoured (so `EWG_TRASH_RETENTION` applies to a CLI Deep Clean as to the server's).
pub fn env_defaults() -> ServeArgs {
    match Cli::try_parse_from(["ewg", "serve"]) {
        Ok(Cli {
            command: Some(Command::Serve(args)),
            ..
        }) => args,
        _ => ServeArgs::default(),
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
    match command {
        Command::Serve(args) => serve::serve(common, args).await,
        Command::Worker(args) => serve::worker(common, args).await,
        Command::Discover => actions::discover(&common).await,
        Command::Process { ids, force } => actions::process(&common, ids, force).await,
        Command::Clean {
            id,
            include_transcripts,
            include_audio,
            dry_run,
        } => actions::clean(&common, id, include_transcripts, include_audio, dry_run).await,
        Command::Retry {
            ids,
            group,
            previewed,
            dry_run,
        } => actions::retry(&common, ids, group, previewed, dry_run).await,
        Command::Failures => actions::failures(&common).await,
        Command::DeepClean {
            dry_run,
            purge_now,
            confirm_orphans,
            orphans_digest,
        } => {
            let req = app::api::DeepCleanRequest {
                dry_run,
                confirm_orphans,
                orphans_digest,
                purge_now,
            };
            actions::deep_clean(&common, req).await
        }
        Command::Restore {
            run,
            paths,
            dry_run,
        } => actions::restore(&common, run, paths, dry_run).await,
        Command::Trash { purge } => actions::trash(&common, purge).await,
        Command::User(cmd) => accounts::user(&common, cmd).await,
        Command::Token(cmd) => accounts::token(&common, cmd).await,
    }
}
