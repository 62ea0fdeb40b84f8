//! The photos of progress posts on disk: content-addressed files under `DATA_DIR/photos`, a quota
//! per team, a check that a post names only photos that were uploaded (with their real type),
//! and uploads that no post names collected after a while, so that an upload flood neither fills
//! the disk nor lingers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::{ChallengeId, TeamId};
use tokio::io::AsyncReadExt;

use crate::http::photos::sniff;
use crate::hub::Hub;

/// What one team may keep, and how long an upload may wait for its post.
#[derive(Clone, Debug, clap::Args)]
pub struct PhotoLimits {
    /// Photos one team may have in a challenge (named by its posts, or uploaded and waiting for
    /// one); 0 for no limit. A post carries up to 4; 200 is fifty photo posts in 72 hours.
    #[arg(long, env = "MAKERPULSE_PHOTOS_PER_TEAM", default_value_t = 200)]
    pub photos_per_team: u32,
    /// Megabytes of photos one team may have in a challenge; 0 for no limit.
    #[arg(long, env = "MAKERPULSE_PHOTO_MB_PER_TEAM", default_value_t = 300)]
    pub photo_mb_per_team: u64,
    /// Seconds an upload may wait for a post that names it before it is deleted.
    #[arg(long, env = "MAKERPULSE_UNNAMED_PHOTO_SECS", default_value_t = 3600)]
    pub unnamed_photo_secs: u64,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        PhotoLimits {
            photos_per_team: 200,
            photo_mb_per_team: 300,
            unnamed_photo_secs: 3600,
        }
    }
}

/// Why a photo was refused.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Over the team's quota.
    #[error("the team's photos are over its quota ({photos} photos, {megabytes} MB)")]
    Quota {
        /// Photos allowed.
        photos: u32,
        /// Megabytes allowed.
        megabytes: u64,
    },
    /// A post names a photo that was not uploaded, or gives it another type.
    #[error("photo {0} was not uploaded, or is not of the type given; upload it first")]
    Unknown(String),
    /// The disk failed.
    #[error("storing the photo failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An upload waiting for a post.
#[derive(Debug)]
struct Pending {
    challenge: ChallengeId,
    team: Option<TeamId>,
    bytes: u64,
    at: Instant,
}

/// The photo files, and the uploads that no post names yet.
#[derive(Debug)]
pub struct PhotoStore {
    dir: PathBuf,
    limits: PhotoLimits,
    /// A `std` mutex: held only for map lookups, never across an await.
    pending: Mutex<HashMap<String, Pending>>,
}

impl PhotoStore {
    /// The store under `data_dir/photos`.
    pub fn new(data_dir: &std::path::Path, limits: PhotoLimits) -> Self {
        PhotoStore {
            dir: data_dir.join("photos"),
            limits,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores an upload of `team` (none: the organizers, who have no quota) to `challenge`,
    /// whose posts by that team name the photos `named`; refused when it would take the team over
    /// its quota. The upload then waits for a post; [`PhotoStore::collect`] deletes it if none
    /// names it in time.
    pub async fn store(
        &self,
        challenge: &ChallengeId,
        team: Option<&TeamId>,
        named: &[String],
        body: &[u8],
        kind: ImageType,
    ) -> Result<PhotoRef, PhotoError> {
        let sha256 = makerpulse_core::ids::hex_sha256(body);
        if let Some(team) = team {
            self.check_quota(challenge, team, named, &sha256, body.len() as u64)
                .await?;
        }
        let path = self.path(&sha256);
        if tokio::fs::metadata(&path).await.is_err() {
            let tmp = self.dir.join(format!(".{sha256}.tmp"));
            tokio::fs::create_dir_all(&self.dir).await?;
            tokio::fs::write(&tmp, body).await?;
            tokio::fs::rename(&tmp, &path).await?;
        }
        // Even a photo some post names already waits here: collecting checks every post first.
        self.pending().insert(
            sha256.clone(),
            Pending {
                challenge: challenge.clone(),
                team: team.cloned(),
                bytes: body.len() as u64,
                at: Instant::now(),
            },
        );
        Ok(PhotoRef {
            sha256,
            content_type: kind,
        })
    }

    /// What the team holds (the photos its posts name, and its uploads waiting for a post), plus
    /// the new upload, against its quota.
    async fn check_quota(
        &self,
        challenge: &ChallengeId,
        team: &TeamId,
        named: &[String],
        sha256: &str,
        size: u64,
    ) -> Result<(), PhotoError> {
        if named.iter().any(|n| n == sha256) {
            return Ok(());
        }
        let waiting: Vec<(String, u64)> = self
            .pending()
            .iter()
            .filter(|(sha, p)| {
                &p.challenge == challenge
                    && p.team.as_ref() == Some(team)
                    && !named.iter().any(|n| n == *sha)
            })
            .map(|(sha, p)| (sha.clone(), p.bytes))
            .collect();
        if waiting.iter().any(|(sha, _)| sha == sha256) {
            return Ok(());
        }
        let mut bytes = size + waiting.iter().map(|(_, b)| b).sum::<u64>();
        for sha in named {
            bytes += tokio::fs::metadata(self.path(sha))
                .await
                .map_or(0, |m| m.len());
        }
        let count = named.len() + waiting.len() + 1;
        let PhotoLimits {
            photos_per_team,
            photo_mb_per_team,
            ..
        } = self.limits;
        if (photos_per_team > 0 && count > photos_per_team as usize)
            || (photo_mb_per_team > 0 && bytes > photo_mb_per_team * 1024 * 1024)
        {
            return Err(PhotoError::Quota {
                photos: photos_per_team,
                megabytes: photo_mb_per_team,
            });
        }
        Ok(())
    }

    /// Checks that every photo a post names was uploaded, and is of the type the post gives.
    pub async fn check_named(&self, photos: &[PhotoRef]) -> Result<(), PhotoError> {
        for photo in photos {
            let unknown = || PhotoError::Unknown(photo.sha256.clone());
            if !makerpulse_core::ids::is_sha256_hex(&photo.sha256) {
                return Err(unknown());
            }
            let mut head = [0u8; 16];
            let read = async {
                let mut file = tokio::fs::File::open(self.path(&photo.sha256)).await?;
                let n = file.read(&mut head).await?;
                Ok::<_, std::io::Error>(n)
            };
            let n = read.await.map_err(|_| unknown())?;
            if sniff(&head[..n]) != Some(photo.content_type) {
                return Err(unknown());
            }
        }
        Ok(())
    }

    /// Deletes the uploads that waited longer than allowed and that no post of any challenge
    /// names (the same bytes may have been posted elsewhere: files are shared by content).
    pub async fn collect(&self, hubs: &[Arc<Hub>]) {
        let ttl = Duration::from_secs(self.limits.unnamed_photo_secs);
        let expired: Vec<String> = {
            let mut pending = self.pending();
            let expired: Vec<String> = pending
                .iter()
                .filter(|(_, p)| p.at.elapsed() >= ttl)
                .map(|(sha, _)| sha.clone())
                .collect();
            for sha in &expired {
                pending.remove(sha);
            }
            expired
        };
        for sha in expired {
            if hubs.iter().any(|h| h.state().photo_is_named(&sha)) {
                continue;
            }
            if let Err(e) = tokio::fs::remove_file(self.path(&sha)).await {
                tracing::warn!(photo = %sha, error = %e, "could not delete an unnamed upload");
            }
        }
    }

    /// How often [`PhotoStore::collect`] should run: often enough that an upload waits about as
    /// long as allowed, at most once a minute.
    pub fn collect_every(&self) -> Duration {
        Duration::from_secs(self.limits.unnamed_photo_secs.clamp(1, 60))
    }
}
