//! The access log (`MAKERPULSE_ACCESS_LOG=on`): one line per HTTP request, at `info` under the
//! target `makerpulse::access`, with the method, the path and query, the status, the time to the
//! response's head, the body's length when known, and the client's address (behind a trusted
//! proxy, the one it forwarded).
//!
//! Tokens must never reach it. Our pages keep them in the URL fragment, which no browser sends,
//! and clients send them in `Authorization` or in the socket's first message, neither of which
//! is logged; but a person may paste a link with the token into a query string, or into the
//! path. So no header is logged, and every path segment or query value at least as long as the
//! shortest token this server accepts ([`MIN_ADMIN_TOKEN`] characters; minted ones are 43) is
//! written as `[redacted]`, as is every value of a query key that names a token. Ids are
//! shorter (a challenge's is usually a few characters), so the log still says what was asked.
//! For a live stream the line is written when the stream begins.

use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

use crate::app::{AppState, MIN_ADMIN_TOKEN};

/// What stands in for a value left out.
pub const REDACTED: &str = "[redacted]";

/// Logs the request when the access log is on.
pub async fn log(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.config.settings.access_log {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let target = redact(req.uri());
    let client = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| {
            state
                .config
                .settings
                .trusted_proxies
                .client(info.0.ip(), req.headers())
        });
    let res = next.run(req).await;
    let bytes = axum::body::HttpBody::size_hint(res.body()).exact();
    tracing::info!(
        target: "makerpulse::access",
        method = %method,
        path = %target,
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        bytes,
        client = client.map(|ip| ip.to_string()),
        "request"
    );
    res
}

/// The path and query of `uri` with anything long enough to be a token replaced.
pub fn redact(uri: &Uri) -> String {
    let long = |s: &str| s.len() >= MIN_ADMIN_TOKEN;
    let path: Vec<&str> = uri
        .path()
        .split('/')
        .map(|seg| if long(seg) { REDACTED } else { seg })
        .collect();
    let mut out = path.join("/");
    if let Some(query) = uri.query() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let key = if long(key) { REDACTED } else { key };
                if long(value) || (key.to_ascii_lowercase().contains("token") && !value.is_empty())
                {
                    format!("{key}={REDACTED}")
                } else if pair.contains('=') {
                    format!("{key}={value}")
                } else {
                    key.to_owned()
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_and_anything_token_like_goes() {
        let r = |s: &str| redact(&s.parse().unwrap());
        assert_eq!(
            r("/api/challenges/demo/view?at=12"),
            "/api/challenges/demo/view?at=12"
        );
        let token = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg";
        assert_eq!(
            r(&format!("/team/demo/{token}?token=short&x={token}&flag")),
            "/team/demo/[redacted]?token=[redacted]&x=[redacted]&flag"
        );
        assert_eq!(r(&format!("/{token}")), "/[redacted]");
    }
}
