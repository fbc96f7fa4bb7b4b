//! Anonymous visitors are sent to the sign-in page with where they were (`/login?next=/process`), and come
//! back there after signing in. The server answers a page request of an anonymous visitor with a 302 (the
//! session resource blocks the response until it knows who is asking); in the browser, signing out or a
//! session that expires does the same by navigating.
//!
//! `next` is only ever a same-site path: it must start with exactly one `/` and hold nothing a browser
//! could read as another origin (`//host`, `/\host`, a scheme, whitespace or control characters that URL
//! parsers strip). Anything else falls back to `/` — an open redirect would be a defect.

use super::session::use_session;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

/// The sign-in page's path.
pub const LOGIN: &str = "/login";

/// `raw` if it is a safe place to return to after signing in, else `None`.
pub fn safe_next(raw: &str) -> Option<&str> {
    let rest = raw.strip_prefix('/')?;
    let bad = |c: char| c == '\\' || c.is_control() || c.is_whitespace();
    if rest.starts_with('/') || raw.chars().any(bad) || raw.len() > 2000 {
        return None;
    }
    // Sending the visitor back to the sign-in page would be a loop.
    if raw == LOGIN || raw.starts_with("/login?") || raw.starts_with("/login/") {
        return None;
    }
    Some(raw)
}

/// Where an anonymous visitor of `path_and_query` is sent.
pub fn sign_in_url(path_and_query: &str) -> String {
    match safe_next(path_and_query) {
        Some(next) if next != "/" => {
            format!("{LOGIN}?next={}", crate::url::encode_query_value(next))
        }
        _ => LOGIN.to_string(),
    }
}

/// In the browser: when the session turns out anonymous (signed out, expired) on any page but the sign-in
/// page, go to the sign-in page with this page as `next`.
#[component]
pub fn SignInGuard() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let anonymous = matches!(session.me.get(), Some(Ok(None)));
        let path = location.pathname.get();
        if !anonymous || path == LOGIN {
            return;
        }
        let search = location.search.get_untracked();
        let here = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        navigate(
            &sign_in_url(&here),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    });
}

/// On the server, while rendering a page: an anonymous visitor of any page but the sign-in page gets a
/// 302 to the sign-in page. The session calls it once it knows who asks, before the response is sent
/// (`provide_session`); in the browser it does nothing (`SignInGuard` navigates there instead).
pub fn redirect_anonymous_page() {
    #[cfg(feature = "ssr")]
    {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return;
        };
        if parts.uri.path() == LOGIN {
            return;
        }
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        leptos_axum::redirect(&sign_in_url(here));
    }
}

#[cfg(test)]
mod tests {
    use super::{safe_next, sign_in_url};

    #[test]
    fn next_is_a_same_site_path_or_nothing() {
        assert_eq!(safe_next("/process"), Some("/process"));
        assert_eq!(
            safe_next("/episodes/a_ep001?x=1#y"),
            Some("/episodes/a_ep001?x=1#y")
        );
        assert_eq!(safe_next("/"), Some("/"));
        for bad in [
            "",
            "process",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/ /evil.example",
            "/\n/evil.example",
            "/login",
            "/login?next=/login",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sign_in_url_carries_the_page() {
        assert_eq!(sign_in_url("/process"), "/login?next=/process");
        assert_eq!(sign_in_url("/"), "/login");
        assert_eq!(
            sign_in_url("/a?b=c&e=%20"),
            "/login?next=/a%3Fb%3Dc%26e%3D%2520"
        );
        assert_eq!(sign_in_url("//evil.example"), "/login");
    }
}
