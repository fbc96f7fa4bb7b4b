//! Where a request comes from: the client's address (for login limits) and whether a browser sent it from
//! another site (for CSRF). Behind a reverse proxy both need configuration: `--public-url` names the origin
//! browsers see, `--trusted-proxy` names the proxies whose `X-Forwarded-For`/`X-Forwarded-Host` are believed.

use axum::extract::ConnectInfo;
use http::request::Parts;
use std::net::{IpAddr, SocketAddr};

/// Validates `--public-url` and reduces it to the origin a browser sends (`scheme://host[:port]`,
/// lowercase, default port dropped).
pub fn parse_public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = s
        .split_once("://")
        .ok_or("the public URL must start with http:// or https://")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return Err("the public URL must start with http:// or https://".into()),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(
            "the public URL must be scheme://host[:port] (no path; serve the studio at the root)"
                .into(),
        );
    }
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    Ok(format!("{scheme}://{host}"))
}

/// The TCP peer, when the server was started with connect info.
pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the nearest untrusted hop in
/// `X-Forwarded-For` (read from the right: hops left of it could be made up by the client).
pub fn client(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer(parts)?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    Some(
        hops.into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

/// A browser sends `Origin` (and `Sec-Fetch-Site`) on POSTs. Same-origin means the Origin matches the
/// configured public URL, the `Host` the request arrived with, or — from a trusted proxy — the
/// `X-Forwarded-Host`. A foreign Origin matches none of them, proxy or not.
pub fn is_cross_origin(parts: &Parts, public: Option<&str>, trusted: &[IpAddr]) -> bool {
    if let Some(site) = header(parts, "sec-fetch-site")
        && (site == "cross-site" || site == "same-site")
    {
        return true;
    }
    let Some(origin) = header(parts, "origin") else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    let origin = origin.to_ascii_lowercase();
    if public.is_some_and(|p| p == origin) {
        return false;
    }
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(&origin);
    let same_host = |h: Option<&str>| h.is_some_and(|h| h.eq_ignore_ascii_case(origin_host));
    if same_host(header(parts, "host")) {
        return false;
    }
    let from_proxy = peer(parts).is_some_and(|p| trusted.contains(&p));
    let forwarded =
        header(parts, "x-forwarded-host").map(|h| h.split(',').next().unwrap_or("").trim());
    !(from_proxy && same_host(forwarded))
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = http::Request::builder().uri("/api/login");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, _) = req.body(()).unwrap().into_parts();
        let addr: SocketAddr = peer.parse().unwrap();
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    #[test]
    fn public_urls_reduce_to_origins() {
        assert_eq!(
            parse_public_url("HTTPS://Studio.Example.org:443/").unwrap(),
            "https://studio.example.org"
        );
        assert_eq!(
            parse_public_url("http://10.0.0.5:8080").unwrap(),
            "http://10.0.0.5:8080"
        );
        assert!(parse_public_url("studio.example.org").is_err());
        assert!(parse_public_url("https://studio.example.org/ewg").is_err());
        assert!(parse_public_url("ftp://x").is_err());
    }

    #[test]
    fn behind_a_proxy_the_public_url_decides_and_foreign_origins_stay_out() {
        let public = Some("https://studio.example.org");
        let proxied = parts(
            "127.0.0.1:5000",
            &[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://studio.example.org"),
            ],
        );
        assert!(is_cross_origin(&proxied, None, &[]));
        assert!(!is_cross_origin(&proxied, public, &[]));
        let foreign = parts(
            "127.0.0.1:5000",
            &[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example"),
            ],
        );
        assert!(is_cross_origin(&foreign, public, &[]));
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let h = [
            ("host", "backend:3000"),
            ("origin", "https://studio.example.org"),
            ("x-forwarded-host", "studio.example.org"),
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
        ];
        let via_proxy = parts("10.0.0.1:4000", &h);
        assert!(!is_cross_origin(&via_proxy, None, &[proxy]));
        assert_eq!(client(&via_proxy, &[proxy]), "203.0.113.7".parse().ok());
        let direct = parts("198.51.100.9:4000", &h);
        assert!(is_cross_origin(&direct, None, &[proxy]));
        assert_eq!(client(&direct, &[proxy]), "198.51.100.9".parse().ok());
    }
}
