//! Keeps docs/json.md true: its commands are run in order against the core, every event, view and
//! delta it shows must be exactly what the core makes of them, and every command, event and patch
//! type must have an example; plus JSON round trips of commands, events, views and deltas.
//!
//! Each ```json block of the doc follows an HTML comment that says what it is:
//! - `<!-- command: ACTOR @ TIME -->`: an envelope that ACTOR sends at TIME; it must be accepted;
//! - `<!-- refused: CODE -->`: an envelope that `Envelope::from_json` refuses with CODE;
//! - `<!-- refused: CODE, ACTOR @ TIME -->`: an envelope the core refuses with CODE at that point;
//! - `<!-- event -->`: the event with that seq, as the commands above produce it;
//! - `<!-- view -->`: the snapshot at its seq for its role;
//! - `<!-- delta: ROLE -->`: the message with that seq of ROLE's stream, followed from seq 0.
//!
//! ACTOR is `admin`, `audience`, `system`, `team ID` or `judge ID`; ROLE is any of them but
//! `system`.

use std::collections::BTreeSet;
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use makerpulse_core::{
    snapshot, Actor, Command, CommandId, Delta, Envelope, Event, EventBody, JudgeId, Leaderboard,
    Outcome, Patch, Projector, Role, State, TeamId, View, ViewStream,
};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/json.md");

// ---- reading the doc ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Kind {
    Command {
        actor: Actor,
        at: DateTime<Utc>,
    },
    Refused {
        code: String,
        by: Option<(Actor, DateTime<Utc>)>,
    },
    Event,
    View,
    Delta {
        role: Role,
    },
}

#[derive(Clone, Debug)]
struct Block {
    /// 1-based line of the opening fence, for messages.
    line: usize,
    kind: Kind,
    json: String,
}

impl Block {
    fn value(&self) -> Value {
        serde_json::from_str(&self.json)
            .unwrap_or_else(|e| panic!("docs/json.md:{}: not JSON: {e}", self.line))
    }

    fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.json).unwrap_or_else(|e| {
            panic!(
                "docs/json.md:{}: not a {}: {e}",
                self.line,
                std::any::type_name::<T>()
            )
        })
    }
}

fn read_doc() -> String {
    std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("{DOC}: {e}"))
}

fn actor(words: &str, line: usize) -> Actor {
    let mut parts = words.split_whitespace();
    let (kind, id) = (parts.next().unwrap_or(""), parts.next());
    let actor = match (kind, id) {
        ("admin", None) => Actor::Admin,
        ("audience", None) => Actor::Audience,
        ("system", None) => Actor::System,
        ("team", Some(id)) => Actor::Team(TeamId::new(id).unwrap()),
        ("judge", Some(id)) => Actor::Judge(JudgeId::new(id).unwrap()),
        _ => panic!("docs/json.md:{line}: unknown actor {words:?}"),
    };
    assert!(parts.next().is_none(), "docs/json.md:{line}: {words:?}");
    actor
}

/// `ACTOR @ TIME`.
fn sender(words: &str, line: usize) -> (Actor, DateTime<Utc>) {
    let (who, when) = words
        .split_once('@')
        .unwrap_or_else(|| panic!("docs/json.md:{line}: expected `ACTOR @ TIME` in {words:?}"));
    let at = DateTime::parse_from_rfc3339(when.trim())
        .unwrap_or_else(|e| panic!("docs/json.md:{line}: {when:?}: {e}"))
        .with_timezone(&Utc);
    (actor(who.trim(), line), at)
}

fn marker(comment: &str, line: usize) -> Kind {
    let (kind, args) = match comment.split_once(':') {
        Some((kind, args)) => (kind.trim(), args.trim()),
        None => (comment.trim(), ""),
    };
    match (kind, args) {
        ("command", args) => {
            let (actor, at) = sender(args, line);
            Kind::Command { actor, at }
        }
        ("refused", args) => match args.split_once(',') {
            Some((code, by)) => Kind::Refused {
                code: code.trim().to_owned(),
                by: Some(sender(by, line)),
            },
            None => Kind::Refused {
                code: args.to_owned(),
                by: None,
            },
        },
        ("event", "") => Kind::Event,
        ("view", "") => Kind::View,
        ("delta", role) => Kind::Delta {
            role: match actor(role, line) {
                Actor::System => panic!("docs/json.md:{line}: the server has no view"),
                actor => Role::of(&actor),
            },
        },
        _ => panic!("docs/json.md:{line}: unknown marker <!-- {comment} -->"),
    }
}

/// Every ```json block with its marker; a block without a marker, or a marker without a block,
/// fails.
fn blocks(doc: &str) -> Vec<Block> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(comment) = line
            .strip_prefix("<!--")
            .and_then(|rest| rest.strip_suffix("-->"))
        {
            let kind = marker(comment.trim(), i + 1);
            let fence = (i + 1..lines.len())
                .find(|&j| !lines[j].trim().is_empty())
                .filter(|&j| lines[j].trim() == "```json")
                .unwrap_or_else(|| {
                    panic!(
                        "docs/json.md:{}: a marker must be followed by ```json",
                        i + 1
                    )
                });
            let end = (fence + 1..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("docs/json.md:{}: unclosed block", fence + 1));
            out.push(Block {
                line: fence + 1,
                kind,
                json: lines[fence + 1..end].join("\n"),
            });
            i = end + 1;
            continue;
        }
        assert!(
            !line.starts_with("```json"),
            "docs/json.md:{}: a ```json block needs a marker comment on the line before it",
            i + 1
        );
        i += 1;
    }
    out
}

// ---- running the doc's challenge ----------------------------------------------------------------

/// The doc's commands, run: the log, and the state after every seq (`states[0]` is empty).
struct Story {
    envelopes: Vec<Envelope>,
    log: Vec<Event>,
    states: Vec<State>,
}

impl Story {
    fn state(&self) -> &State {
        self.states.last().unwrap()
    }

    fn state_at(&self, seq: u64, line: usize) -> &State {
        self.states
            .get(seq as usize)
            .unwrap_or_else(|| panic!("docs/json.md:{line}: the commands stop before seq {seq}"))
    }
}

fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

fn run(blocks: &[Block]) -> Story {
    let mut story = Story {
        envelopes: Vec::new(),
        log: Vec::new(),
        states: vec![State::new()],
    };
    for block in blocks {
        match &block.kind {
            Kind::Command { actor, at } => {
                let envelope = Envelope::from_json(&block.json).unwrap_or_else(|e| {
                    panic!("docs/json.md:{}: refused: {e} ({})", block.line, e.code())
                });
                let mut state = story.state().clone();
                match state.execute(actor, &envelope, *at) {
                    Ok(Outcome::Applied(events)) => {
                        for event in events {
                            let mut next = story.state().clone();
                            next.apply(&event).unwrap();
                            story.states.push(next);
                            story.log.push(event);
                        }
                        assert_eq!(&state, story.state());
                    }
                    Ok(Outcome::Cheer(_)) => assert_eq!(&state, story.state()),
                    other => panic!("docs/json.md:{}: {other:?}", block.line),
                }
                story.envelopes.push(envelope);
            }
            Kind::Refused { code, by } => {
                let refusal = match by {
                    None => Envelope::from_json(&block.json).err(),
                    Some((actor, at)) => {
                        let envelope = Envelope::from_json(&block.json).unwrap_or_else(|e| {
                            panic!("docs/json.md:{}: unreadable: {e}", block.line)
                        });
                        let mut state = story.state().clone();
                        let refusal = state.execute(actor, &envelope, *at).err();
                        assert_eq!(&state, story.state(), "docs/json.md:{}", block.line);
                        refusal
                    }
                };
                let got = refusal.map(|e| e.code());
                assert_eq!(
                    got,
                    Some(code.as_str()),
                    "docs/json.md:{}: expected a refusal with {code}",
                    block.line
                );
            }
            Kind::Event | Kind::View | Kind::Delta { .. } => {}
        }
    }
    story
}

/// The doc's challenge, and the blocks it came from.
fn story() -> (Vec<Block>, Story) {
    let blocks = blocks(&read_doc());
    let story = run(&blocks);
    (blocks, story)
}

fn assert_shown<T: Serialize + Debug>(block: &Block, actual: &T) {
    let actual_value = serde_json::to_value(actual).unwrap();
    assert!(
        block.value() == actual_value,
        "docs/json.md:{}: the example differs from what the core produces, which is:\n{}",
        block.line,
        pretty(actual)
    );
}

// ---- the doc's examples -------------------------------------------------------------------------

#[test]
fn every_example_is_what_the_core_does() {
    let (blocks, story) = story();
    assert!(!story.log.is_empty());
    for block in &blocks {
        match &block.kind {
            Kind::Command { .. } | Kind::Refused { .. } => {}
            Kind::Event => {
                let shown = Event::from_json(&block.json)
                    .unwrap_or_else(|e| panic!("docs/json.md:{}: not an event: {e}", block.line));
                let actual = story
                    .log
                    .get((shown.seq as usize).wrapping_sub(1))
                    .unwrap_or_else(|| {
                        panic!("docs/json.md:{}: no event {}", block.line, shown.seq)
                    });
                assert_eq!(&shown, actual, "docs/json.md:{}", block.line);
                assert_shown(block, actual);
            }
            Kind::View => {
                let shown: View = block.parse();
                let actual = snapshot(story.state_at(shown.seq, block.line), &shown.role);
                assert_shown(block, &actual);
                assert_eq!(shown, actual, "docs/json.md:{}", block.line);
            }
            Kind::Delta { role } => {
                let shown: Delta = block.parse();
                let mut stream = ViewStream::new(role.clone(), 0);
                let actual = story
                    .log
                    .iter()
                    .take_while(|e| e.seq <= shown.seq)
                    .filter_map(|e| {
                        let after = Projector::new(&story.states[e.seq as usize]);
                        stream.next(&after, e)
                    })
                    .last()
                    .filter(|d| d.seq == shown.seq)
                    .unwrap_or_else(|| {
                        panic!(
                            "docs/json.md:{}: {role:?} gets no delta at seq {}",
                            block.line, shown.seq
                        )
                    });
                assert_shown(block, &actual);
                assert_eq!(shown, actual, "docs/json.md:{}", block.line);
            }
        }
    }
}

/// The `type` tags serde knows for `T`, read from the error it gives for an unknown one, so that
/// a type added to the code without an example here fails this test without anyone listing it.
fn type_tags<T: DeserializeOwned + Debug>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#"{"type": "\u0001"}"#)
        .expect_err("no type is called \\u0001")
        .to_string();
    let (_, list) = err
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("serde's message changed: {err}"));
    let tags: BTreeSet<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(tags.len() >= 10, "could not read the tags from {err:?}");
    tags
}

fn tag(value: &Value) -> String {
    value["type"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn every_command_event_and_patch_type_has_an_example() {
    let (blocks, story) = story();
    let commands: BTreeSet<String> = story
        .envelopes
        .iter()
        .map(|e| e.command.name().to_owned())
        .collect();
    let mut events = BTreeSet::new();
    let mut patches = BTreeSet::new();
    for block in &blocks {
        match block.kind {
            Kind::Event => {
                events.insert(tag(&block.value()["body"]));
            }
            Kind::Delta { .. } => {
                for patch in block.value()["patches"].as_array().unwrap() {
                    patches.insert(tag(patch));
                }
            }
            _ => {}
        }
    }
    let missing = |all: BTreeSet<String>, shown: &BTreeSet<String>| -> Vec<String> {
        all.difference(shown).cloned().collect()
    };
    let no_command = missing(type_tags::<Command>(), &commands);
    let no_event = missing(type_tags::<EventBody>(), &events);
    let no_patch = missing(type_tags::<Patch>(), &patches);
    assert!(
        no_command.is_empty() && no_event.is_empty() && no_patch.is_empty(),
        "docs/json.md has no example of commands {no_command:?}, events {no_event:?}, \
         patches {no_patch:?}"
    );
    assert!(
        blocks.iter().any(|b| matches!(b.kind, Kind::View)),
        "docs/json.md has no view"
    );
}

#[test]
fn command_names_are_their_type_tags() {
    let (_, story) = story();
    for envelope in &story.envelopes {
        let value = serde_json::to_value(&envelope.command).unwrap();
        assert_eq!(tag(&value), envelope.command.name());
    }
}

// ---- round trips --------------------------------------------------------------------------------

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(&back, value, "{json}");
}

#[test]
fn commands_events_views_and_deltas_round_trip() {
    let (_, story) = story();
    for envelope in &story.envelopes {
        let json = serde_json::to_string(envelope).unwrap();
        assert_eq!(&Envelope::from_json(&json).unwrap(), envelope, "{json}");
    }
    for event in &story.log {
        assert_eq!(&Event::from_json(&event.to_json()).unwrap(), event);
    }
    // The journal's whole promise: the log read back rebuilds exactly the live state.
    let read_back: Vec<Event> = story
        .log
        .iter()
        .map(|e| Event::from_json(&e.to_json()).unwrap())
        .collect();
    assert_eq!(&State::replay(&read_back).unwrap(), story.state());

    let roles = [
        Role::Admin,
        Role::Audience,
        Role::Team(TeamId::new("t-lumen").unwrap()),
        Role::Judge(JudgeId::new("j-chen").unwrap()),
    ];
    for role in &roles {
        let mut stream = ViewStream::new(role.clone(), 0);
        for event in &story.log {
            let state = &story.states[event.seq as usize];
            round_trip(&snapshot(state, role));
            if let Some(delta) = stream.next(&Projector::new(state), event) {
                round_trip(&delta);
            }
        }
    }
}

/// Weights a person could type or a script compute, including ones whose shortest decimal form
/// has 17 digits: they must read back as the very same number, or a state replayed from the
/// journal differs from the live one.
fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1e-9..1000.0f64),
        (1u32..1000, 1u32..1000).prop_map(|(a, b)| f64::from(a) / f64::from(b)),
        Just(0.1 + 0.2),
        Just(1.0 / 3.0),
        Just(f64::MIN_POSITIVE),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z 创客真人秀\"\\\\/\u{7f}\u{2028}\u{1f680}]{0,40}",
    ]
}

proptest! {
    #[test]
    fn rubrics_and_rankings_round_trip_exactly(
        weights in prop::collection::vec(weight(), 1..20),
        investor in weight(),
        seq in 1..u64::MAX,
    ) {
        let criteria: Vec<Value> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| serde_json::json!({"id": format!("c{i}"), "name": {"en": "C"}, "weight": w}))
            .collect();
        let rubric = serde_json::json!({"scale": {"min": 0, "max": 1000}, "criteria": criteria});
        let ranking = serde_json::json!({"role_weights": {"investor": investor}, "normalize": true});
        for command in [
            serde_json::json!({"type": "set_rubric", "rubric": rubric}),
            serde_json::json!({"type": "set_ranking", "settings": ranking}),
        ] {
            let command: Command = serde_json::from_value(command).unwrap();
            let envelope = Envelope::new(CommandId::new("c").unwrap(), command);
            let json = serde_json::to_string(&envelope).unwrap();
            prop_assert_eq!(Envelope::from_json(&json).unwrap(), envelope);
        }
        for body in [
            serde_json::json!({"type": "rubric_set", "rubric": rubric}),
            serde_json::json!({"type": "ranking_set", "settings": ranking}),
            serde_json::json!({"type": "team_revealed", "track": "hw", "team": "t1", "rank": 1, "score": investor}),
        ] {
            let event = Event::from_json(&serde_json::json!({
                "schema": 2, "seq": seq, "at": "2026-05-01T01:00:00.123456789Z",
                "actor": {"role": "admin"}, "command": {"id": "c", "digest": "0123456789abcdef"},
                "body": body,
            }).to_string()).unwrap();
            prop_assert_eq!(Event::from_json(&event.to_json()).unwrap(), event);
        }
    }

    #[test]
    fn texts_round_trip_exactly(text in text(), post in any::<u64>(), count in 1..u64::MAX) {
        for command in [
            serde_json::json!({"type": "post_progress", "text": text, "links": [text], "percent": 100}),
            serde_json::json!({"type": "hide_post", "post": post, "reason": text}),
            serde_json::json!({"type": "tally_cheers", "counts": {"t1": count}}),
            serde_json::json!({"type": "add_track", "id": "t", "name": {"zh": text, "en": text}}),
        ] {
            let command: Command = serde_json::from_value(command).unwrap();
            let envelope = Envelope::new(CommandId::new("c").unwrap(), command);
            let json = serde_json::to_string(&envelope).unwrap();
            prop_assert_eq!(Envelope::from_json(&json).unwrap(), envelope);
        }
    }
}

/// The freeze replays from what the log says was shown, not from the replaying server's rules:
/// a `frozen` event carries its board, and a schema 1 log (whose `frozen` carried nothing) replays
/// the board those servers showed — every score live, criterion means included.
#[test]
fn a_freeze_replays_the_board_its_event_carries_and_old_logs_replay_as_shown() {
    let (_, story) = story();
    let frozen = story
        .log
        .iter()
        .position(|e| matches!(e.body, EventBody::Frozen { .. }))
        .expect("the doc freezes");
    let EventBody::Frozen {
        board: Some(carried),
    } = &story.log[frozen].body
    else {
        panic!("a new freeze carries its board");
    };
    let replayed = State::replay(&story.log[..=frozen]).unwrap();
    assert_eq!(&replayed.frozen().unwrap().board, carried);

    // A board in the event that the rules of today would not compute is still what replays.
    let mut tampered = story.log[..=frozen].to_vec();
    tampered[frozen].body = EventBody::Frozen {
        board: Some(Leaderboard::default()),
    };
    let replayed = State::replay(&tampered).unwrap();
    assert_eq!(replayed.frozen().unwrap().board, Leaderboard::default());

    // The same log as a schema 1 server wrote it.
    let old: Vec<Event> = story.log[..=frozen]
        .iter()
        .map(|e| {
            let mut json: Value = serde_json::from_str(&e.to_json()).unwrap();
            json["schema"] = json!(1);
            if json["body"]["type"] == "frozen" {
                json["body"] = json!({"type": "frozen"});
            }
            Event::from_json(&json.to_string()).unwrap()
        })
        .collect();
    let replayed = State::replay(&old).unwrap();
    let shown = &replayed.frozen().unwrap().board;
    let live = Leaderboard::compute(&State::replay(&old[..frozen]).unwrap());
    assert_eq!(shown.overall.len(), live.overall.len());
    for (row, live) in shown.overall.iter().zip(&live.overall) {
        assert_eq!(
            (row.score, row.rank, &row.criteria),
            (live.score, live.rank, &live.criteria)
        );
        assert!(row.contributions.is_empty());
    }
}
