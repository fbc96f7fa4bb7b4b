//! `POST /login`: the sign-in form as the browser posts it by itself, before the page's WebAssembly has
//! loaded or without it. Same rules as `POST /api/login` (it is the same backend call: the origin check,
//! the rate limiter, one answer for a wrong name or password). Signed in: 303 to `next` (a same-site
//! path only, else `/`) with the session cookie. Refused: 303 back to the sign-in page with
//! `?error=<key>` (and `next`), which the page shows as a fixed message.

use super::AppState;
use app::api::backend::Sessions;
use app::signin;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn post(
    State(s): State<AppState>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = signin::safe_next(&form.next);
    match Sessions::login(s.studio.as_ref(), &parts, &form.username, &form.password).await {
        Ok((_, cookie)) => {
            let mut res = see_other(next.unwrap_or("/"));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => see_other(&signin::failure_url(signin::failure_key(e.code()), next)),
    }
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    // The answer depends on the password sent: never cache it.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
