//! The challenge's time line: starting, pausing and resuming the clock, the end of building,
//! scoring opened and closed, the freeze, and the reveal step by step.

use super::{one, Ctx, Decision};
use crate::challenge::{Challenge, Phase};
use crate::command::Actor;
use crate::error::{DomainError, REOPENING_SCORING};
use crate::event::EventBody;
use crate::leaderboard::Leaderboard;
use crate::text::{self, MAX_REASON};

impl Ctx<'_> {
    pub(super) fn start_challenge(&self) -> Result<Decision, DomainError> {
        self.phase_in("start_challenge", &[Phase::Setup], "setup")?;
        if self.state.tracks().is_empty() || self.state.teams().is_empty() {
            return Err(DomainError::NotReady {
                missing: "add at least one track and one team",
            });
        }
        one(EventBody::ChallengeStarted)
    }

    pub(super) fn pause_clock(
        &self,
        challenge: &Challenge,
        reason: &str,
    ) -> Result<Decision, DomainError> {
        self.phase_in("pause_clock", &[Phase::Running], "running")?;
        if challenge.clock.is_paused() {
            return Err(DomainError::AlreadyPaused);
        }
        one(EventBody::ClockPaused {
            reason: text::optional("reason", reason, MAX_REASON)?,
        })
    }

    pub(super) fn resume_clock(&self, challenge: &Challenge) -> Result<Decision, DomainError> {
        self.phase_in("resume_clock", &[Phase::Running], "running")?;
        if !challenge.clock.is_paused() {
            return Err(DomainError::NotPaused);
        }
        one(EventBody::ClockResumed)
    }

    pub(super) fn end_building(&self, challenge: &Challenge) -> Result<Decision, DomainError> {
        self.phase_in("end_building", &[Phase::Running], "running")?;
        if *self.actor == Actor::System && !challenge.clock.expired(self.now) {
            return Err(DomainError::ClockNotExpired);
        }
        one(EventBody::BuildingEnded)
    }

    pub(super) fn open_scoring(
        &self,
        challenge: &Challenge,
        reason: &str,
    ) -> Result<Decision, DomainError> {
        self.phase_in(
            "open_scoring",
            &[Phase::Running, Phase::Judging, Phase::Frozen],
            "running, judging or frozen",
        )?;
        // Once the first team is revealed the ranking is out: judges must not change it.
        self.before_reveal("open_scoring")?;
        if challenge.scoring_open {
            return Err(DomainError::ScoringAlready { state: "open" });
        }
        let reason = text::optional("reason", reason, MAX_REASON)?;
        if challenge.phase == Phase::Frozen && reason.is_empty() {
            return Err(DomainError::ReasonRequired {
                action: REOPENING_SCORING,
            });
        }
        one(EventBody::ScoringOpened { reason })
    }

    pub(super) fn close_scoring(&self, challenge: &Challenge) -> Result<Decision, DomainError> {
        if !challenge.scoring_open {
            return Err(DomainError::ScoringAlready { state: "closed" });
        }
        one(EventBody::ScoringClosed)
    }

    pub(super) fn freeze(&self) -> Result<Decision, DomainError> {
        self.phase_in("freeze", &[Phase::Judging], "judging")?;
        let board = Leaderboard::compute(self.state).published(self.state);
        one(EventBody::Frozen { board: Some(board) })
    }

    /// The next step of the reveal: per track in track order, the final board from the last
    /// place up (teams without a score first), one team a step; the last step also makes the
    /// result final. A log whose last step lost its `result_final` (a crash between the two
    /// lines) is completed by the next call rather than stuck.
    pub(super) fn reveal_next(&self, challenge: &Challenge) -> Result<Decision, DomainError> {
        self.phase_in("reveal_next", &[Phase::Frozen], "frozen")?;
        if challenge.scoring_open {
            return Err(DomainError::RevealNeedsClosedScoring);
        }
        let board = Leaderboard::compute(self.state);
        let order: Vec<_> = board
            .tracks
            .iter()
            .flat_map(|t| t.rows.iter().rev())
            .collect();
        let done = self.state.revealed().len();
        let Some(row) = order.get(done) else {
            return one(EventBody::ResultFinal);
        };
        let mut events = vec![EventBody::TeamRevealed {
            track: row.track.clone(),
            team: row.team.clone(),
            rank: row.rank,
            score: row.score,
        }];
        if done + 1 == order.len() {
            events.push(EventBody::ResultFinal);
        }
        Ok(Decision::Append(events))
    }
}
