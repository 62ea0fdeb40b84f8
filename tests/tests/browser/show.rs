//! The organizer's pages at the show's real sizes (4, 30 and 100 teams, a track of 40): the replay
//! on the four shapes of screen, the guardrails before the result, the CSV import, the link sheet
//! and the result sheet; and the check, used by the reveal's test, that every place revealed is
//! seen on the big screen. Each test keeps one server and one chromedriver across the sizes.
//!
//! Which screens: the replay is opened on a hall's screen as well as on a phone, so it is checked
//! at 1920×1080, 3840×2160, 1080×1920 and 390×844, like the big screen. The admin console, the
//! import and the sheets are an organizer's desk pages, used on a laptop and, in the hall, on a
//! phone: 1920×1080 and 390×844 (a 4K or portrait admin is the desktop layout, larger).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use makerpulse_core::roster::{Assignment, PanelRole, Subject};
use makerpulse_core::{Command, JudgeId, Localized, TeamId, TrackId};
use makerpulse_e2e::{scorecard, TestServer, ADMIN};
use serde_json::{json, Value};

use super::driver::{Browser, Driver};
use super::{
    big_challenge, challenge_with_tracks, scored_and_frozen, DESKTOP, PHONE, SHOW_SIZES, TURN,
};

/// The four shapes of screen a hall or a person opens a public page on.
const SCREENS: [(u32, u32); 4] = [(1920, 1080), (3840, 2160), (1080, 1920), (390, 844)];

/// A script: `arguments[0]` selects items, `arguments[1]` text boxes. Returns what a person could
/// not see whole: an item without a box, one past the page's side (unless a box around it scrolls
/// sideways), one cut by a box that hides its overflow (a box that scrolls is fine: scrolled, it
/// shows the item), a text box whose text runs past it or is cut with an ellipsis, and a page
/// that scrolls sideways.
const UNSEEN: &str = r#"
const problems = [];
const name = (e) => (e.dataset.team || e.dataset.id || e.dataset.judge || e.dataset.row || e.textContent).slice(0, 40);
const ancestors = (e) => { const out = []; for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) out.push([a, getComputedStyle(a)]); return out; };
for (const e of document.querySelectorAll(arguments[0])) {
  const r = e.getBoundingClientRect();
  const up = ancestors(e);
  if (!e.getClientRects().length || r.height <= 0 || r.width <= 0) { problems.push('no box: ' + name(e)); continue; }
  if ((r.left < -1 || r.right > innerWidth + 1) && !up.some(([, s]) => /auto|scroll/.test(s.overflowX))) problems.push('past the side: ' + name(e));
  for (const [a, s] of up) {
    if (!/hidden|clip/.test(s.overflowX + s.overflowY)) continue;
    const b = a.getBoundingClientRect();
    if (r.top < b.top - 1 || r.bottom > b.bottom + 1 || r.left < b.left - 1 || r.right > b.right + 1) { problems.push('cut: ' + name(e)); break; }
  }
}
for (const e of document.querySelectorAll(arguments[1])) {
  if (!e.getClientRects().length || !e.clientWidth) continue;
  if (e.scrollWidth > e.clientWidth + 1) problems.push('text past its box: ' + e.textContent.slice(0, 60));
}
if (document.documentElement.scrollWidth > innerWidth + 1) problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px');
return problems;
"#;

/// Asserts that every item of `items` is seen whole (or reached by scrolling) and no text of
/// `texts` runs past its box.
async fn assert_seen(b: &Browser, items: &str, texts: &str, what: &str) {
    let problems = b.js(UNSEEN, vec![json!(items), json!(texts)]).await;
    if problems != json!([]) {
        b.shot(&format!(
            "FAILED-{}",
            what.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ))
        .await;
        panic!("{what}: {problems:#}");
    }
}

/// Presses the button `key` of the admin console and confirms it. The second press is sent with
/// the first, in one script: a button stays armed for 4 s, longer than a busy test machine may
/// take between two WebDriver clicks.
async fn confirm(b: &Browser, key: &str) {
    b.wait(
        &format!("document.querySelector('button[data-i18n=\"{key}\"]')"),
        key,
    )
    .await;
    b.js(
        "const b = document.querySelector(`button[data-i18n=\"${arguments[0]}\"]`); b.click(); \
         if (!b.classList.contains('armed')) throw new Error('not armed'); b.click();",
        vec![json!(key)],
    )
    .await;
}

/// The `data-*` attribute `key` of every element of `css`, in document order.
async fn data_of(b: &Browser, css: &str, key: &str) -> Vec<String> {
    serde_json::from_value(
        b.js(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.dataset[arguments[1]])",
            vec![json!(css), json!(key)],
        )
        .await,
    )
    .unwrap()
}

/// Asserts that `got` holds each of `want` exactly once and nothing else.
fn once_each(got: &[String], want: &[String], what: &str) {
    let mut sorted = got.to_vec();
    sorted.sort();
    let mut wanted = want.to_vec();
    wanted.sort();
    let dup: Vec<&String> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    assert!(dup.is_empty(), "{what}: twice: {dup:?}");
    let missing: Vec<&String> = wanted.iter().filter(|t| !sorted.contains(t)).collect();
    let extra: Vec<&String> = sorted.iter().filter(|t| !wanted.contains(t)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}"
    );
}

fn millis(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .timestamp_millis()
}

/// The replay at 4, 30 and 100 teams on the four shapes of screen. Play at ×8 goes through every
/// moment in order; at every moment it shows, the moment is the last one at or before the time
/// shown and the label's T+ is the clock at that time; ◀ and ▶ land on the previous and next
/// moment with that moment's time; every team of every track has its row once, reachable, its
/// name inside its box, and the page never scrolls sideways.
#[tokio::test]
async fn the_replay_plays_every_size_on_every_screen() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let mut shows = Vec::new();
    for (id, sizes) in SHOW_SIZES {
        let teams = big_challenge(&server, id, sizes).await;
        let (_, view) = server
            .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
            .await;
        let started = (
            view["seq"].as_u64().unwrap(),
            millis(&view["challenge"]["clock"]["started_at"]),
        );
        let mut tokens = Vec::new();
        for team in [&teams[0], &teams[teams.len() - 1]] {
            tokens.push(
                server
                    .mint(id, Subject::Team(TeamId::new(team).unwrap()))
                    .await,
            );
        }
        shows.push((id, teams, started, tokens));
    }
    // Six posts a little over a second apart in every challenge: six moments after the setup.
    for i in 0..6 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        for (id, _, _, tokens) in &shows {
            let (status, body) = server
                .command(
                    id,
                    Some(&tokens[i % 2]),
                    Command::PostProgress {
                        text: format!("step {i}"),
                        photos: vec![],
                        links: vec![],
                        percent: Some(10 * i as u8),
                    },
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let driver = Driver::start().await;
    for (id, teams, (start_seq, start_ms), _) in &shows {
        let (_, marks) = server
            .get(&format!("/api/challenges/{id}/times?every=1"), None)
            .await;
        let marks: Vec<(u64, i64)> = marks
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["seq"].as_u64().unwrap(), millis(&m["at"])))
            .collect();
        assert!(marks.len() >= 7, "{id}: {marks:?}");
        let n = marks.len();
        let mut screens = Vec::new();
        for (w, h) in SCREENS {
            let b = driver.browser(w, h).await;
            b.goto(&format!("{http}/replay/{id}?at={}", marks[0].0))
                .await;
            screens.push((b, format!("the replay of {id} at {w}×{h}")));
        }
        for (b, what) in &screens {
            b.wait(
                &format!(
                    "document.querySelectorAll('.replay-board .row').length === {}",
                    teams.len()
                ),
                what,
            )
            .await;
            once_each(&data_of(b, ".replay-board .row", "team").await, teams, what);
            assert_seen(
                b,
                ".replay-board .row",
                ".replay-board .row .name, .scrubber, .at",
                what,
            )
            .await;
            // ◀, the slider and ▶ on one line, as a thumb steps through the moments.
            assert_eq!(
                b.js(
                    "const mid = (e) => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; }; \
                     const s = document.querySelector('.scrubber .scrub'); \
                     return [...document.querySelectorAll('.scrubber .step')].every((e) => Math.abs(mid(e) - mid(s)) < 4);",
                    vec![]
                )
                .await,
                json!(true),
                "{what}: ◀, the slider and ▶ are not on one line"
            );
            // Every moment the page shows, with its time and label, in order.
            b.js(
                "window.samples = []; setInterval(() => { const at = Number(new URLSearchParams(location.search).get('at')); \
                   const el = document.querySelector('.at'); const ms = Number(el.dataset.ms); const last = window.samples.at(-1); \
                   if (!last || last[0] !== at || last[1] !== ms) window.samples.push([at, ms, el.textContent]); }, 10);",
                vec![],
            )
            .await;
            b.js(
                "const s = document.querySelector('select[name=speed]'); s.value = '8'; s.dispatchEvent(new Event('change'));",
                vec![],
            )
            .await;
        }
        // The four play together: each plays on its own clock.
        for (b, _) in &screens {
            b.click("button[data-i18n=\"play\"]").await;
        }
        for (b, what) in &screens {
            b.wait(
                &format!(
                    "document.querySelector('.scrubber button[data-i18n=\"play\"]') && window.samples.at(-1)[0] === {}",
                    marks[n - 1].0
                ),
                &format!("{what}: the play reaching the end"),
            )
            .await;
            let samples: Vec<(u64, i64, String)> =
                serde_json::from_value(b.js("return window.samples", vec![]).await).unwrap();
            let seen: Vec<u64> = samples.iter().map(|s| s.0).collect();
            for (seq, _) in &marks {
                assert!(
                    seen.contains(seq),
                    "{what}: the play skipped {seq}: {seen:?}"
                );
            }
            assert!(
                seen.windows(2).all(|w| w[0] <= w[1]),
                "{what}: the play went back: {seen:?}"
            );
            for (seq, ms, label) in &samples {
                let due = marks.iter().take_while(|m| m.1 <= *ms).last().map(|m| m.0);
                assert_eq!(
                    due,
                    Some(*seq),
                    "{what}: at {ms} ms the moment shown is {seq} ({label})"
                );
                let secs = if seq >= start_seq {
                    (ms - start_ms).max(0) / 1000
                } else {
                    0
                };
                let clock = format!(
                    "T+{:02}:{:02}:{:02}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                );
                assert!(
                    label.ends_with(&clock),
                    "{what}: at event {seq}, {ms} ms: {label}, not {clock}"
                );
            }
            // ◀ and ▶ move between moments, and the time shown is the moment's.
            for (button, index) in [("-1", n - 2), ("-1", n - 3), ("1", n - 2)] {
                b.click(&format!(".scrubber button[data-step=\"{button}\"]"))
                    .await;
                let (seq, ms) = marks[index];
                b.wait(
                    &format!(
                        "new URLSearchParams(location.search).get('at') === '{seq}' \
                         && document.querySelector('.at').dataset.ms === '{ms}'"
                    ),
                    &format!("{what}: the step's moment and its time"),
                )
                .await;
            }
            if *id == "hundred" {
                b.shot("replay-hundred").await;
            }
            b.assert_clean(what).await;
        }
        for (b, _) in screens {
            b.close().await;
        }
    }
    server.stop().await;
}

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

/// The CSV of `n` teams per track of `sizes` (a member each; names with a comma), and the ids.
fn teams_csv(sizes: &[usize]) -> (String, Vec<String>) {
    let mut csv = String::from("id,track,name_zh,name_en,members\r\n");
    let mut ids = Vec::new();
    for (t, &n) in sizes.iter().enumerate() {
        for i in 0..n {
            csv.push_str(&format!(
                "tr{t}-t{i},tr{t},\"团队 {t},{i}\",Team {t}-{i},Member {i}|hardware|中国\r\n"
            ));
            ids.push(format!("tr{t}-t{i}"));
        }
    }
    (csv, ids)
}

/// The CSV import at 30 and 100 rows (a track of 40), on a laptop and on a phone: the preview
/// has every row once, reachable, nothing past its box; a row the page can tell is wrong is
/// marked before anything is sent; a row only the server can tell is wrong (a track that does
/// not exist, ids already taken) refuses the whole file, every refused row marked with its
/// reason and nothing added; corrected, every team and judge is in.
#[tokio::test]
async fn a_roster_of_a_hundred_is_imported_whole_or_not_at_all() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    for (id, sizes) in &SHOW_SIZES[1..] {
        challenge_with_tracks(&server, id, sizes).await;
        let (csv, ids) = teams_csv(sizes);
        let n = ids.len();
        let desk = driver.browser(DESKTOP.0, DESKTOP.1).await;
        let phone = driver.browser(PHONE.0, PHONE.1).await;
        for b in [&desk, &phone] {
            b.goto(&format!("{http}/admin?c={id}#token={ADMIN}")).await;
            b.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
        }
        let paste = |csv: &str| {
            format!(
                "const a = document.querySelector('textarea[name=import_csv]'); a.value = {}; \
                 document.querySelector('button[data-i18n=import_check]').click();",
                json!(csv)
            )
        };
        let rows = "document.querySelectorAll('.import-preview tr').length";
        let teams_now = || {
            let server = &server;
            async move {
                let (_, v) = server
                    .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
                    .await;
                v["teams"].as_object().unwrap().len()
            }
        };
        // A row without a name (the middle one): marked at once, nothing to send.
        let lines: Vec<&str> = csv.lines().collect();
        let middle = n / 2;
        let nameless = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == middle + 1 {
                    format!("{},{},,,", ids[middle], &ids[middle][..3])
                } else {
                    (*l).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        for (b, what) in [
            (&desk, format!("{id}: the import at 1920×1080")),
            (&phone, format!("{id}: the import at 390×844")),
        ] {
            b.js(&paste(&nameless), vec![]).await;
            b.wait(&format!("{rows} === {n} && document.querySelectorAll('.import-preview tr.refused').length === 1"), &what).await;
            assert_eq!(
                data_of(b, ".import-preview tr.refused", "row").await,
                vec![(middle + 1).to_string()],
                "{what}"
            );
            assert_eq!(
                data_of(b, ".import-problems li", "row").await,
                vec![(middle + 1).to_string()],
                "{what}: the rows with a problem, listed"
            );
            assert_eq!(
                b.js(
                    "return !!document.querySelector('button[data-i18n=import_send_teams]')",
                    vec![]
                )
                .await,
                json!(false),
                "{what}: a file with a bad row cannot be sent"
            );
            // The whole file, in its preview: every row once, reachable.
            b.js(&paste(&csv), vec![]).await;
            b.wait(&format!("{rows} === {n} && !document.querySelector('.import-preview tr.refused') && document.querySelector('button[data-i18n=import_send_teams]')"), &what).await;
            let shown = data_of(b, ".import-preview tr", "row").await;
            once_each(
                &shown,
                &(1..=n).map(|i| i.to_string()).collect::<Vec<_>>(),
                &what,
            );
            assert_seen(
                b,
                ".import-preview tr",
                ".import-preview td, .import-card button",
                &what,
            )
            .await;
        }
        // The last row names a track that does not exist: the server refuses the whole file.
        let bad = csv.replace(
            &format!("tr2-t{0},tr2,", sizes[2] - 1),
            &format!("tr2-t{0},nope,", sizes[2] - 1),
        );
        desk.js(&paste(&bad), vec![]).await;
        desk.click("button[data-i18n=\"import_send_teams\"]").await;
        desk.wait(
            &format!("document.querySelector('.import-preview tr[data-row=\"{n}\"].refused .problems')?.textContent.includes('nope')"),
            &format!("{id}: the refused last row"),
        )
        .await;
        assert_eq!(
            data_of(&desk, ".import-preview tr.refused", "row").await,
            vec![n.to_string()]
        );
        // The refused row is listed where the organizer is looking, not a hundred rows down.
        assert_eq!(
            desk.js(
                "const li = document.querySelector('.import-problems li'); const r = li.getBoundingClientRect(); \
                 return [li.dataset.row, li.textContent.includes('nope'), r.top >= 0 && r.bottom <= innerHeight];",
                vec![]
            )
            .await,
            json!([n.to_string(), true, true]),
            "{id}: the refused row in view"
        );
        assert_eq!(teams_now().await, 0, "{id}: nothing of a refused file");
        if *id == "hundred" {
            desk.shot("admin-import-refused-hundred").await;
        }
        // Corrected, every team goes in, with its member and its comma.
        desk.js(&paste(&csv), vec![]).await;
        desk.click("button[data-i18n=\"import_send_teams\"]").await;
        desk.wait(
            &format!("document.querySelectorAll('tr[data-team]').length === {n}"),
            &format!("{id}: the imported teams"),
        )
        .await;
        let (_, view) = server
            .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
            .await;
        assert_eq!(view["teams"].as_object().unwrap().len(), n);
        assert_eq!(
            view["teams"]["tr0-t39"]["track"],
            if *id == "hundred" {
                json!("tr0")
            } else {
                Value::Null
            }
        );
        assert_eq!(view["teams"]["tr1-t3"]["name"]["zh"], "团队 1,3");
        assert_eq!(view["teams"]["tr1-t3"]["members"][0]["region"], "中国");
        once_each(
            &data_of(&desk, "tr[data-team]", "team").await,
            &ids,
            &format!("{id}: the teams listed"),
        );
        // The phone sends the same file again: every row is taken, every row is marked, nothing changes.
        phone.click("button[data-i18n=\"import_send_teams\"]").await;
        phone
            .wait(&format!("document.querySelectorAll('.import-preview tr.refused .problems').length === {n} && document.querySelectorAll('.import-problems li').length === {n}"), &format!("{id}: every row taken"))
            .await;
        assert_seen(
            &phone,
            ".import-preview tr, .import-problems li",
            ".import-preview td, .import-problems li",
            &format!("{id}: the refused rows on a phone"),
        )
        .await;
        assert_eq!(teams_now().await, n);
        once_each(
            &data_of(&phone, "tr[data-team]", "team").await,
            &ids,
            &format!("{id}: the teams on a phone"),
        );
        assert_seen(
            &phone,
            "tr[data-team]",
            "tr[data-team] td",
            &format!("{id}: the teams on a phone"),
        )
        .await;

        // Ten judges from the phone, each on the panel of a track; an unknown seat is caught first.
        let mut judges = String::from("id,name_zh,name_en,panel_role,tracks,conflicts\r\n");
        for j in 0..10 {
            judges.push_str(&format!(
                "j{j},评委 {j},Judge {j},{},tr{},tr{}-t0\r\n",
                if j == 7 { "astrologer" } else { "investor" },
                j % 3,
                (j + 1) % 3
            ));
        }
        phone.click(".admin-tabs .tab[data-tab=\"judges\"]").await;
        phone.js(&paste(&judges), vec![]).await;
        phone
            .wait("document.querySelector('.import-preview tr[data-row=\"8\"].refused .problems')?.textContent.includes('astrologer') && !document.querySelector('button[data-i18n=import_send_judges]')", &format!("{id}: the unknown seat"))
            .await;
        phone
            .js(&paste(&judges.replace("astrologer", "investor")), vec![])
            .await;
        phone
            .click("button[data-i18n=\"import_send_judges\"]")
            .await;
        phone
            .wait(
                "document.querySelectorAll('tr[data-judge]').length === 10",
                &format!("{id}: the imported judges"),
            )
            .await;
        let (_, view) = server
            .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
            .await;
        assert_eq!(view["judges"]["j7"]["assignment"]["tracks"], json!(["tr1"]));
        assert_eq!(view["judges"]["j7"]["conflicts"], json!(["tr2-t0"]));
        assert_seen(
            &phone,
            "tr[data-judge]",
            "tr[data-judge] td",
            &format!("{id}: the judges on a phone"),
        )
        .await;
        for b in [&desk, &phone] {
            b.assert_clean(&format!("{id}: admin import")).await;
        }
        desk.close().await;
        phone.close().await;
    }
    server.stop().await;
}

/// The link sheet and the result sheet at 4, 30 and 100 teams, on a laptop and on a phone: one
/// card per team and judge, each once, reachable, its name and link inside the card; the QR codes
/// decode to the card's link (every one at 4 teams; the first, the middle and the last beyond,
/// the others being drawn by the same code); printed, the sheet alone is on paper; the CSV holds
/// the same links; re-minting from the phone revokes the laptop's links and the new ones work;
/// once final, the result CSV and the printable table have every team once, in the server's
/// places.
#[tokio::test]
async fn every_link_and_the_result_are_printed_at_every_size() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    for (id, sizes) in SHOW_SIZES {
        let teams = big_challenge(&server, id, sizes).await;
        scored_and_frozen(&server, id, sizes).await;
        let subjects: Vec<String> = teams.iter().cloned().chain(["j".to_owned()]).collect();
        let desk = driver.browser(DESKTOP.0, DESKTOP.1).await;
        let phone = driver.browser(PHONE.0, PHONE.1).await;
        for b in [&desk, &phone] {
            b.goto(&format!("{http}/admin?c={id}#token={ADMIN}")).await;
            b.click(".admin-tabs .tab[data-tab=\"run\"]").await;
        }
        let mut links_before: Vec<String> = Vec::new();
        for (b, button, what) in [
            (
                &desk,
                "mint_all_links",
                format!("{id}: the link sheet at 1920×1080"),
            ),
            (
                &phone,
                "remint_all_links",
                format!("{id}: the link sheet re-minted at 390×844"),
            ),
        ] {
            confirm(b, button).await;
            b.wait(
                &format!(
                    "document.querySelectorAll('.link-sheet .link-card').length === {}",
                    subjects.len()
                ),
                &what,
            )
            .await;
            once_each(&data_of(b, ".link-card", "id").await, &subjects, &what);
            assert_seen(
                b,
                ".link-card",
                ".link-card h3, .link-card .link-text, .link-card p",
                &what,
            )
            .await;
            let links: Vec<String> = serde_json::from_value(
                b.js("return [...document.querySelectorAll('.link-card .link-text')].map(e => e.textContent)", vec![])
                    .await,
            )
            .unwrap();
            for (i, link) in links.iter().enumerate() {
                if id == "four" || i == 0 || i == links.len() / 2 || i + 1 == links.len() {
                    let css = format!(".link-card:nth-child({}) .qr", i + 1);
                    assert_eq!(
                        &b.read_qr(&css).await,
                        link,
                        "{what}: the QR code of card {i}"
                    );
                }
            }
            let csv = b
                .js(
                    "const href = document.querySelector('.link-sheet-card a.csv-download').href; \
                     return decodeURIComponent(href.slice(href.indexOf(',') + 1));",
                    vec![],
                )
                .await;
            let csv_links: BTreeSet<&str> = csv
                .as_str()
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.rsplit(',').next().unwrap())
                .collect();
            assert_eq!(
                csv_links,
                links.iter().map(String::as_str).collect::<BTreeSet<_>>(),
                "{what}: the CSV"
            );
            // Printed: the cards, and nothing of the console around them.
            b.js("document.body.classList.add('printing'); document.querySelector('.link-sheet').classList.add('print-area');", vec![]).await;
            b.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
                .await;
            let printed = b
                .js(
                    "const seen = (e) => getComputedStyle(e).visibility === 'visible'; \
                     return [[...document.querySelectorAll('.link-card')].filter(seen).length, seen(document.querySelector('.admin-tabs .tab'))];",
                    vec![],
                )
                .await;
            assert_eq!(printed, json!([subjects.len(), false]), "{what}: printed");
            b.cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
                .await;
            b.js("document.body.classList.remove('printing'); document.querySelector('.link-sheet').classList.remove('print-area');", vec![]).await;
            for link in &links {
                let token = link.split("#token=").nth(1).unwrap();
                let (status, _) = server
                    .get(&format!("/api/challenges/{id}/view"), Some(token))
                    .await;
                assert_eq!(status, 200, "{what}: a printed link works");
            }
            for link in &links_before {
                let token = link.split("#token=").nth(1).unwrap();
                let (status, _) = server
                    .get(&format!("/api/challenges/{id}/view"), Some(token))
                    .await;
                assert!(
                    status == 401 || status == 403,
                    "{what}: a link re-minted still works: {status}"
                );
            }
            if id == "hundred" {
                b.shot("admin-link-sheet-hundred").await;
            }
            links_before = links;
        }

        // The result. The sheet of links stays as it was drawn while the events of the reveal
        // redraw the console (a hundred QR codes drawn again at every step kept it busy).
        for b in [&desk, &phone] {
            b.js(
                "document.querySelector('.link-sheet').dataset.kept = 'yes';",
                vec![],
            )
            .await;
        }
        while server
            .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
            .await
            .1["challenge"]["phase"]
            != "revealed"
        {
            let (status, body) = server.command(id, Some(ADMIN), Command::RevealNext).await;
            assert_eq!(status, 200, "{body}");
        }
        let (_, view) = server
            .get(&format!("/api/challenges/{id}/view"), None)
            .await;
        let places: BTreeMap<String, String> = view["leaderboard"]["board"]["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|tb| tb["rows"].as_array().unwrap().iter())
            .map(|r| {
                (
                    r["team"].as_str().unwrap().to_owned(),
                    r["rank"].to_string(),
                )
            })
            .collect();
        assert_eq!(places.len(), teams.len());
        for (b, what) in [
            (&desk, format!("{id}: the result at 1920×1080")),
            (&phone, format!("{id}: the result at 390×844")),
        ] {
            b.wait(
                &format!(
                    "document.querySelector('.link-sheet').dataset.kept === 'yes' && document.querySelectorAll('.result-sheet tbody tr').length === {}",
                    teams.len()
                ),
                &what,
            )
            .await;
            once_each(
                &data_of(b, ".result-sheet tbody tr", "team").await,
                &teams,
                &what,
            );
            assert_seen(b, ".result-sheet tbody tr", ".result-sheet h3", &what).await;
            let csv = b
                .js(
                    "const href = document.querySelector('.result-sheet-card a.csv-download').href; \
                     return decodeURIComponent(href.slice(href.indexOf(',') + 1));",
                    vec![],
                )
                .await;
            let csv = csv.as_str().unwrap();
            let rows: Vec<Vec<&str>> = csv
                .lines()
                .skip(1)
                .map(|l| l.split(',').collect())
                .collect();
            assert_eq!(rows.len(), teams.len(), "{what}: one CSV line per team");
            let got: Vec<String> = rows.iter().map(|r| r[2].to_owned()).collect();
            once_each(&got, &teams, &what);
            for r in &rows {
                assert_eq!(places[r[2]], r[1], "{what}: {} in the CSV", r[2]);
            }
            if id == "hundred" {
                b.shot("admin-result-hundred").await;
            }
            b.assert_clean(&what).await;
        }
        desk.close().await;
        phone.close().await;
    }
    server.stop().await;
}

/// Asserts that each big screen of `screens`, showing the reveal of a track, shows every team of
/// `before` (the places revealed before the moment) whole on the screen at some moment, within
/// 40 s: the list under the moment turns its pages, and none is cut at the stage's edge.
pub(super) async fn every_place_is_seen(
    screens: &[(Browser, String)],
    before: &[String],
    id: &str,
) {
    for (b, _) in screens {
        b.js(
            "clearInterval(window.placesTimer); window.seenPlaces = new Set(); window.placesTimer = setInterval(() => { \
               const list = document.querySelector('.reveal-list'); if (!list || list.closest('[hidden]')) return; \
               const box = list.getBoundingClientRect(); \
               for (const li of list.children) { const r = li.getBoundingClientRect(); \
                 if (r.height > 0 && r.top >= Math.max(0, box.top) - 1 && r.bottom <= Math.min(innerHeight, box.bottom) + 1 \
                     && r.left >= -1 && r.right <= innerWidth + 1) window.seenPlaces.add(li.dataset.team); } }, 50);",
            vec![],
        )
        .await;
    }
    for (b, what) in screens {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let seen: Vec<String> =
                serde_json::from_value(b.js("return [...window.seenPlaces]", vec![]).await)
                    .unwrap();
            let missing: Vec<&String> = before.iter().filter(|t| !seen.contains(t)).collect();
            if missing.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                b.shot(&format!("FAILED-reveal-list-{id}")).await;
                panic!("{id}, {what}: places never seen whole: {missing:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_seen(
            b,
            ".reveal-moment, .reveal-list li",
            ".reveal-list .name, .reveal-page",
            what,
        )
        .await;
        if id == "hundred" {
            b.shot("reveal-list-hundred").await;
        }
    }
}
