//! Tokens and the log's edges: removing a team or judge revokes its tokens, and an event from a
//! newer schema is refused rather than half-read.

use chrono::{DateTime, Utc};
use makerpulse_core::roster::{PanelRole, Subject};
use makerpulse_core::{
    Actor, ChallengeId, Command, CommandId, Envelope, Event, JudgeId, Localized, State, TeamId,
    TokenHash, TrackId,
};

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn run(state: &mut State, n: &mut u32, command: Command) -> Vec<Event> {
    *n += 1;
    let envelope = Envelope::new(CommandId::new(format!("c{n}")).unwrap(), command);
    match state.execute(&Actor::Admin, &envelope, at()).unwrap() {
        makerpulse_core::Outcome::Applied(events) => events,
        other => panic!("{other:?}"),
    }
}

#[test]
fn removing_a_team_or_judge_revokes_its_tokens() {
    let (mut state, mut n) = (State::new(), 0);
    run(
        &mut state,
        &mut n,
        Command::CreateChallenge {
            id: ChallengeId::new("c").unwrap(),
            title: Localized::new("", "C"),
            description: Localized::default(),
            planned_start: None,
            duration_secs: None,
        },
    );
    run(
        &mut state,
        &mut n,
        Command::AddTrack {
            id: TrackId::new("a").unwrap(),
            name: Localized::new("", "A"),
            description: Localized::default(),
        },
    );
    run(
        &mut state,
        &mut n,
        Command::AddTeam {
            id: TeamId::new("t1").unwrap(),
            track: TrackId::new("a").unwrap(),
            name: Localized::new("", "T1"),
            description: Localized::default(),
            members: vec![],
            contact: String::new(),
        },
    );
    run(
        &mut state,
        &mut n,
        Command::AddJudge {
            id: JudgeId::new("j1").unwrap(),
            name: Localized::new("", "J1"),
            panel_role: PanelRole::Investor,
            affiliation: Localized::default(),
            assignment: Default::default(),
            conflicts: Default::default(),
        },
    );
    for (subject, token) in [
        (Subject::Team(TeamId::new("t1").unwrap()), "team-token"),
        (Subject::Judge(JudgeId::new("j1").unwrap()), "judge-token"),
    ] {
        run(
            &mut state,
            &mut n,
            Command::IssueToken {
                subject,
                token_hash: TokenHash::of(token),
            },
        );
    }
    assert_eq!(
        state.authenticate("team-token"),
        Some(Actor::Team(TeamId::new("t1").unwrap()))
    );
    assert_eq!(
        state.authenticate("judge-token"),
        Some(Actor::Judge(JudgeId::new("j1").unwrap()))
    );

    let removed = run(
        &mut state,
        &mut n,
        Command::RemoveTeam {
            id: TeamId::new("t1").unwrap(),
        },
    );
    run(
        &mut state,
        &mut n,
        Command::RemoveJudge {
            id: JudgeId::new("j1").unwrap(),
        },
    );
    assert_eq!(state.authenticate("team-token"), None);
    assert_eq!(state.authenticate("judge-token"), None);
    // The admin's view learns of the revocation with the removal.
    let delta = makerpulse_core::delta(&state, &removed[0], &makerpulse_core::Role::Admin).unwrap();
    assert!(delta
        .patches
        .iter()
        .any(|p| matches!(p, makerpulse_core::Patch::Tokens { .. })));
}

#[test]
fn an_event_from_a_newer_schema_is_refused() {
    let (mut state, mut n) = (State::new(), 0);
    let events = run(
        &mut state,
        &mut n,
        Command::CreateChallenge {
            id: ChallengeId::new("c").unwrap(),
            title: Localized::new("", "C"),
            description: Localized::default(),
            planned_start: None,
            duration_secs: None,
        },
    );
    let json = events[0].to_json();
    assert!(Event::from_json(&json).is_ok());
    let newer = json.replacen("\"schema\":2", "\"schema\":3", 1);
    let err = Event::from_json(&newer).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
}
