//! Fuzzes command validation: any envelope, from every kind of actor, against a running
//! challenge. A command is refused or its events are applied; either way the invariants hold:
//! replaying the log gives the live state, and every role's view folds to its snapshot.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use makerpulse_core::{
    decide, snapshot, stamp, Actor, Decision, Envelope, Event, JudgeId, Projector, Role, State,
    TeamId, View,
};

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::minutes(minutes)
}

/// A small running challenge: two tracks, three teams, two judges, scoring open.
fn fixture() -> &'static (State, Vec<Event>) {
    static FIXTURE: OnceLock<(State, Vec<Event>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut state = State::new();
        let mut log = Vec::new();
        let commands = [
            r#"{"id":"s1","command":{"type":"create_challenge","id":"c","title":{"en":"Fuzz"}}}"#,
            r#"{"id":"s2","command":{"type":"add_track","id":"a","name":{"en":"A"}}}"#,
            r#"{"id":"s3","command":{"type":"add_track","id":"b","name":{"en":"B"}}}"#,
            r#"{"id":"s4","command":{"type":"add_team","id":"t1","track":"a","name":{"en":"T1"}}}"#,
            r#"{"id":"s5","command":{"type":"add_team","id":"t2","track":"a","name":{"en":"T2"}}}"#,
            r#"{"id":"s6","command":{"type":"add_team","id":"t3","track":"b","name":{"en":"T3"}}}"#,
            r#"{"id":"s7","command":{"type":"add_judge","id":"j1","name":{"en":"J1"},"panel_role":"investor","assignment":{"tracks":["a","b"]},"conflicts":["t2"]}}"#,
            r#"{"id":"s8","command":{"type":"add_judge","id":"j2","name":{"en":"J2"},"panel_role":"domain_expert","assignment":{"teams":["t3"]}}}"#,
            r#"{"id":"s9","command":{"type":"start_challenge"}}"#,
            r#"{"id":"s10","command":{"type":"open_scoring"}}"#,
        ];
        for (i, raw) in commands.iter().enumerate() {
            let envelope = Envelope::from_json(raw).expect("fixture command");
            if let makerpulse_core::Outcome::Applied(events) = state.execute(&Actor::Admin, &envelope, at(i as i64)).expect("fixture") {
                log.extend(events);
            }
        }
        (state, log)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(envelope) = Envelope::from_json(text) else {
        return;
    };
    let actor = match selector % 7 {
        0 => Actor::Admin,
        1 => Actor::Audience,
        2 => Actor::System,
        3 => Actor::Team(TeamId::new("t1").unwrap()),
        4 => Actor::Team(TeamId::new("t9").unwrap()),
        5 => Actor::Judge(JudgeId::new("j1").unwrap()),
        _ => Actor::Judge(JudgeId::new("j2").unwrap()),
    };
    let now = at(60 + i64::from(selector));
    let (before, log) = fixture();
    let Ok(Decision::Append(bodies)) = decide(before, &actor, &envelope, now) else {
        return;
    };
    let events = stamp(before, &actor, &envelope, bodies, now);
    let mut after = before.clone();
    for event in &events {
        after.apply(event).expect("stamped events follow");
        // Every event reads back from its JSON as itself.
        assert_eq!(
            &Event::from_json(&event.to_json()).expect("reads back"),
            event
        );
    }
    let mut all = log.clone();
    all.extend(events.iter().cloned());
    assert_eq!(
        State::replay(&all).expect("replays"),
        after,
        "replay differs from the live state"
    );
    for role in [
        Role::Audience,
        Role::Admin,
        Role::Team(TeamId::new("t1").unwrap()),
        Role::Judge(JudgeId::new("j1").unwrap()),
    ] {
        let mut view: View = snapshot(before, &role);
        let projector = Projector::new(&after);
        for event in &events {
            if let Some(delta) = projector.delta(event, &role) {
                view.apply(&delta);
            }
        }
        view.seq = after.seq();
        assert_eq!(
            view,
            snapshot(&after, &role),
            "the deltas do not fold to the snapshot"
        );
    }
});
