//! Accessibility, checked from the outside: axe-core (tests/axe) runs in real Chromium on every
//! page at its natural size, in English and in Chinese, in the light and the dark theme, in the
//! pages' main states (the phone's three tabs, a team picked in the judge console, every tab of
//! the admin console, the reveal). No critical or serious violation may remain; the others are
//! counted and printed (`cargo test -p makerpulse-e2e --test browser a11y -- --nocapture`).
//!
//! Around it, what axe cannot see: the tabs move with the arrow keys (one tab stop), the theme
//! follows the system and the big screen's switch (remembered), less motion is honoured, the
//! board's arrival moves nothing on the big screen, and the live region says a published score
//! and a revealed place, a burst of them as one sentence.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::Locator;
use makerpulse_core::Command;
use makerpulse_e2e::{scorecard, TestServer, ADMIN};
use serde_json::Value;

use super::driver::{Browser, Driver};
use super::{console, ok, post, DESKTOP, PHONE, TABLET, TURN};

/// The embed's natural size: a box in a partner's page.
const EMBED: (u32, u32) = (480, 640);

/// WebDriver's codes for the keys a keyboard user moves through tabs with.
const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_LEFT: &str = "\u{E012}";
const HOME: &str = "\u{E011}";
const END: &str = "\u{E010}";

/// What axe found over the whole run.
#[derive(Default)]
struct Findings {
    /// Critical and serious violations: each a line naming the page state, the rule and where.
    failures: Vec<String>,
    /// Moderate and minor violations by rule, counted over every page state.
    others: BTreeMap<String, usize>,
    /// How many page states axe checked.
    checked: usize,
}

impl Findings {
    /// Runs axe on the page as it is and files what it finds under `state`.
    async fn check(&mut self, b: &Browser, state: &str) {
        let violations = b.axe().await;
        self.checked += 1;
        let mut minor = 0;
        for v in &violations {
            let impact = v["impact"].as_str().unwrap_or("unknown");
            let nodes = v["nodes"].as_array().map(Vec::len).unwrap_or(0);
            if matches!(impact, "critical" | "serious") {
                let at: Vec<String> = v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(3)
                    .map(|n| {
                        format!(
                            "{} — {}",
                            n["target"].as_str().unwrap_or(""),
                            n["summary"].as_str().unwrap_or("").replace('\n', " ")
                        )
                    })
                    .collect();
                self.failures.push(format!(
                    "{state}: {} ({impact}, {nodes} elements) {}: {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    at.join(" | "),
                ));
            } else {
                minor += nodes;
                *self
                    .others
                    .entry(format!("{} ({impact})", v["id"].as_str().unwrap_or("?")))
                    .or_default() += nodes;
            }
        }
        println!("axe {state}: {minor} moderate or minor");
    }

    /// Checks the page in English (and captures it, `target/screenshots/a11y-*`), switches to
    /// Chinese and checks it again, and switches back.
    async fn both_languages(&mut self, b: &Browser, state: &str) {
        b.wait("document.documentElement.lang === 'en'", "English")
            .await;
        self.check(b, &format!("{state} en")).await;
        b.shot(&format!("a11y-{}", state.replace(' ', "-"))).await;
        b.click(".langsw").await;
        b.wait("document.documentElement.lang === 'zh-CN'", "Chinese")
            .await;
        // Pages that redraw on the switch have done so.
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.check(b, &format!("{state} zh")).await;
        b.click(".langsw").await;
        b.wait("document.documentElement.lang === 'en'", "English again")
            .await;
    }
}

/// The theme the page shows, and the background it paints with it.
async fn shown_theme(b: &Browser) -> (String, String) {
    let v = b
        .js(
            "return [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor];",
            vec![],
        )
        .await;
    (
        v[0].as_str().unwrap_or("").to_string(),
        v[1].as_str().unwrap_or("").to_string(),
    )
}

const LIGHT_BG: &str = "rgb(243, 245, 251)";
const DARK_BG: &str = "rgb(11, 16, 32)";

/// Opens `url`, waits for `ready`, and checks that the page shows `theme`.
async fn open(b: &Browser, url: &str, ready: &str, theme: &str) {
    b.goto(url).await;
    b.wait(&format!("document.querySelector({ready:?})"), ready)
        .await;
    let bg = if theme == "light" { LIGHT_BG } else { DARK_BG };
    assert_eq!(
        shown_theme(b).await,
        (theme.to_string(), bg.to_string()),
        "{url}: the {theme} theme"
    );
}

/// The tab that has the keyboard focus, and whether it is the one selected with the only tab stop.
async fn focused_tab(b: &Browser) -> Value {
    b.js(
        "const a = document.activeElement; const tabs = [...a.closest('[role=tablist]').querySelectorAll('[role=tab]')]; \
         return a.getAttribute('role') === 'tab' && a.getAttribute('aria-selected') === 'true' \
           && tabs.every((t) => (t === a) === (t.tabIndex === 0) && (t === a) === (t.getAttribute('aria-selected') === 'true')) \
           && document.getElementById(a.getAttribute('aria-controls'))?.hidden === false && a.dataset.tab;",
        vec![],
    )
    .await
}

async fn press(b: &Browser, key: &str) {
    b.client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(key)
        .await
        .expect("a key");
}

/// Counts the changes of the page's live region from now on (`window.__said`).
async fn listen(b: &Browser) {
    b.js(
        "window.__said = []; new MutationObserver((ms) => { for (const m of ms) { \
           const r = m.target.closest ? m.target.closest('.sr-only[role=status]') : m.target.parentElement?.closest('.sr-only[role=status]'); \
           if (r && r.textContent) window.__said.push(r.textContent); } \
         }).observe(document.body, {subtree: true, childList: true, characterData: true});",
        vec![],
    )
    .await;
}

#[tokio::test]
async fn every_page_passes_axe_in_both_languages_and_themes() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let http = server.http();
    post(
        &server,
        &seeded,
        "t1",
        "原型第一次点亮！First light on the prototype.",
        None,
    )
    .await;
    // t2 is scored (its panel is j1 alone); t1 and t3 are being scored, 1 of 2.
    for (judge, team, score) in [("j1", "t1", 8), ("j1", "t2", 7), ("j3", "t3", 6)] {
        ok(&server, seeded.judge(judge), scorecard(team, score)).await;
    }
    let driver = Driver::start().await;
    let desk = driver.browser(DESKTOP.0, DESKTOP.1).await;
    let tablet = driver.browser(TABLET.0, TABLET.1).await;
    let phone = driver.browser(PHONE.0, PHONE.1).await;
    let embed = driver.browser(EMBED.0, EMBED.1).await;
    let mut found = Findings::default();

    // The checker itself: a button without a name is a critical finding.
    desk.goto(&format!("{http}/")).await;
    desk.wait(
        "document.querySelector('.challenges .card')",
        "the landing page",
    )
    .await;
    desk.js(
        "const b = document.createElement('button'); b.id = 'nameless'; document.querySelector('main').append(b);",
        vec![],
    )
    .await;
    let planted = desk.axe().await;
    assert!(
        planted
            .iter()
            .any(|v| v["id"] == "button-name" && v["impact"] == "critical"),
        "axe finds a nameless button: {planted:?}"
    );

    for theme in ["light", "dark"] {
        // The system's settings: the first pass also keeps motion, the second asks for less.
        let motion = if theme == "light" {
            "no-preference"
        } else {
            "reduce"
        };
        for b in [&desk, &tablet, &phone, &embed] {
            b.emulate(&[
                ("prefers-color-scheme", theme),
                ("prefers-reduced-motion", motion),
            ])
            .await;
        }
        let at = |page: &str| format!("{page} {theme}");

        // ---- the desktop pages ----------------------------------------------------------------
        open(&desk, &format!("{http}/"), ".challenges .card", theme).await;
        found.both_languages(&desk, &at("landing")).await;
        // Signed out, no challenge chosen: the sign-in page, then the chooser.
        desk.js(
            "sessionStorage.removeItem('mp.token.admin'); sessionStorage.removeItem('mp.admin.challenge')",
            vec![],
        )
        .await;
        open(&desk, &format!("{http}/admin"), "form.signin", theme).await;
        found.both_languages(&desk, &at("admin sign-in")).await;
        // Another address than the sign-in page's, so that the browser loads the page again.
        open(
            &desk,
            &format!("{http}/admin?signed=in#token={ADMIN}"),
            ".challenges .pick",
            theme,
        )
        .await;
        found.both_languages(&desk, &at("admin chooser")).await;
        open(
            &desk,
            &format!("{http}/admin?c=c"),
            "#admin-panel > *",
            theme,
        )
        .await;
        for tab in [
            "run", "setup", "teams", "judges", "scores", "audit", "posts",
        ] {
            desk.click(&format!(".admin-tabs .tab[data-tab=\"{tab}\"]"))
                .await;
            desk.wait(
                &format!("document.querySelector('.admin-tabs [aria-selected=true]').dataset.tab === '{tab}' && document.getElementById('admin-panel').firstChild"),
                tab,
            )
            .await;
            found
                .both_languages(&desk, &at(&format!("admin {tab}")))
                .await;
        }
        open(
            &desk,
            &format!("{http}/replay/c"),
            ".replay-board .row",
            theme,
        )
        .await;
        found.both_languages(&desk, &at("replay")).await;

        open(&desk, &format!("{http}/screen/c"), ".board .row", theme).await;
        if theme == "light" {
            // Space is kept for what the first snapshot brings: nothing moves when it arrives.
            let cls = desk
                .js(
                    "return new Promise((done) => { let sum = 0; new PerformanceObserver((l) => { \
                       for (const e of l.getEntries()) if (!e.hadRecentInput) sum += e.value; }) \
                       .observe({type: 'layout-shift', buffered: true}); setTimeout(() => done(sum), 500); });",
                    vec![],
                )
                .await
                .as_f64()
                .expect("a number");
            println!("big screen: cumulative layout shift {cls:.4}");
            assert!(
                cls < 0.01,
                "the big screen shifted by {cls} when the board arrived"
            );
        } else {
            // Less motion: rows take their places at once, the paused clock would not blink.
            let slide = desk
                .js(
                    "return getComputedStyle(document.querySelector('.board .row')).transitionDuration",
                    vec![],
                )
                .await;
            assert_eq!(slide, "1e-05s", "no slide when less motion is asked for");
        }
        found.both_languages(&desk, &at("screen")).await;

        // ---- the judge's tablet: a team picked, a point chosen -----------------------------------
        open(
            &tablet,
            &console(&server, "judge", seeded.judge("j1")),
            ".team-pick",
            theme,
        )
        .await;
        tablet.click(".team-pick[data-team=\"t2\"]").await;
        tablet
            .wait("document.querySelector('.score-form')", "the scoring form")
            .await;
        tablet
            .click(".pt[data-criterion=\"innovation\"][data-value=\"9\"]")
            .await;
        let state = tablet
            .js(
                "return [document.querySelector('.team-pick[data-team=\"t2\"]').getAttribute('aria-current'), \
                   document.querySelector('.pt[data-criterion=\"innovation\"][data-value=\"9\"]').getAttribute('aria-pressed'), \
                   document.querySelectorAll('.pt[data-criterion=\"innovation\"][aria-pressed=true]').length, \
                   document.querySelector('.pt[data-criterion=\"innovation\"]').closest('[role=group]').getAttribute('aria-labelledby')];",
                vec![],
            )
            .await;
        assert_eq!(
            state,
            serde_json::json!(["true", "true", 1, "crit-innovation"]),
            "the picked team and the chosen point are marked for assistive technology"
        );
        found.both_languages(&tablet, &at("judge")).await;

        // ---- the phones: the three tabs by keyboard, a team's page, the team console ----------------
        open(&phone, &format!("{http}/phone/c"), ".board .row", theme).await;
        if theme == "light" {
            // A score published while the board is shown is said; the scores before it were not.
            listen(&phone).await;
            ok(&server, seeded.judge("j2"), scorecard("t1", 9)).await;
            phone
                .wait(
                    "window.__said.length === 1 && window.__said[0].includes('Team t1')",
                    "the live region says t1's score",
                )
                .await;
            // A burst of scores is one sentence, said once.
            for (judge, team, score) in [("j2", "t3", 7), ("j2", "t4", 6), ("j3", "t4", 8)] {
                ok(&server, seeded.judge(judge), scorecard(team, score)).await;
            }
            let said = phone
                .wait(
                    "window.__said.length >= 2 && window.__said",
                    "the live region says the burst",
                )
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let said_all = phone.js("return window.__said", vec![]).await;
            assert_eq!(said, said_all, "the burst is said once");
            let burst = said_all[1].as_str().unwrap_or("");
            assert!(
                burst.contains("Team t3") && burst.contains("Team t4"),
                "{burst}"
            );
        }
        found.both_languages(&phone, &at("phone board")).await;
        phone.click(".tabs .tab[data-tab=\"board\"]").await;
        press(&phone, ARROW_RIGHT).await;
        assert_eq!(focused_tab(&phone).await, "feed", "→ moves to the feed");
        found.both_languages(&phone, &at("phone feed")).await;
        phone.click(".tabs .tab[data-tab=\"feed\"]").await;
        press(&phone, END).await;
        assert_eq!(
            focused_tab(&phone).await,
            "cheers",
            "End moves to the last tab"
        );
        found.both_languages(&phone, &at("phone cheers")).await;
        phone.click(".tabs .tab[data-tab=\"cheers\"]").await;
        press(&phone, ARROW_RIGHT).await;
        assert_eq!(focused_tab(&phone).await, "board", "→ wraps around");
        press(&phone, ARROW_LEFT).await;
        assert_eq!(focused_tab(&phone).await, "cheers", "← goes back");
        press(&phone, HOME).await;
        assert_eq!(
            focused_tab(&phone).await,
            "board",
            "Home moves to the first tab"
        );
        // The tab list is one stop for Tab: the next stop after it is in the panel.
        let stops = phone
            .js(
                "return [...document.querySelectorAll('[role=tab]')].filter((t) => t.tabIndex === 0).length",
                vec![],
            )
            .await;
        assert_eq!(stops, 1, "one tab stop in the tab list");

        open(
            &phone,
            &format!("{http}/phone/c/teams/t1"),
            ".timeline .post-card",
            theme,
        )
        .await;
        found.both_languages(&phone, &at("phone team")).await;
        open(
            &phone,
            &console(&server, "team", seeded.team("t1")),
            ".timeline .post-card",
            theme,
        )
        .await;
        found.both_languages(&phone, &at("team console")).await;

        // ---- the embed, in a partner's page --------------------------------------------------
        open(&embed, &format!("{http}/embed/c"), ".board .row", theme).await;
        found.both_languages(&embed, &at("embed")).await;
    }

    // ---- the big screen's theme switch, remembered over the system's choice (now dark) --------
    open(&desk, &format!("{http}/screen/c"), ".board .row", "dark").await;
    desk.click("button.themesw").await;
    desk.wait(
        "document.documentElement.dataset.theme === 'light' && document.querySelector('button.themesw').getAttribute('aria-pressed') === 'true'",
        "the light theme by the switch",
    )
    .await;
    open(&desk, &format!("{http}/screen/c"), ".board .row", "light").await;
    open(&desk, &format!("{http}/phone/c"), ".board .row", "light").await;

    // ---- the reveal: the big screen (light by its switch, then dark) and a phone -------------
    for command in [Command::EndBuilding, Command::Freeze, Command::CloseScoring] {
        let (status, body) = server.command("c", Some(ADMIN), command).await;
        assert_eq!(status, 200, "{body}");
    }
    open(
        &desk,
        &format!("{http}/screen/c?track=a"),
        ".board .row",
        "light",
    )
    .await;
    open(&phone, &format!("{http}/phone/c"), ".board .row", "dark").await;
    listen(&desk).await;
    listen(&phone).await;
    let (status, body) = server.command("c", Some(ADMIN), Command::RevealNext).await;
    assert_eq!(status, 200, "{body}");
    desk.wait("document.querySelector('.reveal-moment')", "the reveal")
        .await;
    phone
        .wait(
            "!document.querySelector('.reveal.compact').hidden",
            "the reveal on the phone",
        )
        .await;
    for b in [&desk, &phone] {
        b.wait(
            "window.__said.length === 1 && window.__said[0].includes('Revealed: Team t')",
            "the live region says the revealed place",
        )
        .await;
    }
    found.both_languages(&desk, "screen reveal light").await;
    found.both_languages(&phone, "phone reveal dark").await;
    desk.click("button.themesw").await;
    desk.wait(
        "document.documentElement.dataset.theme === 'dark' && localStorage.getItem('mp.theme') === 'dark'",
        "the dark theme by the switch",
    )
    .await;
    found.both_languages(&desk, "screen reveal dark").await;
    phone.emulate(&[("prefers-color-scheme", "light")]).await;
    phone
        .wait(
            "document.documentElement.dataset.theme === 'light'",
            "the phone follows its system",
        )
        .await;
    found.both_languages(&phone, "phone reveal light").await;

    for b in [&desk, &tablet, &phone, &embed] {
        b.assert_clean("a page checked by axe").await;
    }
    println!(
        "axe checked {} page states; moderate or minor, by rule (elements): {:?}",
        found.checked, found.others
    );
    assert!(
        found.failures.is_empty(),
        "critical or serious accessibility violations:\n{}",
        found.failures.join("\n")
    );
    for b in [desk, tablet, phone, embed] {
        b.close().await;
    }
    server.stop().await;
}

/// The tab stop of the admin console's tab list follows the selected tab after a reload.
#[tokio::test]
async fn the_admin_tabs_move_with_the_arrow_keys() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;
    b.goto(&format!("{}/admin?c=c#token={ADMIN}", server.http()))
        .await;
    b.wait("document.querySelector('.clock-card')", "the run tab")
        .await;
    b.client
        .find(Locator::Css(".admin-tabs [aria-selected=true]"))
        .await
        .expect("the selected tab")
        .send_keys(ARROW_RIGHT)
        .await
        .expect("a key");
    assert_eq!(focused_tab(&b).await, "setup");
    b.wait(
        "document.getElementById('admin-panel').getAttribute('aria-labelledby') === document.activeElement.id && document.querySelector('#admin-panel form')",
        "the setup tab in the panel",
    )
    .await;
    press(&b, END).await;
    assert_eq!(focused_tab(&b).await, "posts");
    b.client.refresh().await.expect("reload");
    b.wait(
        "document.querySelector('.admin-tabs [tabindex=\"0\"]')?.dataset.tab === 'posts'",
        "the tab kept over a reload",
    )
    .await;
    b.assert_clean("admin").await;
    b.close().await;
    server.stop().await;
}
