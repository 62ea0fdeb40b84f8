//! The checks every concern shares: ids that must (not) exist, durations, weights, and the
//! validated forms of tracks, teams, judges, rubrics and milestones.

use std::collections::BTreeSet;

use super::Ctx;
use crate::challenge::MAX_DURATION_SECS;
use crate::error::DomainError;
use crate::ids::{JudgeId, TeamId, TrackId};
use crate::milestone::{MilestoneDef, MAX_MILESTONES};
use crate::roster::{
    Assignment, Judge, Member, PanelRole, Subject, Team, Track, MAX_CONTACT, MAX_MEMBERS,
    MAX_REGION,
};
use crate::rubric::{Rubric, MAX_CRITERIA, MAX_SCALE, MAX_WEIGHT};
use crate::text::{self, Localized, MAX_DESCRIPTION, MAX_NAME};

impl Ctx<'_> {
    pub(super) fn checked_judge(
        &self,
        id: &JudgeId,
        name: &Localized,
        panel_role: PanelRole,
        affiliation: &Localized,
        assignment: &Assignment,
        conflicts: &BTreeSet<TeamId>,
    ) -> Result<Judge, DomainError> {
        for track in &assignment.tracks {
            self.track(track)?;
        }
        for team in assignment.teams.iter().chain(conflicts) {
            self.team(team)?;
        }
        Ok(Judge {
            id: id.clone(),
            name: name.clone().checked("name", MAX_NAME)?,
            panel_role,
            affiliation: optional_localized("affiliation", affiliation, MAX_NAME)?,
            assignment: assignment.clone(),
            conflicts: conflicts.clone(),
        })
    }
}

pub(super) fn unknown(kind: &'static str, id: impl ToString) -> DomainError {
    DomainError::Unknown {
        kind,
        id: id.to_string(),
    }
}

pub(super) fn duplicate(kind: &'static str, id: impl ToString) -> DomainError {
    DomainError::DuplicateId {
        kind,
        id: id.to_string(),
    }
}

pub(super) fn subject_name(subject: &Subject) -> String {
    match subject {
        Subject::Team(id) => format!("team {id}"),
        Subject::Judge(id) => format!("judge {id}"),
    }
}

pub(super) fn duration(secs: u64) -> Result<u64, DomainError> {
    if (1..=MAX_DURATION_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(DomainError::InvalidDuration)
    }
}

pub(super) fn weight(what: &str, w: f64) -> Result<f64, DomainError> {
    if w.is_finite() && w > 0.0 && w <= MAX_WEIGHT {
        Ok(w)
    } else {
        Err(DomainError::InvalidWeight {
            what: what.to_owned(),
        })
    }
}

pub(super) fn optional_localized(
    field: &'static str,
    text: &Localized,
    max: usize,
) -> Result<Localized, DomainError> {
    Ok(Localized {
        zh: text::optional(field, &text.zh, max)?,
        en: text::optional(field, &text.en, max)?,
    })
}

pub(super) fn checked_track(
    id: &TrackId,
    name: &Localized,
    description: &Localized,
) -> Result<Track, DomainError> {
    Ok(Track {
        id: id.clone(),
        name: name.clone().checked("name", MAX_NAME)?,
        description: optional_localized("description", description, MAX_DESCRIPTION)?,
    })
}

pub(super) fn checked_team(
    id: &TeamId,
    track: &TrackId,
    name: &Localized,
    description: &Localized,
    members: &[Member],
    contact: &str,
) -> Result<Team, DomainError> {
    if members.len() > MAX_MEMBERS {
        return Err(DomainError::TooMany {
            field: "members",
            max: MAX_MEMBERS,
        });
    }
    let members = members
        .iter()
        .map(|m| {
            Ok(Member {
                name: text::required("member name", &m.name, MAX_NAME)?,
                discipline: m.discipline,
                region: text::optional("region", &m.region, MAX_REGION)?,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Team {
        id: id.clone(),
        track: track.clone(),
        name: name.clone().checked("name", MAX_NAME)?,
        description: optional_localized("description", description, MAX_DESCRIPTION)?,
        members,
        contact: text::optional("contact", contact, MAX_CONTACT)?,
    })
}

pub(super) fn checked_rubric(rubric: &Rubric) -> Result<Rubric, DomainError> {
    let scale = rubric.scale;
    if scale.min >= scale.max || scale.max > MAX_SCALE {
        return Err(DomainError::InvalidScale {
            min: scale.min,
            max: scale.max,
        });
    }
    if rubric.criteria.is_empty() {
        return Err(DomainError::EmptyText { field: "criteria" });
    }
    if rubric.criteria.len() > MAX_CRITERIA {
        return Err(DomainError::TooMany {
            field: "criteria",
            max: MAX_CRITERIA,
        });
    }
    let mut seen = BTreeSet::new();
    let mut criteria = Vec::with_capacity(rubric.criteria.len());
    for c in &rubric.criteria {
        if !seen.insert(&c.id) {
            return Err(duplicate("criterion", &c.id));
        }
        let mut c = c.clone();
        c.weight = weight(c.id.as_str(), c.weight)?;
        c.name = c.name.checked("criterion name", MAX_NAME)?;
        criteria.push(c);
    }
    Ok(Rubric { scale, criteria })
}

pub(super) fn checked_milestones(
    milestones: &[MilestoneDef],
) -> Result<Vec<MilestoneDef>, DomainError> {
    if milestones.len() > MAX_MILESTONES {
        return Err(DomainError::TooMany {
            field: "milestones",
            max: MAX_MILESTONES,
        });
    }
    let mut seen = BTreeSet::new();
    milestones
        .iter()
        .map(|m| {
            if !seen.insert(&m.id) {
                return Err(duplicate("milestone", &m.id));
            }
            if m.due_offset_secs.is_some_and(|d| d > MAX_DURATION_SECS) {
                return Err(DomainError::InvalidDuration);
            }
            Ok(MilestoneDef {
                id: m.id.clone(),
                name: m.name.clone().checked("milestone name", MAX_NAME)?,
                due_offset_secs: m.due_offset_secs,
            })
        })
        .collect()
}
