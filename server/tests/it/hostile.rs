//! An attacker's view of the edges, over real HTTP: login floods, lockouts that must not reach the real
//! user at another address, a password change racing logins, internal errors that must not leak, and a
//! reverse proxy that rewrites `Host`.

use crate::support::{Env, Options, add_user, login, status_and_json};
use app::api::Role;
use futures::future::join_all;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const ADA: &str = "correct horse battery";

/// `POST /api/login` from `client` (its local address decides the limiter's key), optional extra headers.
async fn login_from(
    env: &Env,
    client: &reqwest::Client,
    user: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>) {
    let mut req = client
        .post(format!("{}/api/login", env.base))
        .json(&serde_json::json!({ "username": user, "password": password }));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("login request");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_string);
    (res.status().as_u16(), cookie)
}

fn client_at(addr: &str) -> reqwest::Client {
    let ip: IpAddr = addr.parse().expect("ip");
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .expect("client")
}

/// Who a session cookie belongs to (`me`), or the status when it is not a live session.
async fn me(env: &Env, cookie: &str) -> (u16, serde_json::Value) {
    let res = env
        .http
        .post(format!("{}/api/me", env.base))
        .header("cookie", cookie)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("me");
    status_and_json(res).await
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_are_checked_at_most_five_times() {
    let env = Env::start(|_| {}).await;
    add_user(&env, "ada", Role::Viewer, ADA).await;
    let before = env.studio.auth.password_checks();
    let statuses: Vec<u16> = join_all((0..40).map(|_| login(&env, "ada", "wrong password")))
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let checks = env.studio.auth.password_checks() - before;
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    println!("40 parallel wrong passwords: {checks} checks, {unauthorized} x 401, rest 429");
    assert!(checks <= 5, "{checks} password checks");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(unauthorized <= 5, "{statuses:?}");
    // Locked now: even the right password waits (for this address).
    assert_eq!(login(&env, "ada", ADA).await.0, 429);
}

/// A process's peak resident memory (VmHWM), in MB.
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test]
async fn three_hundred_logins_for_unknown_names_leave_the_server_responsive_and_small() {
    // The real server as its own process, so its memory is its own (other tests share this process).
    let dir = tempfile::tempdir().unwrap();
    let port = crate::restart::free_port();
    let server = crate::restart::serve_with(dir.path(), port, &[]);
    crate::restart::wait_up(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let burst: Vec<_> = (0..300)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/login"))
                    .json(&serde_json::json!({ "username": format!("ghost{i}"), "password": "x" }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let start = Instant::now();
        let res = http
            .get(format!("{base}/api/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("health");
        assert_eq!(res.status(), 200);
        slowest = slowest.max(start.elapsed());
    }
    let statuses: Vec<u16> = join_all(burst)
        .await
        .into_iter()
        .map(|r| r.unwrap_or(0))
        .collect();
    let peak = peak_rss_mb(server.0.id());
    let busy = statuses.iter().filter(|s| **s == 429).count();
    println!(
        "300 unknown-name logins: slowest /api/health {slowest:?}, {busy} x 429, \
         server peak RSS (VmHWM) {peak} MB"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(slowest < Duration::from_secs(1), "health took {slowest:?}");
    assert!(peak > 0 && peak < 300, "peak RSS {peak} MB");
}

#[tokio::test]
async fn the_real_user_signs_in_from_another_address_while_an_attacker_hammers_the_name() {
    let env = Env::start(|_| {}).await;
    add_user(&env, "admin", Role::Admin, ADA).await;
    let attacker = client_at("127.0.0.2");
    let user = client_at("127.0.0.1");
    for round in 0..3 {
        let statuses: Vec<u16> =
            join_all((0..15).map(|_| login_from(&env, &attacker, "admin", "guess", &[])))
                .await
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        assert!(statuses.contains(&429), "round {round}: {statuses:?}");
        let (s, cookie) = login_from(&env, &user, "admin", ADA, &[]).await;
        assert_eq!(s, 200, "round {round}: the real user was locked out");
        assert_eq!(me(&env, &cookie.expect("cookie")).await.0, 200);
    }
    // The attacker's address is locked, right password or not.
    assert_eq!(login_from(&env, &attacker, "admin", ADA, &[]).await.0, 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_keys_the_lockout() {
    let env = Env::start_with(
        Options {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Options::default()
        },
        |_| {},
    )
    .await;
    add_user(&env, "admin", Role::Admin, ADA).await;
    let attacker = [("x-forwarded-for", "203.0.113.7")];
    for _ in 0..8 {
        login_from(&env, &env.http, "admin", "guess", &attacker).await;
    }
    assert_eq!(
        login_from(&env, &env.http, "admin", ADA, &attacker).await.0,
        429
    );
    let (s, _) = login_from(
        &env,
        &env.http,
        "admin",
        ADA,
        &[("x-forwarded-for", "6.6.6.6, 198.51.100.2")],
    )
    .await;
    assert_eq!(s, 200, "the real user behind the proxy was locked out");
}

#[tokio::test]
async fn a_password_change_during_a_login_burst_leaves_no_old_session() {
    let env = Env::start(|_| {}).await;
    add_user(&env, "ada", Role::Viewer, ADA).await;
    let id = env
        .studio
        .registry
        .user_by_name("ada")
        .await
        .unwrap()
        .unwrap()
        .id;
    let new_hash = ewg::auth::hash_password("a brand new secret".into())
        .await
        .unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let burst = (0..4).map(|_| async {
        let mut cookies = Vec::new();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let (200, Some(c)) = login(&env, "ada", ADA).await {
                cookies.push(c);
            }
        }
        cookies
    });
    let change = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        env.studio
            .registry
            .set_password(id, &new_hash)
            .await
            .unwrap();
        // Logins still in flight finish against the new hash.
        tokio::time::sleep(Duration::from_millis(500)).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (cookies, ()) = futures::join!(join_all(burst), change);
    let cookies: Vec<String> = cookies.into_iter().flatten().collect();
    println!("{} sessions opened with the old password", cookies.len());
    assert!(!cookies.is_empty(), "the burst never signed in");
    for c in &cookies {
        let (status, body) = me(&env, c).await;
        assert!(
            status != 200 || body.is_null(),
            "a session of the old password survived the change: {status} {body}"
        );
    }
    // The old password's failures after the change locked 127.0.0.1 out; another address signs in.
    let other = client_at("127.0.0.3");
    let (s, _) = login_from(&env, &other, "ada", "a brand new secret", &[]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_forced_internal_error_answers_with_an_id_and_no_path() {
    let env = Env::start(|_| {}).await;
    let inbox = env.root().join("inbox");
    std::fs::remove_dir_all(&inbox).unwrap();
    std::fs::write(&inbox, b"not a directory").unwrap();
    let (status, body) = env
        .raw(&env.admin, "discover", serde_json::json!({ "wait": true }))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    println!("forced internal error answers: {message}");
    let id = message
        .strip_prefix("internal error (id ")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no id in {message:?}"));
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{message}"
    );
    let text = body.to_string();
    let root = env.root().to_string_lossy().into_owned();
    for leak in [root.as_str(), "/tmp", "inbox", "SELECT", "INSERT", "sqlite"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

/// A browser at `https://studio.example.org` reaching the server through a proxy that rewrote `Host` to
/// the backend's address (which is what the loopback request carries anyway).
const PUBLIC: &str = "https://studio.example.org";

async fn proxied_login(env: &Env, origin: &str) -> (u16, Option<String>) {
    let headers = [("origin", origin), ("sec-fetch-site", "same-origin")];
    login_from(env, &env.http, "ada", ADA, &headers).await
}

#[tokio::test]
async fn behind_a_host_rewriting_proxy_the_public_url_lets_browsers_in_and_keeps_others_out() {
    // Without --public-url the proxied Origin does not match Host: refused, the problem this solves.
    let plain = Env::start(|_| {}).await;
    add_user(&plain, "ada", Role::Viewer, ADA).await;
    assert_eq!(proxied_login(&plain, PUBLIC).await.0, 403);

    let env = Env::start_with(
        Options {
            public_url: Some(ewg::auth::parse_public_url(PUBLIC).unwrap()),
            ..Options::default()
        },
        |_| {},
    )
    .await;
    add_user(&env, "ada", Role::Viewer, ADA).await;
    let (s, cookie) = proxied_login(&env, PUBLIC).await;
    assert_eq!(s, 200);
    let cookie = cookie.expect("cookie");
    let res = env
        .http
        .post(format!("{}/api/me", env.base))
        .header("cookie", &cookie)
        .header("origin", PUBLIC)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "ada", "{body}");

    for foreign in [
        "https://evil.example",
        "https://studio.example.org.evil.example",
        "null",
    ] {
        assert_eq!(proxied_login(&env, foreign).await.0, 403, "{foreign}");
        let res = env
            .http
            .post(format!("{}/api/logout", env.base))
            .header("cookie", &cookie)
            .header("origin", foreign)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{foreign}");
    }
    // The session survived the refused cross-site logouts.
    assert_eq!(me(&env, &cookie).await.1["username"], "ada");
}
