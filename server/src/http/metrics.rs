//! `GET /metrics`: Prometheus text for a scraper that shows an API token (`Authorization: Bearer`, any
//! role) or scrapes from an address in `--metrics-allow`. Anyone else gets 401: the numbers describe the
//! fleet and the studio's activity, which is not for the open network.

use super::AppState;
use super::error::HttpError;
use app::api::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn metrics(State(s): State<AppState>, req: Request) -> Result<Response, HttpError> {
    let (parts, _) = req.into_parts();
    let auth = &s.studio.auth;
    let allowed = auth
        .client(&parts)
        .is_some_and(|ip| s.studio.edges.metrics_allow.contains(&ip));
    if !allowed {
        let has_token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
        if !has_token || auth.authenticate(&parts).await?.is_none() {
            return Err(ApiError::unauthorized(
                "/metrics needs an API token (Authorization: Bearer …) or a scrape address listed in --metrics-allow (EWG_METRICS_ALLOW)",
            )
            .into());
        }
    }
    let text = crate::metrics::render(&s.studio).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
