//! The `ewg` binary's configuration errors: one clear line, exit code 2, nothing half-created.

use std::process::Command;

fn ewg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ewg"))
}

#[test]
fn unknown_flags_exit_2() {
    let out = ewg().args(["serve", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

#[test]
fn unusable_values_are_one_line_and_exit_2() {
    for args in [
        &["serve", "--transcriber", "whisper"][..],
        &["serve", "--workers", "65"],
        &["serve", "--asr-model", "large-v3"],
        &["worker", "--asr-model", "huge"],
        &["deep-clean", "--confirm-orphans", "-3"],
    ] {
        let out = ewg().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(args[2]),
            "{args:?} names the value: {stderr}"
        );
    }
}

#[test]
fn an_unwritable_data_dir_is_a_one_line_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = ewg()
        .args(["discover", "--data-dir"])
        .arg(file.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("data dir") && err.contains("not-a-dir"),
        "{err}"
    );
}

#[test]
fn an_invalid_database_url_is_named_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = ewg()
        .args(["discover", "--database-url", "mysql://nope"])
        .arg("--data-dir")
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mysql://nope"), "{err}");
    assert!(!dir.path().join("d").exists(), "nothing created half-way");
}

#[test]
fn token_create_prints_the_token_alone_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = ewg()
        .args(["token", "create", "--role", "operator", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim().len(), 64);
    assert_eq!(stdout.lines().count(), 1);
}

/// `ewg user add|passwd` go through the service: the API's password rule (a short one is exit 2 with
/// the same words the browser's change of password gives), and an unknown user is named.
#[test]
fn user_commands_keep_the_apis_password_rule() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = ewg()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    };
    let short = run(&["user", "add", "ada"], "short\n");
    assert_eq!(short.status.code(), Some(2));
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(err.contains("at least 8 characters"), "{err}");
    let ok = run(&["user", "add", "ada"], "correct horse battery\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let again = run(&["user", "passwd", "ada"], "tiny\n");
    assert_eq!(again.status.code(), Some(2));
    let nobody = run(&["user", "passwd", "bob"], "correct horse battery\n");
    assert_eq!(nobody.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no user `bob`"));
}
