//! The HTTP surface: Leptos SSR pages, server functions at `/api/<name>`, `/metrics`, media files.
//!
//! One middleware owns the API's error contract: bodies are size-limited (413) and must be a JSON object
//! (400), unknown `/api` paths are 404, and a server function's error gets the HTTP status of its code —
//! so no failure ever travels as a 200.

use crate::backend::StudioBackend;
use crate::studio::Studio;
use app::api::backend::SharedBackend;
use app::api::{ApiError, ErrorCode};
use app::{App, shell};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;

/// Largest JSON body a server function accepts.
pub const MAX_API_BODY: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub studio: Arc<Studio>,
    pub backend: SharedBackend,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

pub fn router(studio: Arc<Studio>, leptos_options: LeptosOptions) -> Router {
    let backend: SharedBackend = Arc::new(StudioBackend(Arc::clone(&studio)));
    let state = AppState {
        leptos_options: leptos_options.clone(),
        studio,
        backend: Arc::clone(&backend),
    };
    let routes = generate_route_list(App);
    let context = move || provide_context(Arc::clone(&backend));
    Router::new()
        .route("/api/health", get(health_get))
        .route("/api/{*rest}", any(api_not_found))
        .route("/metrics", get(metrics))
        .route("/files/{*path}", get(crate::http_files::serve))
        // Streams its body to disk, so the JSON middleware below lets it through untouched.
        .route("/api/upload", post(crate::upload::upload))
        .leptos_routes_with_context(&state, routes, context, {
            let o = leptos_options.clone();
            move || shell(o.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(api_contract))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn health_get(State(s): State<AppState>) -> impl IntoResponse {
    Json(s.backend.health().await)
}

async fn api_not_found(req: Request) -> Response {
    error_response(ApiError::not_found(format!(
        "no API function at {} (see the README for the list)",
        req.uri().path()
    )))
}

async fn metrics(State(s): State<AppState>) -> Response {
    match crate::metrics::render(&s.studio.registry).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => error_response(ApiError::from(e)),
    }
}

pub fn error_response(e: ApiError) -> Response {
    let e = crate::error::redact(e);
    let status =
        StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(e)).into_response()
}

async fn api_contract(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || req.method() != http::Method::POST || path == "/api/upload" {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_API_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than {MAX_API_BODY} bytes"),
            ));
        }
    };
    // A bare `curl -X POST` means "no arguments".
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        bytes
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(_) => {
            return error_response(ApiError::bad_request(
                "the body must be a JSON object of arguments",
            ));
        }
        Err(e) => return error_response(ApiError::bad_request(format!("malformed JSON: {e}"))),
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    with_error_status(res).await
}

/// Server functions answer every error with 500; the status belongs to the error's code.
async fn with_error_status(res: Response) -> Response {
    if !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_API_BODY)
        .await
        .unwrap_or_default();
    let err: ApiError = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| ApiError::internal(String::from_utf8_lossy(&bytes).into_owned()));
    let err = crate::error::redact(err);
    parts.status =
        StatusCode::from_u16(err.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&err).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}
