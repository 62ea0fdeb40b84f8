//! Setting a challenge up: its details, tracks, rubric, milestones and ranking method.

use chrono::{DateTime, Utc};

use super::checks::{
    checked_milestones, checked_rubric, checked_track, duplicate, duration, optional_localized,
    weight,
};
use super::{one, Ctx, Decision};
use crate::challenge::{Challenge, Phase};
use crate::error::DomainError;
use crate::event::EventBody;
use crate::ids::{ChallengeId, TrackId};
use crate::milestone::MilestoneDef;
use crate::rubric::{RankingSettings, Rubric};
use crate::text::{Localized, MAX_DESCRIPTION, MAX_NAME};

impl Ctx<'_> {
    /// The challenge comes with the default milestones and rubric.
    pub(super) fn create_challenge(
        &self,
        id: &ChallengeId,
        title: &Localized,
        description: &Localized,
        planned_start: Option<DateTime<Utc>>,
        duration_secs: Option<u64>,
    ) -> Result<Decision, DomainError> {
        let duration_secs =
            duration(duration_secs.unwrap_or(crate::challenge::DEFAULT_DURATION_SECS))?;
        Ok(Decision::Append(vec![
            EventBody::ChallengeCreated {
                id: id.clone(),
                title: title.clone().checked("title", MAX_NAME)?,
                description: optional_localized("description", description, MAX_DESCRIPTION)?,
                planned_start,
                duration_secs,
            },
            EventBody::MilestonesSet {
                milestones: crate::milestone::default_milestones(),
            },
            EventBody::RubricSet {
                rubric: Rubric::default_rubric(),
            },
        ]))
    }

    pub(super) fn update_challenge(
        &self,
        challenge: &Challenge,
        title: &Localized,
        description: &Localized,
        planned_start: Option<DateTime<Utc>>,
        duration_secs: u64,
    ) -> Result<Decision, DomainError> {
        let duration_secs = duration(duration_secs)?;
        if duration_secs != challenge.clock.duration_secs {
            self.phase_in(
                "changing the duration",
                &[Phase::Setup, Phase::Running],
                "setup or running",
            )?;
        }
        one(EventBody::ChallengeUpdated {
            title: title.clone().checked("title", MAX_NAME)?,
            description: optional_localized("description", description, MAX_DESCRIPTION)?,
            planned_start,
            duration_secs,
        })
    }

    pub(super) fn add_track(
        &self,
        id: &TrackId,
        name: &Localized,
        description: &Localized,
    ) -> Result<Decision, DomainError> {
        self.phase_in("add_track", &[Phase::Setup], "setup")?;
        if self.track(id).is_ok() {
            return Err(duplicate("track", id));
        }
        one(EventBody::TrackAdded {
            track: checked_track(id, name, description)?,
        })
    }

    pub(super) fn update_track(
        &self,
        id: &TrackId,
        name: &Localized,
        description: &Localized,
    ) -> Result<Decision, DomainError> {
        self.track(id)?;
        one(EventBody::TrackUpdated {
            track: checked_track(id, name, description)?,
        })
    }

    pub(super) fn remove_track(&self, id: &TrackId) -> Result<Decision, DomainError> {
        self.phase_in("remove_track", &[Phase::Setup], "setup")?;
        self.track(id)?;
        if self.state.teams().values().any(|t| &t.track == id) {
            return Err(DomainError::TrackNotEmpty {
                track: id.to_string(),
            });
        }
        one(EventBody::TrackRemoved { id: id.clone() })
    }

    pub(super) fn set_rubric(&self, rubric: &Rubric) -> Result<Decision, DomainError> {
        self.phase_in("set_rubric", &[Phase::Setup], "setup")?;
        one(EventBody::RubricSet {
            rubric: checked_rubric(rubric)?,
        })
    }

    pub(super) fn set_milestones(
        &self,
        milestones: &[MilestoneDef],
    ) -> Result<Decision, DomainError> {
        self.phase_in("set_milestones", &[Phase::Setup], "setup")?;
        one(EventBody::MilestonesSet {
            milestones: checked_milestones(milestones)?,
        })
    }

    pub(super) fn set_ranking(
        &self,
        challenge: &Challenge,
        settings: &RankingSettings,
    ) -> Result<Decision, DomainError> {
        if matches!(challenge.phase, Phase::Frozen | Phase::Revealed) {
            return Err(DomainError::RankingLocked);
        }
        for (role, &w) in &settings.role_weights {
            let name = serde_json::to_value(role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            weight(&name, w)?;
        }
        one(EventBody::RankingSet {
            settings: settings.clone(),
        })
    }
}
