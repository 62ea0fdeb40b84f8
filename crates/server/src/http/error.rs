//! The one catalogue of errors a client sees, over HTTP and on the live socket alike: a stable
//! code with an English and a Chinese message. Over HTTP it is the body
//! `{"error": {"code", "message", "message_zh"}}` with a status that fits; on the socket, an
//! `error` message ([`ApiError::to_message`]). Infrastructure errors are logged and never
//! described to the client.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{CommandId, DomainError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::event_log::StoreError;
use crate::hub::CommandError;
use crate::photo_store::PhotoError;

/// An error answered to a client, over HTTP or on the live socket.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The core refused a command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A bearer token that is unknown or revoked.
    #[error("the token is unknown or has been revoked")]
    Unauthorized,
    /// Not for this role.
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    /// Nothing here.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A request that could not be read.
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// A body over its limit.
    #[error("the body is too large: at most {0} bytes")]
    TooLarge(usize),
    /// An upload that is not an image of an accepted type.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Too many live connections from one address.
    #[error("too many live connections from your address (at most {0}); close some and retry")]
    TooManyConnections(usize),
    /// Too many commands from one address.
    #[error("too many requests from your address; slow down and retry in a moment")]
    RateLimited,
    /// Too many commands on one live connection.
    #[error("too many commands; slow down")]
    SocketRateLimited,
    /// Over the budget of counted cheers of one address, with how long until the next counts.
    #[error("too many cheers from your address; this one was not counted, retry in {} s", retry_secs(.0))]
    CheersLimited(std::time::Duration),
    /// A command whose body is not declared as JSON.
    #[error("send the body as JSON, with Content-Type: application/json")]
    NotJson,
    /// A command or live connection from a web page of another site.
    #[error("requests from the web page at {0} are not allowed; only this server's own pages and the origins in MAKERPULSE_ALLOWED_ORIGINS may act")]
    OriginNotAllowed(String),
    /// Too many wrong tokens from one address lately.
    #[error("too many failed authentications from your address; wait a minute and retry")]
    AuthLocked,
    /// A socket message over its limit.
    #[error("messages are limited to {0} bytes")]
    MessageTooLarge(usize),
    /// A socket whose first message is not `hello`.
    #[error("the first message must be {{\"type\":\"hello\"}} with an optional token, since and parts (a list of leaderboard, peoples_choice, ticker)")]
    ExpectedHello,
    /// A second `hello` on a socket.
    #[error("hello was already received")]
    AlreadyHello,
    /// A binary frame on the socket, which speaks JSON text.
    #[error("send JSON text messages")]
    BinaryUnsupported,
    /// The log cannot be written now.
    #[error("the event log is unavailable; nothing was changed, try again shortly")]
    Unavailable,
    /// A photo refused: over the team's quota, or named by a post without being uploaded.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The store failed underneath: answered as [`ApiError::Unavailable`], the cause logged.
    #[error("the event log is unavailable; nothing was changed, try again shortly")]
    Store(#[from] StoreError),
    /// Anything else; logged, not described.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<CommandError> for ApiError {
    fn from(err: CommandError) -> Self {
        match err {
            CommandError::Domain(e) => ApiError::Domain(e),
            CommandError::Unavailable => ApiError::Unavailable,
            CommandError::Photo(e) => ApiError::Photo(e),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code.
    code: String,
    /// English.
    message: String,
    /// 中文.
    message_zh: String,
    /// How long to wait before retrying, in milliseconds, on every error worth retrying (rate
    /// limits, a lockout, an unavailable log); `Retry-After` gives the same in whole seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
    /// For `import_refused`: every refused row and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rows: Vec<makerpulse_core::error::ImportRowError>,
}

impl ApiError {
    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => match e {
                e if e.is_forbidden() => StatusCode::FORBIDDEN,
                DomainError::Unknown { .. } | DomainError::NoChallenge => StatusCode::NOT_FOUND,
                DomainError::WrongPhase { .. }
                | DomainError::ChallengeExists
                | DomainError::DuplicateId { .. }
                | DomainError::ScoringClosed
                | DomainError::ScoringAlready { .. }
                | DomainError::MilestoneAlreadyReached { .. }
                | DomainError::MilestoneOutOfOrder { .. }
                | DomainError::AlreadyPaused
                | DomainError::NotPaused
                | DomainError::ClockNotExpired
                | DomainError::NotReady { .. }
                | DomainError::TrackNotEmpty { .. }
                | DomainError::RankingLocked
                | DomainError::RevealNeedsClosedScoring
                | DomainError::AlreadyHidden { .. }
                | DomainError::NoLiveToken { .. }
                | DomainError::CommandIdReused { .. } => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            },
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(..)
            | ApiError::ExpectedHello
            | ApiError::AlreadyHello
            | ApiError::BinaryUnsupported => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) | ApiError::MessageTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Photo(PhotoError::Quota { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Photo(PhotoError::Unknown(_)) => StatusCode::BAD_REQUEST,
            ApiError::Photo(PhotoError::Io(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::UnsupportedMedia(_) | ApiError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyConnections(_)
            | ApiError::RateLimited
            | ApiError::SocketRateLimited
            | ApiError::CheersLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AuthLocked => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> ErrorDetail {
        let (code, zh) = match self {
            ApiError::Domain(e) => {
                return ErrorDetail {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                    message_zh: e.message_zh(),
                    retry_after_ms: None,
                    rows: match e {
                        DomainError::ImportRefused { rows } => rows.clone(),
                        _ => Vec::new(),
                    },
                }
            }
            ApiError::Unauthorized => ("unauthorized", "令牌无效或已被撤销".to_owned()),
            ApiError::Forbidden(role) => ("forbidden", format!("需要 {role} 权限")),
            ApiError::NotFound(what) => ("not_found", format!("找不到 {what}")),
            ApiError::BadRequest(code, msg) => (*code, format!("请求无效：{msg}")),
            ApiError::TooLarge(max) => ("too_large", format!("请求体过大：最多 {max} 字节")),
            ApiError::UnsupportedMedia(_) => (
                "unsupported_media",
                "只接受 PNG、JPEG 或 WebP 图片，且类型须与内容一致".to_owned(),
            ),
            ApiError::TooManyConnections(max) => (
                "too_many_connections",
                format!("来自您地址的实时连接过多（最多 {max} 个），请关闭部分连接后重试"),
            ),
            ApiError::RateLimited => ("rate_limited", "请求过于频繁，请稍后再试".to_owned()),
            ApiError::SocketRateLimited => ("rate_limited", "操作过于频繁，请稍后再试".to_owned()),
            ApiError::CheersLimited(wait) => (
                "rate_limited",
                format!(
                    "来自您地址的加油过多，这次未计入，请 {} 秒后再试",
                    retry_secs(wait)
                ),
            ),
            ApiError::NotJson => (
                "unsupported_media_type",
                "请以 JSON 发送请求体，并带上 Content-Type: application/json".to_owned(),
            ),
            ApiError::OriginNotAllowed(origin) => (
                "origin_not_allowed",
                format!(
                    "不允许来自网页 {origin} 的请求；只有本服务器自己的页面和 MAKERPULSE_ALLOWED_ORIGINS 中的来源可以操作"
                ),
            ),
            ApiError::AuthLocked => (
                "too_many_failures",
                "来自您地址的认证失败次数过多，请一分钟后再试".to_owned(),
            ),
            ApiError::MessageTooLarge(max) => ("too_large", format!("消息最多 {max} 字节")),
            ApiError::ExpectedHello => (
                "expected_hello",
                "第一条消息必须是 hello（可带 token、since 和 parts：leaderboard、peoples_choice、ticker 中的几项）".to_owned(),
            ),
            ApiError::AlreadyHello => ("already_hello", "已经收到 hello".to_owned()),
            ApiError::BinaryUnsupported => {
                ("binary_unsupported", "请发送 JSON 文本消息".to_owned())
            }
            ApiError::Unavailable | ApiError::Store(_) => (
                "unavailable",
                "事件日志暂时不可用，未做任何更改，请稍后重试".to_owned(),
            ),
            ApiError::Internal(_) | ApiError::Photo(PhotoError::Io(_)) => {
                ("internal", "服务器内部错误".to_owned())
            }
            ApiError::Photo(PhotoError::Quota { photos, megabytes }) => (
                "photo_quota",
                format!("本队照片已达上限（{photos} 张，{megabytes} MB），请删减后再上传"),
            ),
            ApiError::Photo(PhotoError::Unknown(sha)) => (
                "unknown_photo",
                format!("照片 {sha} 尚未上传或类型不符，请先上传"),
            ),
        };
        ErrorDetail {
            code: code.to_owned(),
            message: self.to_string(),
            message_zh: zh,
            retry_after_ms: self.retry_after().map(|wait| wait.as_millis() as u64),
            rows: Vec::new(),
        }
    }

    /// How long the client should wait before trying again: said by every refusal that is
    /// worth retrying (each 429 and 503), as `Retry-After` over HTTP and `retry_after_ms` in the
    /// body and on the socket.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        use std::time::Duration;
        match self {
            ApiError::CheersLimited(wait) => Some(*wait),
            // The command buckets refill at least one token a second.
            ApiError::RateLimited | ApiError::SocketRateLimited => Some(Duration::from_secs(1)),
            // At most this long: the lockout began at some failure in the last minute.
            ApiError::AuthLocked => Some(crate::limits::AUTH_LOCKOUT),
            // Nobody knows when another connection of the address closes, nor when the log
            // comes back: a short wait, so that a phone retries soon but not in a loop.
            ApiError::TooManyConnections(_) | ApiError::Unavailable | ApiError::Store(_) => {
                Some(crate::http::DEFAULT_RETRY_AFTER)
            }
            _ => None,
        }
    }
}

/// Whole seconds to wait, rounded up, as `Retry-After` gives them.
fn retry_secs(wait: &std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl ApiError {
    /// The socket's `error` message, answering the command `id` when there is one. Logged like
    /// the HTTP answer.
    pub fn to_message(&self, id: Option<CommandId>) -> ServerMessage {
        self.log();
        let ErrorDetail {
            code,
            message,
            message_zh,
            retry_after_ms,
            rows,
        } = self.detail();
        ServerMessage::Error {
            id,
            code,
            message,
            message_zh,
            retry_after_ms,
            rows,
        }
    }

    fn log(&self) {
        match self {
            ApiError::Internal(err) => tracing::error!(error = ?err, "internal error"),
            ApiError::Store(err) => tracing::error!(error = %err, "the event log failed"),
            _ => {}
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        self.log();
        let retry = self.retry_after().map(|wait| retry_secs(&wait));
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.detail(),
            }),
        )
            .into_response();
        if let Some(secs) = retry {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// A JSON body whose rejections use the API's error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(crate::http::MAX_BODY))
            }
            Err(rejection) if rejection.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Err(ApiError::NotJson)
            }
            Err(rejection) => Err(ApiError::BadRequest("malformed", rejection.body_text())),
        }
    }
}

/// Query parameters whose rejections use the API's error body.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest("malformed", rejection.body_text())),
        }
    }
}

/// The largest seq a query may name: the largest integer a JavaScript client holds exactly.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Checks a seq from a query string against [`MAX_SEQ`].
pub fn seq_param(name: &'static str, value: Option<u64>) -> Result<Option<u64>, ApiError> {
    match value {
        Some(v) if v > MAX_SEQ => Err(ApiError::BadRequest(
            "malformed",
            format!("{name} must be at most {MAX_SEQ}"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 429 and 503 says when to retry, in the header and in the body alike.
    #[test]
    fn every_429_and_503_says_when_to_retry() {
        let errors = [
            ApiError::TooManyConnections(3),
            ApiError::RateLimited,
            ApiError::SocketRateLimited,
            ApiError::CheersLimited(std::time::Duration::from_millis(1500)),
            ApiError::AuthLocked,
            ApiError::Unavailable,
            ApiError::Store(StoreError::Damaged("down".into())),
            ApiError::Unauthorized,
            ApiError::NotJson,
        ];
        let mut refusals = 0;
        for error in errors {
            let status = error.status_code();
            let wait = error.retry_after();
            let res = error.into_response();
            let header = res.headers().get(axum::http::header::RETRY_AFTER);
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                refusals += 1;
                let secs: u64 = header
                    .expect("Retry-After")
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(secs >= 1, "{status}: {secs}");
                assert_eq!(secs, retry_secs(&wait.unwrap()));
            } else {
                assert!(header.is_none(), "{status}");
            }
        }
        assert_eq!(refusals, 7);
    }

    #[test]
    fn the_socket_says_what_http_says() {
        let errors = [
            ApiError::Unauthorized,
            ApiError::Unavailable,
            ApiError::SocketRateLimited,
            ApiError::CheersLimited(std::time::Duration::from_millis(1500)),
            ApiError::OriginNotAllowed("https://evil.example".into()),
            ApiError::NotJson,
            ApiError::AuthLocked,
            ApiError::MessageTooLarge(64),
            ApiError::ExpectedHello,
            ApiError::AlreadyHello,
            ApiError::BinaryUnsupported,
        ];
        for error in errors {
            let detail = error.detail();
            let ServerMessage::Error {
                code,
                message,
                message_zh,
                retry_after_ms,
                ..
            } = error.to_message(None)
            else {
                panic!("an error message");
            };
            assert_eq!(
                (code, message, message_zh, retry_after_ms),
                (
                    detail.code,
                    detail.message,
                    detail.message_zh,
                    detail.retry_after_ms
                )
            );
        }
        let refused = DomainError::Malformed { detail: "x".into() };
        let id = CommandId::new("c1").unwrap();
        assert_eq!(
            ApiError::from(refused.clone())
                .to_message(Some(id.clone()))
                .to_json(),
            ServerMessage::error(Some(id), &refused).to_json(),
            "a refusal reads as the core words it"
        );
    }
}
