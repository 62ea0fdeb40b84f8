//! The JSON API: commands, token minting, and reads of views, leaderboards, timelines and the log.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use makerpulse_core::judging::{self, Outstanding};
use makerpulse_core::roster::Subject;
use makerpulse_core::view::BoardView;
use makerpulse_core::{
    progress::Post, snapshot, timeline, Actor, ChallengeId, Command, CommandId, Envelope, Phase,
    Projector, Role, TeamId, TokenHash, View,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::{new_token, AppState};
use crate::cheers;
use crate::event_log::StoreError;
use crate::http::error::{seq_param, ApiError, ApiJson, ApiQuery};
use crate::http::{bearer, require_json, ClientIp};
use crate::hub::{Answer, Hub};

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/challenges", get(list_challenges))
        .route("/api/challenges/{id}/commands", post(command))
        .route("/api/challenges/{id}/tokens", post(mint_token))
        .route("/api/challenges/{id}/view", get(view))
        .route("/api/challenges/{id}/leaderboard", get(leaderboard))
        .route(
            "/api/challenges/{id}/teams/{team}/timeline",
            get(team_timeline),
        )
        .route("/api/challenges/{id}/log", get(log))
        .route("/api/challenges/{id}/outstanding", get(outstanding))
}

/// The caller of a challenge route: the challenge and who is asking.
pub struct Caller {
    /// The challenge.
    pub hub: Arc<Hub>,
    /// Who.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("challenge"))?;
        let id = params
            .get("id")
            .and_then(|id| ChallengeId::new(id.as_str()).ok())
            .ok_or(ApiError::NotFound("challenge"))?;
        let hub = state
            .hub(&id)
            .await
            .ok_or(ApiError::NotFound("challenge"))?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let token = bearer(&parts.headers)?;
        let actor = state
            .authenticate(Some(&hub), token, ip)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Caller { hub, actor })
    }
}

impl Caller {
    /// Admins only: no token is 401 (log in), another role's token is 403.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.actor {
            Actor::Admin => Ok(()),
            Actor::Audience => Err(ApiError::Unauthorized),
            _ => Err(ApiError::Forbidden("admin")),
        }
    }
}

/// A challenge in the list.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChallengeSummary {
    /// Its id.
    pub id: ChallengeId,
    /// Its title.
    pub title: makerpulse_core::Localized,
    /// Its phase.
    pub phase: Phase,
    /// Its seq.
    pub seq: u64,
}

/// Every challenge on this server.
#[utoipa::path(get, path = "/api/challenges", tag = "reads",
    responses((status = 200, body = Vec<ChallengeSummary>)))]
async fn list_challenges(State(state): State<AppState>) -> Json<Vec<ChallengeSummary>> {
    let mut list: Vec<ChallengeSummary> = state
        .all_hubs()
        .iter()
        .filter_map(|hub| {
            let s = hub.state();
            let c = s.challenge()?;
            Some(ChallengeSummary {
                id: c.id.clone(),
                title: c.title.clone(),
                phase: c.phase,
                seq: s.seq(),
            })
        })
        .collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    Json(list)
}

/// How a command ended.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommandOutcome {
    /// New events were written.
    Applied,
    /// A resend of an accepted command; nothing changed.
    Repeated,
    /// A cheer was counted.
    Cheered,
}

/// The answer to an accepted command.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CommandAnswer {
    /// The command id.
    pub id: CommandId,
    /// How it ended.
    pub outcome: CommandOutcome,
    /// The seq of its first event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    /// The seq of its last event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

impl CommandAnswer {
    /// The HTTP form of a hub's answer.
    pub fn new(id: CommandId, answer: Answer) -> Self {
        let (outcome, seqs) = match answer {
            Answer::Applied {
                first_seq,
                last_seq,
            } => (CommandOutcome::Applied, Some((first_seq, last_seq))),
            Answer::Repeated {
                first_seq,
                last_seq,
            } => (CommandOutcome::Repeated, Some((first_seq, last_seq))),
            Answer::Cheered(_) => (CommandOutcome::Cheered, None),
        };
        CommandAnswer {
            id,
            outcome,
            first_seq: seqs.map(|s| s.0),
            last_seq: seqs.map(|s| s.1),
        }
    }
}

/// Sends a command. Organizers create a challenge by sending `create_challenge` to a new id.
/// Resending a command with the same id returns the first answer and changes nothing.
#[utoipa::path(post, path = "/api/challenges/{id}/commands", tag = "commands",
    params(("id" = String, Path, description = "Challenge id")),
    request_body = Envelope,
    responses(
        (status = 200, description = "Accepted and durable", body = CommandAnswer),
        (status = 400, description = "Malformed or invalid", body = crate::http::error::ErrorBody),
        (status = 401, description = "Unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 403, description = "Not allowed for this role, or sent from a web page of another origin (`origin_not_allowed`)", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge or id", body = crate::http::error::ErrorBody),
        (status = 409, description = "Not possible now", body = crate::http::error::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = crate::http::error::ErrorBody),
        (status = 415, description = "The body is not declared as `application/json` (`unsupported_media_type`)", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many commands from this address, or too many cheers (with `Retry-After`)", body = crate::http::error::ErrorBody),
        (status = 503, description = "The log is unavailable; nothing changed", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn command(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<Json<CommandAnswer>, ApiError> {
    if ip.is_some_and(|ip| !state.limits.allow_command(ip)) {
        return Err(ApiError::RateLimited);
    }
    require_json(&headers)?;
    let body = body.map_err(|e| match e.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(crate::http::MAX_BODY),
        _ => ApiError::BadRequest("malformed", e.body_text()),
    })?;
    let id = ChallengeId::new(id).map_err(|_| ApiError::NotFound("challenge"))?;
    let envelope = Envelope::from_json(&body)?;
    let token = bearer(&headers)?;
    let hub = match (state.hub(&id).await, &envelope.command) {
        (Some(hub), _) => hub,
        (None, Command::CreateChallenge { .. }) => {
            if state.authenticate(None, token, ip).await? != Some(Actor::Admin) {
                return Err(ApiError::NotFound("challenge"));
            }
            state.hub_or_create(&id).await?
        }
        (None, _) => return Err(ApiError::NotFound("challenge")),
    };
    if let Command::CreateChallenge { id: inner, .. } = &envelope.command {
        if inner != &id {
            return Err(ApiError::BadRequest(
                "challenge_mismatch",
                format!("the command creates {inner} but was sent to {id}"),
            ));
        }
    }
    let actor = state
        .authenticate(Some(&hub), token, ip)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let command_id = envelope.id.clone();
    let answer = if matches!(envelope.command, Command::Cheer { .. }) {
        cheers::cheer(
            &state.cheers,
            &hub,
            actor,
            envelope,
            ip,
            cheers::Memory::Http,
        )
        .await?
    } else {
        hub.command(actor, envelope).await?
    };
    Ok(Json(CommandAnswer::new(command_id, answer)))
}

/// Whom to mint a token for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// A team or a judge.
    pub subject: Subject,
}

/// A freshly minted token. It is shown once: only its hash is kept.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MintedToken {
    /// Whom it speaks for.
    pub subject: Subject,
    /// The bearer token.
    pub token: String,
    /// The console link, with the token in the URL fragment (never sent to a server).
    pub link: String,
}

/// Mints a team or judge token (admins only). The token is returned once; only its hash is
/// written to the log.
#[utoipa::path(post, path = "/api/challenges/{id}/tokens", tag = "commands",
    params(("id" = String, Path, description = "Challenge id")),
    request_body = MintRequest,
    responses(
        (status = 200, body = MintedToken),
        (status = 400, description = "Malformed request", body = crate::http::error::ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 403, description = "Not an admin, or sent from a web page of another origin (`origin_not_allowed`)", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge, team or judge", body = crate::http::error::ErrorBody),
        (status = 415, description = "The body is not declared as `application/json` (`unsupported_media_type`)", body = crate::http::error::ErrorBody),
        (status = 503, description = "The log is unavailable", body = crate::http::error::ErrorBody),
    ),
    security(("bearer" = [])))]
async fn mint_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<MintRequest>,
) -> Result<Json<MintedToken>, ApiError> {
    caller.require_admin()?;
    let token = new_token();
    let command = Command::IssueToken {
        subject: request.subject.clone(),
        token_hash: TokenHash::of(&token),
    };
    let id = CommandId::new(format!("mint-{}", &TokenHash::of(&token).as_str()[..16]))
        .expect("valid id");
    caller
        .hub
        .command(Actor::Admin, Envelope::new(id, command))
        .await?;
    let page = match &request.subject {
        Subject::Team(_) => "team",
        Subject::Judge(_) => "judge",
    };
    let link = format!(
        "{}/{page}/{}#token={token}",
        state.config.public_url,
        caller.hub.id()
    );
    Ok(Json(MintedToken {
        subject: request.subject,
        token,
        link,
    }))
}

/// Which seq to read at.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtSeq {
    /// Read the view as it was at this seq (replay); the live view when absent.
    #[param(minimum = 0, maximum = 9007199254740991_u64)]
    pub at: Option<u64>,
}

/// The caller's view of the challenge, live or at a past seq.
#[utoipa::path(get, path = "/api/challenges/{id}/view", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), AtSeq),
    responses(
        (status = 200, body = View),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge, or no such seq yet", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn view(caller: Caller, ApiQuery(at): ApiQuery<AtSeq>) -> Result<Response, ApiError> {
    let role = Role::of(&caller.actor);
    match seq_param("at", at.at)? {
        None => Ok(Json(snapshot(&caller.hub.state(), &role)).into_response()),
        Some(seq) => {
            // Hiding a post hides it in the past too, for everyone but the organizers, who
            // replay the log as it was. Serialised on the blocking thread too: a view of the
            // past is as big as a live one.
            let hidden = role != Role::Admin;
            let past = caller
                .hub
                .at(seq, hidden, move |past| {
                    serde_json::to_vec(&snapshot(&past, &role))
                })
                .await?
                .ok_or(ApiError::NotFound("seq"))?
                .map_err(|e| ApiError::Internal(Box::new(e)))?;
            Ok(([(header::CONTENT_TYPE, "application/json")], past).into_response())
        }
    }
}

/// The caller's leaderboard, with the breakdown its role may see.
#[utoipa::path(get, path = "/api/challenges/{id}/leaderboard", tag = "reads",
    params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 200, body = BoardView),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn leaderboard(caller: Caller) -> Json<BoardView> {
    let role = Role::of(&caller.actor);
    let state = caller.hub.state();
    Json(Projector::new(&state).board(&role))
}

/// The scorecards the jury still owes (admins only), by judge and by team, and the teams nobody
/// can score: what the admin console lists before it closes scoring, freezes or reveals.
#[utoipa::path(get, path = "/api/challenges/{id}/outstanding", tag = "reads",
    params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 200, body = Outstanding),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
    ),
    security(("bearer" = [])))]
async fn outstanding(caller: Caller) -> Result<Json<Outstanding>, ApiError> {
    caller.require_admin()?;
    Ok(Json(judging::outstanding(&caller.hub.state())))
}

/// A team's whole timeline, oldest first.
#[utoipa::path(get, path = "/api/challenges/{id}/teams/{team}/timeline", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), ("team" = String, Path, description = "Team id")),
    responses(
        (status = 200, body = Vec<Post>),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge or team", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn team_timeline(
    caller: Caller,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<Vec<Post>>, ApiError> {
    let team = TeamId::new(team).map_err(|_| ApiError::NotFound("team"))?;
    let timeline = {
        let state = caller.hub.state();
        if state.team(&team).is_none() {
            return Err(ApiError::NotFound("team"));
        }
        timeline(&state, &team, &Role::of(&caller.actor))
    };
    // The state keeps only the newest posts whole: the older ones are read back from the log.
    let events = caller.hub.events_at(timeline.older()).await?;
    let posts = timeline
        .fill(&events)
        .map_err(|seq| StoreError::Damaged(format!("the journal lacks the post at seq {seq}")))?;
    Ok(Json(posts))
}

/// Where to start reading the log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Since {
    /// Events after this seq (0 for all).
    #[param(minimum = 0, maximum = 9007199254740991_u64)]
    pub since: Option<u64>,
}

/// The raw event log as NDJSON (admins only): the audit trail, and what `makerpulse export`
/// writes.
#[utoipa::path(get, path = "/api/challenges/{id}/log", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), Since),
    responses(
        (status = 200, content_type = "application/x-ndjson", body = String),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
    ),
    security(("bearer" = [])))]
async fn log(caller: Caller, ApiQuery(since): ApiQuery<Since>) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let since = seq_param("since", since.since)?.unwrap_or(0);
    let events = caller
        .hub
        .history(since.saturating_add(1), u64::MAX)
        .await?;
    let mut body = String::new();
    for event in &events {
        body.push_str(&event.to_json());
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}
