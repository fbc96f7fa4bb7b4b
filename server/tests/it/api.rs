//! The HTTP API contract: JSON errors with the right status, auth, roles, sessions, CSRF, limits.

use crate::support::{Caller, Env, Options, add_user, login, login_response, make_media};
use app::api::{CleanupReport, CleanupResult, EpisodeList, EpisodeState};
use serde_json::json;

#[tokio::test]
async fn health_answers_get_and_bare_post_with_json() {
    let env = Env::start(|_| {}).await;
    let get: serde_json::Value = env
        .http
        .get(format!("{}/api/health", env.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["status"], "ok");
    let engine = if crate::db::postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(get["database"], format!("{engine} ok"));
    // The built-in recognizer is Whisper tiny.en once scripts/setup has installed it (CI does).
    assert_eq!(get["transcriber"], "whisper tiny.en", "{get}");
    let res = env
        .http
        .post(format!("{}/api/health", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let post: serde_json::Value = res.json().await.unwrap();
    assert_eq!(post, get);
}

#[tokio::test]
async fn unknown_paths_bad_json_and_bad_ids_get_json_errors_with_the_right_status() {
    let env = Env::start(|inbox| make_media(inbox, &["--episodes", "1", "--seconds", "2"])).await;
    let (s, e) = env.raw(&env.admin, "does_not_exist", json!({})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );

    let res = env
        .http
        .post(format!("{}/api/episode", env.base))
        .bearer_auth(&env.admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e: serde_json::Value = res.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{e}"
    );

    let (s, e) = env.raw(&env.admin, "episode", json!({})).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("`id`"),
        "the missing field is named: {e}"
    );

    let (s, e) = env.raw(&env.admin, "episode", json!({ "id": 42 })).await;
    assert_eq!(s, 400, "wrong type: {e}");

    let (s, e) = env
        .raw(
            &env.admin,
            "episode",
            json!({ "id": "../../etc_ep001_2026-01-01" }),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{e}"
    );

    let (s, e) = env
        .raw(
            &env.admin,
            "episode",
            json!({ "id": "demo-show_ep404_2026-01-01" }),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );

    let big = "x".repeat(2 << 20);
    let res = env
        .http
        .post(format!("{}/api/episode", env.base))
        .bearer_auth(&env.admin)
        .header("content-type", "application/json")
        .body(format!("{{\"id\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    let list: EpisodeList = env
        .call(
            &env.viewer,
            "episodes",
            json!({ "state": "idle", "limit": 10 }),
        )
        .await
        .expect("200");
    assert_eq!(list.total, 1);
}

#[tokio::test]
async fn roles_decide_who_may_do_what() {
    let env = Env::start(|_| {}).await;
    let (s, _) = env.fail(Caller::Nobody, "deep_clean", json!({})).await;
    assert_eq!(s, 401, "unauthenticated");
    let (s, _) = env.fail(Caller::Nobody, "episodes", json!({})).await;
    assert_eq!(s, 401);
    let (s, _) = env.fail(&env.viewer, "deep_clean", json!({})).await;
    assert_eq!(s, 403, "viewer");
    let (s, _) = env.fail(&env.viewer, "discover", json!({})).await;
    assert_eq!(s, 403, "viewer cannot discover");
    let (s, e) = env.fail(&env.operator, "deep_clean", json!({})).await;
    assert_eq!(s, 403, "operator cannot deep clean: {e:?}");
    let r: CleanupReport = env
        .call(&env.admin, "deep_clean", json!({ "dry_run": true }))
        .await
        .expect("200");
    assert!(r.dry_run);
    assert_eq!(r.result, CleanupResult::Ok);
    let (s, _) = env.fail("not-a-token", "episodes", json!({})).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn revoked_tokens_and_logged_out_sessions_stop_working() {
    let env = Env::start(|_| {}).await;
    let secret = ewg::auth::new_secret().unwrap();
    let id = env
        .studio
        .registry
        .create_token(
            "ci",
            &ewg::auth::secret_hash(&secret),
            app::api::Role::Operator,
        )
        .await
        .unwrap();
    assert_eq!(env.raw(&secret, "episodes", json!({})).await.0, 200);
    assert!(env.studio.registry.revoke_token(id).await.unwrap());
    assert_eq!(env.raw(&secret, "episodes", json!({})).await.0, 401);

    add_user(&env, "ada", app::api::Role::Admin, "correct horse battery").await;
    let (s, cookie) = login(&env, "ada", "correct horse battery").await;
    assert_eq!(s, 200);
    let cookie = cookie.expect("session cookie");
    let with_cookie = |path: &'static str| env.raw(Caller::Cookie(&cookie), path, json!({}));
    assert_eq!(with_cookie("episodes").await.0, 200);
    assert_eq!(with_cookie("logout").await.0, 200);
    assert_eq!(
        with_cookie("episodes").await.0,
        401,
        "replayed cookie after logout"
    );
}

#[tokio::test]
async fn cross_origin_posts_with_a_valid_cookie_are_refused_and_change_nothing() {
    let env = Env::start(|inbox| make_media(inbox, &["--episodes", "1", "--seconds", "2"])).await;
    add_user(&env, "ada", app::api::Role::Admin, "correct horse battery").await;
    let (_, cookie) = login(&env, "ada", "correct horse battery").await;
    let cookie = cookie.unwrap();
    let runs_before = env
        .studio
        .registry
        .list_runs(None, 100)
        .await
        .unwrap()
        .len();
    let res = env
        .http
        .post(format!("{}/api/deep_clean", env.base))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = env
        .http
        .post(format!("{}/api/process", env.base))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .json(&json!({ "ids": ["demo-show_ep001_2026-01-01"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        env.studio
            .registry
            .list_runs(None, 100)
            .await
            .unwrap()
            .len(),
        runs_before
    );
    assert_eq!(
        env.episode("demo-show_ep001_2026-01-01")
            .await
            .episode
            .state,
        EpisodeState::Idle
    );
    // No login or logout from another site either.
    let res = env
        .http
        .post(format!("{}/api/login", env.base))
        .header("origin", "http://evil.example")
        .json(&json!({ "username": "ada", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    // Same origin is fine.
    let host = env.base.trim_start_matches("http://").to_string();
    let res = env
        .http
        .post(format!("{}/api/episodes", env.base))
        .header("cookie", &cookie)
        .header("origin", format!("http://{host}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_refused_without_locking_out_others() {
    let env = Env::start(|_| {}).await;
    add_user(&env, "ada", app::api::Role::Viewer, "correct horse battery").await;
    add_user(&env, "bob", app::api::Role::Viewer, "another good password").await;
    let mut refused = 0;
    for _ in 0..20 {
        let (s, _) = login(&env, "ada", "wrong password").await;
        assert!(s == 401 || s == 429, "{s}");
        if s == 429 {
            refused += 1;
        }
    }
    assert!(
        refused >= 10,
        "the burst must be refused, got {refused} refusals"
    );
    // ada's correct password is refused during the window too: that is the point of the limit.
    assert_eq!(login(&env, "ada", "correct horse battery").await.0, 429);
    assert_eq!(
        login(&env, "bob", "another good password").await.0,
        200,
        "others are not locked out"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let env = Env::start(|_| {}).await;
    env.ok::<CleanupReport>("deep_clean", json!({})).await;
    let text = env
        .http
        .get(format!("{}/metrics", env.base))
        .bearer_auth(&env.viewer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("# TYPE ewg_cleanup_runs_total counter"),
        "{text}"
    );
    assert!(
        text.contains("ewg_cleanup_runs_total{trigger=\"deep-clean\",result=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("ewg_cleanup_duration_seconds_count{trigger=\"deep-clean\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let env = Env::start(|_| {}).await;
    add_user(
        &env,
        "ada",
        app::api::Role::Operator,
        "correct horse battery",
    )
    .await;
    let (_, old_cookie) = login(&env, "ada", "correct horse battery").await;
    let (_, this_cookie) = login(&env, "ada", "correct horse battery").await;
    let (old_cookie, this_cookie) = (old_cookie.unwrap(), this_cookie.unwrap());
    let post = |cookie: &str, name: &str, body: serde_json::Value| {
        env.http
            .post(format!("{}/api/{name}", env.base))
            .header("cookie", cookie.to_string())
            .json(&body)
            .send()
    };
    let res = post(
        &this_cookie,
        "change_password",
        json!({ "current": "wrong one", "new": "a brand new secret" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    let res = post(
        &this_cookie,
        "change_password",
        json!({ "current": "correct horse battery", "new": "short" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let res = post(
        &this_cookie,
        "change_password",
        json!({ "current": "correct horse battery", "new": "a brand new secret" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let fresh = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        post(&old_cookie, "episodes", json!({}))
            .await
            .unwrap()
            .status(),
        401,
        "old sessions ended"
    );
    assert_eq!(
        post(&this_cookie, "episodes", json!({}))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(&fresh, "episodes", json!({})).await.unwrap().status(),
        200,
        "this browser stays signed in"
    );
    assert_eq!(login(&env, "ada", "correct horse battery").await.0, 401);
    assert_eq!(login(&env, "ada", "a brand new secret").await.0, 200);
}

async fn session_cookie_header(env: &Env) -> String {
    add_user(env, "ada", app::api::Role::Viewer, "correct horse battery").await;
    let res = login_response(env, "ada", "correct horse battery").await;
    assert_eq!(res.status(), 200);
    res.headers()["set-cookie"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_secure_when_asked() {
    let plain = session_cookie_header(&Env::start(|_| {}).await).await;
    assert!(
        plain.contains("HttpOnly") && plain.contains("SameSite=Strict"),
        "{plain}"
    );
    assert!(!plain.contains("Secure"), "plain http by default: {plain}");
    let opts = Options {
        secure_cookies: true,
        ..Options::default()
    };
    let secure = session_cookie_header(&Env::start_with(opts, |_| {}).await).await;
    assert!(secure.contains("; Secure"), "{secure}");
}
