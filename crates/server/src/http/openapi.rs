//! The OpenAPI 3 document of every HTTP endpoint, generated from the handlers' annotations and
//! the core's types at compile time (utoipa; nothing is downloaded).

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::AppState;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token, or a team or judge token minted by an admin",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "makerpulse", description = "The live tracker of a 72-hour maker challenge (创客真人秀). \
        Live views stream over the WebSocket at /api/challenges/{id}/live; see docs/protocol.md."),
    paths(
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::api::list_challenges,
        crate::http::api::command,
        crate::http::api::mint_token,
        crate::http::api::view,
        crate::http::snapshot::get_snapshot,
        crate::http::api::leaderboard,
        crate::http::api::team_timeline,
        crate::http::api::log,
        crate::http::api::outstanding,
        crate::http::replay::times,
        crate::http::feed::ndjson,
        crate::http::feed::sse,
        crate::http::photos::upload,
        crate::http::photos::download,
        openapi_json,
    ),
    components(schemas(makerpulse_core::Event, makerpulse_core::protocol::ClientMessage, makerpulse_core::Part)),
    modifiers(&Bearer),
    tags(
        (name = "commands", description = "Everything that changes a challenge"),
        (name = "reads", description = "Views, leaderboards, timelines and the log"),
        (name = "feeds", description = "The audience view as NDJSON and Server-Sent Events"),
        (name = "operations", description = "Health and readiness (the metrics listen apart: MAKERPULSE_METRICS_BIND)"),
    )
)]
pub struct ApiDoc;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3 document")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
