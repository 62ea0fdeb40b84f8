//! What the replay page needs beside `view?at=SEQ`: when things happened. The replay scrubs
//! through the 72 hours by time, so it needs to know which seq stood at which moment.

use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::http::api::Caller;
use crate::http::error::{ApiError, ApiQuery};

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/challenges/{id}/times", get(times))
}

/// A moment of the log: the last event of a stretch of time.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq)]
pub struct Moment {
    /// The seq of that event.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// How finely to mark time.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Every {
    /// Seconds per mark: 60 when absent, from 1 to 86400.
    #[param(minimum = 1, maximum = 86400)]
    pub every: Option<u64>,
}

/// When the challenge's events happened, for scrubbing a replay by time: for each stretch of
/// `every` seconds that saw events, the last of them. Pair it with `view?at=SEQ`.
#[utoipa::path(get, path = "/api/challenges/{id}/times", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), Every),
    responses(
        (status = 200, body = Vec<Moment>),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn times(
    caller: Caller,
    ApiQuery(every): ApiQuery<Every>,
) -> Result<Json<Vec<Moment>>, ApiError> {
    let until = caller.hub.state().seq();
    let seconds = caller.hub.seconds(until);
    let every = match every.every.unwrap_or(60) {
        every @ 1..=86_400 => every as i64,
        _ => {
            return Err(ApiError::BadRequest(
                "malformed",
                "every must be from 1 to 86400 seconds".into(),
            ))
        }
    };
    Ok(Json(marks(seconds.into_iter(), every)))
}

/// The last event of each stretch of `every` seconds.
fn marks(events: impl Iterator<Item = (u64, DateTime<Utc>)>, every: i64) -> Vec<Moment> {
    let mut out: Vec<Moment> = Vec::new();
    for (seq, at) in events {
        let bucket = at.timestamp().div_euclid(every);
        match out.last_mut() {
            Some(last) if last.at.timestamp().div_euclid(every) == bucket => {
                last.seq = seq;
                last.at = at;
            }
            _ => out.push(Moment { seq, at }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_stretch_keeps_its_last_event() {
        let t = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let events = [(1, t(0)), (2, t(10)), (3, t(59)), (4, t(61)), (5, t(300))];
        let got = marks(events.into_iter(), 60);
        let want = [(3, t(59)), (4, t(61)), (5, t(300))];
        assert_eq!(
            got,
            want.map(|(seq, at)| Moment { seq, at })
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert_eq!(marks(events.into_iter(), 1).len(), 5);
    }
}
