//! The people of a challenge: teams, judges, and the tokens that let them in.

use std::collections::BTreeSet;

use super::checks::{checked_team, duplicate, subject_name};
use super::{one, Ctx, Decision};
use crate::challenge::Phase;
use crate::error::DomainError;
use crate::event::EventBody;
use crate::ids::{JudgeId, TeamId, TokenHash, TrackId};
use crate::roster::{Assignment, Member, PanelRole, Subject};
use crate::text::Localized;

impl Ctx<'_> {
    pub(super) fn add_team(
        &self,
        id: &TeamId,
        track: &TrackId,
        name: &Localized,
        description: &Localized,
        members: &[Member],
        contact: &str,
    ) -> Result<Decision, DomainError> {
        self.phase_in(
            "add_team",
            &[Phase::Setup, Phase::Running],
            "setup or running",
        )?;
        if self.state.team(id).is_some() {
            return Err(duplicate("team", id));
        }
        self.track(track)?;
        let team = checked_team(id, track, name, description, members, contact)?;
        one(EventBody::TeamAdded { team })
    }

    pub(super) fn update_team(
        &self,
        id: &TeamId,
        track: &TrackId,
        name: &Localized,
        description: &Localized,
        members: &[Member],
        contact: &str,
    ) -> Result<Decision, DomainError> {
        let existing = self.team(id)?;
        self.track(track)?;
        if &existing.track != track {
            self.phase_in("moving a team to another track", &[Phase::Setup], "setup")?;
        }
        let team = checked_team(id, track, name, description, members, contact)?;
        one(EventBody::TeamUpdated { team })
    }

    pub(super) fn remove_team(&self, id: &TeamId) -> Result<Decision, DomainError> {
        self.phase_in("remove_team", &[Phase::Setup], "setup")?;
        self.team(id)?;
        one(EventBody::TeamRemoved { id: id.clone() })
    }

    pub(super) fn add_judge(
        &self,
        id: &JudgeId,
        name: &Localized,
        panel_role: PanelRole,
        affiliation: &Localized,
        assignment: &Assignment,
        conflicts: &BTreeSet<TeamId>,
    ) -> Result<Decision, DomainError> {
        self.phase_in(
            "add_judge",
            &[Phase::Setup, Phase::Running, Phase::Judging],
            "setup, running or judging",
        )?;
        if self.state.judge(id).is_some() {
            return Err(duplicate("judge", id));
        }
        let judge = self.checked_judge(id, name, panel_role, affiliation, assignment, conflicts)?;
        one(EventBody::JudgeAdded { judge })
    }

    pub(super) fn update_judge(
        &self,
        id: &JudgeId,
        name: &Localized,
        panel_role: PanelRole,
        affiliation: &Localized,
        assignment: &Assignment,
        conflicts: &BTreeSet<TeamId>,
    ) -> Result<Decision, DomainError> {
        self.before_reveal("update_judge")?;
        self.judge(id)?;
        let judge = self.checked_judge(id, name, panel_role, affiliation, assignment, conflicts)?;
        one(EventBody::JudgeUpdated { judge })
    }

    pub(super) fn remove_judge(&self, id: &JudgeId) -> Result<Decision, DomainError> {
        self.phase_in("remove_judge", &[Phase::Setup], "setup")?;
        self.judge(id)?;
        one(EventBody::JudgeRemoved { id: id.clone() })
    }

    pub(super) fn issue_token(
        &self,
        subject: &Subject,
        token_hash: &TokenHash,
    ) -> Result<Decision, DomainError> {
        self.subject(subject)?;
        if self.state.tokens().contains_key(token_hash) {
            return Err(DomainError::DuplicateId {
                kind: "token",
                id: token_hash.as_str()[..8].to_owned(),
            });
        }
        one(EventBody::TokenIssued {
            subject: subject.clone(),
            token_hash: token_hash.clone(),
        })
    }

    pub(super) fn revoke_tokens(&self, subject: &Subject) -> Result<Decision, DomainError> {
        self.subject(subject)?;
        let live = self
            .state
            .tokens()
            .values()
            .any(|t| &t.subject == subject && t.revoked_at.is_none());
        if !live {
            return Err(DomainError::NoLiveToken {
                subject: subject_name(subject),
            });
        }
        one(EventBody::TokensRevoked {
            subject: subject.clone(),
        })
    }
}
