//! The replay at the show's sizes, on the four shapes of screen.

use std::time::Duration;

use makerpulse_core::roster::Subject;
use makerpulse_core::{Command, TeamId};
use makerpulse_e2e::{TestServer, ADMIN};
use serde_json::json;

use super::super::driver::Driver;
use super::super::{big_challenge, SHOW_SIZES, TURN};
use super::{assert_seen, data_of, millis, once_each, SCREENS};

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
