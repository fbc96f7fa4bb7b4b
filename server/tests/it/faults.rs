//! Resource faults made for real: a data root on a small tmpfs that fills up, a registry that refuses
//! a write (a SQLite trigger), an owner in another PID namespace, an owner paused past its lease.
//! Each test checks what an operator would: the reason names the fault, rows and disk agree, sources are
//! untouched, and the server recovers by itself once the fault is gone.

use crate::db;
use crate::support::{Env, Options, make_media};
use app::api::{EpisodeState, ProcessOutcome, RetryOutcome};
use ewg::registry::{NewEpisode, Registry};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Mounts a tmpfs of `mib` MiB on `dir` (the suite runs as root); unmounted when the guard drops.
pub(crate) struct Tmpfs(pub std::path::PathBuf);

impl Tmpfs {
    pub(crate) fn mount(dir: &Path, mib: u64) -> Tmpfs {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount")
            .success();
        assert!(ok, "mount a tmpfs on {}", dir.display());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes `path` until the filesystem refuses (ENOSPC) or `limit` bytes; returns the bytes written.
pub(crate) fn fill(path: &Path, limit: u64) -> u64 {
    let mut f = std::fs::File::create(path).expect("create ballast");
    let block = vec![0xa5u8; 64 * 1024];
    let mut n = 0u64;
    while n < limit {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    let _ = f.sync_all();
    n
}

fn episode(i: usize) -> NewEpisode {
    NewEpisode {
        id: format!("full_ep{i:03}_2026-01-01"),
        show: "full".into(),
        source_path: format!("inbox/full/ep{i:03}_2026-01-01.mp4"),
        // Long enough that every row needs fresh pages of the database (and frames of its WAL).
        title: "x".repeat(3000),
        duration_secs: Some(1.0),
    }
}

/// The wedge: after the first SQLITE_FULL every later write answered "database is locked", for good.
/// Here the registry's file system is filled completely, writes (plain and in transactions) fail while
/// it is full, and once space is back every kind of write works again within seconds, on the same pool.
#[tokio::test]
async fn a_full_disk_never_leaves_the_sqlite_registry_locked() {
    if db::postgres() {
        return; // the file system of a PostgreSQL server is not the data root's
    }
    let dir = tempfile::tempdir().unwrap();
    let _fs = Tmpfs::mount(dir.path(), 6);
    let registry = Registry::open(None, dir.path()).await.expect("open");
    for i in 0..200 {
        registry.upsert_discovered(&episode(i)).await.unwrap();
    }
    fill(&dir.path().join("ballast"), u64::MAX);
    let mut refused = 0;
    let mut full_messages = 0;
    for i in 0..200 {
        // A transaction: the job's row, then the episode's state.
        let res = registry.enqueue(&episode(i).id, 1, false).await;
        if let Err(e) = res {
            refused += 1;
            if e.to_string().contains("full") {
                full_messages += 1;
            }
            if refused >= 30 {
                break;
            }
        }
    }
    assert!(
        refused >= 30 && full_messages > 0,
        "a full disk refuses writes ({refused} refused, {full_messages} said full)"
    );
    std::fs::remove_file(dir.path().join("ballast")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    let mut ok_rounds = 0;
    for i in 1000.. {
        let e = episode(i);
        let res = async {
            registry.upsert_discovered(&e).await?;
            registry.enqueue(&e.id, 1, false).await?;
            // A transaction that ends in a refusal (a second live job: 409) rolls back cleanly too.
            let again = registry.enqueue(&e.id, 2, false).await;
            assert!(again.is_err(), "a second live job is refused");
            registry
                .register_node("full-node", app::api::NodeRole::Serve, "host", 1)
                .await
        }
        .await;
        match res {
            Ok(()) => ok_rounds += 1,
            Err(e) => last = e.to_string(),
        }
        // Every pooled connection has to be fine, not just one: several rounds in a row.
        if ok_rounds >= 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the registry did not recover once space was back: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every registered file of every episode exists with its recorded size, and no file in a derived
/// directory is unregistered: the registry and the disk tell the same story.
pub(crate) async fn assert_rows_match_disk(env: &Env, ids: &[String]) {
    let mut registered = std::collections::BTreeSet::new();
    for id in ids {
        for a in env.episode(id).await.artifacts {
            let meta = std::fs::metadata(env.root().join(&a.path));
            assert!(
                meta.as_ref().is_ok_and(|m| m.len() as i64 == a.bytes),
                "{id}: row {} ({} bytes) but on disk {meta:?}",
                a.path,
                a.bytes
            );
            registered.insert(a.path);
        }
    }
    let unregistered: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| {
            // Kept trash is its run's (checked apart: every `.trash/<run>` is a kept run's).
            !f.starts_with("inbox/")
                && !f.starts_with("ballast")
                && !f.starts_with(".trash/")
                && !registered.contains(f)
        })
        .collect();
    assert!(
        unregistered.is_empty(),
        "files no row accounts for: {unregistered:?}"
    );
}

/// The sources under `inbox/`, path → bytes.
pub(crate) fn sources(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.join("inbox")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

/// Episodes processed onto a small data root that is nearly full: each fails with a reason that names
/// the full disk, leaves rows = disk and its source untouched, the server answers throughout, and once
/// space is freed a retry finishes every one — no restart.
#[tokio::test]
async fn episodes_that_fill_the_disk_fail_saying_so_and_finish_once_space_is_back() {
    let opts = Options {
        tmpfs_mib: Some(40),
        // The server's own default: a twentieth of the 40 MiB.
        disk_reserve_mb: None,
        ..Options::default()
    };
    let env = Env::start_with(opts, |inbox| {
        make_media(
            inbox,
            &["--shows", "full", "--episodes", "3", "--seconds", "4"],
        )
    })
    .await;
    let before = sources(env.root());
    let ids = episode_ids(env.root());
    assert_eq!(ids.len(), 3);
    // The reserve is made by the job reaper (every half lease); then the rest of the disk fills up but
    // for 1.5 MiB: room for the audio and the text, not for the clips.
    let start = Instant::now();
    while env.studio.root.reserve_held() == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no reserve made");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let free = env.studio.root.space().unwrap().free;
    fill(&env.root().join("ballast"), free - (3 << 19));
    env.ok::<ProcessOutcome>("process", json!({ "ids": ids }))
        .await;
    for id in &ids {
        let d = env.wait_settled(id, Duration::from_secs(90)).await;
        assert_eq!(d.episode.state, EpisodeState::Failed, "{id}");
        let error = d.episode.error.clone().unwrap_or_default();
        assert!(error.starts_with("disk full"), "{id}: {error}");
        // The server answers while the disk is full.
        let health = env
            .http
            .get(format!("{}/api/health", env.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
    assert_rows_match_disk(&env, &ids).await;
    assert_eq!(sources(env.root()), before, "sources untouched");

    std::fs::remove_file(env.root().join("ballast")).unwrap();
    env.ok::<RetryOutcome>("retry_failed", json!({ "ids": ids }))
        .await;
    for id in &ids {
        let d = env.wait_settled(id, Duration::from_secs(120)).await;
        assert_eq!(
            d.episode.state,
            EpisodeState::Done,
            "{id}: {:?}",
            d.episode.error
        );
    }
    assert_rows_match_disk(&env, &ids).await;
    assert_eq!(sources(env.root()), before, "sources untouched");
}

/// The episode ids of the videos under `inbox/`.
pub(crate) fn episode_ids(root: &Path) -> Vec<String> {
    sources(root)
        .keys()
        .filter(|p| p.ends_with(".mp4"))
        .map(|p| {
            let p = Path::new(p);
            let show = p.parent().unwrap().file_name().unwrap().to_string_lossy();
            let stem = p.file_stem().unwrap().to_string_lossy();
            format!("{show}_{stem}")
        })
        .collect()
}

/// A server with one 3 s episode of show `show`, processed to done; its id (in a list, as the checks
/// take it).
async fn one_done_episode(show: &str) -> (Env, Vec<String>) {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", show, "--episodes", "1", "--seconds", "3"],
        )
    })
    .await;
    let ids = episode_ids(env.root());
    env.ok::<ProcessOutcome>("process", json!({ "ids": ids }))
        .await;
    let d = env.wait_settled(&ids[0], Duration::from_secs(90)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{:?}", d.episode.error);
    (env, ids)
}

/// A trigger that makes the registry refuse every `DELETE FROM artifacts` (the commit of any cleanup).
fn refuse_artifact_deletes(root: &Path, refuse: bool) {
    let q = match (db::postgres(), refuse) {
        (false, true) => {
            "CREATE TRIGGER refuse BEFORE DELETE ON artifacts \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        }
        (false, false) => "DROP TRIGGER refuse;",
        (true, true) => {
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
             CREATE TRIGGER refuse BEFORE DELETE ON artifacts FOR EACH ROW EXECUTE FUNCTION refuse();"
        }
        (true, false) => "DROP TRIGGER refuse ON artifacts; DROP FUNCTION refuse();",
    };
    db::sql(root, q);
}

/// A cleanup whose commit the registry refuses answers with a failure, puts every file back (rows =
/// disk, the episode still done), lets its episode go, and once the fault is gone the episode can be
/// processed again. Before, the episode stayed `done` with its files in the trash and owned by a
/// finished run: every later process or force answered 409.
#[tokio::test]
async fn a_cleanup_whose_commit_is_refused_fails_puts_everything_back_and_lets_go() {
    let (env, ids) = one_done_episode("refuse").await;
    let id = ids[0].clone();
    let files = env.files();
    refuse_artifact_deletes(env.root(), true);
    let (status, body) = env
        .raw(&env.operator, "cleanup_episode", json!({ "id": id }))
        .await;
    let said = body.to_string();
    assert!(
        status != 200 || body["result"] == "failed",
        "a refused commit is a failure: {status} {said}"
    );
    assert!(said.contains("refused"), "the answer says why: {said}");
    let d = env.episode(&id).await;
    assert_eq!(d.episode.state, EpisodeState::Done);
    assert_rows_match_disk(&env, &ids).await;
    assert_eq!(
        env.files(),
        files,
        "every file back in place, nothing in the trash"
    );
    // Not owned by the failed run: a dry run plans at once instead of answering 409.
    let (status, body) = env
        .raw(
            &env.operator,
            "cleanup_episode",
            json!({ "id": id, "dry_run": true }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    refuse_artifact_deletes(env.root(), false);
    env.ok::<serde_json::Value>("force_reprocess", json!({ "id": id }))
        .await;
    let d = env.wait_settled(&id, Duration::from_secs(90)).await;
    assert_eq!(d.episode.state, EpisodeState::Done, "{:?}", d.episode.error);
    assert_rows_match_disk(&env, &ids).await;
}

/// `ewg ARGS…` on the data dir, run by `prefix` (e.g. `unshare --pid --fork --mount-proc`).
fn ewg_under(prefix: &[&str], dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(prefix[0]);
    c.args(&prefix[1..])
        .arg(env!("CARGO_BIN_EXE_ewg"))
        .arg("--data-dir")
        .arg(dir);
    if let Some(url) = db::url_for(dir) {
        c.arg("--database-url").arg(url);
    }
    c.args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run ewg")
}

fn run_record(id: &str) -> ewg::registry::RunRecord {
    ewg::registry::RunRecord {
        id: id.into(),
        actor: "test".into(),
        trigger: app::api::Trigger::Episode,
        scope: "planted".into(),
        episode: None,
        dry_run: false,
        then: ewg::registry::Then::Release,
        keep_trash: false,
    }
}

/// A CLI command run in its own PID namespace (a sidecar, a second container on the same host name)
/// sees none of this host's pids in its `/proc`: it must leave a live owner's run alone, where it used
/// to "finish" it at once. A run whose owner certainly died (same namespace, pid gone) is still finished
/// at once by a CLI in that namespace.
#[tokio::test]
async fn a_cli_in_another_pid_namespace_leaves_a_live_owners_run_alone() {
    let env = Env::start(|_| {}).await;
    let registry = &env.studio.registry;
    // Owned by this test process, which is alive and heartbeats nothing: only the pid judgement differs.
    registry
        .start_run(&run_record("live-run"), ewg::registry::liveness::node_id())
        .await
        .unwrap();
    let mut child = Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let me = ewg::registry::liveness::node_id();
    let (host_pid, rest) = me.rsplit_once('.').unwrap();
    let host = host_pid.rsplit_once('-').unwrap().0;
    let dead_owner = format!("{host}-{dead_pid}.{rest}");
    registry
        .start_run(&run_record("dead-run"), &dead_owner)
        .await
        .unwrap();
    let live = || async {
        let mut ids: Vec<String> = registry
            .live_runs()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    };

    let out = ewg_under(
        &["unshare", "--pid", "--fork", "--mount-proc"],
        env.root(),
        &["failures"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        live().await,
        ["dead-run", "live-run"],
        "from another PID namespace no pid is certain: both runs are judged by their heartbeat"
    );

    let out = ewg_under(&["env"], env.root(), &["failures"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        live().await,
        ["live-run"],
        "in the owner's namespace a dead pid is certain: its run is finished at once"
    );
}

/// The state letter of a process (`R`, `S`, `T` = stopped, …) from `/proc/<pid>/stat`.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// An owner paused (SIGSTOP) between moving its files to the trash and its commit, past its lease:
/// another process recovers the run. When the owner wakes it finds the run is no longer its own and
/// changes nothing: no second commit, no run brought back to life, no trash touched; it says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "testing"),
    ignore = "needs the failpoints: cargo test -p ewg --features testing"
)]
async fn an_owner_paused_past_its_lease_changes_nothing_when_it_wakes() {
    let (env, ids) = one_done_episode("paused").await;
    let id = ids[0].clone();
    let mut owner = db::ewg(env.root())
        .args(["clean", &id])
        .env("EWG_FAILPOINTS", "run.after_trash=stop")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = owner.id();
    let start = Instant::now();
    while proc_state(pid) != Some('T') {
        if owner.try_wait().unwrap().is_some() {
            let out = owner.wait_with_output().unwrap();
            panic!(
                "the owner ended before its failpoint: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the owner never reached its failpoint"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Silent past the 20 s after which recovery may judge an owner gone (the registry's clock).
    let registry = &env.studio.registry;
    loop {
        let runs = registry.live_runs().await.unwrap();
        assert_eq!(runs.len(), 1, "the paused owner's run is live");
        if runs[0].silent_ms > 21_000 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the run never went silent"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        env.studio.cleanup.recover().await.unwrap(),
        1,
        "recovery finished the run"
    );
    assert_rows_match_disk(&env, &ids).await;
    let files = env.files();
    let state = env.episode(&id).await.episode.state;
    let runs = registry.list_runs(Some(&id), 10).await.unwrap();

    let _ = Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status();
    let out = owner.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the woken owner reports failure: {stderr}"
    );
    assert!(
        stderr.contains("recovery took it over"),
        "and says why: {stderr}"
    );
    assert!(
        registry.live_runs().await.unwrap().is_empty(),
        "no run brought back to life"
    );
    assert_eq!(env.files(), files, "the woken owner touched no file");
    assert_eq!(env.episode(&id).await.episode.state, state);
    let after = registry.list_runs(Some(&id), 10).await.unwrap();
    assert_eq!(
        format!("{after:?}"),
        format!("{runs:?}"),
        "the recovered run's outcome stands"
    );
    assert_rows_match_disk(&env, &ids).await;
}

/// What must hold after any fault once recovery has run, checked over the real data root and registry.
async fn assert_invariants(
    env: &Env,
    ids: &[String],
    sources_before: &std::collections::BTreeMap<String, Vec<u8>>,
    case: &str,
) {
    let registry = &env.studio.registry;
    let live = registry.live_runs().await.unwrap();
    assert!(
        live.is_empty(),
        "{case}: runs left live after recovery: {live:?}"
    );
    let owned = db::sql(
        env.root(),
        "SELECT COUNT(*) FROM episodes WHERE cleanup_run IS NOT NULL",
    );
    assert_eq!(
        owned.trim(),
        "0",
        "{case}: an episode is still owned by a finished run"
    );
    for id in ids {
        let d = env.episode(id).await;
        assert!(
            !d.episode.state.is_active() || d.job.is_some(),
            "{case}: {id} shown {} without a live job",
            d.episode.state
        );
    }
    for e in std::fs::read_dir(env.root().join(".trash"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let run = e.file_name().to_string_lossy().into_owned();
        let trash = db::sql(
            env.root(),
            &format!("SELECT trash FROM cleanup_runs WHERE id = '{run}'"),
        );
        assert_eq!(
            trash.trim(),
            "kept",
            "{case}: .trash/{run} belongs to no kept run"
        );
    }
    assert_rows_match_disk(env, ids).await;
    assert_eq!(
        &sources(env.root()),
        sources_before,
        "{case}: sources untouched"
    );
}

/// The failpoint sweep: every point of a cleanup run's life (`ewg::failpoint::POINTS`) made to fail its
/// step or crash the process, in a real `ewg clean` beside the running server; then recovery runs (a
/// CLI command, as after any crash) and the invariants are checked over the real data root and registry.
/// A report the CLI printed must not claim what did not happen. (`stop`, a pause past the lease, is
/// `an_owner_paused_past_its_lease_changes_nothing_when_it_wakes`: each case waits 20 s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "testing"),
    ignore = "needs the failpoints: cargo test -p ewg --features testing"
)]
async fn failpoint_sweep_over_a_cleanup_runs_life_keeps_rows_and_disk_in_step() {
    let env = Env::start(|inbox| {
        make_media(
            inbox,
            &["--shows", "sweep", "--episodes", "1", "--seconds", "2"],
        )
    })
    .await;
    let ids = episode_ids(env.root());
    let id = ids[0].clone();
    let before = sources(env.root());
    env.ok::<ProcessOutcome>("process", json!({ "ids": ids }))
        .await;
    let mut cases = 0;
    for (point, modes) in ewg::failpoint::POINTS {
        for mode in modes.iter().filter(|m| **m != "stop") {
            let case = format!("{point}={mode}");
            let d = env.wait_settled(&id, Duration::from_secs(90)).await;
            if d.episode.state != EpisodeState::Done {
                env.ok::<serde_json::Value>("force_reprocess", json!({ "id": id }))
                    .await;
                let d = env.wait_settled(&id, Duration::from_secs(90)).await;
                assert_eq!(
                    d.episode.state,
                    EpisodeState::Done,
                    "{case}: {:?}",
                    d.episode.error
                );
            }
            let out = db::ewg(env.root())
                .args(["clean", &id])
                .env("EWG_FAILPOINTS", &case)
                .env("EWG_LOG", "error")
                .output()
                .unwrap();
            // Recovery, as after any crash: any command opens the registry and finishes dead owners' runs.
            let rec = ewg_under(&["env"], env.root(), &["failures"]);
            assert!(
                rec.status.success(),
                "{case}: {}",
                String::from_utf8_lossy(&rec.stderr)
            );
            assert_invariants(&env, &ids, &before, &case).await;
            if out.status.success() {
                let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                if report["result"] == "ok" {
                    let left: Vec<String> = env
                        .episode(&id)
                        .await
                        .artifacts
                        .into_iter()
                        .filter(|a| a.kind != "audio" && a.kind != "transcript")
                        .map(|a| a.path)
                        .collect();
                    assert!(
                        left.is_empty(),
                        "{case}: reported ok, yet still registered: {left:?}"
                    );
                }
            } else {
                assert!(
                    *mode == "crash" || !out.stderr.is_empty(),
                    "{case}: a failure says why"
                );
            }
            cases += 1;
        }
    }
    let points = ewg::failpoint::POINTS.len();
    println!(
        "failpoint sweep: {points} points, {cases} cases (error/crash) on {}",
        if db::postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    assert!(cases >= 10);
}
