//! Random sessions for the property tests: the fixed challenge every session starts from, the
//! random steps, and a player that decides, executes and logs them as a server would, handing
//! every decision to the property under test.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use makerpulse_core::command::Command;
use makerpulse_core::roster::{Assignment, Discipline, Member, PanelRole, Subject};
use makerpulse_core::state::State;
use makerpulse_core::{
    decide, Actor, ChallengeId, CommandId, Decision, DomainError, Envelope, Event, EventBody,
    JudgeId, Localized, Outcome, Role, TeamId, TokenHash, TrackId,
};

use crate::steps::{Spec, Step};

// ---- the fixed challenge every session starts from ----------------------------------------------

pub(crate) const TRACKS: [&str; 3] = ["software", "hardware", "design"];
/// Five teams, then a team the admin may add later, then one that never exists.
pub(crate) const TEAMS: [&str; 7] = ["t1", "t2", "t3", "t4", "t5", "t-late", "ghost"];
pub(crate) const TEAM_TRACK: [usize; 6] = [0, 0, 1, 1, 2, 1];
/// Four judges, then a judge the admin may add later, then one that never exists.
pub(crate) const JUDGES: [&str; 6] = ["j1", "j2", "j3", "j4", "j-late", "ghost"];
/// Building time of the sessions: short, so that random time steps can run the clock out.
pub(crate) const DURATION_SECS: u64 = 6 * 3600;

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 20, 9, 0, 0).unwrap()
}

pub(crate) fn team(i: usize) -> TeamId {
    TeamId::new(TEAMS[i % TEAMS.len()]).unwrap()
}

pub(crate) fn judge(i: usize) -> JudgeId {
    JudgeId::new(JUDGES[i % JUDGES.len()]).unwrap()
}

pub(crate) fn track(i: usize) -> TrackId {
    TrackId::new(TRACKS[i % TRACKS.len()]).unwrap()
}

pub(crate) fn role(i: usize) -> PanelRole {
    PanelRole::ALL[i % PanelRole::ALL.len()]
}

pub(crate) fn name(en: &str) -> Localized {
    Localized::new(format!("{en} 中文"), en)
}

pub(crate) fn assignment(tracks: &[usize], teams: &[usize]) -> Assignment {
    Assignment {
        tracks: tracks.iter().map(|&i| track(i)).collect(),
        teams: teams.iter().map(|&i| team(i)).collect(),
    }
}

/// Runs the fixed setup by executing admin commands, so the log starts as a real one would.
fn setup(session: &mut Session) {
    session.admin(Command::CreateChallenge {
        id: ChallengeId::new("prop").unwrap(),
        title: name("Maker show"),
        description: Localized::default(),
        planned_start: Some(t0()),
        duration_secs: Some(DURATION_SECS),
    });
    for (i, id) in TRACKS.iter().enumerate() {
        session.admin(Command::AddTrack {
            id: track(i),
            name: name(id),
            description: Localized::default(),
        });
    }
    for (i, &track_index) in TEAM_TRACK[..5].iter().enumerate() {
        session.admin(add_team(i, track_index));
    }
    let judges = [
        (
            PanelRole::MakerRepresentative,
            assignment(&[0, 1], &[]),
            vec![],
        ),
        (PanelRole::DomainExpert, assignment(&[0], &[4]), vec![]),
        // Assigned hardware and design but conflicted with t3 (a hardware team).
        (
            PanelRole::EnterpriseRepresentative,
            assignment(&[1, 2], &[]),
            vec![2],
        ),
        (PanelRole::Investor, assignment(&[], &[0, 2, 4]), vec![]),
    ];
    for (i, (panel_role, assignment, conflicts)) in judges.into_iter().enumerate() {
        session.admin(Command::AddJudge {
            id: judge(i),
            name: name(JUDGES[i]),
            panel_role,
            affiliation: Localized::default(),
            assignment,
            conflicts: conflicts.into_iter().map(team).collect(),
        });
    }
    for i in 0..5 {
        session.admin(Command::IssueToken {
            subject: Subject::Team(team(i)),
            token_hash: TokenHash::of(&format!("team-secret-{i}")),
        });
    }
    for i in 0..4 {
        session.admin(Command::IssueToken {
            subject: Subject::Judge(judge(i)),
            token_hash: TokenHash::of(&format!("judge-secret-{i}")),
        });
    }
}

pub(crate) fn add_team(i: usize, track_index: usize) -> Command {
    Command::AddTeam {
        id: team(i),
        track: track(track_index),
        name: name(TEAMS[i]),
        description: Localized::default(),
        members: vec![Member {
            name: format!("member of {}", TEAMS[i]),
            discipline: Discipline::Maker,
            region: "中国".into(),
        }],
        contact: format!("{}@example.org", TEAMS[i]),
    }
}

// ---- playing a session ---------------------------------------------------------------------------

/// One command as it was played: the state before, who sent what, and what `decide` said.
pub(crate) struct Played<'a> {
    pub(crate) before: &'a State,
    pub(crate) actor: &'a Actor,
    pub(crate) envelope: &'a Envelope,
    pub(crate) now: DateTime<Utc>,
    pub(crate) decision: &'a Result<Decision, DomainError>,
}

/// A session: the live state, the log it wrote, and what a server would keep beside it.
pub(crate) struct Session {
    pub(crate) state: State,
    pub(crate) log: Vec<Event>,
    now: DateTime<Utc>,
    next_id: u64,
    /// Cheers counted and not yet tallied, as the server keeps them.
    pub(crate) cheers: BTreeMap<TeamId, u64>,
    last: Option<(Actor, Envelope, Result<Outcome, DomainError>)>,
}

impl Session {
    pub(crate) fn new() -> Self {
        let mut session = Session {
            state: State::new(),
            log: Vec::new(),
            now: t0() - Duration::days(1),
            next_id: 0,
            cheers: BTreeMap::new(),
            last: None,
        };
        setup(&mut session);
        session
    }

    fn envelope(&mut self, command: Command) -> Envelope {
        self.next_id += 1;
        Envelope::new(
            CommandId::new(format!("c{}", self.next_id)).unwrap(),
            command,
        )
    }

    fn admin(&mut self, command: Command) {
        let envelope = self.envelope(command);
        let outcome = self.send(&Actor::Admin, &envelope, &mut |_| {});
        assert!(
            matches!(outcome, Ok(Outcome::Applied(_))),
            "setup command {envelope:?} failed: {outcome:?}"
        );
    }

    /// Decides, hands what was decided to `check`, then executes and logs the events.
    fn send(
        &mut self,
        actor: &Actor,
        envelope: &Envelope,
        check: &mut dyn FnMut(&Played<'_>),
    ) -> Result<Outcome, DomainError> {
        let decision = decide(&self.state, actor, envelope, self.now);
        check(&Played {
            before: &self.state,
            actor,
            envelope,
            now: self.now,
            decision: &decision,
        });
        let outcome = self.state.execute(actor, envelope, self.now);
        match (&decision, &outcome) {
            (Ok(Decision::Append(bodies)), Ok(Outcome::Applied(events))) => {
                let applied: Vec<&EventBody> = events.iter().map(|e| &e.body).collect();
                assert_eq!(bodies.iter().collect::<Vec<_>>(), applied);
                self.log.extend(events.iter().cloned());
            }
            (Ok(Decision::Repeat(a)), Ok(Outcome::Repeat(b))) => assert_eq!(a, b),
            (Ok(Decision::Cheer(a)), Ok(Outcome::Cheer(b))) => {
                assert_eq!(a, b);
                *self.cheers.entry(b.clone()).or_default() += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            other => panic!("execute disagrees with decide: {other:?}"),
        }
        outcome
    }

    /// Plays one random step.
    pub(crate) fn play(&mut self, step: &Step, check: &mut dyn FnMut(&Played<'_>)) {
        // A resend follows its first try at once.
        if let Spec::Resend { changed } = step.spec {
            self.resend(changed, check);
            return;
        }
        self.now += Duration::seconds(step.advance_secs);
        for _ in 0..step.times {
            let (natural, command) = self.materialize(&step.spec);
            let actor = match step.stranger {
                None => natural,
                Some(i) => {
                    let everyone = everyone();
                    everyone[i % everyone.len()].clone()
                }
            };
            let envelope = self.envelope(command);
            let outcome = self.send(&actor, &envelope, check);
            if let (Ok(Outcome::Applied(_)), Command::TallyCheers { counts }) =
                (&outcome, &envelope.command)
            {
                for (team, n) in counts {
                    if let Some(left) = self.cheers.get_mut(team) {
                        *left = left.saturating_sub(*n);
                    }
                }
                self.cheers.retain(|_, n| *n > 0);
            }
            self.last = Some((actor, envelope, outcome));
        }
    }

    /// Resending is answered with the first answer and changes nothing; reusing an id for other
    /// content is refused.
    fn resend(&mut self, changed: bool, check: &mut dyn FnMut(&Played<'_>)) {
        let Some((actor, envelope, first)) = self.last.clone() else {
            return;
        };
        let mut again = envelope.clone();
        if changed {
            again.command = Command::PauseClock {
                reason: "another command under a used id".into(),
            };
            if again.command == envelope.command {
                return;
            }
        }
        let seq = self.state.seq();
        let outcome = self.send(&actor, &again, check);
        match first {
            Ok(Outcome::Applied(events)) => {
                if changed {
                    assert!(
                        matches!(outcome, Err(DomainError::CommandIdReused { .. })),
                        "{outcome:?}"
                    );
                } else {
                    let Ok(Outcome::Repeat(ack)) = &outcome else {
                        panic!("a resend was not recognised: {outcome:?}");
                    };
                    assert_eq!(ack.first_seq, events[0].seq);
                    assert_eq!(ack.last_seq, events.last().unwrap().seq);
                }
                assert_eq!(self.state.seq(), seq, "a resend changed the state");
            }
            // Nothing was recorded, so the same command at the same time gets the same answer.
            Err(first) if !changed => assert_eq!(outcome, Err(first)),
            _ => {}
        }
        self.last = Some((actor, again, outcome));
    }
}

/// Every actor a stranger step may pick: the roles, every judge and team id the sessions use
/// (including the late ones and the ones that never exist).
fn everyone() -> Vec<Actor> {
    let mut actors = vec![Actor::Admin, Actor::Audience, Actor::System];
    actors.extend((0..JUDGES.len()).map(|i| Actor::Judge(judge(i))));
    actors.extend((0..TEAMS.len()).map(|i| Actor::Team(team(i))));
    actors
}

/// Every view a session may be watched through.
pub(crate) fn roles() -> Vec<Role> {
    let mut roles = vec![Role::Audience, Role::Admin];
    roles.extend((0..JUDGES.len()).map(|i| Role::Judge(judge(i))));
    roles.extend((0..TEAMS.len()).map(|i| Role::Team(team(i))));
    roles
}

pub(crate) fn play_all(steps: &[Step], check: &mut dyn FnMut(&Played<'_>)) -> Session {
    let mut session = Session::new();
    for step in steps {
        session.play(step, check);
    }
    session
}
