//! The dashboards in a real browser: Debian's headless Chromium, driven through chromedriver,
//! against a real server on `127.0.0.1:0`. Each test is what a person does and sees: a judge
//! scores and the big screen moves; a team posts a photo and the phone shows it; markup in names
//! and posts stays text; the language switch changes every string; a post made offline lands
//! once; and every page is captured at 1920×1080 and at 390×844 under `target/screenshots/`.
//!
//! The tests take turns (one browser at a time) so that timings mean something on two cores.

mod driver;
mod png;
mod proxy;

use std::time::Duration;

use driver::{Browser, Driver};
use makerpulse_core::{Command, Localized, TeamId, TrackId};
use makerpulse_e2e::{scorecard, Seeded, TestServer, ADMIN};
use proxy::Proxy;
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// One browser test at a time.
static TURN: Mutex<()> = Mutex::const_new(());

const DESKTOP: (u32, u32) = (1920, 1080);
const PHONE: (u32, u32) = (390, 844);
const TABLET: (u32, u32) = (1280, 800);

async fn ok(server: &TestServer, token: &str, command: Command) -> Value {
    let (status, body) = server.command("c", Some(token), command).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Uploads `png` as team `team` and returns the photo reference.
async fn upload(server: &TestServer, token: &str, png: Vec<u8>) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{}/api/challenges/c/photos", server.http()))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.expect("json")
}

async fn post(server: &TestServer, seeded: &Seeded, team: &str, text: &str, photo: Option<Value>) {
    let photos = photo
        .map(|p| vec![serde_json::from_value(p).expect("photo ref")])
        .unwrap_or_default();
    ok(
        server,
        seeded.team(team),
        Command::PostProgress {
            text: text.into(),
            photos,
            links: vec![],
            percent: Some(40),
        },
    )
    .await;
}

/// Numbers compared by value: the server writes a weight as 30.0, JavaScript as 30.
fn numbers_as_floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_floats).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), numbers_as_floats(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Asserts that the view the page built from a snapshot and its deltas is exactly the server's
/// view for the same role at the same seq (`View::apply` of the core, done in JavaScript).
async fn assert_same_view(
    b: &Browser,
    server: &TestServer,
    challenge: &str,
    token: Option<&str>,
    page: &str,
) {
    let (status, view) = server
        .get(&format!("/api/challenges/{challenge}/view"), token)
        .await;
    assert_eq!(status, 200);
    let seq = view["seq"].as_u64().expect("seq");
    b.wait(
        &format!("window.makerpulse.live.view?.seq === {seq}"),
        &format!("{page} at seq {seq}"),
    )
    .await;
    let held = b
        .js(
            "return JSON.stringify(window.makerpulse.live.view);",
            vec![],
        )
        .await;
    let held: Value = serde_json::from_str(held.as_str().expect("json")).expect("view");
    assert_eq!(
        numbers_as_floats(&held),
        numbers_as_floats(&view),
        "{page}: the page's view differs from the server's"
    );
}

/// The link a minted token opens (the token in the fragment).
fn console(server: &TestServer, page: &str, token: &str) -> String {
    format!("{}/{page}/c#token={token}", server.http())
}

#[tokio::test]
async fn a_judges_scorecard_moves_the_big_screen_within_a_second() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    // Track a: j1 gave t1 6 and t2 7. t2's panel is j1 alone (j2 has a conflict), so its score
    // is published; t1's panel is j1 and j2, so the screen shows it being scored, 1 of 2, with no
    // number and no rank until j2 has scored too (blind judging, published on complete panels).
    ok(&server, seeded.judge("j1"), scorecard("t1", 6)).await;
    ok(&server, seeded.judge("j1"), scorecard("t2", 7)).await;

    let driver = Driver::start().await;
    let screen = driver.browser(DESKTOP.0, DESKTOP.1).await;
    screen
        .goto(&format!("{}/screen/c?track=a", server.http()))
        .await;
    screen
        .wait(
            "document.querySelector('.board .row[data-team=\"t2\"]')?.dataset.rank === '1'",
            "t2 first on the screen",
        )
        .await;
    screen
        .wait(
            "(() => { const r = document.querySelector('.board .row[data-team=\"t1\"]'); \
               return r && r.dataset.rank === '' && r.dataset.score === '' \
                 && /1( of |\\/)2/.test(r.querySelector('.score').textContent); })()",
            "t1 shown as being scored, 1 of 2, without a score or a rank",
        )
        .await;
    // The screen notes the moment t1 reaches the top, by its own clock.
    screen
        .js(
            "window.__first = null; new MutationObserver(() => { \
               if (!window.__first && document.querySelector('.board .row[data-team=\"t1\"]')?.dataset.rank === '1') window.__first = Date.now(); \
             }).observe(document.body, {subtree: true, childList: true, attributes: true});",
            vec![],
        )
        .await;

    let judge = driver.browser(TABLET.0, TABLET.1).await;
    judge
        .goto(&console(&server, "judge", seeded.judge("j2")))
        .await;
    judge
        .wait("location.hash === ''", "the token leaves the address bar")
        .await;
    judge.click(".team-pick[data-team=\"t1\"]").await;
    for criterion in [
        "innovation",
        "execution",
        "completeness",
        "commercial",
        "presentation",
    ] {
        judge
            .click(&format!(
                ".pt[data-criterion=\"{criterion}\"][data-value=\"10\"]"
            ))
            .await;
    }
    judge
        .wait(
            "document.querySelector('.total').textContent.includes('100')",
            "the total preview",
        )
        .await;
    judge.shot("judge").await;
    let saved_at = judge
        .js("const t = Date.now(); document.querySelector('.score-form button[type=submit]').click(); return t;", vec![])
        .await
        .as_i64()
        .expect("time");
    let moved_at = screen
        .wait("window.__first", "t1 first on the screen")
        .await
        .as_i64()
        .expect("time");
    let took = moved_at - saved_at;
    assert!(
        took < 1000,
        "the big screen showed the new rank {took} ms after the judge saved"
    );
    screen
        .wait(
            "document.querySelector('.board .row[data-team=\"t2\"]')?.dataset.rank === '2'",
            "t2 second",
        )
        .await;

    // The judge sees the saved scorecard and its progress, and a revision needs a reason.
    judge
        .wait(
            "document.querySelector('.team-pick[data-team=\"t1\"]').classList.contains('scored')",
            "t1 marked scored",
        )
        .await;
    judge
        .wait(
            "document.querySelector('.my-progress').textContent.includes('1')",
            "the judge's progress",
        )
        .await;
    judge.click(".score-form button[type=submit]").await;
    judge
        .wait(
            "document.querySelector('.toast.error')",
            "a revision without a reason is refused",
        )
        .await;
    judge
        .type_into(".score-form input[name=reason]", "Watched the demo again")
        .await;
    judge
        .click(".pt[data-criterion=\"presentation\"][data-value=\"9\"]")
        .await;
    judge.click(".score-form button[type=submit]").await;
    judge
        .wait("document.querySelector('.history') && document.querySelector('.history').textContent.includes('Watched the demo again')", "the revision in the history")
        .await;
    screen.shot("screen").await;
    judge.assert_clean("judge").await;
    screen.assert_clean("screen").await;
    judge.close().await;
    screen.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_team_post_with_a_photo_reaches_the_phone_timeline() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let photo = dir.path().join("first-light.png");
    std::fs::write(&photo, png::picture(320, 240)).unwrap();

    let driver = Driver::start().await;
    let phone = driver.browser(PHONE.0, PHONE.1).await;
    phone
        .goto(&format!("{}/phone/c/teams/t1", server.http()))
        .await;
    phone
        .wait(
            "document.querySelector('.team-head h2')?.textContent === 'Team t1'",
            "the team page",
        )
        .await;

    let team = driver.browser(PHONE.0, PHONE.1).await;
    team.goto(&console(&server, "team", seeded.team("t1")))
        .await;
    team.wait(
        "document.querySelector('.title').textContent === 'Team t1'",
        "the team console",
    )
    .await;
    team.type_into(
        "textarea[name=text]",
        "原型第一次点亮 / First light on the prototype",
    )
    .await;
    team.type_into("input[name=photo]", photo.to_str().unwrap())
        .await;
    team.wait(
        "document.querySelector('.preview img')?.naturalWidth === 320",
        "the photo preview",
    )
    .await;
    team.click("input[name=percent_set]").await;
    team.shot("team").await;
    team.click(".composer button[type=submit]").await;

    phone
        .wait(
            "[...document.querySelectorAll('.timeline .post-card')].some(p => p.textContent.includes('First light on the prototype') && [...p.querySelectorAll('img.photo')].some(i => i.complete && i.naturalWidth === 320))",
            "the post with its photo on the phone",
        )
        .await;
    team.wait(
        "document.querySelector('.outbox').hidden",
        "the outbox empties",
    )
    .await;
    team.wait(
        "document.querySelectorAll('.timeline .post-card').length === 1",
        "the post on the team's own timeline",
    )
    .await;
    phone.shot("phone-team").await;
    // A cheer: counted at once on the phone, and in the people's choice after the next tally.
    phone.click("button.cheer").await;
    phone
        .wait(
            "document.querySelector('.team-stats').textContent.includes('You cheered 1 times')",
            "the cheer counted",
        )
        .await;
    phone
        .wait(
            "document.querySelector('.team-stats').textContent.includes('1 cheers')",
            "the cheer tallied",
        )
        .await;
    // The milestone button ticks off the first milestone, and the phone sees it.
    team.click(".next-ms button").await;
    phone
        .wait(
            "document.querySelector('.tl-event.milestone')",
            "the milestone on the phone timeline",
        )
        .await;
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t1/timeline", None)
        .await;
    assert_eq!(timeline.as_array().unwrap().len(), 1, "{timeline}");
    assert_eq!(timeline[0]["photos"].as_array().unwrap().len(), 1);
    team.shot("team-posted").await;
    phone.assert_clean("phone").await;
    team.assert_clean("team").await;
    phone.close().await;
    team.close().await;
    server.stop().await;
}

#[tokio::test]
async fn html_in_names_and_posts_is_shown_as_text() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let name = r#"<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"#;
    let text = r#"<b>bold</b><script>window.__xss=3</script><img src=x onerror=window.__xss=4> & <a href="javascript:window.__xss=5">link</a>"#;
    ok(
        &server,
        ADMIN,
        Command::UpdateTeam {
            id: TeamId::new("t3").unwrap(),
            track: TrackId::new("b").unwrap(),
            name: Localized::new(name, name),
            description: Localized::new(text, text),
            members: vec![],
            contact: String::new(),
        },
    )
    .await;
    post(&server, &seeded, "t3", text, None).await;
    ok(&server, seeded.judge("j3"), scorecard("t3", 8)).await;

    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;
    let pages = [
        (
            format!("{}/screen/c?track=b", server.http()),
            ".board .row[data-team=\"t3\"] .name",
        ),
        (
            format!("{}/phone/c/teams/t3", server.http()),
            ".timeline .post-card .text",
        ),
        (
            format!("{}/phone/c", server.http()),
            ".board .row[data-team=\"t3\"] .name",
        ),
        (
            format!("{}/embed/c?track=b", server.http()),
            ".board .row[data-team=\"t3\"] .name",
        ),
        (
            console(&server, "judge", seeded.judge("j3")),
            ".team-pick[data-team=\"t3\"] .name",
        ),
        (
            format!("{}/admin?c=c#token={ADMIN}", server.http()),
            ".phase",
        ),
    ];
    for (url, selector) in pages {
        b.goto(&url).await;
        b.wait(&format!("document.querySelector({selector:?})"), &url)
            .await;
        if url.contains("/admin") {
            b.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
            b.wait(
                "document.querySelector('tr[data-team=\"t3\"] strong')",
                "the admin's team list",
            )
            .await;
            b.click(".admin-tabs .tab[data-tab=\"posts\"]").await;
            b.wait(
                "document.querySelector('.post-card .text')",
                "the admin's posts",
            )
            .await;
        }
        let shown = b
            .js(
                "return [...document.querySelectorAll('.name, .title, .text, strong, .data')].map(e => e.textContent).join('\\n');",
                vec![],
            )
            .await;
        let shown = shown.as_str().unwrap().to_owned();
        assert!(
            shown.contains(name) || shown.contains(text),
            "{url}: the markup is shown as text: {shown}"
        );
        let ran = b
            .js(
                "return {xss: window.__xss ?? null, imgs: document.querySelectorAll('img[src=\"x\"]').length, \
                 scripts: document.querySelectorAll('body script').length, bold: document.querySelectorAll('.user b, .data b, .name b').length, \
                 links: document.querySelectorAll('a[href^=\"javascript\"]').length};",
                vec![],
            )
            .await;
        assert_eq!(
            ran,
            json!({"xss": null, "imgs": 0, "scripts": 0, "bold": 0, "links": 0}),
            "{url}"
        );
        b.assert_clean(&url).await;
    }
    b.close().await;
    server.stop().await;
}

/// Every visible string of the page that is not user text (posts, comments, people's names),
/// ids, or the switch itself (which names the other language).
const VISIBLE_TEXT: &str = r#"
const out = [];
const skip = (el) => el.closest('.user, .langsw, code, script, style, option, [aria-hidden="true"]');
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const n = walker.currentNode;
  const s = n.textContent.trim();
  const el = n.parentElement;
  if (s && el && !skip(el) && shown(el)) out.push(s);
}
for (const el of document.querySelectorAll('[placeholder]')) if (shown(el)) out.push(el.placeholder);
out.push(document.title);
return out;
"#;

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
    })
}

/// Checks one page in both languages and switches back to English.
async fn check_languages(b: &Browser, page: &str) {
    let lang = b.js("return document.documentElement.lang", vec![]).await;
    assert_eq!(
        lang, "en",
        "{page} starts in English (the browser's language)"
    );
    let en: Vec<String> = serde_json::from_value(b.js(VISIBLE_TEXT, vec![]).await).unwrap();
    let chinese: Vec<&String> = en.iter().filter(|s| has_cjk(s)).collect();
    assert!(
        chinese.is_empty(),
        "{page}: Chinese left in the English page: {chinese:?}"
    );
    b.click(".langsw").await;
    b.wait(
        "document.documentElement.lang === 'zh-CN'",
        "the switch to Chinese",
    )
    .await;
    // Wait a moment for pages that re-render on the switch.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let zh: Vec<String> = serde_json::from_value(b.js(VISIBLE_TEXT, vec![]).await).unwrap();
    let english: Vec<&String> = zh
        .iter()
        .filter(|s| s.chars().any(|c| c.is_ascii_alphabetic()) && !has_cjk(s))
        .collect();
    assert!(
        english.is_empty(),
        "{page}: English left in the Chinese page: {english:?}"
    );
    assert_ne!(en, zh, "{page}");
    b.shot(&format!("lang-zh-{page}")).await;
    b.assert_clean(page).await;
    b.click(".langsw").await;
    b.wait(
        "document.documentElement.lang === 'en'",
        "the switch back to English",
    )
    .await;
}

#[tokio::test]
async fn the_language_switch_changes_every_visible_string() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    ok(&server, seeded.judge("j1"), scorecard("t1", 8)).await;
    post(&server, &seeded, "t1", "First light", None).await;
    let http = server.http();
    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;

    let pages: Vec<(&str, String, &str)> = vec![
        ("landing", format!("{http}/"), ".challenges .card"),
        ("screen", format!("{http}/screen/c"), ".board .row"),
        ("phone", format!("{http}/phone/c"), ".board .row"),
        (
            "phone-team",
            format!("{http}/phone/c/teams/t1"),
            ".timeline .post-card",
        ),
        (
            "team",
            console(&server, "team", seeded.team("t1")),
            ".steps li",
        ),
        (
            "judge",
            console(&server, "judge", seeded.judge("j1")),
            ".team-pick",
        ),
        ("embed", format!("{http}/embed/c"), ".board .row"),
        ("replay", format!("{http}/replay/c"), ".replay-board .row"),
        (
            "admin",
            format!("{http}/admin?c=c#token={ADMIN}"),
            ".admin-tabs .tab",
        ),
    ];
    for (name, url, ready) in &pages {
        b.goto(url).await;
        b.wait(&format!("document.querySelector({ready:?})"), name)
            .await;
        if *name == "judge" {
            b.click(".team-pick[data-team=\"t2\"]").await;
            b.wait("document.querySelector('.score-form')", "the scoring form")
                .await;
        }
        if *name == "admin" {
            for tab in [
                "run", "setup", "teams", "judges", "scores", "audit", "posts",
            ] {
                b.click(&format!(".admin-tabs .tab[data-tab=\"{tab}\"]"))
                    .await;
                b.wait(
                    &format!(
                        "document.querySelector('.admin-tabs .tab.on').dataset.tab === '{tab}'"
                    ),
                    tab,
                )
                .await;
                check_languages(&b, &format!("admin-{tab}")).await;
            }
            continue;
        }
        check_languages(&b, name).await;
    }
    // The choice persists: a new page opens in the language chosen last.
    b.click(".langsw").await;
    b.goto(&format!("{http}/phone/c")).await;
    b.wait(
        "document.querySelector('.tab')?.textContent === '排行'",
        "Chinese after a reload",
    )
    .await;
    b.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_post_made_offline_is_sent_exactly_once() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let proxy = Proxy::start(server.addr).await;
    let photo = dir.path().join("offline.png");
    std::fs::write(&photo, png::picture(200, 150)).unwrap();

    let driver = Driver::start().await;
    let team = driver.browser(PHONE.0, PHONE.1).await;
    team.goto(&format!(
        "http://{}/team/c#token={}",
        proxy.addr,
        seeded.team("t2")
    ))
    .await;
    team.wait(
        "document.querySelector('.title').textContent === 'Team t2'",
        "the team console",
    )
    .await;

    proxy.cut();
    team.wait("!document.querySelector('.banner').hidden && document.querySelector('.banner').textContent.includes('Reconnecting')", "the reconnecting banner").await;
    team.type_into(
        "textarea[name=text]",
        "Soldered in the basement, no Wi-Fi down here",
    )
    .await;
    team.type_into("input[name=photo]", photo.to_str().unwrap())
        .await;
    team.wait("document.querySelector('.preview img')", "the preview")
        .await;
    team.click(".composer button[type=submit]").await;
    team.wait("!document.querySelector('.outbox').hidden && document.querySelectorAll('.outbox li').length === 1", "the post waits in the outbox").await;
    let kept = team
        .js(
            "return JSON.parse(localStorage.getItem('mp.outbox.c.t2')).length",
            vec![],
        )
        .await;
    assert_eq!(kept, 1, "the waiting post is kept in localStorage");
    team.shot("team-offline").await;
    // Several retries fail while the network is down; nothing reaches the server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    assert_eq!(timeline, json!([]));

    proxy.restore();
    team.wait(
        "document.querySelector('.banner').hidden",
        "the banner goes",
    )
    .await;
    team.wait(
        "document.querySelector('.outbox').hidden",
        "the outbox empties",
    )
    .await;
    team.wait(
        "document.querySelectorAll('.timeline .post-card img.photo').length === 1",
        "the post on the team's timeline",
    )
    .await;
    // A reload finds nothing left to send, and the post is there exactly once.
    team.client.refresh().await.unwrap();
    team.wait("document.querySelector('.title')?.textContent === 'Team t2' && document.querySelectorAll('.timeline .post-card').length === 1", "the console after a reload").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    let posts = timeline.as_array().unwrap();
    assert_eq!(posts.len(), 1, "{timeline}");
    assert_eq!(
        posts[0]["text"],
        "Soldered in the basement, no Wi-Fi down here"
    );
    assert_eq!(posts[0]["photos"].as_array().unwrap().len(), 1);
    let log = reqwest::Client::new()
        .get(format!("{}/api/challenges/c/log", server.http()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        log.matches("\"progress_posted\"").count(),
        1,
        "one post in the log"
    );
    let left = team
        .js("return localStorage.getItem('mp.outbox.c.t2')", vec![])
        .await;
    assert_eq!(left, "[]");
    team.assert_clean("team").await;
    team.close().await;
    server.stop().await;
}

/// Every page, at 1920×1080 and at 390×844, through the life of a challenge: running with posts
/// and scores, then frozen, then the reveal, which two big screens play in step.
#[tokio::test]
async fn every_page_at_1080p_and_on_a_phone() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let http = server.http();
    let photo = upload(&server, seeded.team("t1"), png::picture(480, 360)).await;
    post(
        &server,
        &seeded,
        "t1",
        "原型第一次点亮！First light on the prototype.",
        Some(photo),
    )
    .await;
    post(
        &server,
        &seeded,
        "t3",
        "用户访谈做完了三场。Three user interviews done.",
        None,
    )
    .await;
    for (judge, team, score) in [
        ("j1", "t1", 8),
        ("j1", "t2", 7),
        ("j2", "t1", 9),
        ("j3", "t3", 6),
        ("j2", "t4", 8),
    ] {
        ok(&server, seeded.judge(judge), scorecard(team, score)).await;
    }
    let driver = Driver::start().await;

    let pages: Vec<(&str, String, &str)> = vec![
        ("landing", format!("{http}/"), ".challenges .card"),
        ("screen", format!("{http}/screen/c"), ".board .row"),
        ("phone", format!("{http}/phone/c"), ".board .row"),
        (
            "phone-team",
            format!("{http}/phone/c/teams/t1"),
            ".timeline .post-card img.photo",
        ),
        (
            "team",
            console(&server, "team", seeded.team("t1")),
            ".timeline .post-card",
        ),
        (
            "judge",
            console(&server, "judge", seeded.judge("j1")),
            ".team-pick",
        ),
        ("embed", format!("{http}/embed/c"), ".board .row"),
        ("replay", format!("{http}/replay/c"), ".replay-board .row"),
        (
            "admin",
            format!("{http}/admin?c=c#token={ADMIN}"),
            ".clock-card",
        ),
    ];
    for (width, height) in [DESKTOP, PHONE] {
        let b = driver.browser(width, height).await;
        for (name, url, ready) in &pages {
            b.goto(url).await;
            b.wait(&format!("document.querySelector({ready:?})"), name)
                .await;
            if *name == "judge" {
                b.click(".team-pick[data-team=\"t2\"]").await;
                b.wait("document.querySelector('.score-form')", "the scoring form")
                    .await;
            }
            // Photos and fonts settle before the picture is taken.
            b.wait("[...document.images].every(i => i.complete)", "images")
                .await;
            b.shot(name).await;
            b.assert_clean(name).await;
            if *name == "admin" {
                b.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
                b.click("button[data-mint=\"team:t1\"]").await;
                b.wait(
                    "document.querySelector('.minted .qr')",
                    "a minted link with its QR code",
                )
                .await;
                let link = b
                    .js(
                        "return document.querySelector('.minted .link-text').textContent",
                        vec![],
                    )
                    .await;
                assert!(
                    link.as_str()
                        .unwrap()
                        .starts_with(&format!("{http}/team/c#token=")),
                    "{link}"
                );
                b.shot("admin-teams").await;
                b.click(".admin-tabs .tab[data-tab=\"scores\"]").await;
                b.wait(
                    "document.querySelector('.contribs li')",
                    "the score breakdown",
                )
                .await;
                b.shot("admin-scores").await;
                b.click(".admin-tabs .tab[data-tab=\"audit\"]").await;
                b.wait(
                    "document.querySelector('.table.audit tr')",
                    "the audit trail",
                )
                .await;
                b.shot("admin-audit").await;
                b.click(".admin-tabs .tab[data-tab=\"run\"]").await;
            }
        }
        b.close().await;
    }

    // The frozen board, then the reveal: two screens in the hall move together.
    let admin = Some(ADMIN);
    for command in [Command::EndBuilding, Command::Freeze, Command::CloseScoring] {
        let (status, body) = server.command("c", admin, command).await;
        assert_eq!(status, 200, "{body}");
    }
    let left = driver.browser(DESKTOP.0, DESKTOP.1).await;
    let right = driver.browser(PHONE.0, PHONE.1).await;
    left.goto(&format!("{http}/screen/c?track=a")).await;
    right.goto(&format!("{http}/screen/c?track=a")).await;
    for s in [&left, &right] {
        s.wait(
            "!document.querySelector('.frozen-banner').hidden",
            "the frozen banner",
        )
        .await;
        s.shot("screen-frozen").await;
    }
    let (status, body) = server.command("c", admin, Command::RevealNext).await;
    assert_eq!(status, 200, "{body}");
    let first = "document.querySelector('.reveal-list .just')?.dataset.team";
    let a = left.wait(first, "the first reveal on the left").await;
    let b = right.wait(first, "the first reveal on the right").await;
    assert_eq!(a, b);
    let (status, body) = server.command("c", admin, Command::RevealNext).await;
    assert_eq!(status, 200, "{body}");
    let second = "document.querySelectorAll('.reveal-list .revealed').length === 2 && document.querySelector('.reveal-list .just').dataset.rank";
    let a = left.wait(second, "the second reveal on the left").await;
    let b = right.wait(second, "the second reveal on the right").await;
    assert_eq!(
        (a.clone(), b),
        (json!("1"), json!("1")),
        "the winner of track a comes last"
    );
    left.shot("screen-reveal").await;
    right.shot("screen-reveal").await;
    assert_same_view(&left, &server, "c", None, "the big screen").await;
    // A lost message: a delta whose prev_seq is above the seq held is not applied; the page asks
    // for a snapshot and is whole again.
    let cheers = left
        .js(
            "const l = window.makerpulse.live; window.__asked = []; window.__snapshot = false; \
             const send = l.sendRaw.bind(l); l.sendRaw = (m) => { window.__asked.push(m.type); return send(m); }; \
             l.on('view', (v, change) => { if (change.snapshot) window.__snapshot = true; }); \
             const before = l.view.peoples_choice.length; \
             l.receive({type: 'delta', seq: l.view.seq + 2, prev_seq: l.view.seq + 1, patches: [{type: 'peoples_choice', rows: []}]}); \
             return [before, l.view.peoples_choice.length];",
            vec![],
        )
        .await;
    assert!(
        cheers[0].as_f64().unwrap_or(0.0) > 0.0,
        "the screen shows the people's choice"
    );
    assert_eq!(cheers[0], cheers[1], "a delta after a gap is not applied");
    left.wait(
        "window.__asked.includes('snapshot') && window.__snapshot",
        "a snapshot after the gap",
    )
    .await;
    assert_same_view(&left, &server, "c", None, "the big screen after a gap").await;
    left.assert_clean("screen").await;
    right.assert_clean("screen").await;
    left.close().await;
    right.close().await;
    server.stop().await;
}

#[tokio::test]
async fn an_organizer_sets_up_and_runs_a_challenge_from_the_admin_console() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;

    // The admin link printed at start opens the chooser; a challenge is created from it.
    b.goto(&format!("{http}/admin#token={ADMIN}")).await;
    b.wait(
        "location.hash === '' && document.querySelector('input[name=id]')",
        "the chooser",
    )
    .await;
    b.type_into("input[name=id]", "expo").await;
    b.type_into(".grid-form input[lang=zh]", "创客真人秀 2026")
        .await;
    b.type_into(".grid-form input[lang=en]", "Maker Reality Show 2026")
        .await;
    b.click(".grid-form button[type=submit]").await;
    b.wait("document.querySelector('.admin-tabs') && document.querySelector('.title')?.textContent === 'Maker Reality Show 2026'", "the new challenge's console").await;

    // Tracks.
    b.click(".admin-tabs .tab[data-tab=\"setup\"]").await;
    for (id, zh, en) in [("hw", "硬件", "Hardware"), ("sw", "软件", "Software")] {
        b.type_into(".inline-form input:not([lang])", id).await;
        b.type_into(".inline-form input[lang=zh]", zh).await;
        b.type_into(".inline-form input[lang=en]", en).await;
        b.click(".inline-form button[type=submit]").await;
        b.wait(&format!("[...document.querySelectorAll('.edit-row code')].some(c => c.textContent === '{id}')"), id).await;
    }
    // The rubric: one more criterion, weighted 5.
    b.click("button[data-i18n=\"add_criterion\"]").await;
    b.js("const rows = document.querySelector('.rubric-form .rows').children; const last = rows[rows.length - 1]; \
          last.querySelector('input.cid').value = 'impact'; last.querySelector('input[lang=en]').value = 'Social impact'; \
          last.querySelector('input[lang=zh]').value = '社会影响'; last.querySelector('input.w').value = '5';", vec![]).await;
    b.click("button[data-i18n=\"save_rubric\"]").await;
    b.wait("window.makerpulse.live.view.rubric.criteria.some(c => c.id === 'impact' && c.weight === 5)", "the new rubric").await;
    // The publication rule: blind on complete panels by default; choosing live warns that it is
    // not blind; the organizers settle on no numbers before the reveal.
    b.wait(
        "document.querySelector('select.publication')?.value === 'on_complete'",
        "the default publication rule",
    )
    .await;
    b.js("const s = document.querySelector('select.publication'); s.value = 'live'; s.dispatchEvent(new Event('change'));", vec![]).await;
    b.wait(
        "!document.querySelector('[data-i18n=\"pub_live_warning\"]').hidden",
        "the warning that live is not blind",
    )
    .await;
    b.js("const s = document.querySelector('select.publication'); s.value = 'at_reveal'; s.dispatchEvent(new Event('change'));", vec![]).await;
    b.click("button[data-i18n=\"save_ranking\"]").await;
    b.wait(
        "window.makerpulse.live.view.ranking.publication === 'at_reveal'",
        "the publication rule saved",
    )
    .await;
    b.shot("admin-setup").await;

    // Teams, with a member.
    b.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
    for (id, track, en) in [("lumen", "hw", "Lumen"), ("atlas", "sw", "Atlas")] {
        b.type_into("input[name=team_id]", id).await;
        b.js(&format!("const s = document.querySelector('.team-form select'); s.value = '{track}'; s.dispatchEvent(new Event('change'));"), vec![]).await;
        b.type_into(".team-form .pair input[lang=en]", en).await;
        b.click(".team-form button[data-i18n=\"add_member\"]").await;
        b.type_into(".team-form .rows input", "Anna Schmidt").await;
        b.click(".team-form button[type=submit]").await;
        b.wait(
            &format!("document.querySelector('tr[data-team=\"{id}\"]')"),
            id,
        )
        .await;
    }
    // A link for the team, with its QR code; it opens the team's console.
    b.click("button[data-mint=\"team:lumen\"]").await;
    let link = b
        .wait(
            "document.querySelector('.minted .link-text')?.textContent",
            "the minted link",
        )
        .await;
    let link = link.as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{http}/team/expo#token=")),
        "{link}"
    );
    let qr = b
        .js(
            "return document.querySelector('.minted .qr').dataset.qr",
            vec![],
        )
        .await;
    assert_eq!(qr, json!(link), "the QR code carries the link");

    // A judge of the hardware track.
    b.click(".admin-tabs .tab[data-tab=\"judges\"]").await;
    b.type_into("input[name=judge_id]", "wang").await;
    b.type_into(".judge-form .pair input[lang=zh]", "王芳")
        .await;
    b.type_into(".judge-form .pair input[lang=en]", "Wang Fang")
        .await;
    b.click(".judge-form .checks input[value=\"hw\"]").await;
    b.click(".judge-form button[type=submit]").await;
    b.wait(
        "document.querySelector('tr[data-judge=\"wang\"]')",
        "the judge",
    )
    .await;

    // Start the clock (a second press confirms), pause it with a reason, resume, open scoring.
    b.click(".admin-tabs .tab[data-tab=\"run\"]").await;
    b.click("button[data-i18n=\"start_clock\"]").await;
    b.click("button.armed").await;
    b.wait(
        "window.makerpulse.live.view.challenge.phase === 'running'",
        "the clock running",
    )
    .await;
    b.type_into("input[name=pause_reason]", "Fire drill").await;
    b.click("button[data-i18n=\"pause_clock\"]").await;
    b.wait(
        "document.querySelector('.clock-card .countdown').dataset.state === 'paused'",
        "the clock paused",
    )
    .await;
    b.click("button[data-i18n=\"resume_clock\"]").await;
    b.wait(
        "document.querySelector('.clock-card .countdown')?.dataset.state === 'running'",
        "the clock running again",
    )
    .await;
    b.click("button[data-i18n=\"open_scoring\"]").await;
    b.wait(
        "window.makerpulse.live.view.challenge.scoring_open",
        "scoring open",
    )
    .await;
    b.wait(
        "document.querySelector('.online')?.textContent.includes('admins 1')",
        "who is online",
    )
    .await;
    b.shot("admin-run").await;

    let (_, view) = server.get("/api/challenges/expo/view", Some(ADMIN)).await;
    assert_eq!(view["tracks"].as_array().unwrap().len(), 2);
    assert_eq!(view["teams"]["lumen"]["members"][0]["name"], "Anna Schmidt");
    assert_eq!(view["teams"]["atlas"]["track"], "sw");
    assert_eq!(
        view["judges"]["wang"]["assignment"]["tracks"],
        json!(["hw"])
    );
    assert_eq!(
        view["challenge"]["clock"]["pauses"][0]["reason"],
        "Fire drill"
    );
    assert_eq!(view["ranking"]["publication"], "at_reveal");
    assert_same_view(&b, &server, "expo", Some(ADMIN), "the admin console").await;
    b.assert_clean("admin").await;

    // The minted link works on a phone.
    let team = driver.browser(PHONE.0, PHONE.1).await;
    team.goto(&link).await;
    team.wait(
        "document.querySelector('.title')?.textContent === 'Lumen'",
        "the team console from the minted link",
    )
    .await;
    team.assert_clean("team").await;
    team.close().await;
    b.close().await;
    server.stop().await;
}
