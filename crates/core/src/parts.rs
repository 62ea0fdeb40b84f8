//! The parts of a view a connection follows. A console shows a few parts of its view (the team's
//! console never the leaderboard, the judge's neither the board nor the ticker), yet every
//! scorecard moves the board: a connection that names the parts it shows gets no message for an
//! event that changes none of them, so one scorecard is one message to the watchers of the board
//! and to the judge who sent it, not one to every console of the challenge.
//!
//! Only the parts that change often and that a console may do without can be left out; the rest
//! (the challenge, tracks, milestones, rubric, ranking, teams, judges, the reveal, the role's
//! scorecards and tokens) always comes. A part left out is empty in the snapshot and never
//! patched; naming none of the parts (an old client, a partner feed) follows them all.

use serde::{Deserialize, Serialize};

use crate::delta::Patch;

/// A part of a view that a connection may leave out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The jury's leaderboard (`leaderboard`).
    Leaderboard,
    /// The people's choice from cheers (`peoples_choice`).
    PeoplesChoice,
    /// The newest posts (`ticker`).
    Ticker,
}

impl Part {
    /// Every part, in order.
    pub const ALL: [Part; 3] = [Part::Leaderboard, Part::PeoplesChoice, Part::Ticker];

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The parts a connection follows: a set of [`Part`]s, written as the list of their names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<Part>", into = "Vec<Part>")]
pub struct Parts(u8);

impl Parts {
    /// Every part: what a connection that names none follows.
    pub const ALL: Parts = Parts(0b111);
    /// None of the parts that may be left out.
    pub const NONE: Parts = Parts(0);

    /// Whether `part` is followed.
    pub fn wants(self, part: Part) -> bool {
        self.0 & part.bit() != 0
    }

    /// Whether every part is followed.
    pub fn is_all(&self) -> bool {
        *self == Parts::ALL
    }

    /// Whether `patch` changes a followed part (or a part that always comes).
    pub fn wants_patch(self, patch: &Patch) -> bool {
        patch.part().is_none_or(|part| self.wants(part))
    }
}

impl Default for Parts {
    fn default() -> Self {
        Parts::ALL
    }
}

impl FromIterator<Part> for Parts {
    fn from_iter<I: IntoIterator<Item = Part>>(parts: I) -> Self {
        Parts(parts.into_iter().fold(0, |bits, part| bits | part.bit()))
    }
}

impl From<Vec<Part>> for Parts {
    fn from(parts: Vec<Part>) -> Self {
        parts.into_iter().collect()
    }
}

impl From<Parts> for Vec<Part> {
    fn from(parts: Parts) -> Self {
        Part::ALL.into_iter().filter(|p| parts.wants(*p)).collect()
    }
}

impl Patch {
    /// The part of the view this patch changes, when it is one a connection may leave out.
    pub fn part(&self) -> Option<Part> {
        match self {
            Patch::Leaderboard { .. } | Patch::BoardRows { .. } => Some(Part::Leaderboard),
            Patch::PeoplesChoice { .. } => Some(Part::PeoplesChoice),
            Patch::Post { .. }
            | Patch::TickerHidden { .. }
            | Patch::TickerRemoved { .. }
            | Patch::Announced { .. }
            | Patch::Withdrawn { .. } => Some(Part::Ticker),
            Patch::Challenge { .. }
            | Patch::Tracks { .. }
            | Patch::Milestones { .. }
            | Patch::Rubric { .. }
            | Patch::Ranking { .. }
            | Patch::Team { .. }
            | Patch::Progress { .. }
            | Patch::TeamRemoved { .. }
            | Patch::Judges { .. }
            | Patch::Judge { .. }
            | Patch::JudgeRemoved { .. }
            | Patch::Revealed { .. }
            | Patch::Scorecard { .. }
            | Patch::Scorecards { .. }
            | Patch::Tokens { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_written_as_a_list_of_names() {
        let parts: Parts = serde_json::from_str(r#"["ticker","leaderboard"]"#).unwrap();
        assert!(parts.wants(Part::Ticker) && parts.wants(Part::Leaderboard));
        assert!(!parts.wants(Part::PeoplesChoice));
        assert_eq!(
            serde_json::to_string(&parts).unwrap(),
            r#"["leaderboard","ticker"]"#
        );
        let none: Parts = serde_json::from_str("[]").unwrap();
        assert_eq!(none, Parts::NONE);
        assert!(serde_json::from_str::<Parts>(r#"["board"]"#).is_err());
    }
}
