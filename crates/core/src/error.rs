//! Every rule a command can break, one variant each, with a stable code and a message in both
//! languages that tells the user what to do.
//!
//! The `code()` strings are part of the public protocol: clients switch on them, so they never
//! change once released. The English message is the `Display`; [`DomainError::message_zh`] gives
//! the Chinese one.

use crate::challenge::Phase;
use crate::text::Localized;

/// [`DomainError::ReasonRequired`]: revising a scorecard.
pub const REVISING_A_SCORECARD: &str = "revising a scorecard";
/// [`DomainError::ReasonRequired`]: opening scoring again once the board is frozen.
pub const REOPENING_SCORING: &str = "reopening scoring during the freeze";

fn reason_action_zh(action: &str) -> &'static str {
    match action {
        REVISING_A_SCORECARD => "修改评分表",
        REOPENING_SCORING => "封榜期间重新开放评分",
        _ => "此操作",
    }
}

/// Which list of an import a row is in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportSection {
    /// The teams.
    Teams,
    /// The judges.
    Judges,
}

/// Why one row of an import cannot be added.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportRowError {
    /// Its list.
    pub section: ImportSection,
    /// Its place in the list, from 1.
    pub row: u32,
    /// The code of the error adding it alone would give.
    pub code: String,
    /// Its message.
    pub message: String,
    /// 中文.
    pub message_zh: String,
}

/// A command refused by the core. Nothing was changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// An import (`import_roster`) with rows that cannot be added: nothing was imported.
    #[error("nothing was imported: {} of the rows cannot be added (see rows)", rows.len())]
    ImportRefused {
        /// Every refused row, with its reason.
        rows: Vec<ImportRowError>,
    },
    /// An import with more rows than one import may hold.
    #[error("an import holds at most {max} rows; split it")]
    ImportTooLarge {
        /// The limit.
        max: usize,
    },
    /// The command could not be read.
    #[error("the command could not be read: {detail}")]
    Malformed {
        /// What the parser said.
        detail: String,
    },
    /// The command was written for a newer protocol.
    #[error("schema version {got} is not supported; this server speaks version {supported}")]
    UnsupportedSchema {
        /// The version sent.
        got: u32,
        /// The version understood.
        supported: u32,
    },
    /// An id with characters or a length the core does not accept.
    #[error("{kind} id {id:?} is invalid: use 1–64 letters, digits, '-' or '_'")]
    InvalidId {
        /// Which kind of id.
        kind: &'static str,
        /// The id as sent (cut short).
        id: String,
    },
    /// A token hash that is not 64 lowercase hex digits.
    #[error("token hash must be 64 lowercase hex digits (SHA-256)")]
    InvalidTokenHash,
    /// A required text was empty.
    #[error("{field} must not be empty")]
    EmptyText {
        /// Which field.
        field: &'static str,
    },
    /// A text was longer than allowed.
    #[error("{field} is too long: at most {max} characters")]
    TextTooLong {
        /// Which field.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A text held control characters.
    #[error("{field} contains control characters")]
    ControlCharacter {
        /// Which field.
        field: &'static str,
    },
    /// A link that is not a plain http(s) address.
    #[error("link {url:?} is not an http:// or https:// address")]
    InvalidUrl {
        /// The link as sent (cut short).
        url: String,
    },
    /// A list longer than allowed.
    #[error("too many {field}: at most {max}")]
    TooMany {
        /// Which list.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A duration outside 1 second to 30 days.
    #[error("duration must be between 1 second and 30 days")]
    InvalidDuration,
    /// A rubric scale with min ≥ max or a top above 1000.
    #[error("scale {min}–{max} is invalid: min must be below max, and max at most 1000")]
    InvalidScale {
        /// Lowest score.
        min: u32,
        /// Highest score.
        max: u32,
    },
    /// A weight that is not a finite number above zero.
    #[error("weight of {what} must be a number above 0 and at most 1000")]
    InvalidWeight {
        /// Which criterion or panel role.
        what: String,
    },
    /// A percent above 100.
    #[error("percent done must be between 0 and 100")]
    InvalidPercent,
    /// A photo reference that is not a SHA-256.
    #[error("photo reference must be the SHA-256 of an uploaded image")]
    InvalidPhoto,
    /// The same id twice in one list, or an id already taken.
    #[error("{kind} {id} already exists")]
    DuplicateId {
        /// Which kind.
        kind: &'static str,
        /// Which id.
        id: String,
    },
    /// An id that names nothing.
    #[error("there is no {kind} {id}")]
    Unknown {
        /// Which kind.
        kind: &'static str,
        /// Which id.
        id: String,
    },
    /// A command that needs a challenge before one was created.
    #[error("the challenge has not been created yet")]
    NoChallenge,
    /// A second create.
    #[error("the challenge already exists")]
    ChallengeExists,
    /// A command that the current phase does not allow.
    #[error("{action} is not possible while the challenge is {phase:?}; it needs: {allowed}")]
    WrongPhase {
        /// What was attempted.
        action: &'static str,
        /// The phase now.
        phase: Phase,
        /// The phases that allow it.
        allowed: &'static str,
    },
    /// The actor's role may not do this at all.
    #[error("{role} may not {action}")]
    Forbidden {
        /// What was attempted.
        action: &'static str,
        /// Who tried.
        role: &'static str,
    },
    /// A judge scoring a team not assigned to them.
    #[error("team {team} is not assigned to you")]
    NotAssigned {
        /// The team.
        team: String,
    },
    /// A judge scoring a team they declared a conflict of interest with.
    #[error("you declared a conflict of interest with team {team}, so you cannot score it")]
    Conflicted {
        /// The team.
        team: String,
    },
    /// A scorecard while scoring is closed.
    #[error("scoring is closed; ask the organizers to open it")]
    ScoringClosed,
    /// Opening scoring that is open, or closing scoring that is closed.
    #[error("scoring is already {state}")]
    ScoringAlready {
        /// "open" or "closed".
        state: &'static str,
    },
    /// A scorecard with a score off the scale.
    #[error("score {score} for {criterion} is off the scale {min}–{max}")]
    ScoreOutOfScale {
        /// The criterion.
        criterion: String,
        /// The score.
        score: u32,
        /// Lowest score.
        min: u32,
        /// Highest score.
        max: u32,
    },
    /// A scorecard without any score.
    #[error("a scorecard needs at least one score")]
    EmptyScorecard,
    /// A milestone reached twice.
    #[error("milestone {milestone} was already reached")]
    MilestoneAlreadyReached {
        /// The milestone.
        milestone: String,
    },
    /// Undoing a milestone the team has not reached.
    #[error("team {team} has not reached milestone {milestone}: there is nothing to undo")]
    MilestoneNotReached {
        /// The team.
        team: String,
        /// The milestone.
        milestone: String,
    },
    /// A milestone reached before the ones before it.
    #[error("reach milestone {next} first")]
    MilestoneOutOfOrder {
        /// The milestone to reach first.
        next: String,
    },
    /// Pausing a paused clock.
    #[error("the clock is already paused")]
    AlreadyPaused,
    /// Resuming a running clock.
    #[error("the clock is not paused")]
    NotPaused,
    /// Ending building early from the server's own timer.
    #[error("the clock has not run out yet")]
    ClockNotExpired,
    /// Starting a challenge without what it needs.
    #[error("cannot start yet: {missing}")]
    NotReady {
        /// What is missing.
        missing: &'static str,
    },
    /// Removing a track that still has teams.
    #[error("track {track} still has teams; move or remove them first")]
    TrackNotEmpty {
        /// The track.
        track: String,
    },
    /// Changing how scores are ranked after the freeze.
    #[error("the ranking method is locked once the leaderboard is frozen")]
    RankingLocked,
    /// Revealing while judges can still change scores.
    #[error("close scoring before revealing the result")]
    RevealNeedsClosedScoring,
    /// A change the audit trail must explain, sent without a reason.
    #[error("{action} needs a reason: say why in a few words")]
    ReasonRequired {
        /// What was asked.
        action: &'static str,
    },
    /// Hiding a post twice.
    #[error("post {post} is already hidden")]
    AlreadyHidden {
        /// The post.
        post: u64,
    },
    /// Revoking tokens of a subject that has none live.
    #[error("there is no live token for {subject}")]
    NoLiveToken {
        /// Whose.
        subject: String,
    },
    /// The same command id reused for a different command.
    #[error("command id {id} was already used for a different command; use a new id")]
    CommandIdReused {
        /// The id.
        id: String,
    },
}

impl DomainError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::ImportRefused { .. } => "import_refused",
            DomainError::ImportTooLarge { .. } => "import_too_large",
            DomainError::Malformed { .. } => "malformed",
            DomainError::UnsupportedSchema { .. } => "unsupported_schema",
            DomainError::InvalidId { .. } => "invalid_id",
            DomainError::InvalidTokenHash => "invalid_token_hash",
            DomainError::EmptyText { .. } => "empty_text",
            DomainError::TextTooLong { .. } => "text_too_long",
            DomainError::ControlCharacter { .. } => "control_character",
            DomainError::InvalidUrl { .. } => "invalid_url",
            DomainError::TooMany { .. } => "too_many",
            DomainError::InvalidDuration => "invalid_duration",
            DomainError::InvalidScale { .. } => "invalid_scale",
            DomainError::InvalidWeight { .. } => "invalid_weight",
            DomainError::InvalidPercent => "invalid_percent",
            DomainError::InvalidPhoto => "invalid_photo",
            DomainError::DuplicateId { .. } => "duplicate_id",
            DomainError::Unknown { .. } => "unknown_id",
            DomainError::NoChallenge => "no_challenge",
            DomainError::ChallengeExists => "challenge_exists",
            DomainError::WrongPhase { .. } => "wrong_phase",
            DomainError::Forbidden { .. } => "forbidden",
            DomainError::NotAssigned { .. } => "not_assigned",
            DomainError::Conflicted { .. } => "conflict_of_interest",
            DomainError::ScoringClosed => "scoring_closed",
            DomainError::ScoringAlready { .. } => "scoring_already",
            DomainError::ScoreOutOfScale { .. } => "score_out_of_scale",
            DomainError::EmptyScorecard => "empty_scorecard",
            DomainError::MilestoneAlreadyReached { .. } => "milestone_already_reached",
            DomainError::MilestoneOutOfOrder { .. } => "milestone_out_of_order",
            DomainError::MilestoneNotReached { .. } => "milestone_not_reached",
            DomainError::AlreadyPaused => "already_paused",
            DomainError::NotPaused => "not_paused",
            DomainError::ClockNotExpired => "clock_not_expired",
            DomainError::NotReady { .. } => "not_ready",
            DomainError::TrackNotEmpty { .. } => "track_not_empty",
            DomainError::RankingLocked => "ranking_locked",
            DomainError::RevealNeedsClosedScoring => "reveal_needs_closed_scoring",
            DomainError::ReasonRequired { .. } => "reason_required",
            DomainError::AlreadyHidden { .. } => "already_hidden",
            DomainError::NoLiveToken { .. } => "no_live_token",
            DomainError::CommandIdReused { .. } => "command_id_reused",
        }
    }

    /// Whether the error is the actor's lack of rights rather than a bad or untimely command;
    /// transports map it to 403.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            DomainError::Forbidden { .. }
                | DomainError::NotAssigned { .. }
                | DomainError::Conflicted { .. }
        )
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            DomainError::ImportRefused { rows } => {
                format!("未导入任何内容：有 {} 行无法添加（见各行原因）", rows.len())
            }
            DomainError::ImportTooLarge { max } => format!("一次最多导入 {max} 行，请分批导入"),
            DomainError::Malformed { detail } => format!("无法解析该指令：{detail}"),
            DomainError::UnsupportedSchema { got, supported } => {
                format!("不支持协议版本 {got}，本服务器使用版本 {supported}")
            }
            DomainError::InvalidId { kind, id } => {
                format!("{kind} 标识 {id:?} 无效：只能使用 1–64 个字母、数字、“-”或“_”")
            }
            DomainError::InvalidTokenHash => "令牌哈希必须是 64 位小写十六进制（SHA-256）".into(),
            DomainError::EmptyText { field } => format!("{field} 不能为空"),
            DomainError::TextTooLong { field, max } => format!("{field} 过长：最多 {max} 个字符"),
            DomainError::ControlCharacter { field } => format!("{field} 含有控制字符"),
            DomainError::InvalidUrl { url } => {
                format!("链接 {url:?} 不是 http:// 或 https:// 地址")
            }
            DomainError::TooMany { field, max } => format!("{field} 过多：最多 {max} 个"),
            DomainError::InvalidDuration => "时长必须在 1 秒到 30 天之间".into(),
            DomainError::InvalidScale { min, max } => {
                format!("分值范围 {min}–{max} 无效：最低分须小于最高分，最高分不超过 1000")
            }
            DomainError::InvalidWeight { what } => format!("{what} 的权重必须大于 0 且不超过 1000"),
            DomainError::InvalidPercent => "完成度须在 0 到 100 之间".into(),
            DomainError::InvalidPhoto => "照片引用必须是已上传图片的 SHA-256".into(),
            DomainError::DuplicateId { kind, id } => format!("{kind} {id} 已存在"),
            DomainError::Unknown { kind, id } => format!("不存在 {kind} {id}"),
            DomainError::NoChallenge => "挑战赛尚未创建".into(),
            DomainError::ChallengeExists => "挑战赛已存在".into(),
            DomainError::WrongPhase {
                action,
                phase,
                allowed,
            } => format!(
                "挑战赛处于“{}”阶段，无法执行 {action}；需要的阶段：{allowed}",
                phase.label().zh
            ),
            DomainError::Forbidden { action, role } => format!("{role} 无权执行 {action}"),
            DomainError::NotAssigned { team } => format!("团队 {team} 未分配给您"),
            DomainError::Conflicted { team } => {
                format!("您已声明与团队 {team} 存在利益冲突，不能为其评分")
            }
            DomainError::ScoringClosed => "评分已关闭，请联系组织者开启".into(),
            DomainError::ScoringAlready { state } => {
                let state = if *state == "open" { "开启" } else { "关闭" };
                format!("评分已经{state}")
            }
            DomainError::ScoreOutOfScale {
                criterion,
                score,
                min,
                max,
            } => format!("{criterion} 的分数 {score} 超出范围 {min}–{max}"),
            DomainError::EmptyScorecard => "评分表至少需要一项分数".into(),
            DomainError::MilestoneAlreadyReached { milestone } => {
                format!("里程碑 {milestone} 已经完成")
            }
            DomainError::MilestoneOutOfOrder { next } => format!("请先完成里程碑 {next}"),
            DomainError::MilestoneNotReached { team, milestone } => {
                format!("团队 {team} 尚未完成里程碑 {milestone}，无可撤销")
            }
            DomainError::AlreadyPaused => "计时已经暂停".into(),
            DomainError::NotPaused => "计时没有暂停".into(),
            DomainError::ClockNotExpired => "计时尚未结束".into(),
            DomainError::NotReady { missing } => format!("还不能开始：{missing}"),
            DomainError::TrackNotEmpty { track } => {
                format!("赛道 {track} 仍有团队，请先移动或删除这些团队")
            }
            DomainError::RankingLocked => "封榜后不能再更改排名方式".into(),
            DomainError::RevealNeedsClosedScoring => "揭晓结果前请先关闭评分".into(),
            DomainError::ReasonRequired { action } => {
                format!("{}需要填写理由，请简要说明原因", reason_action_zh(action))
            }
            DomainError::AlreadyHidden { post } => format!("进展 {post} 已被隐藏"),
            DomainError::NoLiveToken { subject } => format!("{subject} 没有有效的令牌"),
            DomainError::CommandIdReused { id } => {
                format!("指令标识 {id} 已用于另一条指令，请使用新的标识")
            }
        }
    }

    /// The message in both languages.
    pub fn message(&self) -> Localized {
        Localized::new(self.message_zh(), self.to_string())
    }
}
