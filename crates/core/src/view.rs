//! Views: what each role may see of the state. A snapshot is the whole view at a seq; a
//! [`Delta`] carries what one event changed in it. Folding the deltas from
//! seq M to N onto the snapshot at M gives the snapshot at N, for every role.
//!
//! What each role sees:
//! - audience: the public state; the jury's board as the publication rule allows, without any
//!   breakdown ([`Leaderboard::published`]); during a freeze the board stops at the freeze and
//!   only the number of scorecards received since is shown; individual scorecards only once the
//!   result is final; no contact details, conflicts or tokens;
//! - team: the public view plus its own contact line, and why the organizers took back one of its
//!   milestones;
//! - judge: the public view plus its own assignment, conflicts and scorecards; never another
//!   judge's scorecard until the result is final, whatever the phase;
//! - admin: everything, live, with every scorecard and its revisions.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::challenge::{Challenge, Phase};
use crate::command::Actor;
use crate::delta::{Delta, Patch};
use crate::event::Event;
use crate::ids::{JudgeId, TeamId, TrackId};
use crate::leaderboard::{board_order, Leaderboard, Row};
use crate::milestone::{Announcement, MilestoneDef, Withdrawal, ANNOUNCEMENTS_KEPT};
use crate::parts::{Part, Parts};
use crate::posts::Known;
use crate::progress::Post;
use crate::roster::{Assignment, Member, PanelRole, Subject, Track};
use crate::rubric::{RankingSettings, Rubric, Scorecard};
use crate::state::{RevealEntry, State, TeamProgress};
use crate::text::Localized;
use crate::SCHEMA_VERSION;

/// How many of the newest posts a view carries; older ones are read per team over HTTP.
pub const TICKER_LEN: usize = 30;

/// Whose view.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "snake_case")]
pub enum Role {
    /// The public (观众).
    Audience,
    /// One team's console.
    Team(TeamId),
    /// One judge's console.
    Judge(JudgeId),
    /// The organizers.
    Admin,
}

impl Role {
    /// The view an actor gets; the server's own actor sees what the public sees.
    pub fn of(actor: &Actor) -> Role {
        match actor {
            Actor::Admin => Role::Admin,
            Actor::Judge(id) => Role::Judge(id.clone()),
            Actor::Team(id) => Role::Team(id.clone()),
            Actor::Audience | Actor::System => Role::Audience,
        }
    }
}

/// A team as a view shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    /// Its id.
    pub id: TeamId,
    /// Its track.
    pub track: TrackId,
    /// Its name.
    pub name: Localized,
    /// Its project.
    pub description: Localized,
    /// Its members.
    pub members: Vec<Member>,
    /// Contact line: only in the team's own view and the admins'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Milestones reached, percent done, posts.
    pub progress: TeamProgress,
}

/// A judge as a view shows them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeView {
    /// Their id.
    pub id: JudgeId,
    /// Their name.
    pub name: Localized,
    /// Their seat.
    pub panel_role: PanelRole,
    /// Affiliation or title.
    pub affiliation: Localized,
    /// Whom they score: in their own view and the admins'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
    /// Their conflicts of interest: in their own view and the admins'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<BTreeSet<TeamId>>,
}

/// The leaderboard as a view shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BoardView {
    /// Whether the public board is frozen.
    pub frozen: bool,
    /// The board: live for admins and once final, as it stood at the freeze for everyone else
    /// during the freeze. Individual scorecards appear only for admins and once final.
    pub board: Leaderboard,
    /// During a freeze: scorecards received since, per team (their values stay hidden).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<TeamId, u32>,
}

/// One line of the people's choice (观众人气) ranking.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheerRow {
    /// Rank, shared by equal counts.
    pub rank: u32,
    /// The team.
    pub team: TeamId,
    /// Cheers logged so far.
    pub cheers: u64,
}

/// A minted token as the admins see it: whose, and since when; never the token or its hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Whom it speaks for.
    pub subject: Subject,
    /// When it was minted.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// When it was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Everything one role may see, at one seq.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Schema version.
    pub schema: u32,
    /// The seq this view is at.
    pub seq: u64,
    /// Whose view.
    pub role: Role,
    /// The challenge, once created.
    pub challenge: Option<Challenge>,
    /// Tracks in order.
    pub tracks: Vec<Track>,
    /// Milestones in order.
    pub milestones: Vec<MilestoneDef>,
    /// The rubric.
    pub rubric: Option<Rubric>,
    /// How jury scores are formed.
    pub ranking: RankingSettings,
    /// Teams by id.
    pub teams: BTreeMap<TeamId, TeamView>,
    /// Judges by id.
    pub judges: BTreeMap<JudgeId, JudgeView>,
    /// The newest posts, newest first.
    pub ticker: Vec<Post>,
    /// The newest milestones reached, newest first, for the tickers beside the posts; one taken
    /// back by the organizers stays, marked withdrawn.
    #[serde(default)]
    pub announcements: Vec<Announcement>,
    /// The jury's leaderboard.
    pub leaderboard: BoardView,
    /// The people's choice from cheers, apart from the jury's board.
    pub peoples_choice: Vec<CheerRow>,
    /// The reveal so far.
    pub reveal: Vec<RevealEntry>,
    /// The scorecards this role may see, by team then judge.
    pub scorecards: Vec<Scorecard>,
    /// Minted tokens (admins only).
    pub tokens: Vec<TokenView>,
    /// The parts this view follows, when not all ([`Parts`]): the others are empty here and never
    /// patched.
    #[serde(default, skip_serializing_if = "Parts::is_all")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Part>))]
    pub parts: Parts,
}

/// The view of `state` for `role`.
pub fn snapshot(state: &State, role: &Role) -> View {
    Projector::new(state).snapshot(role)
}

/// Computes views of one state. The live leaderboard, and the board of each of the two kinds of
/// view (the organizers', everyone else's), are computed at most once however many roles are
/// asked for, because the server projects every event for every connected view; so is the patch
/// of changed rows from one earlier board, which all views that held that board share.
pub struct Projector<'a> {
    pub(crate) state: &'a State,
    /// The board of everyone but the organizers, and the organizers'.
    boards: [OnceCell<Arc<BoardView>>; 2],
    /// Patches from an earlier board (kept alive here, so its address names it) to this one.
    pub(crate) rows: RefCell<Vec<(Arc<BoardView>, Patch)>>,
    /// The people's choice, the same for every role.
    cheers: OnceCell<Vec<CheerRow>>,
}

impl<'a> Projector<'a> {
    /// Views of `state`.
    pub fn new(state: &'a State) -> Self {
        Self {
            state,
            boards: [OnceCell::new(), OnceCell::new()],
            rows: RefCell::new(Vec::new()),
            cheers: OnceCell::new(),
        }
    }

    /// The state projected.
    pub fn state(&self) -> &'a State {
        self.state
    }

    /// The live leaderboard with every contribution: the organizers' board, which is always live.
    pub fn live(&self) -> &Leaderboard {
        &self.admin_board().board
    }

    /// The whole view for `role`.
    pub fn snapshot(&self, role: &Role) -> View {
        self.snapshot_of(role, Parts::ALL)
    }

    /// The view for `role` with only the `parts` it follows; the others are empty.
    pub fn snapshot_of(&self, role: &Role, parts: Parts) -> View {
        let s = self.state;
        View {
            schema: SCHEMA_VERSION,
            seq: s.seq(),
            role: role.clone(),
            challenge: s.challenge().cloned(),
            tracks: s.tracks().to_vec(),
            milestones: s.milestones().to_vec(),
            rubric: s.rubric().cloned(),
            ranking: s.ranking().clone(),
            teams: s
                .teams()
                .keys()
                .filter_map(|id| self.team(id, role).map(|t| (id.clone(), t)))
                .collect(),
            judges: s
                .judges()
                .keys()
                .filter_map(|id| self.judge(id, role).map(|j| (id.clone(), j)))
                .collect(),
            ticker: if parts.wants(Part::Ticker) {
                self.ticker(role)
            } else {
                Vec::new()
            },
            // Milestone announcements are the ticker's too.
            announcements: if parts.wants(Part::Ticker) {
                self.announcements(role)
            } else {
                Vec::new()
            },
            leaderboard: if parts.wants(Part::Leaderboard) {
                self.board(role)
            } else {
                BoardView::default()
            },
            peoples_choice: if parts.wants(Part::PeoplesChoice) {
                self.peoples_choice()
            } else {
                Vec::new()
            },
            reveal: s.revealed().to_vec(),
            scorecards: self.scorecards(role),
            tokens: self.tokens(role),
            parts,
        }
    }

    pub(crate) fn team(&self, id: &TeamId, role: &Role) -> Option<TeamView> {
        let team = self.state.team(id)?;
        let private = matches!(role, Role::Admin) || role == &Role::Team(id.clone());
        Some(TeamView {
            id: team.id.clone(),
            track: team.track.clone(),
            name: team.name.clone(),
            description: team.description.clone(),
            members: team.members.clone(),
            contact: private.then(|| team.contact.clone()),
            progress: self.state.progress(id).cloned().unwrap_or_default(),
        })
    }

    pub(crate) fn judge(&self, id: &JudgeId, role: &Role) -> Option<JudgeView> {
        let judge = self.state.judge(id)?;
        let private = matches!(role, Role::Admin) || role == &Role::Judge(id.clone());
        Some(JudgeView {
            id: judge.id.clone(),
            name: judge.name.clone(),
            panel_role: judge.panel_role,
            affiliation: judge.affiliation.clone(),
            assignment: private.then(|| judge.assignment.clone()),
            conflicts: private.then(|| judge.conflicts.clone()),
        })
    }

    pub(crate) fn ticker(&self, role: &Role) -> Vec<Post> {
        let admin = matches!(role, Role::Admin);
        self.state
            .recent_posts()
            .rev()
            .filter(|p| admin || p.hidden.is_none())
            .take(TICKER_LEN)
            .cloned()
            .collect()
    }

    /// The milestone announcements as `role` sees them: why one was withdrawn is told to the
    /// organizers and to the team itself only.
    pub(crate) fn announcements(&self, role: &Role) -> Vec<Announcement> {
        self.state
            .announcements()
            .iter()
            .map(|a| Announcement {
                withdrawn: a
                    .withdrawn
                    .as_ref()
                    .map(|w| self.withdrawal(w, &a.team, role)),
                ..a.clone()
            })
            .collect()
    }

    pub(crate) fn withdrawal(&self, w: &Withdrawal, team: &TeamId, role: &Role) -> Withdrawal {
        let told = match role {
            Role::Admin => true,
            Role::Team(id) => id == team,
            Role::Audience | Role::Judge(_) => false,
        };
        Withdrawal {
            seq: w.seq,
            reason: w.reason.clone().filter(|_| told),
        }
    }

    /// The leaderboard as `role` sees it.
    pub fn board(&self, role: &Role) -> BoardView {
        (*self.shared_board(role)).clone()
    }

    /// The leaderboard as `role` sees it, computed once per kind of view and shared.
    pub fn shared_board(&self, role: &Role) -> Arc<BoardView> {
        match role {
            Role::Admin => self.admin_board().clone(),
            Role::Audience | Role::Team(_) | Role::Judge(_) => self.boards[0]
                .get_or_init(|| Arc::new(self.public_board()))
                .clone(),
        }
    }

    /// The organizers' board: the live one, ranked from the state's running tally.
    fn admin_board(&self) -> &Arc<BoardView> {
        self.boards[1].get_or_init(|| {
            let (frozen, pending) = self.frozen_pending();
            Arc::new(BoardView {
                frozen,
                board: Leaderboard::compute(self.state),
                pending,
            })
        })
    }

    /// Whether the public board is frozen, and the scorecards received since the freeze.
    fn frozen_pending(&self) -> (bool, BTreeMap<TeamId, u32>) {
        let s = self.state;
        let frozen = s.frozen().filter(|_| s.phase() != Phase::Revealed);
        let pending = frozen.map(|f| f.pending.clone()).unwrap_or_default();
        (frozen.is_some(), pending)
    }

    /// Everyone else's board.
    fn public_board(&self) -> BoardView {
        let s = self.state;
        let final_result = s.phase() == Phase::Revealed;
        let frozen = s.frozen().filter(|_| !final_result);
        let pending = frozen.map(|f| f.pending.clone()).unwrap_or_default();
        if final_result {
            return BoardView {
                frozen: frozen.is_some(),
                board: self.live().clone(),
                pending,
            };
        }
        match frozen {
            Some(f) => BoardView {
                frozen: true,
                board: f.board.clone(),
                pending,
            },
            None => BoardView {
                frozen: false,
                board: self.live().published(s),
                pending,
            },
        }
    }

    pub(crate) fn peoples_choice(&self) -> Vec<CheerRow> {
        self.cheers.get_or_init(|| self.rank_cheers()).clone()
    }

    fn rank_cheers(&self) -> Vec<CheerRow> {
        let mut rows: Vec<(TeamId, u64)> = self
            .state
            .teams()
            .keys()
            .map(|id| {
                (
                    id.clone(),
                    self.state.cheers().get(id).copied().unwrap_or(0),
                )
            })
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut out: Vec<CheerRow> = Vec::with_capacity(rows.len());
        for (i, (team, cheers)) in rows.into_iter().enumerate() {
            let rank = match out.last() {
                Some(prev) if prev.cheers == cheers => prev.rank,
                _ => i as u32 + 1,
            };
            out.push(CheerRow { rank, team, cheers });
        }
        out
    }

    /// Whether `role` may see the scorecard of `judge`: the organizers always, a judge their own,
    /// everyone every scorecard once the result is final.
    pub(crate) fn sees_scorecard(&self, role: &Role, judge: &JudgeId) -> bool {
        self.state.phase() == Phase::Revealed
            || match role {
                Role::Admin => true,
                Role::Judge(me) => me == judge,
                Role::Team(_) | Role::Audience => false,
            }
    }

    pub(crate) fn scorecards(&self, role: &Role) -> Vec<Scorecard> {
        self.state
            .scorecards()
            .values()
            .filter(|c| self.sees_scorecard(role, &c.judge))
            .cloned()
            .collect()
    }

    pub(crate) fn tokens(&self, role: &Role) -> Vec<TokenView> {
        if !matches!(role, Role::Admin) {
            return Vec::new();
        }
        let mut tokens: Vec<TokenView> = self
            .state
            .tokens()
            .values()
            .map(|t| TokenView {
                subject: t.subject.clone(),
                issued_at: t.issued_at,
                revoked_at: t.revoked_at,
            })
            .collect();
        tokens.sort_by(|a, b| {
            a.issued_at
                .cmp(&b.issued_at)
                .then_with(|| a.subject.cmp(&b.subject))
        });
        tokens
    }
}

/// A team's whole timeline, oldest first, as `role` may see it (hidden posts for admins only):
/// the newest posts as the state keeps them, the older ones by id, their text to be read back
/// from the log ([`Timeline::fill`]). Taken from the state in one step and filled after, so that
/// the log is read without holding the state.
pub fn timeline(state: &State, team: &TeamId, role: &Role) -> Timeline {
    let admin = matches!(role, Role::Admin);
    let slots = state
        .posts_of(team)
        .filter(|p| admin || p.hidden().is_none())
        .map(|p| match p {
            Known::Whole(post) => Slot::Whole(post.clone()),
            Known::Older { id, hidden, .. } => Slot::Older {
                id,
                hidden: hidden.map(str::to_owned),
            },
        })
        .collect();
    Timeline { slots }
}

/// A team's timeline before the older posts' text is read back ([`timeline`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    slots: Vec<Slot>,
}

#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Whole(Post),
    Older { id: u64, hidden: Option<String> },
}

impl Timeline {
    /// The seqs of the posts whose events must be read back from the log, in order.
    pub fn older(&self) -> Vec<u64> {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Older { id, .. } => Some(*id),
                Slot::Whole(_) => None,
            })
            .collect()
    }

    /// The timeline, with the older posts rebuilt from `events` (those at [`Timeline::older`],
    /// in any order). Fails with the seq of an older post that `events` lacks.
    pub fn fill(self, events: &[Event]) -> Result<Vec<Post>, u64> {
        let by_seq: BTreeMap<u64, &Event> = events.iter().map(|e| (e.seq, e)).collect();
        self.slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Whole(post) => Ok(post),
                Slot::Older { id, hidden } => {
                    let mut post = by_seq
                        .get(&id)
                        .and_then(|e| Post::from_event(e))
                        .ok_or(id)?;
                    post.hidden = hidden;
                    Ok(post)
                }
            })
            .collect()
    }
}

impl View {
    /// Applies a delta: the client-side half of the stream, kept here so clients, tests and the
    /// server agree on it.
    pub fn apply(&mut self, delta: &Delta) {
        self.seq = delta.seq;
        for patch in &delta.patches {
            match patch {
                Patch::Challenge { challenge } => self.challenge = Some(challenge.clone()),
                Patch::Tracks { tracks } => self.tracks = tracks.clone(),
                Patch::Milestones { milestones } => self.milestones = milestones.clone(),
                Patch::Rubric { rubric } => self.rubric = Some(rubric.clone()),
                Patch::Ranking { ranking } => self.ranking = ranking.clone(),
                Patch::Team { team } => {
                    self.teams.insert(team.id.clone(), team.clone());
                }
                Patch::TeamRemoved { id } => {
                    self.teams.remove(id);
                }
                Patch::Judges { judges } => {
                    self.judges = judges.iter().map(|j| (j.id.clone(), j.clone())).collect();
                }
                Patch::Judge { judge } => {
                    self.judges.insert(judge.id.clone(), judge.clone());
                }
                Patch::JudgeRemoved { id } => {
                    self.judges.remove(id);
                }
                Patch::Post { post } => {
                    self.ticker.insert(0, post.clone());
                    self.ticker.truncate(TICKER_LEN);
                }
                Patch::TickerHidden { id, reason } => {
                    if let Some(post) = self.ticker.iter_mut().find(|p| p.id == *id) {
                        post.hidden = Some(reason.clone());
                    }
                }
                Patch::TickerRemoved { id, last } => {
                    if let Some(i) = self.ticker.iter().position(|p| p.id == *id) {
                        self.ticker.remove(i);
                        self.ticker.extend(last.clone());
                    }
                }
                Patch::Announced { announcement } => {
                    self.announcements.insert(0, announcement.clone());
                    self.announcements.truncate(ANNOUNCEMENTS_KEPT);
                }
                Patch::Withdrawn { seqs, withdrawal } => {
                    for a in self
                        .announcements
                        .iter_mut()
                        .filter(|a| seqs.contains(&a.seq))
                    {
                        a.withdrawn = Some(withdrawal.clone());
                    }
                }
                Patch::Progress { team, progress } => {
                    if let Some(t) = self.teams.get_mut(team) {
                        t.progress = progress.clone();
                    }
                }
                Patch::Leaderboard { leaderboard } => self.leaderboard = leaderboard.clone(),
                Patch::BoardRows {
                    overall,
                    tracks,
                    ranks,
                    track_ranks,
                    pending,
                } => {
                    let board = &mut self.leaderboard.board;
                    replace_rows(&mut board.overall, overall.iter(), ranks);
                    for track in &mut board.tracks {
                        let rows = tracks.iter().filter(|r| r.track == track.track);
                        replace_rows(&mut track.rows, rows, track_ranks);
                    }
                    self.leaderboard.pending.extend(pending.clone());
                }
                Patch::PeoplesChoice { rows } => self.peoples_choice = rows.clone(),
                Patch::Revealed { entry } => self.reveal.push(entry.clone()),
                Patch::Scorecard { scorecard } => {
                    let key = |c: &Scorecard| (c.team.clone(), c.judge.clone());
                    match self.scorecards.binary_search_by_key(&key(scorecard), key) {
                        Ok(i) => self.scorecards[i] = scorecard.clone(),
                        Err(i) => self.scorecards.insert(i, scorecard.clone()),
                    }
                }
                Patch::Scorecards { scorecards } => self.scorecards = scorecards.clone(),
                Patch::Tokens { tokens } => self.tokens = tokens.clone(),
            }
        }
    }
}

/// Puts each of `rows` in the place of its team's row in `list`, gives the rows named in
/// `ranks` their new rank, then restores the board's order.
fn replace_rows<'r>(
    list: &mut [Row],
    rows: impl Iterator<Item = &'r Row>,
    ranks: &BTreeMap<TeamId, u32>,
) {
    let mut changed = false;
    for row in rows {
        if let Some(old) = list.iter_mut().find(|r| r.team == row.team) {
            *old = row.clone();
            changed = true;
        }
    }
    for old in list.iter_mut() {
        if let Some(&rank) = ranks.get(&old.team) {
            old.rank = Some(rank);
            changed = true;
        }
    }
    if changed {
        list.sort_by(board_order);
    }
}
