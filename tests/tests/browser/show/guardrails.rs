//! The guardrails before the result at the show's sizes: the scorecards still owed, listed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use makerpulse_core::roster::{Assignment, PanelRole, Subject};
use makerpulse_core::{Command, JudgeId, Localized, TrackId};
use makerpulse_e2e::{scorecard, TestServer, ADMIN};
use serde_json::{json, Value};

use super::super::driver::Driver;
use super::super::{big_challenge, DESKTOP, PHONE, SHOW_SIZES, TURN};
use super::{assert_seen, confirm, data_of, once_each};

/// Two judges per track, `j<t>a` and `j<t>b`, assigned to track `t`; scoring open. Every `a`
/// scores all their teams; `j0b` none of theirs; every other `b` all but the track's last team.
/// Returns what the jury still owes: each judge's missing teams.
async fn half_scored(
    server: &TestServer,
    id: &str,
    sizes: &[usize],
) -> BTreeMap<String, Vec<String>> {
    use makerpulse_core::command::NewJudge;
    let judges: Vec<NewJudge> = (0..sizes.len())
        .flat_map(|t| {
            ["a", "b"].map(|s| NewJudge {
                id: JudgeId::new(format!("j{t}{s}")).unwrap(),
                name: Localized::new(format!("评委 {t}{s}"), format!("Judge {t}{s}")),
                panel_role: PanelRole::DomainExpert,
                affiliation: Localized::default(),
                assignment: Assignment {
                    tracks: [TrackId::new(format!("tr{t}")).unwrap()].into(),
                    teams: Default::default(),
                },
                conflicts: Default::default(),
            })
        })
        .collect();
    let accepted = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
    accepted(
        server
            .command(
                id,
                Some(ADMIN),
                Command::ImportRoster {
                    teams: vec![],
                    judges,
                },
            )
            .await,
    );
    accepted(
        server
            .command(
                id,
                Some(ADMIN),
                Command::OpenScoring {
                    reason: String::new(),
                },
            )
            .await,
    );
    let mut owed = BTreeMap::new();
    for (t, &n) in sizes.iter().enumerate() {
        for s in ["a", "b"] {
            let judge = format!("j{t}{s}");
            let token = server
                .mint(id, Subject::Judge(JudgeId::new(&judge).unwrap()))
                .await;
            let scored = match (t, s) {
                (_, "a") => n,
                (0, _) => 0,
                _ => n - 1,
            };
            for i in 0..scored {
                accepted(
                    server
                        .command(
                            id,
                            Some(&token),
                            scorecard(&format!("tr{t}-t{i}"), (i % 10) as u32 + 1),
                        )
                        .await,
                );
            }
            if scored < n {
                owed.insert(judge, (scored..n).map(|i| format!("tr{t}-t{i}")).collect());
            }
        }
    }
    // In id order, as the API lists them.
    owed.values_mut()
        .for_each(|teams: &mut Vec<String>| teams.sort());
    owed
}

/// The guardrails at 4, 30 and 100 teams, on a laptop and on a phone: before closing scoring,
/// freezing and the first reveal, the API and the console list every scorecard still owed, by
/// judge (each with every team they have not scored) and by team (each with the judges it waits
/// for), every entry reachable and no text past its box; nothing happens until the organizer
/// ticks the confirmation, and a cancel leaves everything as it was.
#[tokio::test]
async fn the_outstanding_scorecards_are_listed_at_every_size_before_the_result() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    for (id, sizes) in SHOW_SIZES {
        big_challenge(&server, id, sizes).await;
        let owed = half_scored(&server, id, sizes).await;
        let mut waits: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (judge, teams) in &owed {
            for team in teams {
                waits.entry(team.clone()).or_default().push(judge.clone());
            }
        }
        // The API's list is exactly what the jury owes; nobody but an organizer reads it.
        let (status, list) = server
            .get(&format!("/api/challenges/{id}/outstanding"), Some(ADMIN))
            .await;
        assert_eq!(status, 200, "{list}");
        let by_judge: BTreeMap<String, Vec<String>> = list["by_judge"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["judge"].as_str().unwrap().to_owned(),
                    serde_json::from_value(o["missing"].clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(by_judge, owed, "{id}: the API's list by judge");
        let by_team: BTreeMap<String, Vec<String>> = list["by_team"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["team"].as_str().unwrap().to_owned(),
                    serde_json::from_value(o["missing"].clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(by_team, waits, "{id}: the API's list by team");
        let (status, _) = server
            .get(&format!("/api/challenges/{id}/outstanding"), None)
            .await;
        assert!(
            status == 401 || status == 403,
            "{id}: the audience reads the list: {status}"
        );

        let desk = driver.browser(DESKTOP.0, DESKTOP.1).await;
        let phone = driver.browser(PHONE.0, PHONE.1).await;
        let consoles = [
            (&desk, format!("{id}: the console at 1920×1080")),
            (&phone, format!("{id}: the console at 390×844")),
        ];
        for (b, _) in &consoles {
            b.goto(&format!("{http}/admin?c={id}#token={ADMIN}")).await;
            b.click(".admin-tabs .tab[data-tab=\"run\"]").await;
        }
        let phase = || {
            let (server, path) = (&server, format!("/api/challenges/{id}/view"));
            async move {
                let (_, v) = server.get(&path, Some(ADMIN)).await;
                (
                    v["challenge"]["phase"].as_str().unwrap().to_owned(),
                    v["challenge"]["scoring_open"].as_bool().unwrap(),
                    v["reveal"].as_array().unwrap().len(),
                )
            }
        };
        // Close scoring (the phone cancels, the laptop goes ahead), freeze (the other way round),
        // and the first reveal: each time both consoles list the same.
        for (step, goes, after) in [
            ("close_scoring", 0, ("running", false, 0)),
            ("freeze", 1, ("frozen", false, 0)),
            ("reveal_next", 0, ("frozen", false, 1)),
        ] {
            if step == "freeze" {
                let (status, body) = server.command(id, Some(ADMIN), Command::EndBuilding).await;
                assert_eq!(status, 200, "{body}");
            }
            let before = phase().await;
            for (b, what) in &consoles {
                confirm(b, step).await;
                b.wait(
                    "document.querySelector('.outstanding .outstanding-teams')",
                    &format!("{what}: the list before {step}"),
                )
                .await;
                // The list comes into view: on a phone it opens below the fold.
                assert_eq!(
                    b.js(
                        "const r = document.querySelector('.outstanding h2').getBoundingClientRect(); \
                         return r.top >= 0 && r.bottom <= innerHeight;",
                        vec![]
                    )
                    .await,
                    json!(true),
                    "{what}: the list before {step} is out of sight"
                );
                once_each(
                    &data_of(b, ".outstanding-judges li", "judge").await,
                    &owed.keys().cloned().collect::<Vec<_>>(),
                    what,
                );
                once_each(
                    &data_of(b, ".outstanding-teams li", "team").await,
                    &waits.keys().cloned().collect::<Vec<_>>(),
                    what,
                );
                let texts: BTreeMap<String, String> = serde_json::from_value(
                    b.js(
                        "return Object.fromEntries([...document.querySelectorAll('.outstanding li')].map(li => [li.dataset.judge || li.dataset.team, li.textContent]))",
                        vec![],
                    )
                    .await,
                )
                .unwrap();
                let name = |team: &str| {
                    let (t, i) = team.trim_start_matches("tr").split_once("-t").unwrap();
                    format!("Team {t}-{i}")
                };
                for (judge, teams) in &owed {
                    for team in teams {
                        assert!(
                            texts[judge].contains(&format!("{} ", name(team)))
                                || texts[judge].ends_with(&name(team))
                                || texts[judge].contains(&format!("{},", name(team))),
                            "{what}: {judge} owes {team}: {}",
                            texts[judge]
                        );
                    }
                }
                for (team, judges) in &waits {
                    for judge in judges {
                        assert!(
                            texts[team].contains(&format!("Judge {}", &judge[1..])),
                            "{what}: {team} waits for {judge}: {}",
                            texts[team]
                        );
                    }
                }
                assert_seen(b, ".outstanding li, .outstanding input[name=accept_outstanding], .outstanding button", ".outstanding li, .outstanding h2, .outstanding h3", what).await;
                assert_eq!(
                    b.js("return document.querySelector(`button[data-i18n=\"${arguments[0]}_anyway\"]`).disabled", vec![json!(step)]).await,
                    json!(true),
                    "{what}: the step waits for the confirmation"
                );
                if step == "close_scoring" && id == "hundred" {
                    b.shot("admin-outstanding-hundred").await;
                }
                // In Chinese too: the same list, the names in Chinese, nothing past its box.
                if step == "freeze" {
                    b.click(".langsw").await;
                    b.wait(
                        "document.querySelector('.outstanding h2')?.textContent === '还有评分表未完成'",
                        &format!("{what}: the list in Chinese"),
                    )
                    .await;
                    let (judge, teams) = owed.iter().next().unwrap();
                    let (t, i) = teams[0].trim_start_matches("tr").split_once("-t").unwrap();
                    let text = b
                        .js(
                            "return document.querySelector(`.outstanding-judges li[data-judge=\"${arguments[0]}\"]`).textContent",
                            vec![json!(judge)],
                        )
                        .await;
                    let text = text.as_str().unwrap();
                    assert!(
                        text.contains(&format!("评委 {}", &judge[1..]))
                            && text.contains(&format!("团队 {t}-{i}")),
                        "{what}: in Chinese: {text}"
                    );
                    assert_seen(
                        b,
                        ".outstanding li",
                        ".outstanding li, .outstanding h2, .outstanding h3",
                        &format!("{what} in Chinese"),
                    )
                    .await;
                    b.click(".langsw").await;
                    b.wait(
                        "document.querySelector('.outstanding h2')?.textContent === 'Scorecards are still missing'",
                        &format!("{what}: the list in English again"),
                    )
                    .await;
                }
            }
            assert_eq!(
                phase().await,
                before,
                "{id}: nothing happened before {step} was confirmed"
            );
            for (i, (b, what)) in consoles.iter().enumerate() {
                if i == goes {
                    continue;
                }
                b.click(".outstanding button[data-i18n=\"cancel\"]").await;
                b.wait(
                    "!document.querySelector('.outstanding')",
                    &format!("{what}: cancelled"),
                )
                .await;
            }
            assert_eq!(phase().await, before, "{id}: a cancel changes nothing");
            let (b, what) = &consoles[goes];
            b.click(".outstanding input[name=accept_outstanding]").await;
            b.click(&format!(".outstanding button[data-i18n=\"{step}_anyway\"]"))
                .await;
            b.wait(
                "!document.querySelector('.outstanding')",
                &format!("{what}: {step} done"),
            )
            .await;
            let (p, open, revealed) = after;
            let deadline = Instant::now() + Duration::from_secs(5);
            while phase().await != (p.to_owned(), open, revealed) {
                assert!(
                    Instant::now() < deadline,
                    "{id}: after {step}: {:?}",
                    phase().await
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        for (b, what) in &consoles {
            b.assert_clean(what).await;
        }
        desk.close().await;
        phone.close().await;
    }
    server.stop().await;
}
