//! The API's error contract, owned by one middleware: bodies are size-limited (413) and must be a JSON
//! object (400), and a server function's error gets the HTTP status of its code — so no failure ever
//! travels as a 200. (Server functions answer every error with 500 on their own.)

use super::error::error_response;
use app::api::{ApiError, ErrorCode};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Largest JSON body a server function accepts.
pub const MAX_API_BODY: usize = 1 << 20;

pub async fn api_contract(req: Request, next: Next) -> Response {
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
