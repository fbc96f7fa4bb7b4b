//! Flag parsing (`ewg::cli::config`): the documented defaults, the ranges clap enforces, global flags after the
//! subcommand. Pure parsing: nothing is started. (Assumes no `EWG_*` setting variables in the test's
//! environment, as `scripts/test` runs it.)

use clap::Parser;
use ewg::cli::config::{Cli, Command, ServeArgs, TokenCommand};
use std::path::Path;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("ewg").chain(args.iter().copied()))
}

fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    match parse(&all)?.command {
        Some(Command::Serve(s)) => Ok(s),
        other => panic!("not serve: {other:?}"),
    }
}

#[test]
fn the_flag_defaults_are_the_serve_args_defaults() {
    let parsed = serve(&[]).unwrap();
    let default = ServeArgs::default();
    // `ServeArgs::default()` (used by tests and embedders) must say what `ewg serve` does.
    assert_eq!(parsed.addr, default.addr);
    assert_eq!(parsed.workers, default.workers);
    assert_eq!(parsed.lease_secs, default.lease_secs);
    assert_eq!(parsed.cleanup_interval_secs, default.cleanup_interval_secs);
    assert_eq!(parsed.stale_after_secs, default.stale_after_secs);
    assert_eq!(parsed.max_upload_mb, default.max_upload_mb);
    assert_eq!(parsed.secure_cookies, default.secure_cookies);
    assert_eq!(default.lease(), std::time::Duration::from_secs(30));
}

#[test]
fn no_subcommand_parses_with_the_default_data_dir() {
    let cli = parse(&[]).unwrap();
    assert!(cli.command.is_none(), "serve is the default, chosen later");
    assert_eq!(cli.common.data_dir, Path::new("./data"));
    assert_eq!(cli.common.database_url, None);
}

#[test]
fn workers_must_be_between_0_and_64() {
    for bad in ["65", "1000"] {
        let e = serve(&["--workers", bad]).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::ValueValidation,
            "{bad}: {e}"
        );
    }
    assert!(serve(&["--workers", "two"]).is_err());
    assert_eq!(
        serve(&["--workers", "0"]).unwrap().workers,
        0,
        "a server that runs no jobs (workers elsewhere)"
    );
    assert_eq!(serve(&["--workers", "1"]).unwrap().workers, 1);
    assert_eq!(serve(&["--workers", "64"]).unwrap().workers, 64);
}

#[test]
fn zero_lease_interval_and_upload_limit_are_refused() {
    for flag in ["--lease-secs", "--cleanup-interval-secs", "--max-upload-mb"] {
        let e = serve(&[flag, "0"]).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::ValueValidation,
            "{flag}: {e}"
        );
        assert!(e.to_string().contains(flag), "{e}");
    }
    // Zero staleness is allowed: sweep everything unfinished at once.
    assert_eq!(
        serve(&["--stale-after-secs", "0"])
            .unwrap()
            .stale_after_secs,
        0
    );
    let s = serve(&[
        "--lease-secs",
        "5",
        "--max-upload-mb",
        "1",
        "--secure-cookies",
    ])
    .unwrap();
    assert_eq!(
        (s.lease_secs, s.max_upload_mb, s.secure_cookies),
        (5, 1, true)
    );
}

#[test]
fn a_bad_listen_address_is_refused() {
    let e = serve(&["--addr", "localhost"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{e}");
    assert_eq!(
        serve(&["--addr", "0.0.0.0:8080"]).unwrap().addr,
        ([0, 0, 0, 0], 8080).into()
    );
}

#[test]
fn data_dir_and_database_url_are_global_and_may_follow_the_subcommand() {
    let cli = parse(&[
        "discover",
        "--data-dir",
        "/srv/ewg",
        "--database-url",
        "sqlite:///srv/ewg/reg.db",
    ])
    .unwrap();
    assert!(matches!(cli.command, Some(Command::Discover)));
    assert_eq!(cli.common.data_dir, Path::new("/srv/ewg"));
    assert_eq!(
        cli.common.database_url.as_deref(),
        Some("sqlite:///srv/ewg/reg.db")
    );
}

#[test]
fn token_roles_are_a_closed_list_and_user_admin_conflicts_with_role() {
    let e = parse(&["token", "create", "--role", "root"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue, "{e}");
    let e = parse(&["token", "create"]).unwrap_err();
    assert_eq!(
        e.kind(),
        clap::error::ErrorKind::MissingRequiredArgument,
        "{e}"
    );
    match parse(&["token", "create", "--role", "viewer"])
        .unwrap()
        .command
    {
        Some(Command::Token(TokenCommand::Create { role, name })) => {
            assert_eq!((role.as_str(), name.as_str()), ("viewer", "cli"));
        }
        other => panic!("{other:?}"),
    }
    let e = parse(&["user", "add", "ada", "--admin", "--role", "viewer"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{e}");
}

#[test]
fn clean_and_process_take_their_flags() {
    match parse(&[
        "clean",
        "talk_ep001_2026-01-01",
        "--include-audio",
        "--dry-run",
    ])
    .unwrap()
    .command
    {
        Some(Command::Clean {
            id,
            include_transcripts,
            include_audio,
            dry_run,
        }) => {
            assert_eq!(id, "talk_ep001_2026-01-01");
            assert_eq!(
                (include_transcripts, include_audio, dry_run),
                (false, true, true)
            );
        }
        other => panic!("{other:?}"),
    }
    match parse(&[
        "process",
        "a_ep001_2026-01-01",
        "b_ep002_2026-01-02",
        "--force",
    ])
    .unwrap()
    .command
    {
        Some(Command::Process { ids, force }) => {
            assert_eq!(ids, ["a_ep001_2026-01-01", "b_ep002_2026-01-02"]);
            assert!(force);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["clean"]).is_err(), "clean needs an id");
}
