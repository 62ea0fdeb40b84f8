//! Progress updates (进展): what a team posts on its timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::TeamId;

/// The most photos in one post.
pub const MAX_PHOTOS: usize = 6;
/// The most links in one post.
pub const MAX_LINKS: usize = 5;

/// The image types a post may carry; the server checks uploads by their content.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    /// image/png
    Png,
    /// image/jpeg
    Jpeg,
    /// image/webp
    Webp,
}

impl ImageType {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
        }
    }
}

/// A photo already uploaded and stored under the SHA-256 of its bytes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRef {
    /// SHA-256 of the image bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// Its type.
    pub content_type: ImageType,
}

/// A post on a team's timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The seq of the event that created it, which makes it unique and ordered.
    pub id: u64,
    /// Whose timeline.
    pub team: TeamId,
    /// When.
    pub at: DateTime<Utc>,
    /// What the team wrote.
    pub text: String,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// Links (http or https only).
    pub links: Vec<String>,
    /// How far along the team says it is.
    pub percent: Option<u8>,
    /// Set when an organizer hid the post; hidden posts are shown to admins only.
    pub hidden: Option<String>,
}
