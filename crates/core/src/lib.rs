//! The pure domain of a makerpulse challenge (创客真人秀): commands in, events out, state and
//! per-role views. No IO, no async, no clock: time is passed in as a value.
//!
//! The flow every transport follows:
//! 1. [`decide()`] a command from an [`Actor`] at a time against the [`State`]: events or a typed
//!    [`DomainError`];
//! 2. [`stamp`] the events with their seq and append them to the log durably;
//! 3. [`State::apply`] them, then project a [`Delta`] per connected [`Role`].
//!
//! `State::replay(log) == live state`, always; the [`Leaderboard`] is derived, never stored.

pub mod answers;
pub mod challenge;
pub mod command;
pub mod decide;
pub mod delta;
pub mod error;
pub mod event;
pub mod ids;
pub mod judging;
pub mod leaderboard;
pub mod milestone;
pub mod parts;
pub mod past;
pub mod posts;
pub mod progress;
pub mod protocol;
pub mod roster;
pub mod rubric;
pub mod state;
pub mod text;
pub mod view;

/// The version of the JSON of commands, events and views. Bumped on any change a client must know.
///
/// 2: the publication rule (`ranking.publication`), breakdowns off every non-admin board
/// (`criteria` left out), `reason` on `open_scoring` and `scoring_opened`.
pub const SCHEMA_VERSION: u32 = 2;

pub use challenge::{Challenge, Clock, Phase};
pub use command::{Actor, Command, Envelope};
pub use decide::{decide, decide_new, stamp, Decision, Outcome};
pub use delta::{delta, Delta, Patch, ViewStream};
pub use error::DomainError;
pub use event::{Event, EventBody};
pub use ids::{
    ChallengeId, CommandId, CriterionId, JudgeId, MilestoneId, TeamId, TokenHash, TrackId,
};
pub use leaderboard::Leaderboard;
pub use parts::{Part, Parts};
pub use past::Past;
pub use state::State;
pub use text::{Lang, Localized};
pub use view::{snapshot, timeline, Projector, Role, View};
