//! Request guards against other websites: the Host must be one this server answers to (no DNS
//! rebinding), and state-changing requests and terminal upgrades must come from this
//! server's own pages when they come from a browser at all.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// Runs both guards on every request.
pub async fn guard_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = &state.config.allowed_origins;
    let headers = request.headers();
    if !host_allowed(headers, allowed) {
        return ApiError::UnknownHost.into_response();
    }
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state && !origin_allowed(headers, allowed) {
        return ApiError::ForeignOrigin.into_response();
    }
    next.run(request).await
}

/// An IP address and `localhost` cannot be rebound to another site; any other name must be
/// the host of a configured `allowed_origins` entry.
pub fn host_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 clients without Host reach us by address.
        return true;
    };
    let name = strip_port(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        || allowed
            .iter()
            .filter_map(|origin| origin.split_once("://").map(|(_, rest)| rest))
            .any(|origin_host| {
                strip_port(origin_host.trim_end_matches('/')).eq_ignore_ascii_case(name)
            })
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        // "[::1]:8080" or "name:8080", but not a bare IPv6 address.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    }
}

/// True when the request comes from this server's own pages: no Origin and no cross-site
/// fetch metadata (not a browser), an Origin whose host matches the Host header, or one
/// configured in `allowed_origins`.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let Some(origin) = headers.get(header::ORIGIN) else {
        return !cross_site;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        }
        h
    }

    #[test]
    fn same_origin_is_allowed_and_foreign_is_not() {
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(origin_allowed(&headers(None, "127.0.0.1:8080"), &[]));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:8081"), "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "127.0.0.1:8080"),
            &[]
        ));
    }

    #[test]
    fn cross_site_fetches_without_origin_are_refused() {
        let mut h = headers(None, "127.0.0.1:8080");
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!origin_allowed(&h, &[]));
    }

    #[test]
    fn configured_origins_are_allowed() {
        let allowed = vec!["https://lab.example.edu".to_string()];
        assert!(origin_allowed(
            &headers(Some("https://lab.example.edu"), "10.0.0.5:8080"),
            &allowed
        ));
    }

    #[test]
    fn only_addresses_localhost_and_configured_names_are_served() {
        let allowed = vec!["https://lab.example.edu".to_string()];
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "192.168.1.20",
            "lab.example.edu",
        ] {
            let h = headers(None, Box::leak(host.to_string().into_boxed_str()));
            assert!(host_allowed(&h, &allowed), "{host}");
        }
        for host in ["rebound.evil.example:8080", "lab.example.edu.evil.example"] {
            let h = headers(None, Box::leak(host.to_string().into_boxed_str()));
            assert!(!host_allowed(&h, &allowed), "{host}");
        }
    }
}
