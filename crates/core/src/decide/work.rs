//! What happens during the challenge: teams' posts and milestones, hidden posts, judges'
//! scorecards and conflicts of interest, and the audience's cheers and their tallies.

use std::collections::BTreeMap;

use super::checks::unknown;
use super::{one, Ctx, Decision, MAX_TALLY};
use crate::challenge::{Challenge, Phase};
use crate::error::{DomainError, REVISING_A_SCORECARD};
use crate::event::EventBody;
use crate::ids::{is_sha256_hex, CriterionId, MilestoneId, TeamId};
use crate::progress::{PhotoRef, MAX_LINKS, MAX_PHOTOS};
use crate::text::{self, MAX_COMMENT, MAX_POST, MAX_REASON};

impl Ctx<'_> {
    pub(super) fn hide_post(&self, post: u64, reason: &str) -> Result<Decision, DomainError> {
        let found = self.state.post(post).ok_or_else(|| unknown("post", post))?;
        if found.hidden().is_some() {
            return Err(DomainError::AlreadyHidden { post });
        }
        one(EventBody::PostHidden {
            post,
            reason: text::optional("reason", reason, MAX_REASON)?,
        })
    }

    pub(super) fn post_progress(
        &self,
        body: &str,
        photos: &[PhotoRef],
        links: &[String],
        percent: Option<u8>,
    ) -> Result<Decision, DomainError> {
        let team = self.acting_team()?;
        self.phase_in(
            "post_progress",
            &[Phase::Running, Phase::Judging],
            "running or judging",
        )?;
        let body = text::optional("text", body, MAX_POST)?;
        if photos.len() > MAX_PHOTOS {
            return Err(DomainError::TooMany {
                field: "photos",
                max: MAX_PHOTOS,
            });
        }
        if links.len() > MAX_LINKS {
            return Err(DomainError::TooMany {
                field: "links",
                max: MAX_LINKS,
            });
        }
        if photos.iter().any(|p| !is_sha256_hex(&p.sha256)) {
            return Err(DomainError::InvalidPhoto);
        }
        let links = links
            .iter()
            .map(|l| text::link(l))
            .collect::<Result<Vec<_>, _>>()?;
        if body.is_empty() && photos.is_empty() && links.is_empty() {
            return Err(DomainError::EmptyText { field: "text" });
        }
        if percent.is_some_and(|p| p > 100) {
            return Err(DomainError::InvalidPercent);
        }
        one(EventBody::ProgressPosted {
            team: team.id.clone(),
            text: body,
            photos: photos.to_vec(),
            links,
            percent,
        })
    }

    pub(super) fn reach_milestone(
        &self,
        challenge: &Challenge,
        milestone: &MilestoneId,
        note: &str,
    ) -> Result<Decision, DomainError> {
        let team = self.acting_team()?;
        self.phase_in("reach_milestone", &[Phase::Running], "running")?;
        let index = self
            .state
            .milestones()
            .iter()
            .position(|m| &m.id == milestone)
            .ok_or_else(|| unknown("milestone", milestone))?;
        let reached = self.state.progress(&team.id).map_or(0, |p| p.reached.len());
        if index < reached {
            return Err(DomainError::MilestoneAlreadyReached {
                milestone: milestone.to_string(),
            });
        }
        if index > reached {
            return Err(DomainError::MilestoneOutOfOrder {
                next: self.state.milestones()[reached].id.to_string(),
            });
        }
        let elapsed = challenge.clock.elapsed(self.now).num_seconds().max(0) as u64;
        one(EventBody::MilestoneReached {
            team: team.id.clone(),
            milestone: milestone.clone(),
            note: text::optional("note", note, MAX_REASON)?,
            elapsed_secs: elapsed,
        })
    }

    /// Milestones are reached in order, so taking one back takes back the later ones too; the
    /// team then ticks them again in order (while building).
    pub(super) fn undo_milestone(
        &self,
        team: &TeamId,
        milestone: &MilestoneId,
        reason: &str,
    ) -> Result<Decision, DomainError> {
        let team = self.team(team)?;
        if !self.state.milestones().iter().any(|m| &m.id == milestone) {
            return Err(unknown("milestone", milestone));
        }
        // Milestones count for no score, so a mistaken tick may be taken back whenever it is
        // found, the result final or not.
        self.phase_in(
            "undo_milestone",
            &[
                Phase::Running,
                Phase::Judging,
                Phase::Frozen,
                Phase::Revealed,
            ],
            "after the start",
        )?;
        let reached = self
            .state
            .progress(&team.id)
            .is_some_and(|p| p.reached.iter().any(|r| &r.milestone == milestone));
        if !reached {
            return Err(DomainError::MilestoneNotReached {
                team: team.id.to_string(),
                milestone: milestone.to_string(),
            });
        }
        one(EventBody::MilestoneUndone {
            team: team.id.clone(),
            milestone: milestone.clone(),
            reason: text::required("reason", reason, MAX_REASON)?,
        })
    }

    pub(super) fn submit_scorecard(
        &self,
        challenge: &Challenge,
        team: &TeamId,
        scores: &BTreeMap<CriterionId, u32>,
        comment: &str,
        reason: &str,
    ) -> Result<Decision, DomainError> {
        let judge = self.acting_judge()?;
        let team = self.team(team)?;
        // Rights before timing: a judge who may never score this team is told so, not
        // that scoring happens to be closed.
        if judge.conflicts.contains(&team.id) {
            return Err(DomainError::Conflicted {
                team: team.id.to_string(),
            });
        }
        if !judge.assignment.covers(&team.id, &team.track) {
            return Err(DomainError::NotAssigned {
                team: team.id.to_string(),
            });
        }
        if !challenge.scoring_open {
            return Err(DomainError::ScoringClosed);
        }
        let rubric = self.state.rubric().ok_or(DomainError::NoChallenge)?;
        if scores.is_empty() {
            return Err(DomainError::EmptyScorecard);
        }
        for (criterion, &score) in scores {
            if !rubric.criteria.iter().any(|c| &c.id == criterion) {
                return Err(unknown("criterion", criterion));
            }
            if !rubric.scale.contains(score) {
                return Err(DomainError::ScoreOutOfScale {
                    criterion: criterion.to_string(),
                    score,
                    min: rubric.scale.min,
                    max: rubric.scale.max,
                });
            }
        }
        let revision = self
            .state
            .scorecard(&judge.id, &team.id)
            .map_or(1, |c| c.current.revision + 1);
        let reason = text::optional("reason", reason, MAX_REASON)?;
        if revision > 1 && reason.is_empty() {
            return Err(DomainError::ReasonRequired {
                action: REVISING_A_SCORECARD,
            });
        }
        one(EventBody::ScorecardSubmitted {
            judge: judge.id.clone(),
            team: team.id.clone(),
            revision,
            scores: scores.clone(),
            comment: text::optional("comment", comment, MAX_COMMENT)?,
            reason,
        })
    }

    pub(super) fn declare_conflict(
        &self,
        team: &TeamId,
        reason: &str,
    ) -> Result<Decision, DomainError> {
        let judge = self.acting_judge()?;
        let team = self.team(team)?;
        self.before_reveal("declare_conflict")?;
        if judge.conflicts.contains(&team.id) {
            return Err(DomainError::DuplicateId {
                kind: "conflict of interest with team",
                id: team.id.to_string(),
            });
        }
        one(EventBody::ConflictDeclared {
            judge: judge.id.clone(),
            team: team.id.clone(),
            reason: text::optional("reason", reason, MAX_REASON)?,
        })
    }

    pub(super) fn cheer(&self, team: &TeamId) -> Result<Decision, DomainError> {
        let team = self.team(team)?;
        self.phase_in(
            "cheer",
            &[Phase::Running, Phase::Judging, Phase::Frozen],
            "running, judging or frozen",
        )?;
        Ok(Decision::Cheer(team.id.clone()))
    }

    pub(super) fn tally_cheers(
        &self,
        counts: &BTreeMap<TeamId, u64>,
    ) -> Result<Decision, DomainError> {
        self.phase_in(
            "tally_cheers",
            &[
                Phase::Running,
                Phase::Judging,
                Phase::Frozen,
                Phase::Revealed,
            ],
            "any phase after the start",
        )?;
        if counts.is_empty() || counts.values().any(|&n| n == 0 || n > MAX_TALLY) {
            return Err(DomainError::Malformed {
                detail: format!("a tally needs at least one count, each from 1 to {MAX_TALLY}"),
            });
        }
        for team in counts.keys() {
            self.team(team)?;
        }
        one(EventBody::CheersTallied {
            counts: counts.clone(),
        })
    }
}
