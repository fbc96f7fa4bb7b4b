//! The registry a test runs on. `EWG_TEST_DB=postgres` runs the suite against a real PostgreSQL server
//! (Debian's `postgresql` package): one throwaway cluster per test process, started here as the
//! unprivileged `postgres` user (PostgreSQL refuses to run as root) on a free loopback port, and one fresh
//! database per data dir. Anything else runs on the embedded SQLite file in the data dir.
//!
//! Every way a test reaches the registry goes through here — the in-process server ([`url_for`]), a
//! spawned `ewg` ([`ewg`]), a raw query ([`sql`]) — so one data dir always means one registry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// True when this run of the suite uses PostgreSQL.
pub fn postgres() -> bool {
    std::env::var("EWG_TEST_DB").is_ok_and(|v| v == "postgres")
}

/// The `--database-url` for a data dir: `None` on SQLite (the file inside the dir), else the dir's own
/// database, created the first time the dir is seen.
pub fn url_for(dir: &Path) -> Option<String> {
    postgres().then(|| postgres_url_for(dir))
}

/// The dir's own PostgreSQL database, whichever engine the suite runs on (the scale-out tests).
pub fn postgres_url_for(dir: &Path) -> String {
    static DBS: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut dbs = DBS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let n = dbs.len();
    let name = dbs
        .entry(dir.to_path_buf())
        .or_insert_with(|| cluster().create_database(n));
    cluster().url(name)
}

/// The `ewg` binary on a data dir (and its registry): `ewg(dir).args(["token", "create", …])`.
pub fn ewg(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ewg"));
    c.arg("--data-dir").arg(dir);
    if let Some(url) = url_for(dir) {
        c.arg("--database-url").arg(url);
    }
    c.env_remove("DATABASE_URL");
    c
}

/// `ewg ARGS…` on a data dir, which must succeed (its stderr shown if not); its stdout as JSON.
pub fn ewg_json<T: serde::de::DeserializeOwned>(dir: &Path, args: &[&str]) -> T {
    let out = ewg(dir).args(args).output().expect("run ewg");
    assert!(
        out.status.success(),
        "ewg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ewg printed JSON")
}

/// One query against a data dir's registry, rows as `a|b` lines (the same on both engines).
pub fn sql(dir: &Path, q: &str) -> String {
    let out = match url_for(dir) {
        None => Command::new("sqlite3")
            .arg(dir.join("ewg.db"))
            .arg(q)
            .output()
            .expect("run sqlite3"),
        Some(url) => return sql_url(&url, q),
    };
    assert!(
        out.status.success(),
        "{q}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// One query against a PostgreSQL database, rows as `a|b` lines.
pub fn sql_url(url: &str, q: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(url)
        .args(["-c", q])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{q}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Cluster {
    port: u16,
    _watcher: std::process::Child,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

impl Cluster {
    /// initdb + postgres as `postgres` in a fresh directory. A watcher shell stops the server and removes
    /// the directory once this test process is gone, however it ends.
    fn start() -> Cluster {
        let bin = pg_bin();
        let dir = std::env::temp_dir().join(format!("ewg-it-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(ok.success(), "chown postgres {}", dir.display());
        let data = dir.join("data");
        let init = as_postgres(&bin.join("initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb");
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = crate::restart::free_port();
        let script = format!(
            "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
             >'{dir}/log' 2>&1 & pg=$!; \
             while [ -d /proc/{parent} ] && kill -0 $pg 2>/dev/null; do sleep 1; done; \
             kill -INT $pg 2>/dev/null; wait $pg; rm -rf '{dir}'",
            postgres = bin.join("postgres").display(),
            data = data.display(),
            dir = dir.display(),
            parent = std::process::id(),
        );
        // Never waited for: it outlives this process on purpose, to stop the server once we are gone.
        let watcher = as_postgres(Path::new("/bin/sh"))
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        let cluster = Cluster {
            port,
            _watcher: watcher,
        };
        let start = Instant::now();
        while !cluster.psql("postgres", "SELECT 1").status.success() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "postgres did not start: {}",
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn psql(&self, db: &str, q: &str) -> std::process::Output {
        Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(db))
            .args(["-c", q])
            .output()
            .expect("run psql")
    }

    fn create_database(&self, n: usize) -> String {
        let name = format!("t{n}");
        let out = self.psql("postgres", &format!("CREATE DATABASE {name}"));
        assert!(
            out.status.success(),
            "create database: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        name
    }
}

/// The newest installed PostgreSQL's binaries (`/usr/lib/postgresql/<major>/bin`).
fn pg_bin() -> PathBuf {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (scripts/setup installs it)")
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("postgres").exists())
        .collect();
    majors.sort();
    majors.pop().expect("no PostgreSQL server binaries").1
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c.current_dir("/");
    c
}
