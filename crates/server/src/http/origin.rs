//! No other web page can act for its visitors. A page on another site can make its visitors'
//! browsers send requests here: post commands with a token the visitor pasted into it, open live
//! connections, cheer from every visitor's phone. The browser names the page in `Origin`, so every
//! request that acts (any method but `GET`, `HEAD` and `OPTIONS`, and every WebSocket upgrade) is
//! checked here, whatever its route.
//!
//! Allowed: a request without `Origin` (not a browser: curl, the client crate, partners' servers),
//! one from this server's own pages however the user reached them (the `Origin` names the
//! request's own `Host`: `localhost`, `127.0.0.1` and the public name all work, with `http` or
//! `https`, since behind a proxy that ends TLS the server cannot tell which the browser used), the
//! public URL's origin, and the origins the operator lists in `MAKERPULSE_ALLOWED_ORIGINS`.
//! Anything else is 403 `origin_not_allowed`. Read-only requests (the pages, the embed, the feeds)
//! are never checked.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;

/// The origins besides the request's own that may act.
#[derive(Debug, Default)]
pub struct AllowedOrigins(HashSet<String>);

impl AllowedOrigins {
    /// The operator's list and the public URL's origin, each normalised as `normalise` does.
    pub fn new<'a>(listed: impl IntoIterator<Item = &'a str>, public_url: &str) -> Self {
        let public = public_url
            .split_once("://")
            .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or("")));
        let origins = listed
            .into_iter()
            .map(str::to_owned)
            .chain(public)
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            // What is not an http(s) origin (`null`) is kept as written, to match as it is.
            .map(|origin| normalise(&origin).unwrap_or(origin))
            .collect();
        AllowedOrigins(origins)
    }

    /// Whether a request with these headers may act.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("(unreadable)");
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        match normalise(origin) {
            Some(normal) if self.0.contains(&normal) => Ok(()),
            Some(normal) if host.is_some_and(|host| same_host(&normal, host)) => Ok(()),
            // `null` (a sandboxed frame, a file) is allowed only when listed as it is.
            None if self.0.contains(origin) => Ok(()),
            _ => Err(ApiError::OriginNotAllowed(
                origin.chars().take(200).collect(),
            )),
        }
    }
}

/// `scheme://host[:port]` in lower case without the scheme's default port, or `None` for what is
/// not an `http` or `https` origin (`null`, anything with a path).
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let authority = match scheme {
        "http" => authority.strip_suffix(":80").unwrap_or(authority),
        "https" => authority.strip_suffix(":443").unwrap_or(authority),
        _ => return None,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Whether a normalised origin names the host the request was sent to.
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let host = match scheme {
        "http" => host.strip_suffix(":80").unwrap_or(&host),
        _ => host.strip_suffix(":443").unwrap_or(&host),
    };
    authority == host
}

/// Whether the request acts: anything but a read, and every WebSocket upgrade (the live socket
/// takes commands).
fn acts(request: &Request) -> bool {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    upgrade
        || !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
}

/// The middleware: refuses a request that acts from an origin not allowed.
pub async fn guard(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    if acts(&request) {
        if let Err(refused) = allowed.check(request.headers()) {
            return refused.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(allowed: &AllowedOrigins, origin: Option<&str>, host: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        allowed.check(&headers).is_ok()
    }

    #[test]
    fn own_pages_and_listed_origins_may_act_others_not() {
        let allowed = AllowedOrigins::new(
            [
                "https://partner.example/",
                " https://Other.example:8443",
                "null",
            ],
            "https://makerpulse.example/base",
        );
        let host = "127.0.0.1:8080";
        assert!(check(&allowed, None, host), "not a browser");
        assert!(check(&allowed, Some("http://127.0.0.1:8080"), host));
        assert!(check(
            &allowed,
            Some("http://localhost:8080"),
            "localhost:8080"
        ));
        assert!(check(
            &allowed,
            Some("https://Hall.example"),
            "hall.example:443"
        ));
        assert!(check(&allowed, Some("https://partner.example"), host));
        assert!(check(&allowed, Some("https://other.example:8443"), host));
        assert!(
            check(&allowed, Some("https://makerpulse.example"), host),
            "the public URL"
        );
        assert!(check(&allowed, Some("null"), host), "listed as it is");
        assert!(!check(&allowed, Some("http://evil.example"), host));
        assert!(
            !check(&allowed, Some("http://127.0.0.1:9999"), host),
            "another port"
        );
        assert!(!check(&allowed, Some("https://partner.example.evil"), host));
        assert!(!check(&AllowedOrigins::default(), Some("null"), host));
    }
}
