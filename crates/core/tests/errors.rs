//! Every way a command is refused: each `DomainError` variant reached through the public API, with
//! its stable code, its two messages, and proof that a refusal changes nothing; plus garbage JSON,
//! resent commands and reused command ids.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Duration, TimeZone, Utc};
use makerpulse_core::{
    decide, Actor, ChallengeId, Command, CommandId, Decision, DomainError, Envelope, Event,
    EventBody, JudgeId, Outcome, Phase, State, TeamId, TokenHash,
};
use serde_json::{json, Value};

/// Every code `DomainError::code` can return. Clients switch on these, so the list is written out
/// here on purpose: renaming one must fail a test, and so must adding one that no case reaches.
const ALL_CODES: &[&str] = &[
    "import_refused",
    "import_too_large",
    "malformed",
    "unsupported_schema",
    "invalid_id",
    "invalid_token_hash",
    "empty_text",
    "text_too_long",
    "control_character",
    "invalid_url",
    "too_many",
    "invalid_duration",
    "invalid_scale",
    "invalid_weight",
    "invalid_percent",
    "invalid_photo",
    "duplicate_id",
    "unknown_id",
    "no_challenge",
    "challenge_exists",
    "wrong_phase",
    "forbidden",
    "not_assigned",
    "conflict_of_interest",
    "scoring_closed",
    "scoring_already",
    "score_out_of_scale",
    "empty_scorecard",
    "milestone_already_reached",
    "milestone_out_of_order",
    "milestone_not_reached",
    "already_paused",
    "not_paused",
    "clock_not_expired",
    "not_ready",
    "track_not_empty",
    "ranking_locked",
    "reveal_needs_closed_scoring",
    "reason_required",
    "already_hidden",
    "no_live_token",
    "command_id_reused",
];

// ---- a small challenge to refuse commands against ---------------------------------------------

/// The moment the clock starts.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
}

fn mins(m: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(m)
}

fn admin() -> Actor {
    Actor::Admin
}

fn team(id: &str) -> Actor {
    Actor::Team(TeamId::new(id).unwrap())
}

fn judge(id: &str) -> Actor {
    Actor::Judge(JudgeId::new(id).unwrap())
}

fn command(value: Value) -> Command {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// Scores for every criterion of the default rubric.
fn full_scores(points: u32) -> Value {
    json!({
        "innovation": points, "execution": points, "completeness": points,
        "commercial": points, "presentation": points,
    })
}

/// A challenge and the log that made it, driven only through `State::execute`.
#[derive(Clone)]
struct World {
    state: State,
    log: Vec<Event>,
    next_id: u32,
}

impl World {
    fn empty() -> Self {
        World {
            state: State::new(),
            log: Vec::new(),
            next_id: 0,
        }
    }

    fn fresh_id(&mut self) -> CommandId {
        self.next_id += 1;
        CommandId::new(format!("cmd-{}", self.next_id)).unwrap()
    }

    /// Runs a command that must be accepted.
    fn run(&mut self, actor: &Actor, value: Value, now: DateTime<Utc>) -> Vec<Event> {
        let envelope = Envelope::new(self.fresh_id(), command(value.clone()));
        match self.state.execute(actor, &envelope, now) {
            Ok(Outcome::Applied(events)) => {
                self.log.extend(events.iter().cloned());
                events
            }
            other => panic!("{value} from {actor:?} was not applied: {other:?}"),
        }
    }

    /// Setup: tracks `hw` and `sw`; teams `t1`, `t2` (hw) and `t3` (sw); judge `j1` assigned the
    /// whole hw track, judge `j2` assigned t1 and t2 with a conflict of interest with t2.
    fn setup() -> Self {
        let mut w = World::empty();
        let a = admin();
        let before = t0() - Duration::days(1);
        w.run(
            &a,
            json!({"type": "create_challenge", "id": "demo", "title": {"zh": "创客真人秀", "en": "Maker show"}}),
            before,
        );
        for track in ["hw", "sw"] {
            w.run(
                &a,
                json!({"type": "add_track", "id": track, "name": {"en": track}}),
                before,
            );
        }
        for (id, track) in [("t1", "hw"), ("t2", "hw"), ("t3", "sw")] {
            w.run(
                &a,
                json!({"type": "add_team", "id": id, "track": track, "name": {"en": id}}),
                before,
            );
        }
        w.run(
            &a,
            json!({"type": "add_judge", "id": "j1", "name": {"en": "J1"}, "panel_role": "domain_expert",
                   "assignment": {"tracks": ["hw"]}}),
            before,
        );
        w.run(
            &a,
            json!({"type": "add_judge", "id": "j2", "name": {"en": "J2"}, "panel_role": "investor",
                   "assignment": {"teams": ["t1", "t2"]}, "conflicts": ["t2"]}),
            before,
        );
        w
    }

    /// Setup, then the clock started at `t0`.
    fn running() -> Self {
        let mut w = World::setup();
        w.run(&admin(), json!({"type": "start_challenge"}), t0());
        w
    }

    /// Running, then building ended and scoring opened.
    fn judging() -> Self {
        let mut w = World::running();
        w.run(&admin(), json!({"type": "end_building"}), mins(60));
        w.run(&admin(), json!({"type": "open_scoring"}), mins(61));
        w
    }

    /// Judging with j1's scorecards of t1 and t2, then scoring closed and the board frozen.
    fn frozen() -> Self {
        let mut w = World::judging();
        for (t, points) in [("t1", 9), ("t2", 6)] {
            w.run(
                &judge("j1"),
                json!({"type": "submit_scorecard", "team": t, "scores": full_scores(points)}),
                mins(70),
            );
        }
        w.run(&admin(), json!({"type": "close_scoring"}), mins(80));
        w.run(&admin(), json!({"type": "freeze"}), mins(81));
        w
    }

    /// Frozen, then revealed step by step until the result is final.
    fn revealed() -> Self {
        let mut w = World::frozen();
        while w.state.phase() != Phase::Revealed {
            w.run(&admin(), json!({"type": "reveal_next"}), mins(90));
        }
        w
    }

    /// Sends a command that must be refused, through both `decide` and `State::execute`, and
    /// checks that the refusal changed nothing and left the command id free.
    fn refuse(&self, actor: &Actor, value: Value, now: DateTime<Utc>) -> DomainError {
        self.refuse_command(actor, command(value), now)
    }

    fn refuse_command(&self, actor: &Actor, command: Command, now: DateTime<Utc>) -> DomainError {
        let envelope = Envelope::new(CommandId::new("refused").unwrap(), command);
        let direct = decide(&self.state, actor, &envelope, now)
            .expect_err("decide should refuse the command");
        let mut state = self.state.clone();
        let executed = state
            .execute(actor, &envelope, now)
            .expect_err("execute should refuse the command");
        assert_eq!(direct, executed, "decide and execute disagree");
        assert_eq!(state, self.state, "a refused command changed the state");
        assert!(
            state.answered(actor, &envelope.id).is_none(),
            "a refused command took its id"
        );
        executed
    }
}

// ---- checking one refusal -----------------------------------------------------------------------

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

/// The two messages a user sees: English in `Display`, Chinese in `message_zh`, both in `message`.
fn assert_messages(err: &DomainError) {
    let en = err.to_string();
    let zh = err.message_zh();
    assert!(
        en.chars().filter(char::is_ascii_alphabetic).count() >= 5,
        "{:?}: English message {en:?} is not English",
        err.code()
    );
    assert!(
        !en.chars().any(is_chinese),
        "{:?}: English message {en:?} holds Chinese",
        err.code()
    );
    assert!(
        zh.chars().filter(|&c| is_chinese(c)).count() >= 2,
        "{:?}: Chinese message {zh:?} is not Chinese",
        err.code()
    );
    let both = err.message();
    assert_eq!(both.en, en);
    assert_eq!(both.zh, zh);
}

/// One refusal, named for the failure message, with the code it must carry.
struct Case {
    what: &'static str,
    code: &'static str,
    err: DomainError,
}

fn case(what: &'static str, code: &'static str, err: DomainError) -> Case {
    Case { what, code, err }
}

fn check(cases: &[Case]) {
    for c in cases {
        assert_eq!(
            c.err.code(),
            c.code,
            "{}: got {:?} ({})",
            c.what,
            c.err,
            c.err
        );
        assert_messages(&c.err);
        assert_eq!(
            c.err.is_forbidden(),
            matches!(
                c.code,
                "forbidden" | "not_assigned" | "conflict_of_interest"
            ),
            "{}: is_forbidden is wrong for {}",
            c.what,
            c.code
        );
    }
}

fn envelope_json(command: Value) -> String {
    json!({"schema": 2, "id": "c-1", "command": command}).to_string()
}

// ---- the cases, by area -------------------------------------------------------------------------

/// Refusals of the JSON itself, before any state is looked at.
fn parsing_cases() -> Vec<Case> {
    let from_json = |raw: &str| Envelope::from_json(raw).expect_err(raw);
    vec![
        case("not JSON", "malformed", from_json("not json")),
        case(
            "an unknown command type",
            "malformed",
            from_json(&envelope_json(json!({"type": "launch_rocket"}))),
        ),
        case(
            "an unknown field in a command",
            "malformed",
            from_json(&envelope_json(
                json!({"type": "remove_track", "id": "hw", "force": true}),
            )),
        ),
        case(
            "an unknown field in a command without fields",
            "malformed",
            from_json(&envelope_json(json!({"type": "freeze", "now": true}))),
        ),
        case(
            "an unknown field in the envelope",
            "malformed",
            from_json(r#"{"id": "c-1", "command": {"type": "freeze"}, "token": "x"}"#),
        ),
        case(
            "an invalid id inside the JSON",
            "malformed",
            from_json(&envelope_json(
                json!({"type": "remove_track", "id": "../etc"}),
            )),
        ),
        case(
            "a newer schema",
            "unsupported_schema",
            from_json(r#"{"schema": 3, "id": "c-1", "command": {"type": "freeze"}}"#),
        ),
        case(
            "schema 0",
            "unsupported_schema",
            from_json(r#"{"schema": 0, "id": "c-1", "command": {"type": "freeze"}}"#),
        ),
        // Ids inside JSON are checked while parsing (so they come back as `malformed`, above);
        // `invalid_id` is what a transport gets when it checks an id from a path or a query.
        case(
            "an id with a slash",
            "invalid_id",
            ChallengeId::new("demo/../x").unwrap_err(),
        ),
        case("an empty id", "invalid_id", TeamId::new("").unwrap_err()),
        case(
            "an id of 65 characters",
            "invalid_id",
            CommandId::new("x".repeat(65)).unwrap_err(),
        ),
        case(
            "an uppercase token hash",
            "invalid_token_hash",
            TokenHash::new(TokenHash::of("secret").as_str().to_uppercase()).unwrap_err(),
        ),
        case(
            "a short token hash",
            "invalid_token_hash",
            TokenHash::new("abc").unwrap_err(),
        ),
    ]
}

/// Refusals of bad values: text, links, lists, numbers.
fn validation_cases() -> Vec<Case> {
    let setup = World::setup();
    let running = World::running();
    let empty = World::empty();
    let a = admin();
    let t1 = team("t1");
    let post = |extra: Value| {
        let mut c = json!({"type": "post_progress", "text": "hello"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        running.refuse(&t1, c, mins(10))
    };
    let photo = json!({"sha256": TokenHash::of("img").as_str(), "content_type": "png"});
    let rubric = |scale: Value, weight: Value| {
        json!({"type": "set_rubric", "rubric": {"scale": scale, "criteria": [
            {"id": "innovation", "name": {"en": "Innovation"}, "weight": weight}]}})
    };
    let nan_rubric = |weight: f64| {
        let mut c = command(rubric(json!({"min": 1, "max": 10}), json!(1.0)));
        if let Command::SetRubric { rubric } = &mut c {
            rubric.criteria[0].weight = weight;
        }
        c
    };
    vec![
        case(
            "a track without a name",
            "empty_text",
            setup.refuse(
                &a,
                json!({"type": "add_track", "id": "x", "name": {"zh": " ", "en": ""}}),
                mins(-10),
            ),
        ),
        case(
            "a post with nothing in it",
            "empty_text",
            post(json!({"text": "   "})),
        ),
        case(
            "a rubric without criteria",
            "empty_text",
            setup.refuse(
                &a,
                json!({"type": "set_rubric", "rubric": {"scale": {"min": 1, "max": 10}, "criteria": []}}),
                mins(-10),
            ),
        ),
        case(
            "a member without a name",
            "empty_text",
            setup.refuse(
                &a,
                json!({"type": "add_team", "id": "t9", "track": "hw", "name": {"en": "T9"},
                       "members": [{"name": "", "discipline": "maker", "region": "中国"}]}),
                mins(-10),
            ),
        ),
        case(
            "a name of 81 characters",
            "text_too_long",
            setup.refuse(
                &a,
                json!({"type": "add_track", "id": "x", "name": {"zh": "创".repeat(81)}}),
                mins(-10),
            ),
        ),
        case(
            "a post of 2001 characters",
            "text_too_long",
            post(json!({"text": "a".repeat(2001)})),
        ),
        case(
            "a name with a bell character",
            "control_character",
            setup.refuse(
                &a,
                json!({"type": "add_track", "id": "x", "name": {"en": "bell\u{7}"}}),
                mins(-10),
            ),
        ),
        case(
            "a pause reason with an escape sequence",
            "control_character",
            running.refuse(
                &a,
                json!({"type": "pause_clock", "reason": "\u{1b}[2J"}),
                mins(10),
            ),
        ),
        case(
            "a javascript: link",
            "invalid_url",
            post(json!({"links": ["javascript:alert(1)"]})),
        ),
        case(
            "a link without a host",
            "invalid_url",
            post(json!({"links": ["https:///path"]})),
        ),
        case(
            "seven photos",
            "too_many",
            post(json!({"photos": vec![photo.clone(); 7]})),
        ),
        case(
            "six links",
            "too_many",
            post(json!({"links": vec!["https://example.org"; 6]})),
        ),
        case(
            "thirteen members",
            "too_many",
            setup.refuse(
                &a,
                json!({"type": "add_team", "id": "t9", "track": "hw", "name": {"en": "T9"},
                       "members": vec![json!({"name": "M", "discipline": "maker", "region": ""}); 13]}),
                mins(-10),
            ),
        ),
        case(
            "a duration of 0 seconds",
            "invalid_duration",
            empty.refuse(
                &a,
                json!({"type": "create_challenge", "id": "demo", "title": {"en": "x"}, "duration_secs": 0}),
                mins(-10),
            ),
        ),
        case(
            "a duration over 30 days",
            "invalid_duration",
            setup.refuse(
                &a,
                json!({"type": "update_challenge", "title": {"en": "x"}, "duration_secs": 30 * 24 * 3600 + 1}),
                mins(-10),
            ),
        ),
        case(
            "a milestone due after 30 days",
            "invalid_duration",
            setup.refuse(
                &a,
                json!({"type": "set_milestones", "milestones": [
                    {"id": "m", "name": {"en": "M"}, "due_offset_secs": 30 * 24 * 3600 + 1}]}),
                mins(-10),
            ),
        ),
        case(
            "a scale from 10 to 10",
            "invalid_scale",
            setup.refuse(&a, rubric(json!({"min": 10, "max": 10}), json!(1.0)), mins(-10)),
        ),
        case(
            "a scale up to 1001",
            "invalid_scale",
            setup.refuse(&a, rubric(json!({"min": 0, "max": 1001}), json!(1.0)), mins(-10)),
        ),
        case(
            "a criterion weighing 0",
            "invalid_weight",
            setup.refuse(&a, rubric(json!({"min": 1, "max": 10}), json!(0.0)), mins(-10)),
        ),
        case(
            "a criterion weighing 1000.5",
            "invalid_weight",
            setup.refuse(&a, rubric(json!({"min": 1, "max": 10}), json!(1000.5)), mins(-10)),
        ),
        case(
            "a criterion weighing NaN",
            "invalid_weight",
            setup.refuse_command(&a, nan_rubric(f64::NAN), mins(-10)),
        ),
        case(
            "a criterion weighing infinity",
            "invalid_weight",
            setup.refuse_command(&a, nan_rubric(f64::INFINITY), mins(-10)),
        ),
        case(
            "a panel role weighing -1",
            "invalid_weight",
            setup.refuse(
                &a,
                json!({"type": "set_ranking", "settings": {"role_weights": {"investor": -1.0}}}),
                mins(-10),
            ),
        ),
        case(
            "101 percent done",
            "invalid_percent",
            post(json!({"percent": 101})),
        ),
        case(
            "a photo that is not a SHA-256",
            "invalid_photo",
            post(json!({"photos": [{"sha256": "cat.jpg", "content_type": "jpeg"}]})),
        ),
        case(
            "a malformed cheer tally",
            "malformed",
            running.refuse(
                &Actor::System,
                json!({"type": "tally_cheers", "counts": {"t1": 0}}),
                mins(10),
            ),
        ),
        case(
            "an empty cheer tally",
            "malformed",
            running.refuse(
                &Actor::System,
                json!({"type": "tally_cheers", "counts": {}}),
                mins(10),
            ),
        ),
    ]
}

/// Refusals about ids: taken, unknown, or reused for another command.
fn identity_cases() -> Vec<Case> {
    let setup = World::setup();
    let running = World::running();
    let a = admin();
    let mut with_token = World::setup();
    let hash = TokenHash::of("secret");
    with_token.run(
        &a,
        json!({"type": "issue_token", "subject": {"role": "team", "id": "t1"}, "token_hash": hash.as_str()}),
        mins(-5),
    );
    let mut reused = World::setup();
    let id = CommandId::new("same-id").unwrap();
    reused
        .state
        .execute(
            &a,
            &Envelope::new(
                id.clone(),
                command(json!({"type": "add_track", "id": "x", "name": {"en": "X"}})),
            ),
            mins(-5),
        )
        .unwrap();
    let reused_err = {
        let envelope = Envelope::new(
            id,
            command(json!({"type": "add_track", "id": "y", "name": {"en": "Y"}})),
        );
        let mut state = reused.state.clone();
        let err = state.execute(&a, &envelope, mins(-4)).unwrap_err();
        assert_eq!(state, reused.state, "a reused id changed the state");
        err
    };
    let many: Vec<Value> = (0..=makerpulse_core::decide::MAX_IMPORT_ROWS)
        .map(|i| json!({"id": format!("imp{i}"), "track": "sw", "name": {"en": "Imported"}}))
        .collect();
    vec![
        case(
            "an import whose second team's id is taken, and whose judge names no team",
            "import_refused",
            setup.refuse(
                &a,
                json!({"type": "import_roster",
                       "teams": [{"id": "t-new", "track": "sw", "name": {"en": "New"}},
                                 {"id": "t1", "track": "sw", "name": {"en": "again"}}],
                       "judges": [{"id": "j-new", "name": {"en": "New"}, "panel_role": "investor",
                                   "conflicts": ["ghost"]}]}),
                mins(-10),
            ),
        ),
        case(
            "an import of more rows than one import holds",
            "import_too_large",
            setup.refuse(&a, json!({"type": "import_roster", "teams": many}), mins(-10)),
        ),
        case(
            "a track id taken",
            "duplicate_id",
            setup.refuse(
                &a,
                json!({"type": "add_track", "id": "hw", "name": {"en": "again"}}),
                mins(-10),
            ),
        ),
        case(
            "a team id taken",
            "duplicate_id",
            setup.refuse(
                &a,
                json!({"type": "add_team", "id": "t1", "track": "sw", "name": {"en": "again"}}),
                mins(-10),
            ),
        ),
        case(
            "a judge id taken",
            "duplicate_id",
            setup.refuse(
                &a,
                json!({"type": "add_judge", "id": "j1", "name": {"en": "again"}, "panel_role": "investor"}),
                mins(-10),
            ),
        ),
        case(
            "two criteria with one id",
            "duplicate_id",
            setup.refuse(
                &a,
                json!({"type": "set_rubric", "rubric": {"scale": {"min": 1, "max": 10}, "criteria": [
                    {"id": "c", "name": {"en": "C"}, "weight": 1.0},
                    {"id": "c", "name": {"en": "C again"}, "weight": 1.0}]}}),
                mins(-10),
            ),
        ),
        case(
            "two milestones with one id",
            "duplicate_id",
            setup.refuse(
                &a,
                json!({"type": "set_milestones", "milestones": [
                    {"id": "m", "name": {"en": "M"}}, {"id": "m", "name": {"en": "M again"}}]}),
                mins(-10),
            ),
        ),
        case(
            "a token minted twice",
            "duplicate_id",
            with_token.refuse(
                &a,
                json!({"type": "issue_token", "subject": {"role": "team", "id": "t2"}, "token_hash": hash.as_str()}),
                mins(-4),
            ),
        ),
        case(
            "a conflict declared twice",
            "duplicate_id",
            running.refuse(
                &judge("j2"),
                json!({"type": "declare_conflict", "team": "t2"}),
                mins(10),
            ),
        ),
        case(
            "a team in an unknown track",
            "unknown_id",
            setup.refuse(
                &a,
                json!({"type": "add_team", "id": "t9", "track": "nope", "name": {"en": "T9"}}),
                mins(-10),
            ),
        ),
        case(
            "renaming an unknown track",
            "unknown_id",
            setup.refuse(
                &a,
                json!({"type": "update_track", "id": "nope", "name": {"en": "N"}}),
                mins(-10),
            ),
        ),
        case(
            "a judge assigned an unknown team",
            "unknown_id",
            setup.refuse(
                &a,
                json!({"type": "add_judge", "id": "j9", "name": {"en": "J9"}, "panel_role": "investor",
                       "assignment": {"teams": ["nope"]}}),
                mins(-10),
            ),
        ),
        case(
            "hiding an unknown post",
            "unknown_id",
            running.refuse(
                &a,
                json!({"type": "hide_post", "post": 999_999}),
                mins(10),
            ),
        ),
        case(
            "an unknown milestone",
            "unknown_id",
            running.refuse(
                &team("t1"),
                json!({"type": "reach_milestone", "milestone": "moon"}),
                mins(10),
            ),
        ),
        case(
            "a team console of a removed team",
            "unknown_id",
            running.refuse(
                &team("gone"),
                json!({"type": "post_progress", "text": "hi"}),
                mins(10),
            ),
        ),
        case(
            "a token for an unknown judge",
            "unknown_id",
            setup.refuse(
                &a,
                json!({"type": "issue_token", "subject": {"role": "judge", "id": "nope"}, "token_hash": hash.as_str()}),
                mins(-10),
            ),
        ),
        case(
            "cheering for an unknown team",
            "unknown_id",
            running.refuse(
                &Actor::Audience,
                json!({"type": "cheer", "team": "nope"}),
                mins(10),
            ),
        ),
        case(
            "revoking the tokens of a team without one",
            "no_live_token",
            setup.refuse(
                &a,
                json!({"type": "revoke_tokens", "subject": {"role": "team", "id": "t2"}}),
                mins(-10),
            ),
        ),
        case("a command id reused", "command_id_reused", reused_err),
    ]
}

/// Refusals about the challenge's lifecycle and who may act.
fn lifecycle_cases() -> Vec<Case> {
    let empty = World::empty();
    let setup = World::setup();
    let running = World::running();
    let judging = World::judging();
    let frozen = World::frozen();
    let revealed = World::revealed();
    let a = admin();
    let mut bare = World::empty();
    bare.run(
        &a,
        json!({"type": "create_challenge", "id": "demo", "title": {"en": "x"}}),
        mins(-10),
    );
    let mut paused = World::running();
    paused.run(&a, json!({"type": "pause_clock"}), mins(10));
    let mut frozen_open = World::frozen();
    frozen_open.run(
        &a,
        json!({"type": "open_scoring", "reason": "a judge's card was lost in the hall"}),
        mins(85),
    );
    // A journal cut after the last reveal step but before `result_final` (the two are one
    // command's events): every team is revealed, yet the phase is still frozen.
    let mut cut = revealed.log.clone();
    let last = cut.pop().unwrap();
    assert!(matches!(last.body, EventBody::ResultFinal));
    let mut cut = World {
        state: State::replay(&cut).unwrap(),
        log: cut,
        next_id: revealed.next_id,
    };
    // Such a reveal is completed by the next step rather than stuck.
    let completed = cut.run(&a, json!({"type": "reveal_next"}), mins(100));
    assert_eq!(completed.len(), 1);
    assert!(matches!(completed[0].body, EventBody::ResultFinal));
    assert_eq!(cut.state.phase(), makerpulse_core::Phase::Revealed);
    vec![
        case(
            "adding a track before the challenge",
            "no_challenge",
            empty.refuse(
                &a,
                json!({"type": "add_track", "id": "hw", "name": {"en": "HW"}}),
                mins(-10),
            ),
        ),
        case(
            "starting before the challenge",
            "no_challenge",
            empty.refuse(&a, json!({"type": "start_challenge"}), mins(-10)),
        ),
        case(
            "creating the challenge twice",
            "challenge_exists",
            setup.refuse(
                &a,
                json!({"type": "create_challenge", "id": "demo", "title": {"en": "again"}}),
                mins(-10),
            ),
        ),
        case(
            "adding a track while running",
            "wrong_phase",
            running.refuse(
                &a,
                json!({"type": "add_track", "id": "x", "name": {"en": "X"}}),
                mins(10),
            ),
        ),
        case(
            "posting during setup",
            "wrong_phase",
            setup.refuse(
                &team("t1"),
                json!({"type": "post_progress", "text": "early"}),
                mins(-10),
            ),
        ),
        case(
            "freezing while running",
            "wrong_phase",
            running.refuse(&a, json!({"type": "freeze"}), mins(10)),
        ),
        case(
            "moving a team to another track while running",
            "wrong_phase",
            running.refuse(
                &a,
                json!({"type": "update_team", "id": "t1", "track": "sw", "name": {"en": "t1"}}),
                mins(10),
            ),
        ),
        case(
            "changing a judge after the result",
            "wrong_phase",
            revealed.refuse(
                &a,
                json!({"type": "update_judge", "id": "j1", "name": {"en": "J1"}, "panel_role": "investor"}),
                mins(100),
            ),
        ),
        case(
            "starting twice",
            "wrong_phase",
            running.refuse(&a, json!({"type": "start_challenge"}), mins(10)),
        ),
        case(
            "the audience adding a track",
            "forbidden",
            setup.refuse(
                &Actor::Audience,
                json!({"type": "add_track", "id": "x", "name": {"en": "X"}}),
                mins(-10),
            ),
        ),
        case(
            "a team scoring",
            "forbidden",
            judging.refuse(
                &team("t1"),
                json!({"type": "submit_scorecard", "team": "t2", "scores": full_scores(10)}),
                mins(70),
            ),
        ),
        case(
            "a judge posting progress",
            "forbidden",
            running.refuse(
                &judge("j1"),
                json!({"type": "post_progress", "text": "hi"}),
                mins(10),
            ),
        ),
        case(
            "an admin cheering",
            "forbidden",
            running.refuse(&a, json!({"type": "cheer", "team": "t1"}), mins(10)),
        ),
        case(
            "an admin tallying cheers",
            "forbidden",
            running.refuse(
                &a,
                json!({"type": "tally_cheers", "counts": {"t1": 5}}),
                mins(10),
            ),
        ),
        case(
            "the server adding a team",
            "forbidden",
            setup.refuse(
                &Actor::System,
                json!({"type": "add_team", "id": "t9", "track": "hw", "name": {"en": "T9"}}),
                mins(-10),
            ),
        ),
        case(
            "starting without teams",
            "not_ready",
            bare.refuse(&a, json!({"type": "start_challenge"}), mins(-5)),
        ),
        case(
            "removing a track with teams",
            "track_not_empty",
            setup.refuse(&a, json!({"type": "remove_track", "id": "hw"}), mins(-10)),
        ),
        case(
            "pausing a paused clock",
            "already_paused",
            paused.refuse(&a, json!({"type": "pause_clock"}), mins(11)),
        ),
        case(
            "resuming a running clock",
            "not_paused",
            running.refuse(&a, json!({"type": "resume_clock"}), mins(10)),
        ),
        case(
            "the server ending building early",
            "clock_not_expired",
            running.refuse(&Actor::System, json!({"type": "end_building"}), mins(60)),
        ),
        case(
            "changing the ranking after the freeze",
            "ranking_locked",
            frozen.refuse(
                &a,
                json!({"type": "set_ranking", "settings": {"normalize": true}}),
                mins(85),
            ),
        ),
        case(
            "reopening scoring during the freeze without a reason",
            "reason_required",
            frozen.refuse(&a, json!({"type": "open_scoring", "reason": "  "}), mins(85)),
        ),
        case(
            "reopening scoring once the reveal has begun",
            "wrong_phase",
            {
                let mut w = World::frozen();
                w.run(&a, json!({"type": "reveal_next"}), mins(86));
                w.refuse(&a, json!({"type": "open_scoring", "reason": "recount"}), mins(87))
            },
        ),
        case(
            "revising a scorecard without a reason",
            "reason_required",
            {
                let mut w = World::judging();
                w.run(
                    &judge("j1"),
                    json!({"type": "submit_scorecard", "team": "t1", "scores": full_scores(7)}),
                    mins(70),
                );
                w.refuse(
                    &judge("j1"),
                    json!({"type": "submit_scorecard", "team": "t1", "scores": full_scores(8), "reason": " \t "}),
                    mins(71),
                )
            },
        ),
        case(
            "revealing while scoring is open",
            "reveal_needs_closed_scoring",
            frozen_open.refuse(&a, json!({"type": "reveal_next"}), mins(86)),
        ),
        case(
            "revealing after the result is final",
            "wrong_phase",
            revealed.refuse(&a, json!({"type": "reveal_next"}), mins(100)),
        ),
    ]
}

/// Refusals of team and judge work: posts, milestones, scorecards.
fn work_cases() -> Vec<Case> {
    let running = World::running();
    let judging = World::judging();
    let a = admin();
    let t1 = team("t1");
    let mut posted = World::running();
    let post = posted.run(
        &t1,
        json!({"type": "post_progress", "text": "spam"}),
        mins(10),
    )[0]
    .seq;
    posted.run(&a, json!({"type": "hide_post", "post": post}), mins(11));
    let mut reached = World::running();
    reached.run(
        &t1,
        json!({"type": "reach_milestone", "milestone": "idea"}),
        mins(10),
    );
    let score = |w: &World, who: &str, t: &str, scores: Value| {
        w.refuse(
            &judge(who),
            json!({"type": "submit_scorecard", "team": t, "scores": scores}),
            mins(70),
        )
    };
    vec![
        case(
            "hiding a hidden post",
            "already_hidden",
            posted.refuse(&a, json!({"type": "hide_post", "post": post}), mins(12)),
        ),
        case(
            "reaching a milestone twice",
            "milestone_already_reached",
            reached.refuse(
                &t1,
                json!({"type": "reach_milestone", "milestone": "idea"}),
                mins(11),
            ),
        ),
        case(
            "skipping a milestone",
            "milestone_out_of_order",
            running.refuse(
                &t1,
                json!({"type": "reach_milestone", "milestone": "prototype"}),
                mins(10),
            ),
        ),
        case(
            "undoing a milestone the team has not reached",
            "milestone_not_reached",
            reached.refuse(
                &a,
                json!({"type": "undo_milestone", "team": "t1", "milestone": "plan", "reason": "mistake"}),
                mins(11),
            ),
        ),
        case(
            "undoing a milestone without a reason",
            "empty_text",
            reached.refuse(
                &a,
                json!({"type": "undo_milestone", "team": "t1", "milestone": "idea", "reason": "  "}),
                mins(11),
            ),
        ),
        case(
            "undoing a milestone with a reason past the limit",
            "text_too_long",
            reached.refuse(
                &a,
                json!({"type": "undo_milestone", "team": "t1", "milestone": "idea", "reason": "x".repeat(501)}),
                mins(11),
            ),
        ),
        case(
            "scoring before scoring opens",
            "scoring_closed",
            score(&running, "j1", "t1", full_scores(5)),
        ),
        case(
            "opening scoring twice",
            "scoring_already",
            judging.refuse(&a, json!({"type": "open_scoring"}), mins(70)),
        ),
        case(
            "closing closed scoring",
            "scoring_already",
            running.refuse(&a, json!({"type": "close_scoring"}), mins(10)),
        ),
        case(
            "scoring a team of another track",
            "not_assigned",
            score(&judging, "j1", "t3", full_scores(5)),
        ),
        case(
            "scoring a conflicted team",
            "conflict_of_interest",
            score(&judging, "j2", "t2", full_scores(5)),
        ),
        case(
            "a score of 11 on a 1–10 scale",
            "score_out_of_scale",
            score(&judging, "j1", "t1", json!({"innovation": 11})),
        ),
        case(
            "a score of 0 on a 1–10 scale",
            "score_out_of_scale",
            score(&judging, "j1", "t1", json!({"execution": 0})),
        ),
        case(
            "a scorecard without scores",
            "empty_scorecard",
            score(&judging, "j1", "t1", json!({})),
        ),
        case(
            "a score for an unknown criterion",
            "unknown_id",
            score(&judging, "j1", "t1", json!({"beauty": 5})),
        ),
        case(
            "scoring an unknown team",
            "unknown_id",
            score(&judging, "j1", "nope", full_scores(5)),
        ),
    ]
}

fn all_cases() -> Vec<Case> {
    [
        parsing_cases(),
        validation_cases(),
        identity_cases(),
        lifecycle_cases(),
        work_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

// ---- the tests ----------------------------------------------------------------------------------

#[test]
fn parsing_refusals() {
    check(&parsing_cases());
}

#[test]
fn validation_refusals() {
    check(&validation_cases());
}

#[test]
fn identity_refusals() {
    check(&identity_cases());
}

#[test]
fn lifecycle_refusals() {
    check(&lifecycle_cases());
}

#[test]
fn work_refusals() {
    check(&work_cases());
}

/// The codes as `DomainError::code` spells them in the source. `DomainError` is
/// `#[non_exhaustive]`, so a match outside the crate must have a wildcard arm and cannot make a
/// new variant break this file's compilation; `code()` inside the crate is exhaustive, though, so
/// reading its arms finds every variant, including one added tomorrow.
fn codes_in_source() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/error.rs");
    let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = source
        .find("pub fn code(&self)")
        .expect("error.rs has `pub fn code(&self)`");
    let body = &source[start..];
    let end = body[1..].find("pub fn ").map_or(body.len(), |i| i + 1);
    let codes: BTreeSet<String> = body[..end]
        .split("=> \"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    let arms = body[..end].matches("DomainError::").count();
    assert_eq!(arms, codes.len(), "every arm of code() has its own code");
    codes
}

#[test]
fn every_code_is_reached_and_listed() {
    let listed: BTreeSet<String> = ALL_CODES.iter().map(|c| c.to_string()).collect();
    assert_eq!(listed.len(), ALL_CODES.len(), "ALL_CODES has a duplicate");
    let in_source = codes_in_source();
    let only_in_source: Vec<_> = in_source.difference(&listed).collect();
    let only_listed: Vec<_> = listed.difference(&in_source).collect();
    assert!(
        only_in_source.is_empty() && only_listed.is_empty(),
        "DomainError::code() has {only_in_source:?} that ALL_CODES lacks, and ALL_CODES has \
         {only_listed:?} that code() lacks: write a case for every new variant"
    );
    let reached: BTreeSet<String> = all_cases().iter().map(|c| c.code.to_owned()).collect();
    let unreached: Vec<_> = listed.difference(&reached).collect();
    assert!(unreached.is_empty(), "no case reaches {unreached:?}");
}

/// Names a `DomainError` in words, one arm per variant. The wildcard arm is forced by
/// `#[non_exhaustive]`; [`every_code_is_reached_and_listed`] is what catches a new variant.
fn describe(err: &DomainError) -> &'static str {
    match err {
        DomainError::ImportRefused { .. } => "refused import",
        DomainError::ImportTooLarge { .. } => "import too large",
        DomainError::Malformed { .. } => "unreadable command",
        DomainError::UnsupportedSchema { .. } => "newer protocol",
        DomainError::InvalidId { .. } => "bad id",
        DomainError::InvalidTokenHash => "bad token hash",
        DomainError::EmptyText { .. } => "empty text",
        DomainError::TextTooLong { .. } => "long text",
        DomainError::ControlCharacter { .. } => "control character",
        DomainError::InvalidUrl { .. } => "bad link",
        DomainError::TooMany { .. } => "long list",
        DomainError::InvalidDuration => "bad duration",
        DomainError::InvalidScale { .. } => "bad scale",
        DomainError::InvalidWeight { .. } => "bad weight",
        DomainError::InvalidPercent => "bad percent",
        DomainError::InvalidPhoto => "bad photo",
        DomainError::DuplicateId { .. } => "taken id",
        DomainError::Unknown { .. } => "unknown id",
        DomainError::NoChallenge => "no challenge",
        DomainError::ChallengeExists => "challenge exists",
        DomainError::WrongPhase { .. } => "wrong phase",
        DomainError::Forbidden { .. } => "forbidden",
        DomainError::NotAssigned { .. } => "not assigned",
        DomainError::Conflicted { .. } => "conflicted",
        DomainError::ScoringClosed => "scoring closed",
        DomainError::ScoringAlready { .. } => "scoring already so",
        DomainError::ScoreOutOfScale { .. } => "score off scale",
        DomainError::EmptyScorecard => "empty scorecard",
        DomainError::MilestoneAlreadyReached { .. } => "milestone reached",
        DomainError::MilestoneOutOfOrder { .. } => "milestone skipped",
        DomainError::MilestoneNotReached { .. } => "undoing a milestone not reached",
        DomainError::AlreadyPaused => "paused",
        DomainError::NotPaused => "not paused",
        DomainError::ClockNotExpired => "clock running",
        DomainError::NotReady { .. } => "not ready",
        DomainError::TrackNotEmpty { .. } => "track has teams",
        DomainError::RankingLocked => "ranking locked",
        DomainError::RevealNeedsClosedScoring => "scoring open",
        DomainError::ReasonRequired { .. } => "no reason",
        DomainError::AlreadyHidden { .. } => "hidden",
        DomainError::NoLiveToken { .. } => "no token",
        DomainError::CommandIdReused { .. } => "id reused",
        _ => "a variant this test does not know yet",
    }
}

#[test]
fn every_reached_variant_has_a_named_arm() {
    for c in all_cases() {
        assert_ne!(
            describe(&c.err),
            "a variant this test does not know yet",
            "{}: {:?} has no arm in describe()",
            c.what,
            c.err
        );
    }
}

#[test]
fn error_codes_are_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/json.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for code in ALL_CODES {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/json.md does not list the error code `{code}`"
        );
    }
}

// ---- garbage never panics -----------------------------------------------------------------------

fn garbage() -> Vec<String> {
    let freeze = r#""command": {"type": "freeze"}"#;
    let env = |body: &str| format!(r#"{{"id": "c-1", {body}}}"#);
    let with_command = |c: &str| format!(r#"{{"id": "c-1", "command": {c}}}"#);
    let mut inputs: Vec<String> = [
        "",
        " ",
        "\n\t",
        "null",
        "true",
        "0",
        "-1",
        "1e999999",
        "NaN",
        "Infinity",
        "-Infinity",
        "\"NaN\"",
        "[]",
        "{}",
        "{",
        "}",
        "[",
        "\u{feff}{}",
        "{\"id\": \"c-1\"}",
        "{\"command\": {\"type\": \"freeze\"}}",
        "{'id': 'c-1', 'command': {'type': 'freeze'}}",
        "{\"id\": \"c-1\", \"command\": {\"type\": \"freeze\"}} trailing",
        "{\"id\": \"c-1\", \"command\": {\"type\": \"freeze\"}}{\"id\": \"c-2\"}",
        "{\"id\": \"c-1\", \"command\": {\"type\": \"freeze\"},}",
        "{\"id\": \"c-1\", \"command\": {\"type\": \"freeze\"}} // comment",
        "{\"id\": \"c\u{0}1\", \"command\": {\"type\": \"freeze\"}}",
        "{\"id\": \"\\ud800\", \"command\": {\"type\": \"freeze\"}}",
        "{\"id\": \"c-1\", \"id\": \"c-2\", \"command\": {\"type\": \"freeze\"}}",
        "{\"id\": \"c-1\", \"command\": {\"type\": \"freeze\", \"type\": \"freeze\"}}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for body in [
        r#""id": 5, "command": {"type": "freeze"}"#,
        r#""id": null, "command": {"type": "freeze"}"#,
        r#""id": ["c-1"], "command": {"type": "freeze"}"#,
        r#""command": "freeze""#,
        r#""command": 5"#,
        r#""command": null"#,
        r#""command": {}"#,
        r#""command": {"type": 5}"#,
        r#""command": {"type": null}"#,
        r#""command": {"type": "FREEZE"}"#,
        r#""command": {"type": "freeze "}"#,
        r#""command": {"kind": "freeze"}"#,
    ] {
        inputs.push(env(body));
    }
    for schema in [
        "-1",
        "1.5",
        "1e10",
        "\"1\"",
        "null",
        "4294967296",
        "99999999999999999999999999",
    ] {
        inputs.push(env(&format!(r#""schema": {schema}, {freeze}"#)));
    }
    for c in [
        r#"{"type": "hide_post", "post": -1}"#,
        r#"{"type": "hide_post", "post": 1e400}"#,
        r#"{"type": "hide_post", "post": 18446744073709551616}"#,
        r#"{"type": "hide_post", "post": "5"}"#,
        r#"{"type": "hide_post", "post": NaN}"#,
        r#"{"type": "hide_post", "post": 1.5}"#,
        r#"{"type": "post_progress", "text": "x", "percent": 256}"#,
        r#"{"type": "post_progress", "text": "x", "percent": -1}"#,
        r#"{"type": "post_progress", "text": 5}"#,
        r#"{"type": "post_progress", "text": "x", "photos": [{"sha256": "x"}]}"#,
        r#"{"type": "post_progress", "text": "x", "photos": [{"sha256": "x", "content_type": "gif"}]}"#,
        r#"{"type": "tally_cheers", "counts": {"t1": -5}}"#,
        r#"{"type": "tally_cheers", "counts": {"t1": 1e30}}"#,
        r#"{"type": "tally_cheers", "counts": {"bad id": 1}}"#,
        r#"{"type": "tally_cheers", "counts": [1, 2]}"#,
        r#"{"type": "add_track", "id": "t", "name": "Hardware"}"#,
        r#"{"type": "add_track", "id": "t", "name": {"fr": "Matériel"}}"#,
        r#"{"type": "add_track", "id": "t", "name": 5}"#,
        r#"{"type": "add_track", "id": "", "name": {"en": "x"}}"#,
        r#"{"type": "add_track", "name": {"en": "x"}}"#,
        r#"{"type": "create_challenge", "id": "d", "title": {"en": "x"}, "planned_start": "tomorrow"}"#,
        r#"{"type": "create_challenge", "id": "d", "title": {"en": "x"}, "planned_start": "+275760-09-14T00:00:00Z"}"#,
        r#"{"type": "create_challenge", "id": "d", "title": {"en": "x"}, "duration_secs": -1}"#,
        r#"{"type": "create_challenge", "id": "d", "title": {"en": "x"}, "duration_secs": 1e3}"#,
        r#"{"type": "set_rubric", "rubric": {"scale": {"min": 1, "max": 10}, "criteria": [{"id": "c", "name": {"en": "C"}, "weight": "heavy"}]}}"#,
        r#"{"type": "set_rubric", "rubric": {"scale": {"min": 1, "max": 10}, "criteria": [{"id": "c", "name": {"en": "C"}, "weight": 1e999}]}}"#,
        r#"{"type": "set_ranking", "settings": {"role_weights": {"president": 2.0}}}"#,
        r#"{"type": "add_judge", "id": "j", "name": {"en": "J"}, "panel_role": "king"}"#,
        r#"{"type": "issue_token", "subject": {"role": "admin"}, "token_hash": "00"}"#,
        r#"{"type": "issue_token", "subject": {"role": "team", "id": "t1"}, "token_hash": "secret"}"#,
        r#"{"type": "submit_scorecard", "team": "t1", "scores": {"innovation": -3}}"#,
        r#"{"type": "submit_scorecard", "team": "t1", "scores": {"innovation": 4294967296}}"#,
    ] {
        inputs.push(with_command(c));
    }
    // Deep nesting, where a recursive parser without a limit would overflow its stack.
    inputs.push("[".repeat(100_000));
    inputs.push("{\"a\":".repeat(50_000));
    inputs.push(with_command(&format!(
        r#"{{"type": "add_track", "id": "t", "name": {{"en": {}0{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    )));
    // Sheer size.
    inputs.push(env(&format!(
        r#""command": {{"type": "remove_track", "id": "{}"}}"#,
        "x".repeat(1 << 20)
    )));
    inputs.push(format!("\"{}\"", "y".repeat(1 << 20)));
    inputs
}

#[test]
fn garbage_is_refused_without_a_panic() {
    let inputs = garbage();
    assert!(inputs.len() >= 60);
    let mut problems = Vec::new();
    for raw in &inputs {
        let shown: String = raw.chars().take(120).collect();
        match catch_unwind(AssertUnwindSafe(|| Envelope::from_json(raw))) {
            Ok(Ok(envelope)) => problems.push(format!("{shown:?} was accepted: {envelope:?}")),
            Ok(Err(err)) => {
                if !matches!(err.code(), "malformed" | "unsupported_schema") {
                    problems.push(format!("{shown:?} gave {err:?}"));
                }
                assert_messages(&err);
            }
            Err(_) => problems.push(format!("{shown:?} made Envelope::from_json panic")),
        }
        match catch_unwind(AssertUnwindSafe(|| Event::from_json(raw))) {
            Ok(Ok(event)) => problems.push(format!("{shown:?} was accepted as {event:?}")),
            Ok(Err(_)) => {}
            Err(_) => problems.push(format!("{shown:?} made Event::from_json panic")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_malformed_message_says_what_was_wrong() {
    let err = Envelope::from_json(&envelope_json(json!({"type": "remove_track", "id": "a b"})))
        .unwrap_err();
    let DomainError::Malformed { detail } = &err else {
        panic!("{err:?}");
    };
    assert!(detail.contains("track id \"a b\" is invalid"), "{detail}");
    let err = Envelope::from_json(&envelope_json(json!({"type": "freeze", "at": 1}))).unwrap_err();
    assert!(err.to_string().contains("unknown field `at`"), "{err}");
}

// ---- resending ----------------------------------------------------------------------------------

fn envelope(id: &str, value: Value) -> Envelope {
    Envelope::new(CommandId::new(id).unwrap(), command(value))
}

/// The log as the journal writes it, read back: a restarted server.
fn restarted(world: &World) -> State {
    let lines: Vec<String> = world.log.iter().map(Event::to_json).collect();
    let events: Vec<Event> = lines
        .iter()
        .map(|line| Event::from_json(line).unwrap())
        .collect();
    let state = State::replay(&events).unwrap();
    assert_eq!(
        state, world.state,
        "replaying the journal rebuilds the state"
    );
    state
}

#[test]
fn a_resent_command_gets_the_first_answer_and_changes_nothing() {
    let mut w = World::setup();
    let a = admin();
    let add = envelope(
        "add-track-x",
        json!({"type": "add_track", "id": "x", "name": {"en": "X"}}),
    );
    let Outcome::Applied(events) = w.state.execute(&a, &add, mins(-10)).unwrap() else {
        panic!("the first send is applied");
    };
    w.log.extend(events.iter().cloned());
    let seq = events[0].seq;
    let before = w.state.clone();

    let again = w.state.execute(&a, &add, mins(-9)).unwrap();
    let Outcome::Repeat(ack) = again else {
        panic!("a resend is answered as a repeat: {again:?}");
    };
    assert_eq!(ack.command_id.as_str(), "add-track-x");
    assert_eq!((ack.first_seq, ack.last_seq), (seq, seq));
    assert_eq!(w.state, before, "a resend changed the state");
    assert_eq!(
        decide(&w.state, &a, &add, mins(-9)).unwrap(),
        Decision::Repeat(ack.clone())
    );

    // Once the phase has moved on, the command would now be refused; a resend still gets the
    // first answer, which is what a console that lost the reply needs to hear.
    w.run(&a, json!({"type": "start_challenge"}), t0());
    let before = w.state.clone();
    assert_eq!(
        w.state.execute(&a, &add, mins(5)).unwrap(),
        Outcome::Repeat(ack.clone())
    );
    assert_eq!(w.state, before);

    // And after a restart, from the journal alone.
    let mut state = restarted(&w);
    assert_eq!(
        state.execute(&a, &add, mins(6)).unwrap(),
        Outcome::Repeat(ack)
    );
    assert_eq!(state, before);
}

#[test]
fn a_resent_command_of_several_events_gets_all_their_seqs() {
    let mut state = State::new();
    let create = envelope(
        "create",
        json!({"type": "create_challenge", "id": "demo", "title": {"en": "Demo"}}),
    );
    let Outcome::Applied(events) = state.execute(&admin(), &create, mins(-100)).unwrap() else {
        panic!("created");
    };
    assert!(events.len() > 1, "creating sets milestones and rubric too");
    let before = state.clone();
    let Outcome::Repeat(ack) = state.execute(&admin(), &create, mins(-99)).unwrap() else {
        panic!("a resend is a repeat");
    };
    assert_eq!(ack.first_seq, events[0].seq);
    assert_eq!(ack.last_seq, events.last().unwrap().seq);
    assert_eq!(state, before);
}

#[test]
fn a_command_id_is_per_actor() {
    let mut w = World::running();
    let post = |text: &str| envelope("post-1", json!({"type": "post_progress", "text": text}));
    for t in ["t1", "t2"] {
        let outcome = w.state.execute(&team(t), &post("hello"), mins(10)).unwrap();
        assert!(
            matches!(outcome, Outcome::Applied(_)),
            "{t}'s first post-1 is applied: {outcome:?}"
        );
    }
    assert_eq!(w.state.post_counts().0, 2);
}

#[test]
fn a_command_id_reused_for_another_command_is_refused_and_changes_nothing() {
    let mut w = World::running();
    let t1 = team("t1");
    let first = envelope("post-1", json!({"type": "post_progress", "text": "first"}));
    let Outcome::Applied(events) = w.state.execute(&t1, &first, mins(10)).unwrap() else {
        panic!("applied");
    };
    w.log.extend(events);
    let before = w.state.clone();
    let other = envelope("post-1", json!({"type": "post_progress", "text": "second"}));
    let err = w.state.execute(&t1, &other, mins(11)).unwrap_err();
    assert_eq!(err.code(), "command_id_reused");
    assert!(err.to_string().contains("post-1"), "{err}");
    assert_messages(&err);
    assert_eq!(w.state, before, "a reused id changed the state");

    // A command refused for another reason would be reused just the same: the id is taken by
    // the first answer, whatever the second command is.
    let forbidden = envelope("post-1", json!({"type": "freeze"}));
    assert_eq!(
        w.state
            .execute(&t1, &forbidden, mins(11))
            .unwrap_err()
            .code(),
        "command_id_reused"
    );

    // After a restart too: the digest in the log tells the two apart.
    let mut state = restarted(&w);
    assert_eq!(
        state.execute(&t1, &other, mins(12)).unwrap_err().code(),
        "command_id_reused"
    );
    assert!(matches!(
        state.execute(&t1, &first, mins(12)).unwrap(),
        Outcome::Repeat(_)
    ));
    assert_eq!(state, before);
}

#[test]
fn a_refused_command_leaves_its_id_free() {
    let mut w = World::setup();
    let t1 = team("t1");
    let post = envelope("post-1", json!({"type": "post_progress", "text": "early"}));
    let err = w.state.execute(&t1, &post, mins(-10)).unwrap_err();
    assert_eq!(err.code(), "wrong_phase");
    w.run(&admin(), json!({"type": "start_challenge"}), t0());
    let outcome = w.state.execute(&t1, &post, mins(10)).unwrap();
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
}
