//! The HTTP surface: the route table, the shared middleware, and the pieces every handler uses.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::http::error::ApiError;

pub mod api;
pub mod error;
pub mod feed;
pub mod openapi;
pub mod ops;
pub mod origin;
pub mod photos;
pub mod replay;
pub mod snapshot;

/// The largest JSON body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let origins = Arc::new(origin::AllowedOrigins::new(
        state
            .config
            .settings
            .allowed_origins
            .iter()
            .map(String::as_str),
        &state.config.public_url,
    ));
    Router::new()
        .merge(ops::router())
        .merge(api::router())
        .merge(replay::router())
        .merge(snapshot::router())
        .merge(feed::router())
        .merge(crate::live::router())
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(photos::router())
        .merge(crate::web::router())
        .layer(axum::middleware::from_fn_with_state(origins, origin::guard))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                // The URL is not logged whole: only the matched route, so nothing a client put in
                // a query string reaches the log.
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
        .with_state(state)
}

/// The client's address, by which every per-address limit counts: the peer's, or behind a
/// trusted proxy the one it forwarded ([`crate::client_addr::TrustedProxies::client`]). `None`
/// only when the server was started without connection info (router tests that call the service
/// directly).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let proxies = &state.config.settings.trusted_proxies;
        Ok(ClientIp(
            peer.map(|peer| proxies.client(peer, &parts.headers)),
        ))
    }
}

/// Refuses a body not declared as JSON: a web page can post `text/plain` to any site without
/// asking it first, but never `application/json`, so this is also a guard against other pages.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ApiError::NotJson),
    }
}

/// The bearer token of a request, if any. A malformed header is an error, not the audience.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized),
    }
}
