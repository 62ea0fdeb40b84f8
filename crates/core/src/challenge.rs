//! The challenge itself: its titles, its phase and the 72-hour clock with its pauses.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ChallengeId;
use crate::text::Localized;

/// The default length of a challenge: 72 hours, in seconds.
pub const DEFAULT_DURATION_SECS: u64 = 72 * 3600;
/// The longest challenge the core accepts: 30 days, in seconds.
pub const MAX_DURATION_SECS: u64 = 30 * 24 * 3600;

/// Where a challenge stands. Phases only move forward, in this order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 筹备: organizers set up tracks, rubric, milestones, teams and judges.
    Setup,
    /// 进行中: the clock runs; teams build and post.
    Running,
    /// 评审: building has ended; judges finish their scorecards.
    Judging,
    /// 封榜: the public leaderboard stops; scores keep arriving, hidden.
    Frozen,
    /// 揭晓: the result is final and public.
    Revealed,
}

impl Phase {
    /// The phase's name in both languages.
    pub fn label(self) -> Localized {
        let (zh, en) = match self {
            Phase::Setup => ("筹备中", "Setting up"),
            Phase::Running => ("进行中", "Running"),
            Phase::Judging => ("评审中", "Judging"),
            Phase::Frozen => ("封榜", "Frozen"),
            Phase::Revealed => ("已揭晓", "Revealed"),
        };
        Localized::new(zh, en)
    }
}

/// One interval during which the clock stood still.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When the pause began.
    pub from: DateTime<Utc>,
    /// When it ended; `None` while the clock is still paused.
    pub until: Option<DateTime<Utc>>,
    /// Why, as told to the audience.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The challenge clock. Only times are stored; how much is left is computed from a `now` the
/// caller passes, so a view never goes stale and the core never reads the system clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Building time the challenge allows, not counting pauses.
    pub duration_secs: u64,
    /// When the organizers started the clock.
    pub started_at: Option<DateTime<Utc>>,
    /// Every pause, in order; only the last may be open.
    pub pauses: Vec<Pause>,
    /// When building ended (the move to judging).
    pub ended_at: Option<DateTime<Utc>>,
}

impl Clock {
    /// A clock that has not started.
    pub fn new(duration_secs: u64) -> Self {
        Self {
            duration_secs,
            started_at: None,
            pauses: Vec::new(),
            ended_at: None,
        }
    }

    /// Whether the clock is paused now.
    pub fn is_paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.until.is_none())
    }

    /// Building time used at `now`: wall time since the start, less pauses, stopping at the end.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Duration {
        let Some(start) = self.started_at else {
            return Duration::zero();
        };
        let stop = self.ended_at.map_or(now, |end| end.min(now));
        if stop <= start {
            return Duration::zero();
        }
        let paused: Duration = self
            .pauses
            .iter()
            .map(|p| {
                let from = p.from.max(start);
                let until = p.until.unwrap_or(stop).min(stop);
                (until - from).max(Duration::zero())
            })
            .sum();
        (stop - start - paused).max(Duration::zero())
    }

    /// Building time left at `now`, never negative.
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        let total = Duration::seconds(i64::try_from(self.duration_secs).unwrap_or(i64::MAX));
        (total - self.elapsed(now)).max(Duration::zero())
    }

    /// Whether the full duration has been used at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.started_at.is_some() && self.remaining(now).is_zero()
    }
}

/// The challenge (挑战赛): one 72-hour event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Challenge {
    /// Its id, also the key of its log.
    pub id: ChallengeId,
    /// Its title.
    pub title: Localized,
    /// A short description for the audience.
    pub description: Localized,
    /// When the organizers plan to start; shown before the start.
    pub planned_start: Option<DateTime<Utc>>,
    /// Where it stands.
    pub phase: Phase,
    /// The building clock.
    pub clock: Clock,
    /// Whether judges may submit and revise scorecards now.
    pub scoring_open: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn pauses_stop_the_clock() {
        let mut clock = Clock::new(DEFAULT_DURATION_SECS);
        assert_eq!(clock.elapsed(t(5)), Duration::zero());
        clock.started_at = Some(t(0));
        clock.pauses.push(Pause {
            from: t(10),
            until: Some(t(12)),
            reason: String::new(),
        });
        clock.pauses.push(Pause {
            from: t(20),
            until: None,
            reason: String::new(),
        });
        assert!(clock.is_paused());
        assert_eq!(clock.elapsed(t(11)), Duration::hours(10));
        assert_eq!(clock.elapsed(t(30)), Duration::hours(18));
        assert_eq!(clock.remaining(t(30)), Duration::hours(54));
        clock.pauses[1].until = Some(t(21));
        assert_eq!(clock.elapsed(t(30)), Duration::hours(27));
        assert!(!clock.expired(t(74)));
        assert!(clock.expired(t(75)));
        clock.ended_at = Some(t(40));
        assert_eq!(clock.elapsed(t(50)), Duration::hours(37));
    }
}
