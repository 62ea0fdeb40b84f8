//! Deltas: what one event changes in one role's view. A delta names the seq of the view's
//! previous message too, so a client tells an event skipped for its view from a message it lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::challenge::Challenge;
use crate::event::{Event, EventBody};
use crate::ids::{JudgeId, TeamId};
use crate::leaderboard::Row;
use crate::milestone::{Announcement, MilestoneDef, Withdrawal};
use crate::parts::{Part, Parts};
use crate::posts::Known;
use crate::progress::Post;
use crate::roster::Track;
use crate::rubric::{RankingSettings, Rubric, Scorecard};
use crate::state::{RevealEntry, State, TeamProgress};
use crate::view::{
    BoardView, CheerRow, JudgeView, Projector, Role, TeamView, TokenView, TICKER_LEN,
};
use crate::SCHEMA_VERSION;

/// One change to a view. Each replaces or inserts a well-defined part, so applying it twice does
/// no harm.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Patch {
    /// The challenge: titles, phase, clock, scoring open or not.
    Challenge {
        /// The new value.
        challenge: Challenge,
    },
    /// All tracks.
    Tracks {
        /// The new value.
        tracks: Vec<Track>,
    },
    /// All milestones.
    Milestones {
        /// The new value.
        milestones: Vec<MilestoneDef>,
    },
    /// The rubric.
    Rubric {
        /// The new value.
        rubric: Rubric,
    },
    /// The ranking method.
    Ranking {
        /// The new value.
        ranking: RankingSettings,
    },
    /// One team, added or changed.
    Team {
        /// The new value.
        team: TeamView,
    },
    /// One team's progress (milestones reached, percent done, posts), after a post, a milestone
    /// or a hidden post: the rest of the team does not change, so it is not sent.
    Progress {
        /// The team.
        team: TeamId,
        /// The new value.
        progress: TeamProgress,
    },
    /// One team removed.
    TeamRemoved {
        /// Its id.
        id: TeamId,
    },
    /// All judges.
    Judges {
        /// The new value.
        judges: Vec<JudgeView>,
    },
    /// One judge, added or changed.
    Judge {
        /// The new value.
        judge: JudgeView,
    },
    /// One judge removed.
    JudgeRemoved {
        /// Their id.
        id: JudgeId,
    },
    /// A new post: goes to the front of the ticker, which keeps its length.
    Post {
        /// The post.
        post: Post,
    },
    /// A post of the ticker hidden by the organizers, as the organizers see it: the post stays,
    /// marked hidden with the reason. Nothing when the post is no longer in the ticker.
    TickerHidden {
        /// The post's id.
        id: u64,
        /// Why it was hidden.
        reason: String,
    },
    /// A post hidden by the organizers, as everyone else sees it: it leaves the ticker, and the
    /// next older visible post takes the last place.
    TickerRemoved {
        /// The post's id.
        id: u64,
        /// The post that now ends the ticker, when there is one; added only if the post `id` was
        /// in the ticker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last: Option<Post>,
    },
    /// A milestone reached: its announcement goes to the front of the announcements, which keep
    /// their length.
    Announced {
        /// The announcement.
        announcement: Announcement,
    },
    /// Milestones taken back by the organizers: the announcements named stay, marked withdrawn.
    /// Sent only when one of them is still among the announcements.
    Withdrawn {
        /// The seqs of the announcements withdrawn.
        seqs: Vec<u64>,
        /// The undo, with its reason where the view may read it.
        withdrawal: Withdrawal,
    },
    /// The leaderboard, whole: when the view had none yet, or its shape changed (teams or
    /// tracks added or removed, the freeze, the final result).
    Leaderboard {
        /// The new value.
        leaderboard: BoardView,
    },
    /// The rows of the leaderboard that changed (score, rank, judges counted), each replacing its
    /// team's row; the lists then keep their order ([`crate::leaderboard::board_order`]). A
    /// scorecard changes one team's row and the ranks it passes, so the patch does not grow with
    /// the challenge the way the whole board does.
    BoardRows {
        /// Changed rows of the overall board.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        overall: Vec<Row>,
        /// Changed rows of the track boards, each in its row's track.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tracks: Vec<Row>,
        /// Rows of the overall board whose rank alone changed, by team: the new rank. A team
        /// that climbs past many others moves each of them down a place; this keeps that cheap.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        ranks: BTreeMap<TeamId, u32>,
        /// Rows of the track boards whose rank alone changed, by team: the new rank.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        track_ranks: BTreeMap<TeamId, u32>,
        /// Changed counts of scorecards received since the freeze.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pending: BTreeMap<TeamId, u32>,
    },
    /// The people's choice.
    PeoplesChoice {
        /// The new value.
        rows: Vec<CheerRow>,
    },
    /// One more step of the reveal.
    Revealed {
        /// The step.
        entry: RevealEntry,
    },
    /// One scorecard, added or revised.
    Scorecard {
        /// The new value.
        scorecard: Scorecard,
    },
    /// Every visible scorecard.
    Scorecards {
        /// The new value.
        scorecards: Vec<Scorecard>,
    },
    /// Minted tokens.
    Tokens {
        /// The new value.
        tokens: Vec<TokenView>,
    },
}

/// What one event changed in one view.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Schema version.
    pub schema: u32,
    /// The event's seq.
    pub seq: u64,
    /// The seq of this view's previous message (or of the snapshot it started from). A client
    /// whose last seq is below this has missed a message and asks for a snapshot.
    pub prev_seq: u64,
    /// The changes, in order.
    pub patches: Vec<Patch>,
}

/// The delta `event` makes in the view of `role`, given the state after the event. `None` when
/// the event changes nothing the role may see. `prev_seq` is left 0: [`ViewStream`] fills it.
pub fn delta(after: &State, event: &Event, role: &Role) -> Option<Delta> {
    Projector::new(after).delta(event, role)
}

impl Projector<'_> {
    /// The delta `event` makes in the view of `role`; the projector's state is the state after
    /// the event. A board that changed comes whole.
    pub fn delta(&self, event: &Event, role: &Role) -> Option<Delta> {
        self.delta_since(event, role, Parts::ALL, None).0
    }

    /// The delta `event` makes in the `parts` of the view of `role` whose client holds the board
    /// `held`: the board, when it changed, comes as the rows that changed. Also returns the board
    /// the client holds after the delta, when the event concerned the board. `None` for the
    /// delta when the event changes none of the parts followed: a part left out is not even
    /// computed.
    pub fn delta_since(
        &self,
        event: &Event,
        role: &Role,
        parts: Parts,
        held: Option<&Arc<BoardView>>,
    ) -> (Option<Delta>, Option<Arc<BoardView>>) {
        let s = self.state;
        let mut patches = Vec::new();
        let challenge = || Patch::Challenge {
            challenge: s.challenge().cloned().expect("events follow the creation"),
        };
        let mut now_held = None;
        let mut board = || {
            if !parts.wants(Part::Leaderboard) {
                return None;
            }
            let now = self.shared_board(role);
            let patch = match held {
                Some(held) => self.rows_patch(held, &now),
                None => Patch::Leaderboard {
                    leaderboard: (*now).clone(),
                },
            };
            now_held = Some(now);
            Some(patch)
        };
        let peoples_choice = || {
            parts
                .wants(Part::PeoplesChoice)
                .then(|| Patch::PeoplesChoice {
                    rows: self.peoples_choice(),
                })
        };
        let all_scorecards = || Patch::Scorecards {
            scorecards: self.scorecards(role),
        };
        // Removing a track or a team changes judges' assignments and conflicts, which only the
        // organizers and each judge themselves see: everyone else is sent nothing.
        let judges = || match role {
            Role::Admin => Some(Patch::Judges {
                judges: s
                    .judges()
                    .keys()
                    .filter_map(|id| self.judge(id, role))
                    .collect(),
            }),
            Role::Judge(me) => self.judge(me, role).map(|judge| Patch::Judge { judge }),
            Role::Team(_) | Role::Audience => None,
        };
        let team = |id: &TeamId| self.team(id, role).map(|team| Patch::Team { team });
        let progress = |id: &TeamId| {
            s.team(id).map(|_| Patch::Progress {
                team: id.clone(),
                progress: s.progress(id).cloned().unwrap_or_default(),
            })
        };
        match &event.body {
            EventBody::ChallengeCreated { .. }
            | EventBody::ChallengeUpdated { .. }
            | EventBody::ChallengeStarted
            | EventBody::ClockPaused { .. }
            | EventBody::ClockResumed => patches.push(challenge()),
            EventBody::BuildingEnded
            | EventBody::ScoringOpened { .. }
            | EventBody::ScoringClosed => patches.push(challenge()),
            EventBody::Frozen { .. } => {
                patches.push(challenge());
                patches.extend(board());
            }
            EventBody::TeamRevealed { .. } => {
                let entry = s.revealed().last().cloned().expect("just revealed");
                patches.push(Patch::Revealed { entry });
            }
            EventBody::ResultFinal => {
                patches.push(challenge());
                patches.extend(board());
                patches.push(all_scorecards());
            }
            EventBody::TrackAdded { .. } | EventBody::TrackUpdated { .. } => {
                patches.push(Patch::Tracks {
                    tracks: s.tracks().to_vec(),
                });
                patches.extend(board());
            }
            EventBody::TrackRemoved { .. } => {
                patches.push(Patch::Tracks {
                    tracks: s.tracks().to_vec(),
                });
                patches.extend(judges());
                patches.extend(board());
            }
            EventBody::RubricSet { rubric } => {
                patches.push(Patch::Rubric {
                    rubric: rubric.clone(),
                });
                patches.extend(board());
            }
            EventBody::MilestonesSet { milestones } => patches.push(Patch::Milestones {
                milestones: milestones.clone(),
            }),
            EventBody::RankingSet { settings } => {
                patches.push(Patch::Ranking {
                    ranking: settings.clone(),
                });
                patches.extend(board());
            }
            EventBody::TeamAdded { team: t } | EventBody::TeamUpdated { team: t } => {
                patches.extend(team(&t.id));
                patches.extend(board());
                patches.extend(peoples_choice());
            }
            EventBody::TeamRemoved { id } => {
                patches.push(Patch::TeamRemoved { id: id.clone() });
                patches.extend(judges());
                patches.extend(board());
                patches.extend(peoples_choice());
                if matches!(role, Role::Admin) {
                    patches.push(Patch::Tokens {
                        tokens: self.tokens(role),
                    });
                }
            }
            EventBody::JudgeAdded { judge } | EventBody::JudgeUpdated { judge } => {
                patches.extend(
                    self.judge(&judge.id, role)
                        .map(|judge| Patch::Judge { judge }),
                );
                patches.extend(board());
            }
            EventBody::JudgeRemoved { id } => {
                patches.push(Patch::JudgeRemoved { id: id.clone() });
                patches.extend(board());
                if matches!(role, Role::Admin) {
                    patches.push(Patch::Tokens {
                        tokens: self.tokens(role),
                    });
                }
            }
            EventBody::TokenIssued { .. } | EventBody::TokensRevoked { .. } => {
                if matches!(role, Role::Admin) {
                    patches.push(Patch::Tokens {
                        tokens: self.tokens(role),
                    });
                }
            }
            EventBody::PostHidden { post, reason } => {
                if parts.wants(Part::Ticker) {
                    patches.extend(self.ticker_hidden(*post, reason, role));
                }
                if let Some(p) = s.post(*post) {
                    patches.extend(progress(p.team()));
                }
            }
            EventBody::ProgressPosted { team: id, .. } => {
                if let Some(Known::Whole(post)) = s.post(event.seq) {
                    patches.push(Patch::Post { post: post.clone() });
                }
                patches.extend(progress(id));
            }
            EventBody::MilestoneReached { team: id, .. } => {
                patches.extend(progress(id));
                if let Some(a) = s.announcements().first().filter(|a| a.seq == event.seq) {
                    patches.push(Patch::Announced {
                        announcement: a.clone(),
                    });
                }
            }
            EventBody::MilestoneUndone { team: id, .. } => {
                patches.extend(progress(id));
                let undone =
                    |a: &&Announcement| a.withdrawn.as_ref().is_some_and(|w| w.seq == event.seq);
                let seqs: Vec<u64> = s
                    .announcements()
                    .iter()
                    .filter(undone)
                    .map(|a| a.seq)
                    .collect();
                if let Some(w) = s
                    .announcements()
                    .iter()
                    .find(undone)
                    .and_then(|a| a.withdrawn.as_ref())
                {
                    patches.push(Patch::Withdrawn {
                        seqs,
                        withdrawal: self.withdrawal(w, id, role),
                    });
                }
            }
            EventBody::ScorecardSubmitted { judge, team, .. } => {
                patches.extend(board());
                if self.sees_scorecard(role, judge) {
                    if let Some(card) = s.scorecard(judge, team) {
                        patches.push(Patch::Scorecard {
                            scorecard: card.clone(),
                        });
                    }
                }
            }
            EventBody::ConflictDeclared { judge, .. } => {
                patches.extend(self.judge(judge, role).map(|judge| Patch::Judge { judge }));
                patches.extend(board());
            }
            EventBody::CheersTallied { .. } => patches.extend(peoples_choice()),
        }
        patches.retain(|p| !p.is_empty_rows() && parts.wants_patch(p));
        if patches.is_empty() {
            return (None, now_held);
        }
        let delta = Delta {
            schema: SCHEMA_VERSION,
            seq: event.seq,
            prev_seq: 0,
            patches,
        };
        (Some(delta), now_held)
    }

    /// The patch that turns the board `held` into `now`: the changed rows, or the whole board
    /// when its shape changed. Computed once per earlier board and shared by every view that
    /// held it.
    fn rows_patch(&self, held: &Arc<BoardView>, now: &Arc<BoardView>) -> Patch {
        if let Some((_, patch)) = self
            .rows
            .borrow()
            .iter()
            .find(|(h, _)| Arc::ptr_eq(h, held))
        {
            return patch.clone();
        }
        let patch = changed_rows(held, now).unwrap_or_else(|| Patch::Leaderboard {
            leaderboard: (**now).clone(),
        });
        self.rows.borrow_mut().push((held.clone(), patch.clone()));
        patch
    }
}

impl Projector<'_> {
    /// What hiding `post` changes in the ticker of `role`: the organizers keep the post, marked;
    /// everyone else loses it and gains the next older post at the end. Nothing when the post was
    /// not in the ticker (older than its last place).
    fn ticker_hidden(&self, post: u64, reason: &str, role: &Role) -> Option<Patch> {
        let ticker = self.ticker(role);
        if matches!(role, Role::Admin) {
            return ticker
                .iter()
                .any(|p| p.id == post)
                .then(|| Patch::TickerHidden {
                    id: post,
                    reason: reason.to_owned(),
                });
        }
        // The ticker before held the newest posts of the visible ones and this one: it was there
        // when fewer than a whole ticker of visible posts are newer.
        let newer = ticker.iter().filter(|p| p.id > post).count();
        (newer < TICKER_LEN).then(|| Patch::TickerRemoved {
            id: post,
            last: (ticker.len() == TICKER_LEN)
                .then(|| ticker.last().cloned())
                .flatten(),
        })
    }
}

impl Patch {
    fn is_empty_rows(&self) -> bool {
        matches!(self, Patch::BoardRows { overall, tracks, ranks, track_ranks, pending }
            if overall.is_empty() && tracks.is_empty() && ranks.is_empty()
                && track_ranks.is_empty() && pending.is_empty())
    }
}

/// The rows of `now` that differ from `held`, or `None` when the board changed shape: frozen or
/// not, other tracks, other teams, counts since the freeze that went away.
fn changed_rows(held: &BoardView, now: &BoardView) -> Option<Patch> {
    fn changed(
        held: &[Row],
        now: &[Row],
        rows: &mut Vec<Row>,
        ranks: &mut BTreeMap<TeamId, u32>,
    ) -> Option<()> {
        if held.len() != now.len() {
            return None;
        }
        // Most rows keep their place: a row is looked up by team only when its place holds
        // another team.
        let mut by_team: Option<BTreeMap<&TeamId, &Row>> = None;
        for (i, row) in now.iter().enumerate() {
            let was = match &held[i] {
                was if was.team == row.team => was,
                _ => *by_team
                    .get_or_insert_with(|| held.iter().map(|r| (&r.team, r)).collect())
                    .get(&row.team)?,
            };
            if was.same(row) {
                continue;
            }
            let rank_alone = Row {
                rank: was.rank,
                ..row.clone()
            }
            .same(was);
            match (rank_alone, was.rank, row.rank) {
                (true, Some(_), Some(rank)) => {
                    ranks.insert(row.team.clone(), rank);
                }
                _ => rows.push(row.clone()),
            }
        }
        Some(())
    }
    if held.frozen != now.frozen
        || held.board.tracks.len() != now.board.tracks.len()
        || held.pending.keys().any(|t| !now.pending.contains_key(t))
    {
        return None;
    }
    let (mut overall, mut ranks) = (Vec::new(), BTreeMap::new());
    changed(
        &held.board.overall,
        &now.board.overall,
        &mut overall,
        &mut ranks,
    )?;
    let (mut tracks, mut track_ranks) = (Vec::new(), BTreeMap::new());
    for (h, n) in held.board.tracks.iter().zip(&now.board.tracks) {
        if h.track != n.track {
            return None;
        }
        changed(&h.rows, &n.rows, &mut tracks, &mut track_ranks)?;
    }
    let pending = now
        .pending
        .iter()
        .filter(|(t, n)| held.pending.get(*t) != Some(n))
        .map(|(t, n)| (t.clone(), *n))
        .collect();
    Some(Patch::BoardRows {
        overall,
        tracks,
        ranks,
        track_ranks,
        pending,
    })
}

/// Follows one role's view along the log and numbers its messages: each delta gets the seq of
/// the view's previous message as `prev_seq`.
/// It also keeps the board its clients hold, so that a changed board goes out as its changed
/// rows.
/// A stream that follows only some [`Parts`] of the view skips every event that changes none of
/// them, and its `prev_seq` names its own previous message, so the skip is no gap.
#[derive(Clone, Debug)]
pub struct ViewStream {
    role: Role,
    parts: Parts,
    last: u64,
    board: Option<Arc<BoardView>>,
}

impl ViewStream {
    /// A stream of the whole view of `role` whose clients start from the snapshot at `seq`. Its
    /// first board change goes out whole.
    pub fn new(role: Role, seq: u64) -> Self {
        Self::of_parts(role, Parts::ALL, seq)
    }

    /// A stream of the `parts` of the view of `role` whose clients start from the snapshot of
    /// those parts at `seq` ([`Projector::snapshot_of`]).
    pub fn of_parts(role: Role, parts: Parts, seq: u64) -> Self {
        Self {
            role,
            parts,
            last: seq,
            board: None,
        }
    }

    /// The parts followed.
    pub fn parts(&self) -> Parts {
        self.parts
    }

    /// The role followed.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The seq of the last message this view was given.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The next message of this view for `event`, projected from the state after it.
    pub fn next(&mut self, after: &Projector<'_>, event: &Event) -> Option<Delta> {
        let (delta, board) = after.delta_since(event, &self.role, self.parts, self.board.as_ref());
        if board.is_some() {
            self.board = board;
        }
        let mut delta = delta?;
        delta.prev_seq = self.last;
        self.last = event.seq;
        Some(delta)
    }
}
