//! JSON on the wire, decoded from text everywhere in the browser.
//!
//! The browser decodes the same API types on two paths: server-function responses (server_fn's own `Json`
//! codec reads them with `serde_json::from_slice`) and resources hydrated from the server-rendered page
//! (leptos reads those with `serde_json::from_str`, as does the local cache). serde_json's deserializer
//! is generic over its reader, so two readers compile every type's deserializer twice into the
//! WebAssembly; with this codec every path reads `&str`. Same bytes on the wire, same content type: curl
//! and scripts see no difference.

use serde::Serialize;
use serde::de::DeserializeOwned;
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// `application/json` bodies, decoded as UTF-8 text.
pub struct JsonText;

/// Arguments and results as JSON in a `POST` body (what every `/api/<name>` takes and returns).
pub type Json = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            <serde_json::Error as serde::de::Error>::custom(format!("body is not UTF-8: {e}"))
        })?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, ErrorCode};

    #[test]
    fn round_trips_and_names_bad_bytes() {
        let err = ApiError::not_found("no episode `x`");
        let bytes = <JsonText as Encodes<ApiError>>::encode(&err).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"error":{"code":"not_found","message":"no episode `x`"}}"#
        );
        let back: ApiError = <JsonText as Decodes<ApiError>>::decode(bytes).unwrap();
        assert_eq!(back.code(), ErrorCode::NotFound);

        let bad = <JsonText as Decodes<ApiError>>::decode(Bytes::from_static(b"\xff{}"));
        assert!(bad.unwrap_err().to_string().contains("not UTF-8"));
    }
}
