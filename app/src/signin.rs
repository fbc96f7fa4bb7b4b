//! Signing in with a plain form post, for a browser whose WebAssembly has not loaded yet (or never will):
//! the sign-in form posts itself to `POST /login` (see the server's `http::login_form`), which signs in
//! and answers 303 to the page asked for, or 303 back to the sign-in page with `?error=<key>`. The page
//! shows a fixed message per key, never text taken from the address.

use crate::api::ErrorCode;
pub use crate::components::guard::{LOGIN, safe_next};

/// Where the sign-in form posts itself when the page's script is not running.
pub const FORM_ACTION: &str = LOGIN;

/// The `?error=` key a failed form post is sent back with.
pub fn failure_key(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthorized => "credentials",
        ErrorCode::TooManyRequests => "rate_limited",
        ErrorCode::Forbidden => "cross_origin",
        _ => "failed",
    }
}

/// The message shown for an `?error=` key; `None` for a key this build does not know.
pub fn failure_message(key: &str) -> Option<&'static str> {
    Some(match key {
        "credentials" => "Wrong user name or password.",
        "rate_limited" => "Too many attempts: wait a minute, then try again.",
        "cross_origin" => "The sign-in came from another site and was refused.",
        "failed" => "Signing in failed; try again.",
        _ => return None,
    })
}

/// The sign-in page a failed form post returns to: the error key, and `next` when there is one.
pub fn failure_url(key: &str, next: Option<&str>) -> String {
    let mut url = format!("{LOGIN}?error={key}");
    if let Some(next) = next.and_then(safe_next).filter(|n| *n != "/") {
        url.push_str("&next=");
        url.push_str(&crate::url::encode_query_value(next));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_message_and_unknown_keys_show_nothing() {
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::TooManyRequests,
            ErrorCode::Forbidden,
            ErrorCode::Internal,
        ] {
            assert!(failure_message(failure_key(code)).is_some(), "{code:?}");
        }
        assert_eq!(failure_message("<script>"), None);
    }

    #[test]
    fn a_failed_post_goes_back_to_sign_in_with_the_page_asked_for() {
        assert_eq!(failure_url("credentials", None), "/login?error=credentials");
        assert_eq!(
            failure_url("credentials", Some("/process?x=1")),
            "/login?error=credentials&next=/process%3Fx%3D1"
        );
        assert_eq!(
            failure_url("failed", Some("//evil.example")),
            "/login?error=failed"
        );
    }
}
