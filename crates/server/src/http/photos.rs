//! Photo uploads for progress posts: PNG, JPEG or WebP, checked by their content, at most 5 MiB,
//! stored under the SHA-256 of their bytes and served with headers that keep a browser from
//! treating them as anything but an image.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use makerpulse_core::ids::is_sha256_hex;
use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::Actor;

use crate::app::AppState;
use crate::http::api::Caller;
use crate::http::error::ApiError;

/// The largest photo accepted, in bytes.
pub const MAX_PHOTO: usize = 5 * 1024 * 1024;

/// The photo routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/challenges/{id}/photos",
            post(upload).layer(DefaultBodyLimit::max(MAX_PHOTO)),
        )
        .route("/api/challenges/{id}/photos/{sha256}", get(download))
}

/// The image type of `bytes`, from their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageType::Jpeg)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageType::Webp)
    } else {
        None
    }
}

/// Uploads a photo (teams and admins). The body is the image itself; a `Content-Type` that
/// names another type than the content is refused.
#[utoipa::path(post, path = "/api/challenges/{id}/photos", tag = "commands",
    params(("id" = String, Path, description = "Challenge id")),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses(
        (status = 200, body = PhotoRef),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 403, description = "Not a team or an admin, or sent from a web page of another origin (`origin_not_allowed`)", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
        (status = 413, description = "Over 5 MiB, or over the team's photo quota (`photo_quota`)", body = crate::http::error::ErrorBody),
        (status = 415, description = "Not a PNG, JPEG or WebP image, or not the type claimed", body = crate::http::error::ErrorBody),
    ),
    security(("bearer" = [])))]
async fn upload(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<PhotoRef>, ApiError> {
    match caller.actor {
        Actor::Team(_) | Actor::Admin => {}
        Actor::Audience => return Err(ApiError::Unauthorized),
        _ => return Err(ApiError::Forbidden("team")),
    }
    let body = body.map_err(|_| ApiError::TooLarge(MAX_PHOTO))?;
    let detected = sniff(&body).ok_or_else(|| {
        ApiError::UnsupportedMedia("the upload is not a PNG, JPEG or WebP image".into())
    })?;
    if let Some(claimed) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let claimed = claimed.split(';').next().unwrap_or("").trim();
        if claimed != detected.mime() && claimed != "application/octet-stream" {
            return Err(ApiError::UnsupportedMedia(format!(
                "the upload claims to be {claimed} but its content is {}",
                detected.mime()
            )));
        }
    }
    let team = match &caller.actor {
        Actor::Team(team) => Some(team),
        _ => None,
    };
    let named: Vec<String> = team.map_or_else(Vec::new, |team| {
        let state = caller.hub.state();
        state
            .photos_of(team)
            .into_iter()
            .map(str::to_owned)
            .collect()
    });
    let photo = app
        .photos
        .store(caller.hub.id(), team, &named, &body, detected)
        .await?;
    Ok(Json(photo))
}

/// A photo of a challenge's posts. Everyone but the organizers gets only the photos that a
/// visible post of the challenge shows: the photo of a hidden post, or an upload no post names,
/// is 404 for them. Photos are cached briefly, not for a year, so that hiding a post takes its
/// photo off screens and caches within a minute; the ETag (the content's hash) keeps
/// revalidation cheap.
#[utoipa::path(get, path = "/api/challenges/{id}/photos/{sha256}", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), ("sha256" = String, Path, description = "SHA-256 of the image")),
    responses(
        (status = 200, content_type = "image/*", body = Vec<u8>),
        (status = 304, description = "The copy held is current (If-None-Match)"),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge, or no visible post of it shows this photo", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, sha256)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !is_sha256_hex(&sha256) {
        return Err(ApiError::NotFound("photo"));
    }
    if !matches!(caller.actor, Actor::Admin) && !caller.hub.state().photo_is_shown(&sha256) {
        return Err(ApiError::NotFound("photo"));
    }
    let etag = format!("\"{sha256}\"");
    let cache = [
        (header::ETAG, HeaderValue::from_str(&etag).expect("hex")),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let path = state.config.settings.data_dir.join("photos").join(&sha256);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::NotFound("photo"))?;
    let kind = sniff(&bytes).ok_or(ApiError::NotFound("photo"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind.mime())),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        cache,
        bytes,
    )
        .into_response())
}
