//! One whole 创客真人秀 played through the core, as organizers, teams, judges and the public would:
//! three tracks of ten teams, twelve judges, 72 hours with a pause, posts, milestones, cheers, a
//! conflict of interest, a revised scorecard, role weights, a freeze and a reveal. The final
//! scores of every track's leading teams are checked against arithmetic done by hand below.
//!
//! The rubric is the default one (innovation 30, execution 25, completeness 20, commercial value
//! 15, presentation 10) on a 0–10 scale, so a scorecard's total on 0–100 is
//! (30·innovation + 25·execution + 20·completeness + 15·commercial + 10·presentation) / 10.

#[path = "scenario/show.rs"]
mod show;

use std::collections::BTreeMap;

use chrono::Duration;
use makerpulse_core::command::Command;
use makerpulse_core::leaderboard::Exclusion;
use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::roster::{Assignment, Discipline, Member, PanelRole, Subject};
use makerpulse_core::rubric::RankingSettings;
use makerpulse_core::state::State;
use makerpulse_core::view::BoardView;
use makerpulse_core::{
    Actor, ChallengeId, DomainError, EventBody, Localized, MilestoneId, Outcome, Phase, Role,
    TeamId, TokenHash,
};

use show::{
    assert_no_scorecards, card, check_streams, criteria, even, judge, order, row, rubric, standing,
    t0, team, team_id, track, Show, PREFIX, SEATS, TEAM_NAMES, TRACKS,
};

/// The design scorecards ds02 and ds03 share, with their totals:
/// P = (8,8,8,8,8) = 80;
/// Q = (9,8,7,9,8) → (270 + 200 + 140 + 135 + 80) / 10 = 825 / 10 = 82.5;
/// R = (8,9,8,8,7) → (240 + 225 + 160 + 120 + 70) / 10 = 815 / 10 = 81.5;
/// S = (7,7,8,8,8) → (210 + 175 + 160 + 120 + 80) / 10 = 745 / 10 = 74.5 (the investor's).
const P: [u32; 5] = [8, 8, 8, 8, 8];
const Q: [u32; 5] = [9, 8, 7, 9, 8];
const R: [u32; 5] = [8, 9, 8, 8, 7];
const S: [u32; 5] = [7, 7, 8, 8, 8];

#[test]
fn a_whole_challenge_from_setup_to_the_final_result() {
    let mut show = Show::new();
    set_up(&mut show);
    build(&mut show);
    score(&mut show);
    weigh_roles(&mut show);
    let frozen_public = freeze(&mut show);
    reveal(&mut show, &frozen_public);
    final_result(&mut show);
    // The log tells the same story.
    assert_eq!(State::replay(&show.log).unwrap(), show.state);
    check_streams(&show.log);
}

/// More posts than the state keeps whole, and organizers hiding them in the ticker, behind it
/// and long past the posts kept whole: every view still folds from its deltas, the public ticker
/// runs short only while more were hidden than the margin holds and fills again with the next
/// posts, and a timeline rebuilt from the log shows every visible post with its text.
#[test]
fn posts_past_what_the_state_keeps_whole_stay_hideable_and_every_view_folds() {
    use makerpulse_core::posts::POSTS_KEPT;
    use makerpulse_core::view::TICKER_LEN;
    let mut show = Show::new();
    set_up(&mut show);
    show.at(0, 0);
    show.admin(Command::StartChallenge);
    show.at(1, 0);
    let teams = ["sw01", "hw07", "ds05"];
    let mut posts = Vec::new();
    for n in 0..3 * POSTS_KEPT {
        let team = teams[n % 3];
        posts.push((team, show.post(team, &format!("进展 {n} / update {n}"))));
    }
    assert_eq!(show.state.post_counts(), (posts.len(), POSTS_KEPT));
    let hide = |show: &mut Show, post: u64| {
        show.admin(Command::HidePost {
            post,
            reason: "广告 / advertising".into(),
        });
    };
    // The first post (long out of memory), one in the ticker, then every post behind the ticker
    // that is still whole, and a few more in the ticker: the public ticker runs short.
    hide(&mut show, posts[0].1);
    let newest = posts.len() - 1;
    hide(&mut show, posts[newest - 2].1);
    for &(_, id) in &posts[newest + 1 - POSTS_KEPT..newest + 1 - TICKER_LEN] {
        hide(&mut show, id);
    }
    for &(_, id) in &posts[newest - 9..newest - 4] {
        hide(&mut show, id);
    }
    let refused = show.refused(
        &Actor::Admin,
        Command::HidePost {
            post: posts[0].1,
            reason: String::new(),
        },
    );
    assert_eq!(refused, DomainError::AlreadyHidden { post: posts[0].1 });
    let audience = show.view(&Role::Audience);
    assert_eq!(
        audience.ticker.len(),
        TICKER_LEN - 6,
        "short after many hides"
    );
    assert!(audience.ticker.iter().all(|p| p.hidden.is_none()));
    assert_eq!(show.view(&Role::Admin).ticker.len(), TICKER_LEN);
    // New posts fill it again.
    for n in 0..TICKER_LEN {
        show.post(teams[n % 3], &format!("又一条 {n} / again {n}"));
    }
    assert_eq!(show.view(&Role::Audience).ticker.len(), TICKER_LEN);
    hide(&mut show, posts[1].1);

    assert_eq!(State::replay(&show.log).unwrap(), show.state);
    check_streams(&show.log);
    // The timeline of a team, its older posts read back from the log.
    let hw07 = team("hw07");
    let timeline = makerpulse_core::timeline(&show.state, &hw07, &Role::Audience);
    let older = timeline.older();
    assert!(older.contains(&posts[4].1) && !older.contains(&posts[1].1));
    let posts_back = timeline.fill(&show.log).unwrap();
    let shown = show.state.progress(&hw07).unwrap().posts as usize;
    assert_eq!(posts_back.len(), shown);
    assert!(posts_back
        .iter()
        .all(|p| p.team == hw07 && p.hidden.is_none()));
    assert_eq!(posts_back[0].text, "进展 4 / update 4");
    let admin = makerpulse_core::timeline(&show.state, &hw07, &Role::Admin);
    let admin = admin.fill(&show.log).unwrap();
    assert_eq!(admin[0].hidden.as_deref(), Some("广告 / advertising"));
    assert_eq!(admin[0].id, posts[1].1);
    // A log that lacks an older post is an error, not a shorter timeline.
    let timeline = makerpulse_core::timeline(&show.state, &hw07, &Role::Audience);
    assert_eq!(timeline.fill(&[]), Err(posts[4].1));
}

/// Two days before: the challenge, its rubric, tracks, teams, judges and their tokens.
fn set_up(show: &mut Show) {
    let created = show.admin(Command::CreateChallenge {
        id: ChallengeId::new("maker-show-2026").unwrap(),
        title: Localized::new("2026 双创周创客真人秀", "2026 Maker Reality Show"),
        description: Localized::new("72小时创客挑战", "A 72-hour maker challenge"),
        planned_start: Some(t0()),
        duration_secs: None,
    });
    assert_eq!(
        created.len(),
        3,
        "created with default milestones and rubric"
    );
    show.admin(Command::SetRubric { rubric: rubric() });
    for (id, zh, en) in TRACKS {
        show.admin(Command::AddTrack {
            id: track(id),
            name: Localized::new(zh, en),
            description: Localized::default(),
        });
    }
    let regions = ["中国", "Deutschland", "Kenya", "香港", "Brasil", "日本"];
    for (t, names) in TEAM_NAMES.iter().enumerate() {
        for (n, (zh, en)) in names.iter().enumerate() {
            let id = team_id(t, n + 1);
            show.admin(Command::AddTeam {
                id: id.clone(),
                track: track(TRACKS[t].0),
                name: Localized::new(*zh, *en),
                description: Localized::default(),
                members: vec![
                    Member {
                        name: format!("{en} lead"),
                        discipline: [
                            Discipline::Software,
                            Discipline::Hardware,
                            Discipline::Design,
                        ][t],
                        region: regions[n % regions.len()].into(),
                    },
                    Member {
                        name: format!("{zh}成员"),
                        discipline: Discipline::Maker,
                        region: "中国".into(),
                    },
                ],
                contact: format!("{id}@teams.example.org"),
            });
        }
    }
    for (t, (track_id, _, _)) in TRACKS.iter().enumerate() {
        for (seat, panel_role) in SEATS {
            let id = format!("{}-{seat}", PREFIX[t]);
            show.admin(Command::AddJudge {
                id: judge(&id),
                name: Localized::new(format!("评委 {id}"), format!("Judge {id}")),
                panel_role,
                affiliation: Localized::default(),
                assignment: Assignment {
                    tracks: [track(track_id)].into(),
                    teams: Default::default(),
                },
                conflicts: Default::default(),
            });
        }
    }
    for t in 0..3 {
        for n in 1..=10 {
            let id = team_id(t, n);
            show.admin(Command::IssueToken {
                subject: Subject::Team(id.clone()),
                token_hash: TokenHash::of(&format!("secret-{id}")),
            });
        }
    }
    for judge_id in show.state.judges().keys().cloned().collect::<Vec<_>>() {
        show.admin(Command::IssueToken {
            subject: Subject::Judge(judge_id.clone()),
            token_hash: TokenHash::of(&format!("secret-{judge_id}")),
        });
    }
    assert_eq!(show.state.teams().len(), 30);
    assert_eq!(show.state.judges().len(), 12);
    assert_eq!(
        show.state.authenticate("secret-hw07"),
        Some(Actor::Team(team("hw07")))
    );
    // hw07's link leaked in a group chat: revoke and mint a new one.
    show.admin(Command::RevokeTokens {
        subject: Subject::Team(team("hw07")),
    });
    show.admin(Command::IssueToken {
        subject: Subject::Team(team("hw07")),
        token_hash: TokenHash::of("secret-hw07-new"),
    });
    assert_eq!(show.state.authenticate("secret-hw07"), None);
    assert_eq!(
        show.state.authenticate("secret-hw07-new"),
        Some(Actor::Team(team("hw07")))
    );
}

/// 72 hours of building with a one-hour pause: posts, milestones, cheers, the end of the clock.
fn build(show: &mut Show) {
    show.at(0, 0);
    show.admin(Command::StartChallenge);
    assert_eq!(show.state.phase(), Phase::Running);

    show.at(2, 0);
    for t in 0..3 {
        for n in 1..=10 {
            let id = team_id(t, n);
            show.post(id.as_str(), "开工啦 / we started");
        }
    }
    // Idea (创意提出) is due at T+6 h of building time: sw01 is early, hw01 late.
    show.at(5, 0);
    assert_eq!(show.reach("sw01", "idea"), (5 * 3600, Some(true)));
    show.at(7, 0);
    assert_eq!(show.reach("hw01", "idea"), (7 * 3600, Some(false)));
    assert_eq!(
        show.refused(
            &Actor::Team(team("hw01")),
            Command::ReachMilestone {
                milestone: MilestoneId::new("demo").unwrap(),
                note: String::new(),
            }
        ),
        DomainError::MilestoneOutOfOrder {
            next: "plan".into()
        }
    );

    show.at(10, 0);
    show.admin(Command::PauseClock {
        reason: "消防演练 / fire drill".into(),
    });
    show.at(10, 30);
    let clock = &show.state.challenge().unwrap().clock;
    assert!(clock.is_paused());
    assert_eq!(clock.remaining(show.now), Duration::hours(62));
    show.at(11, 0);
    show.admin(Command::ResumeClock);
    // Plan (方案设计) is due at T+18 h of building time; at T+19 h on the wall only 18 h of
    // building time have passed, because the pause does not count: just on time.
    show.at(19, 0);
    assert_eq!(show.reach("sw01", "plan"), (18 * 3600, Some(true)));

    // hw01 ticks plan by mistake; an organizer takes it back with a reason. The hall keeps the
    // announcement, marked withdrawn; only the organizers and hw01 read why.
    show.at(19, 10);
    show.reach("hw01", "plan");
    let ticked = show.state.seq();
    assert_eq!(
        show.refused(
            &Actor::Team(team("hw01")),
            Command::UndoMilestone {
                team: team("hw01"),
                milestone: MilestoneId::new("plan").unwrap(),
                reason: "mine".into(),
            }
        ),
        DomainError::Forbidden {
            action: "undo_milestone",
            role: "team",
        }
    );
    show.at(19, 20);
    let undo = |milestone: &str| Command::UndoMilestone {
        team: team("hw01"),
        milestone: MilestoneId::new(milestone).unwrap(),
        reason: "方案未评审 / plan not reviewed yet".into(),
    };
    let undone = show.admin(undo("plan"))[0].seq;
    let reached: Vec<_> = show
        .state
        .progress(&team("hw01"))
        .unwrap()
        .reached
        .iter()
        .map(|r| r.milestone.as_str().to_owned())
        .collect();
    assert_eq!(reached, ["idea"]);
    let withdrawn = |role: &Role| {
        let view = show.view(role);
        let a = view
            .announcements
            .iter()
            .find(|a| a.seq == ticked)
            .cloned()
            .expect("still announced");
        assert_eq!(a.team, team("hw01"));
        a.withdrawn.expect("marked withdrawn")
    };
    assert_eq!(withdrawn(&Role::Audience).seq, undone);
    assert_eq!(withdrawn(&Role::Audience).reason, None);
    assert_eq!(withdrawn(&Role::Team(team("sw01"))).reason, None);
    assert_eq!(
        withdrawn(&Role::Team(team("hw01"))).reason.as_deref(),
        Some("方案未评审 / plan not reviewed yet")
    );
    assert!(withdrawn(&Role::Admin).reason.is_some());
    assert_eq!(
        show.refused(&Actor::Admin, undo("plan")),
        DomainError::MilestoneNotReached {
            team: "hw01".into(),
            milestone: "plan".into()
        }
    );
    // Ticked again, it is announced again; the withdrawn announcement stays as it was.
    show.at(19, 30);
    show.reach("hw01", "plan");
    let audience = show.view(&Role::Audience);
    assert_eq!(audience.announcements[0].team, team("hw01"));
    assert_eq!(audience.announcements[0].withdrawn, None);
    assert_eq!(
        audience
            .announcements
            .iter()
            .filter(|a| a.withdrawn.is_some())
            .count(),
        1
    );
    // Taking back idea takes back plan with it: milestones are reached in order.
    show.at(19, 40);
    show.admin(undo("idea"));
    assert!(show
        .state
        .progress(&team("hw01"))
        .unwrap()
        .reached
        .is_empty());
    let audience = show.view(&Role::Audience);
    assert!(audience
        .announcements
        .iter()
        .filter(|a| a.team == team("hw01"))
        .all(|a| a.withdrawn.is_some()));
    show.reach("hw01", "idea");

    show.at(20, 0);
    show.run(
        &Actor::Team(team("sw01")),
        Command::PostProgress {
            text: "传感器接好了 / sensors wired up".into(),
            photos: vec![PhotoRef {
                sha256: "5e".repeat(32),
                content_type: ImageType::Jpeg,
            }],
            links: vec![],
            percent: Some(40),
        },
    );
    show.at(30, 0);
    let spam = show.post("hw07", "买粉丝 https://spam.example.org");
    show.at(30, 5);
    show.admin(Command::HidePost {
        post: spam,
        reason: "广告 / advertising".into(),
    });
    show.at(40, 0);
    let newest = show.post("ds05", "样稿完成 / first drafts done");

    // 33 posts, one hidden: the public ticker holds the 30 newest visible ones.
    let audience = show.view(&Role::Audience);
    assert_eq!(audience.ticker.len(), 30);
    assert_eq!(audience.ticker[0].id, newest);
    assert!(audience.ticker.iter().all(|p| p.id != spam));
    let admin = show.view(&Role::Admin);
    assert!(admin
        .ticker
        .iter()
        .any(|p| p.id == spam && p.hidden.is_some()));
    assert_eq!(show.state.progress(&team("hw07")).unwrap().posts, 1);
    assert_eq!(
        audience.teams[&team("sw01")].progress.percent,
        Some(40),
        "the latest percent a team gave"
    );
    // Contact lines are private to the team and the organizers.
    assert_eq!(audience.teams[&team("sw01")].contact, None);
    let sw01 = show.view(&Role::Team(team("sw01")));
    assert_eq!(
        sw01.teams[&team("sw01")].contact.as_deref(),
        Some("sw01@teams.example.org")
    );
    assert_eq!(sw01.teams[&team("sw02")].contact, None);

    // Cheers are counted outside the log; the server tallies them now and then.
    show.at(50, 0);
    let mut counted: BTreeMap<TeamId, u64> = BTreeMap::new();
    for (id, times) in [("hw02", 5), ("ds01", 3), ("sw01", 3), ("sw02", 1)] {
        for _ in 0..times {
            match show.execute(&Actor::Audience, Command::Cheer { team: team(id) }) {
                Ok(Outcome::Cheer(t)) => *counted.entry(t).or_default() += 1,
                other => panic!("a cheer was not counted: {other:?}"),
            }
        }
    }
    let seq = show.state.seq();
    show.run(&Actor::System, Command::TallyCheers { counts: counted });
    assert_eq!(show.state.seq(), seq + 1, "one event for all those cheers");
    let choice = show.view(&Role::Audience).peoples_choice;
    let top: Vec<(&str, u32, u64)> = choice
        .iter()
        .take(5)
        .map(|r| (r.team.as_str(), r.rank, r.cheers))
        .collect();
    assert_eq!(
        top,
        [
            ("hw02", 1, 5),
            ("ds01", 2, 3),
            ("sw01", 2, 3),
            ("sw02", 4, 1),
            ("ds02", 5, 0)
        ]
    );

    // 72 h of building time end at T+73 h on the wall, because of the pause.
    show.at(72, 30);
    assert_eq!(
        show.refused(&Actor::System, Command::EndBuilding),
        DomainError::ClockNotExpired
    );
    show.at(73, 0);
    show.run(&Actor::System, Command::EndBuilding);
    assert_eq!(show.state.phase(), Phase::Judging);
    let clock = &show.state.challenge().unwrap().clock;
    assert_eq!(
        clock.elapsed(show.now + Duration::hours(5)),
        Duration::hours(72)
    );
}

/// Judging: every track's scorecards, a revision, a conflict of interest, blind judges.
fn score(show: &mut Show) {
    show.admin(Command::OpenScoring {
        reason: String::new(),
    });
    assert_eq!(
        show.refused(
            &Actor::Judge(judge("sw-maker")),
            Command::SubmitScorecard {
                team: team("hw01"),
                scores: card(even(5)),
                comment: String::new(),
                reason: String::new(),
            }
        ),
        DomainError::NotAssigned {
            team: "hw01".into()
        }
    );

    // Software. The fillers sw04…sw10 get the same even scorecard from every judge: sw0k gets
    // 10 − k on every criterion, a total of 10·(10 − k): sw04 60, sw05 50, … sw10 0.
    for n in 4..=10u32 {
        for (seat, _) in SEATS {
            show.score(&format!("sw-{seat}"), &format!("sw{n:02}"), even(10 - n));
        }
    }
    // sw01, every judge: (9, 8, 8, 8, 7) → (270 + 200 + 160 + 120 + 70) / 10 = 820 / 10 = 82.0.
    // sw02, every judge: (8, 8, 8, 8, 10) → (240 + 200 + 160 + 120 + 100) / 10 = 820 / 10 = 82.0.
    for (seat, _) in SEATS {
        show.score(&format!("sw-{seat}"), "sw01", [9, 8, 8, 8, 7]);
        show.score(&format!("sw-{seat}"), "sw02", [8, 8, 8, 8, 10]);
    }
    // sw03: maker (8,8,8,8,8) = 80, expert (9,9,9,9,9) = 90, enterprise (8,8,8,8,8) = 80,
    // investor (10,10,10,10,10) = 100; mean (80 + 90 + 80 + 100) / 4 = 350 / 4 = 87.5.
    show.score("sw-maker", "sw03", even(8));
    show.score("sw-expert", "sw03", even(9));
    show.score("sw-enterprise", "sw03", even(8));
    show.score("sw-investor", "sw03", even(10));
    assert_eq!(standing(&show.live(), "sw03"), (Some(1), Some(87.5), 4));

    // The expert revises sw03 after watching the demo again: (7,7,7,7,7) = 70; the mean becomes
    // (80 + 70 + 80 + 100) / 4 = 330 / 4 = 82.5, still first (sw01 and sw02 have 82.0).
    show.run(
        &Actor::Judge(judge("sw-expert")),
        Command::SubmitScorecard {
            team: team("sw03"),
            scores: card(even(7)),
            comment: "演示不稳定 / the demo was unstable".into(),
            reason: "重看演示后修改 / revised after watching the demo again".into(),
        },
    );
    let revised = show
        .state
        .scorecard(&judge("sw-expert"), &team("sw03"))
        .unwrap();
    assert_eq!(revised.current.revision, 2);
    assert_eq!(revised.history.len(), 1);
    assert_eq!(revised.history[0].scores, card(even(9)));
    assert_eq!(standing(&show.live(), "sw03"), (Some(1), Some(82.5), 4));

    // Hardware. Fillers hw05…hw09: hw0k gets 10 − k everywhere, a total of 10·(10 − k): hw05 50,
    // … hw09 10. hw03 and hw04 both get 7s everywhere, a total of 70, but the investor had left
    // before scoring hw04. hw10 never gets a scorecard.
    for n in 5..=9u32 {
        for (seat, _) in SEATS {
            show.score(&format!("hw-{seat}"), &format!("hw{n:02}"), even(10 - n));
        }
    }
    for (seat, _) in SEATS {
        show.score(&format!("hw-{seat}"), "hw03", even(7));
        if seat != "investor" {
            show.score(&format!("hw-{seat}"), "hw04", even(7));
        }
    }
    // hw01: maker (9,9,8,7,9) → (270 + 225 + 160 + 105 + 90) / 10 = 850 / 10 = 85.0;
    //       expert (8,9,9,8,8) → (240 + 225 + 180 + 120 + 80) / 10 = 845 / 10 = 84.5;
    //       enterprise (10,10,10,10,10) = 100;
    //       investor (9,8,8,9,10) → (270 + 200 + 160 + 135 + 100) / 10 = 865 / 10 = 86.5.
    show.score("hw-maker", "hw01", [9, 9, 8, 7, 9]);
    show.score("hw-expert", "hw01", [8, 9, 9, 8, 8]);
    show.score("hw-enterprise", "hw01", even(10));
    show.score("hw-investor", "hw01", [9, 8, 8, 9, 10]);
    // All four: (85 + 84.5 + 100 + 86.5) / 4 = 356 / 4 = 89.0.
    assert_eq!(standing(&show.live(), "hw01"), (Some(1), Some(89.0), 4));
    // The enterprise representative's company sponsors hw01: they declare the conflict, and their
    // scorecard stops counting: (85 + 84.5 + 86.5) / 3 = 256 / 3 = 85.333… → 85.33.
    show.run(
        &Actor::Judge(judge("hw-enterprise")),
        Command::DeclareConflict {
            team: team("hw01"),
            reason: "本公司赞助该团队 / my company sponsors the team".into(),
        },
    );
    assert_eq!(standing(&show.live(), "hw01"), (Some(1), Some(85.33), 3));
    assert_eq!(row(&show.live(), "hw01").judges_assigned, 3);
    assert_eq!(
        show.refused(
            &Actor::Judge(judge("hw-enterprise")),
            Command::SubmitScorecard {
                team: team("hw01"),
                scores: card(even(9)),
                comment: String::new(),
                reason: String::new(),
            }
        ),
        DomainError::Conflicted {
            team: "hw01".into()
        }
    );
    // hw02: maker (8,8,8,8,8) = 80; expert (9,8,8,8,8) → (270 + 200 + 160 + 120 + 80) / 10 = 83;
    //       enterprise (8,8,9,8,8) → (240 + 200 + 180 + 120 + 80) / 10 = 82; investor 7s = 70.
    show.score("hw-maker", "hw02", even(8));
    show.score("hw-expert", "hw02", [9, 8, 8, 8, 8]);
    show.score("hw-enterprise", "hw02", [8, 8, 9, 8, 8]);
    show.score("hw-investor", "hw02", even(7));

    // Design. Fillers ds04…ds09: ds0k gets 10 − k everywhere: ds04 60, … ds09 10. ds10 only gets
    // an unfinished scorecard (innovation alone), which does not count.
    for n in 4..=9u32 {
        for (seat, _) in SEATS {
            show.score(&format!("ds-{seat}"), &format!("ds{n:02}"), even(10 - n));
        }
    }
    show.run(
        &Actor::Judge(judge("ds-maker")),
        Command::SubmitScorecard {
            team: team("ds10"),
            scores: [(criteria()[0].id.clone(), 6)].into(),
            comment: "待补 / to finish".into(),
            reason: String::new(),
        },
    );
    // ds01: maker (9,8,9,9,10) → (270 + 200 + 180 + 135 + 100) / 10 = 885 / 10 = 88.5;
    //       expert (9,9,8,8,9) → (270 + 225 + 160 + 120 + 90) / 10 = 865 / 10 = 86.5;
    //       enterprise (8,8,9,9,9) → (240 + 200 + 180 + 135 + 90) / 10 = 845 / 10 = 84.5.
    show.score("ds-maker", "ds01", [9, 8, 9, 9, 10]);
    show.score("ds-expert", "ds01", [9, 9, 8, 8, 9]);
    show.score("ds-enterprise", "ds01", [8, 8, 9, 9, 9]);
    // ds02 and ds03 get the same four scorecards P, Q, R (and the investor's S after the freeze),
    // the maker's and the expert's swapped.
    show.score("ds-maker", "ds02", P);
    show.score("ds-expert", "ds02", Q);
    show.score("ds-enterprise", "ds02", R);
    show.score("ds-maker", "ds03", Q);
    show.score("ds-expert", "ds03", P);
    show.score("ds-enterprise", "ds03", R);

    // Judges score blind: while scoring is open a judge sees only their own scorecards.
    let ds_maker = show.view(&Role::Judge(judge("ds-maker")));
    assert!(!ds_maker.scorecards.is_empty());
    assert!(ds_maker
        .scorecards
        .iter()
        .all(|c| c.judge.as_str() == "ds-maker"));
    assert_no_scorecards(&show.view(&Role::Audience));
    assert_no_scorecards(&show.view(&Role::Team(team("ds02"))));
}

/// The organizers give investors' scorecards half weight.
fn weigh_roles(show: &mut Show) {
    show.admin(Command::SetRanking {
        settings: RankingSettings {
            role_weights: [(PanelRole::Investor, 0.5)].into(),
            normalize: false,
            ..RankingSettings::default()
        },
    });
    let board = show.live();
    // sw03: (80 + 70 + 80 + 0.5·100) / (1 + 1 + 1 + 0.5) = 280 / 3.5 = 80.0: from first to third.
    assert_eq!(standing(&board, "sw03"), (Some(3), Some(80.0), 4));
    // sw01 and sw02 score 82.0 whatever the weights (every judge gave the same total). They tie
    // on the score and are told apart by the criterion means, heaviest criterion first:
    // innovation (30) sw01 9 > sw02 8. Separate ranks, no sharing. (Lightest first would have
    // gone the other way: presentation (10) sw01 7 < sw02 10.)
    assert_eq!(standing(&board, "sw01"), (Some(1), Some(82.0), 4));
    assert_eq!(standing(&board, "sw02"), (Some(2), Some(82.0), 4));
    let means =
        |id: &str| -> Vec<f64> { row(&board, id).criteria.iter().map(|c| c.mean).collect() };
    assert_eq!(means("sw01"), [9.0, 8.0, 8.0, 8.0, 7.0]);
    assert_eq!(means("sw02"), [8.0, 8.0, 8.0, 8.0, 10.0]);
    // hw01: (85 + 84.5 + 0.5·86.5) / (1 + 1 + 0.5) = (169.5 + 43.25) / 2.5 = 212.75 / 2.5 = 85.1.
    assert_eq!(standing(&board, "hw01"), (Some(1), Some(85.1), 3));
    // hw02: (80 + 83 + 82 + 0.5·70) / 3.5 = 280 / 3.5 = 80.0.
    assert_eq!(standing(&board, "hw02"), (Some(2), Some(80.0), 4));
    // hw03: (3·70 + 0.5·70) / 3.5 = 70; hw04: 3·70 / 3 = 70; every criterion mean is 7 for both.
    // The last tie-break, more judges first, puts hw03 (4) before hw04 (3).
    assert_eq!(standing(&board, "hw03"), (Some(3), Some(70.0), 4));
    assert_eq!(standing(&board, "hw04"), (Some(4), Some(70.0), 3));
    // ds01 without the investor yet: (88.5 + 86.5 + 84.5) / 3 = 259.5 / 3 = 86.5.
    assert_eq!(standing(&board, "ds01"), (Some(1), Some(86.5), 3));
    // ds02 and ds03: (80 + 82.5 + 81.5) / 3 = 244 / 3 = 81.333… → 81.33, equal on every
    // criterion too (the same cards): they share rank 2, and the next team is 4th.
    assert_eq!(standing(&board, "ds02"), (Some(2), Some(81.33), 3));
    assert_eq!(standing(&board, "ds03"), (Some(2), Some(81.33), 3));
    assert_eq!(standing(&board, "ds04"), (Some(4), Some(60.0), 4));
}

/// The freeze, and the design investor's scorecards that arrive after it. Returns the public
/// board as it froze.
fn freeze(show: &mut Show) -> BoardView {
    show.at(75, 0);
    show.admin(Command::Freeze);
    assert_eq!(
        show.refused(
            &Actor::Admin,
            Command::SetRanking {
                settings: RankingSettings::default(),
            }
        ),
        DomainError::RankingLocked
    );
    let frozen_public = show.view(&Role::Audience).leaderboard;
    assert!(frozen_public.frozen);

    // The design investor's last three scorecards arrive after the freeze.
    show.at(75, 30);
    show.score("ds-investor", "ds01", [10, 9, 9, 10, 10]); // (300+225+180+150+100)/10 = 95.5
    show.score("ds-investor", "ds02", S);
    show.score("ds-investor", "ds03", S);

    // The public sees the board as it stood at the freeze, and how many scorecards came since.
    let audience = show.view(&Role::Audience);
    assert!(audience.leaderboard.frozen);
    assert_eq!(audience.leaderboard.board, frozen_public.board);
    // Published on complete panels: ds01 had three of its four judges at the freeze, so the
    // public saw "being scored: 3 of 4", no score and no rank, and still does.
    assert_eq!(
        standing(&audience.leaderboard.board, "ds01"),
        (None, None, 3)
    );
    assert_eq!(row(&audience.leaderboard.board, "ds01").judges_assigned, 4);
    assert!(row(&audience.leaderboard.board, "ds01").criteria.is_empty());
    let pending: Vec<(&str, u32)> = audience
        .leaderboard
        .pending
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .collect();
    assert_eq!(pending, [("ds01", 1), ("ds02", 1), ("ds03", 1)]);
    assert_no_scorecards(&audience);
    let ds01 = show.view(&Role::Team(team("ds01")));
    assert_eq!(ds01.leaderboard, audience.leaderboard);
    assert_no_scorecards(&ds01);
    // The organizers see the live values.
    let admin = show.view(&Role::Admin);
    assert!(admin.leaderboard.frozen);
    assert_eq!(admin.leaderboard.pending, audience.leaderboard.pending);
    // ds01: (259.5 + 0.5·95.5) / 3.5 = (259.5 + 47.75) / 3.5 = 307.25 / 3.5 = 87.7857… → 87.79.
    assert_eq!(
        standing(&admin.leaderboard.board, "ds01"),
        (Some(1), Some(87.79), 4)
    );
    // ds02 and ds03: (244 + 0.5·74.5) / 3.5 = (244 + 37.25) / 3.5 = 281.25 / 3.5 = 80.357… →
    // 80.36 each. Criterion means over P, Q, R, S (the same for both): innovation
    // (8+9+8+7)/4 = 8, execution (8+8+9+7)/4 = 8, completeness (8+7+8+8)/4 = 7.75, commercial
    // (8+9+8+8)/4 = 8.25, presentation (8+8+7+8)/4 = 7.75; four judges each: still rank 2 both.
    for id in ["ds02", "ds03"] {
        assert_eq!(
            standing(&admin.leaderboard.board, id),
            (Some(2), Some(80.36), 4)
        );
        let means: Vec<f64> = row(&admin.leaderboard.board, id)
            .criteria
            .iter()
            .map(|c| c.mean)
            .collect();
        assert_eq!(means, [8.0, 8.0, 7.75, 8.25, 7.75]);
    }
    assert_eq!(
        order(&admin.leaderboard.board, "design")[..4],
        ["ds01", "ds02", "ds03", "ds04"]
    );
    assert_eq!(admin.scorecards.len(), show.state.scorecards().len());
    frozen_public
}

/// Scoring closes and the result is revealed, team by team.
fn reveal(show: &mut Show, frozen_public: &BoardView) {
    assert_eq!(
        show.refused(&Actor::Admin, Command::RevealNext),
        DomainError::RevealNeedsClosedScoring
    );
    show.at(76, 0);
    show.admin(Command::CloseScoring);
    // Scoring is closed, and a judge still sees only their own scorecards: the others arrive
    // with the final result, not before the reveal.
    let ds_maker = show.view(&Role::Judge(judge("ds-maker")));
    assert!(!ds_maker.scorecards.is_empty());
    assert!(ds_maker
        .scorecards
        .iter()
        .all(|c| c.judge.as_str() == "ds-maker"));
    assert_no_scorecards(&show.view(&Role::Audience));

    // Per track in track order, from the last place up, teams without a score first.
    let mut expected: Vec<(&str, String, Option<u32>, Option<f64>)> = Vec::new();
    for n in (4..=10u32).rev() {
        let score = f64::from(10 * (10 - n));
        expected.push(("software", format!("sw{n:02}"), Some(n), Some(score)));
    }
    expected.push(("software", "sw03".into(), Some(3), Some(80.0)));
    expected.push(("software", "sw02".into(), Some(2), Some(82.0)));
    expected.push(("software", "sw01".into(), Some(1), Some(82.0)));
    expected.push(("hardware", "hw10".into(), None, None));
    for n in (5..=9u32).rev() {
        let score = f64::from(10 * (10 - n));
        expected.push(("hardware", format!("hw{n:02}"), Some(n), Some(score)));
    }
    expected.push(("hardware", "hw04".into(), Some(4), Some(70.0)));
    expected.push(("hardware", "hw03".into(), Some(3), Some(70.0)));
    expected.push(("hardware", "hw02".into(), Some(2), Some(80.0)));
    expected.push(("hardware", "hw01".into(), Some(1), Some(85.1)));
    expected.push(("design", "ds10".into(), None, None));
    for n in (4..=9u32).rev() {
        let score = f64::from(10 * (10 - n));
        expected.push(("design", format!("ds{n:02}"), Some(n), Some(score)));
    }
    // Tied teams are listed by id, so the reveal, going up, shows ds03 before ds02.
    expected.push(("design", "ds03".into(), Some(2), Some(80.36)));
    expected.push(("design", "ds02".into(), Some(2), Some(80.36)));
    expected.push(("design", "ds01".into(), Some(1), Some(87.79)));
    assert_eq!(expected.len(), 30);

    for (step, (track_id, team_id, rank, score)) in expected.iter().enumerate() {
        show.at(76, 10 + step as i64);
        let events = show.admin(Command::RevealNext);
        let EventBody::TeamRevealed {
            track: t,
            team: revealed,
            rank: r,
            score: s,
        } = &events[0].body
        else {
            panic!("step {step} revealed nothing: {events:?}");
        };
        assert_eq!(
            (t.as_str(), revealed.as_str(), *r, *s),
            (*track_id, team_id.as_str(), *rank, *score),
            "reveal step {step}"
        );
        let last = step + 1 == expected.len();
        assert_eq!(events.len(), if last { 2 } else { 1 });
        if last {
            assert_eq!(events[1].body, EventBody::ResultFinal);
            break;
        }
        if step == 9 {
            // Software is revealed; the public board is still the frozen one, and judges and
            // conflicts are fixed.
            let audience = show.view(&Role::Audience);
            assert_eq!(audience.reveal.len(), 10);
            assert_eq!(audience.leaderboard.board, frozen_public.board);
            assert_no_scorecards(&audience);
            assert!(matches!(
                show.refused(
                    &Actor::Admin,
                    Command::OpenScoring {
                        reason: String::new()
                    }
                ),
                DomainError::WrongPhase { .. }
            ));
            assert!(matches!(
                show.refused(
                    &Actor::Judge(judge("ds-expert")),
                    Command::DeclareConflict {
                        team: team("ds01"),
                        reason: String::new(),
                    }
                ),
                DomainError::WrongPhase { .. }
            ));
        }
    }
}

/// The final result: public, live, with every scorecard.
fn final_result(show: &mut Show) {
    assert_eq!(show.state.phase(), Phase::Revealed);
    assert!(matches!(
        show.refused(&Actor::Admin, Command::RevealNext),
        DomainError::WrongPhase { .. }
    ));
    let audience = show.view(&Role::Audience);
    let admin = show.view(&Role::Admin);
    assert!(!audience.leaderboard.frozen);
    assert!(audience.leaderboard.pending.is_empty());
    assert_eq!(audience.leaderboard.board, admin.leaderboard.board);
    assert_eq!(audience.leaderboard.board, show.live());
    assert_eq!(
        order(&audience.leaderboard.board, "software")[..3],
        ["sw01", "sw02", "sw03"]
    );
    assert_eq!(
        order(&audience.leaderboard.board, "hardware")[..3],
        ["hw01", "hw02", "hw03"]
    );
    assert_eq!(
        order(&audience.leaderboard.board, "design")[..4],
        ["ds01", "ds02", "ds03", "ds04"]
    );
    // Every scorecard is public now: 40 in software, 35 in hardware (hw01…hw09, hw04 missing
    // one), 37 in design (ds01…ds09 and ds10's unfinished one): 112, revisions and exclusions
    // included.
    assert_eq!(show.state.scorecards().len(), 112);
    assert_eq!(audience.scorecards.len(), 112);
    assert_eq!(show.view(&Role::Team(team("sw10"))).scorecards.len(), 112);
    let sw03 = audience
        .scorecards
        .iter()
        .find(|c| c.judge.as_str() == "sw-expert" && c.team.as_str() == "sw03")
        .unwrap();
    assert_eq!(sw03.history.len(), 1);
    let hw01 = row(&audience.leaderboard.board, "hw01");
    let excluded: Vec<(&str, Option<Exclusion>)> = hw01
        .contributions
        .iter()
        .filter(|c| c.excluded.is_some())
        .map(|c| (c.judge.as_str(), c.excluded))
        .collect();
    assert_eq!(excluded, [("hw-enterprise", Some(Exclusion::Conflicted))]);
    let ds10 = row(&audience.leaderboard.board, "ds10");
    assert_eq!(ds10.contributions[0].excluded, Some(Exclusion::Incomplete));
    let reveal: Vec<(String, Option<u32>)> = audience
        .reveal
        .iter()
        .map(|e| (e.team.to_string(), e.rank))
        .collect();
    assert_eq!(reveal.len(), 30);
    assert_eq!(reveal[29], ("ds01".to_owned(), Some(1)));
}
