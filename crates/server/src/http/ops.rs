//! Operations: liveness and readiness on the public port, Prometheus metrics on a listener of
//! their own ([`crate::Listeners`]).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

/// The operations routes of the public port.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The metrics listener's one route. Not on the public port: the counters tell anyone how many
/// people watch, how busy the judges are and how the server copes, which is the operators' to see.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Every challenge can write its log, and the server is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready; `Retry-After` says when to ask again")))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let unhealthy: Vec<String> = state
        .all_hubs()
        .iter()
        .filter(|h| !h.is_healthy())
        .map(|h| h.id().to_string())
        .collect();
    let stopping = *state.shutdown.borrow();
    let ready = unhealthy.is_empty() && !stopping;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "ready": ready, "stopping": stopping, "unavailable_logs": unhealthy })),
    )
}

/// Metrics in the Prometheus text format, on the metrics listener (`MAKERPULSE_METRICS_BIND`).
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
