//! The HTTP surface: Leptos SSR pages, server functions at `/api/<name>`, `/metrics`, media files.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | the router and its state |
//! | `contract.rs` | the API's error contract for server functions (one middleware) |
//! | `error.rs` | one error type that is a response |
//! | `events.rs` | `GET /api/events`: the live feed as server-sent events |
//! | `extract.rs` | who is calling, as an extractor (`Caller<Viewer>`, `Caller<Operator>`) |
//! | `files.rs` | `/files/<path>`: media for signed-in users |
//! | `limits.rs` | caps on open event streams and uploads (429 past them) |
//! | `metrics.rs` | `/metrics`: who may scrape it |
//! | `login_form.rs` | `POST /login`: the sign-in form posted without WebAssembly |
//! | `upload.rs` | `POST /api/upload`: streamed uploads into the inbox |
//!
//! Handlers translate HTTP to [`Studio`] calls and nothing else; the domain lives there.

mod contract;
mod error;
mod events;
mod extract;
mod files;
mod limits;
mod login_form;
mod metrics;
mod upload;

pub use error::{HttpError, error_response};

use crate::studio::Studio;
use app::api::ApiError;
use app::api::backend::SharedBackend;
use app::{App, shell};
use axum::extract::{Request, State};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The service: the handlers here call it directly, server functions through `Backend`.
    pub studio: Arc<Studio>,
    /// Open event streams and uploads, against their caps.
    pub limits: Arc<limits::Limits>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

pub fn router(studio: Arc<Studio>, leptos_options: LeptosOptions) -> Router {
    // The same handle, seen by `app`'s server functions as the contract they call.
    let backend: SharedBackend = Arc::clone(&studio) as SharedBackend;
    let state = AppState {
        leptos_options: leptos_options.clone(),
        limits: Arc::new(limits::Limits::new(&studio.edges)),
        studio,
    };
    let routes = generate_route_list(App);
    let context = move || provide_context(Arc::clone(&backend));
    Router::new()
        .route("/api/health", get(health_get))
        .route("/api/events", get(events::events))
        .route("/api/scan", get(scan_get))
        .route("/api/{*rest}", any(api_not_found))
        .route("/metrics", get(metrics::metrics))
        .route("/files/{*path}", get(files::serve))
        // Streams its body to disk, so the JSON middleware below lets it through untouched.
        .route("/api/upload", post(upload::upload))
        // The sign-in form, posted by the browser itself (the page's GET is the Leptos route).
        .route(app::signin::FORM_ACTION, post(login_form::post))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let o = leptos_options.clone();
            move || shell(o.clone())
        })
        // The 404 page is the app too: with the backend in context it knows who is signed in.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(middleware::from_fn(contract::api_contract))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn health_get(State(s): State<AppState>) -> impl IntoResponse {
    Json(s.studio.health().await)
}

/// `GET /api/scan`: the running inbox scan, else the last one (`null` before the first).
async fn scan_get(
    State(s): State<AppState>,
    _caller: extract::Caller<extract::Viewer>,
) -> impl IntoResponse {
    Json(s.studio.scan_status())
}

async fn api_not_found(req: Request) -> Response {
    error_response(ApiError::not_found(format!(
        "no API function at {} (see the README for the list)",
        req.uri().path()
    )))
}
