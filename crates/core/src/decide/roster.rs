//! The people of a challenge: teams, judges, and the tokens that let them in.

use std::collections::BTreeSet;

use super::checks::{checked_team, duplicate, subject_name};
use super::{one, Ctx, Decision, MAX_IMPORT_ROWS};
use crate::challenge::Phase;
use crate::command::{NewJudge, NewTeam};
use crate::error::{DomainError, ImportRowError, ImportSection};
use crate::event::{Event, EventBody};
use crate::ids::{JudgeId, TeamId, TokenHash, TrackId};
use crate::roster::{Assignment, Member, PanelRole, Subject};
use crate::text::Localized;

/// One row of an import.
enum Row<'a> {
    Team(&'a NewTeam),
    Judge(&'a NewJudge),
}

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

    /// Every row decided in turn against the state as the rows before it left it; nothing
    /// unless every row passes.
    pub(super) fn import_roster(
        &self,
        teams: &[NewTeam],
        judges: &[NewJudge],
    ) -> Result<Decision, DomainError> {
        self.phase_in(
            "import_roster",
            &[Phase::Setup, Phase::Running],
            "setup or running",
        )?;
        if teams.is_empty() && judges.is_empty() {
            return Err(DomainError::EmptyText { field: "import" });
        }
        if teams.len() + judges.len() > MAX_IMPORT_ROWS {
            return Err(DomainError::ImportTooLarge {
                max: MAX_IMPORT_ROWS,
            });
        }
        let mut scratch = self.state.clone();
        let mut bodies = Vec::new();
        let mut refused = Vec::new();
        let rows = teams
            .iter()
            .enumerate()
            .map(|(i, t)| (ImportSection::Teams, i, Row::Team(t)))
            .chain(
                judges
                    .iter()
                    .enumerate()
                    .map(|(i, j)| (ImportSection::Judges, i, Row::Judge(j))),
            );
        for (section, i, row) in rows {
            let ctx = Ctx {
                state: &scratch,
                actor: self.actor,
                now: self.now,
            };
            let decided = match row {
                Row::Team(t) => ctx.add_team(
                    &t.id,
                    &t.track,
                    &t.name,
                    &t.description,
                    &t.members,
                    &t.contact,
                ),
                Row::Judge(j) => ctx.add_judge(
                    &j.id,
                    &j.name,
                    j.panel_role,
                    &j.affiliation,
                    &j.assignment,
                    &j.conflicts,
                ),
            };
            match decided {
                Ok(Decision::Append(added)) => {
                    for body in added {
                        let event = Event::new(
                            scratch.seq() + 1,
                            self.now,
                            self.actor.clone(),
                            None,
                            body.clone(),
                        );
                        scratch
                            .apply(&event)
                            .expect("a decided event applies to the state it was decided on");
                        bodies.push(body);
                    }
                }
                Ok(_) => unreachable!("adding a team or a judge only appends"),
                Err(error) => refused.push(ImportRowError {
                    section,
                    row: i as u32 + 1,
                    code: error.code().to_owned(),
                    message: error.to_string(),
                    message_zh: error.message_zh(),
                }),
            }
        }
        if refused.is_empty() {
            Ok(Decision::Append(bodies))
        } else {
            Err(DomainError::ImportRefused { rows: refused })
        }
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
