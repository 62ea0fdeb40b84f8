//! The dashboards in a real browser: Debian's headless Chromium, driven through chromedriver,
//! against a real server on `127.0.0.1:0`. Each test is what a person does and sees: a judge
//! scores and the big screen moves; a team posts a photo and the phone shows it; markup in names
//! and posts stays text; the language switch changes every string; a post made offline lands
//! once; and every page is captured at 1920×1080 and at 390×844 under `target/screenshots/`.
//! `a11y.rs` runs axe-core on every page in both languages and both themes.
//!
//! The tests take turns (one browser at a time) so that timings mean something on two cores.

mod a11y;
mod driver;
mod proxy;
mod show;

use std::time::Duration;

use driver::{Browser, Driver};
use makerpulse_core::roster::Subject;
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
    // The hall scans the screen's QR code and gets the phone view of this challenge.
    assert_eq!(
        screen.read_qr(".side-qr .qr").await,
        format!("{}/phone/c", server.http()),
        "the big screen's QR code opens the phone view"
    );
    // Any text is encoded as UTF-8 (a Chinese team name, a long link with a token).
    for text in [
        "创客真人秀 · 第3队「绿芽」",
        &format!("{}/team/c#token={}", server.http(), "x".repeat(43)),
    ] {
        screen
            .js(
                "import('/static/js/qr.js').then(({ qrSvg }) => { \
                   document.querySelector('#qr-probe')?.remove(); \
                   const el = qrSvg(arguments[0]); el.id = 'qr-probe'; \
                   el.style.cssText = 'position:fixed;left:0;top:0;width:360px;height:360px;z-index:99'; \
                   document.body.append(el); });",
                vec![json!(text)],
            )
            .await;
        screen
            .wait(
                &format!("document.querySelector('#qr-probe')?.dataset.qr === {text:?}"),
                "the probe QR code",
            )
            .await;
        assert_eq!(screen.read_qr("#qr-probe").await, text);
    }
    screen
        .js("document.querySelector('#qr-probe').remove()", vec![])
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
    std::fs::write(&photo, makerpulse_server::picture::circuit(320, 240, 0)).unwrap();

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
            "document.querySelector('.team-stats').textContent.includes('You cheered once')",
            "the cheer counted",
        )
        .await;
    phone
        .wait(
            "document.querySelector('.team-stats').textContent.match(/(^|\\D)1 cheer(?!s)/)",
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
                        "document.querySelector('.admin-tabs .tab[aria-selected=true]').dataset.tab === '{tab}'"
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

/// The types of the challenge's log lines that are among `kinds`, in the log's order.
async fn logged(server: &TestServer, kinds: &[&str]) -> Vec<Value> {
    let log = reqwest::Client::new()
        .get(format!("{}/api/challenges/c/log", server.http()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    log.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a log line"))
        .filter(|e| {
            let text = e.to_string();
            kinds
                .iter()
                .any(|k| text.contains(&format!("\"type\":\"{k}\"")))
        })
        .collect()
}

/// What the page's queue holds in IndexedDB: `[kind, [photo blob sizes]]` per item, in order.
async fn queue_in_idb(b: &Browser) -> Value {
    b.js(
        "window.__kept = null; const r = indexedDB.open('makerpulse'); r.onsuccess = () => { \
           const q = r.result.transaction('queue').objectStore('queue').getAll(); \
           q.onsuccess = () => { window.__kept = JSON.stringify(q.result.map(i => [i.kind, i.photos.map(p => p.blob instanceof Blob ? p.blob.size : null)])); }; };",
        vec![],
    )
    .await;
    let kept = b.wait("window.__kept", "the queue read back").await;
    serde_json::from_str(kept.as_str().unwrap()).unwrap()
}

/// A team on a phone without Wi-Fi posts three camera-sized photos and ticks a milestone, reloads
/// the console while still offline (the service worker serves the page, the queue and the last
/// view come back from the browser's store), then the network returns: everything lands exactly
/// once, in the order it was made.
#[tokio::test]
async fn a_team_offline_through_a_reload_lands_every_item_once_in_order() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let proxy = Proxy::start(server.addr).await;
    // 800×620 stored-deflate RGB: a 1.5 MB photo, kept as it is (not redrawn) by the console.
    let bytes = makerpulse_server::picture::circuit(800, 620, 0);
    assert!(
        bytes.len() > 1_400_000 && bytes.len() < 1_572_864,
        "{}",
        bytes.len()
    );
    let photo = dir.path().join("offline.png");
    std::fs::write(&photo, &bytes).unwrap();

    let driver = Driver::start().await;
    let team = driver.browser(PHONE.0, PHONE.1).await;
    team.goto(&format!(
        "http://{}/team/c#token={}",
        proxy.addr,
        seeded.team("t2")
    ))
    .await;
    team.wait(
        "document.querySelector('.title').textContent === 'Team t2' && document.querySelector('.next-ms button[data-milestone]')",
        "the team console",
    )
    .await;
    team.wait(
        "window.makerpulse.offlineReady",
        "the shell kept for offline",
    )
    .await;
    // The last view is kept at most once a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    proxy.cut();
    team.wait("!document.querySelector('.banner').hidden && document.querySelector('.banner').textContent.includes('Reconnecting')", "the reconnecting banner").await;
    let texts = [
        "First light on the LED matrix",
        "Case printed",
        "Firmware flashed",
    ];
    for (i, text) in texts.iter().enumerate() {
        if i == 2 {
            team.click(".next-ms button[data-milestone]").await;
            team.wait(
                "document.querySelectorAll('.outbox li[data-kind=milestone]').length === 1",
                "the tick waits",
            )
            .await;
        }
        team.type_into("textarea[name=text]", text).await;
        team.type_into("input[name=photo]", photo.to_str().unwrap())
            .await;
        team.wait(
            "document.querySelectorAll('.preview img').length === 1",
            "the preview",
        )
        .await;
        team.click(".composer button[type=submit]").await;
        team.wait(
            &format!(
                "document.querySelectorAll('.outbox li[data-kind=post]').length === {}",
                i + 1
            ),
            "the post waits in the queue",
        )
        .await;
    }
    team.wait(
        "document.querySelector('.outbox .count').textContent === '4 waiting to send'",
        "four waiting",
    )
    .await;
    let size = bytes.len();
    assert_eq!(
        queue_in_idb(&team).await,
        json!([
            ["post", [size]],
            ["post", [size]],
            ["milestone", []],
            ["post", [size]]
        ]),
        "the queue is kept in IndexedDB, photos as Blobs"
    );
    team.shot("team-offline").await;
    // Several retries fail while the network is down; nothing reaches the server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    assert_eq!(timeline, json!([]));

    // A reload without network: the page, the queue and the last known state come back.
    team.client.refresh().await.unwrap();
    team.wait(
        "document.querySelector('.title')?.textContent === 'Team t2' && document.querySelectorAll('.outbox li').length === 4 && !document.querySelector('.stale-note').hidden \
           && document.querySelector('.timeline .empty[data-i18n=no_posts]')",
        "the console reloaded offline, with its last timeline",
    )
    .await;
    let note = team
        .js(
            "return document.querySelector('.stale-note').textContent",
            vec![],
        )
        .await;
    assert!(note.as_str().unwrap().starts_with("Offline"), "{note}");
    team.shot("team-reloaded-offline").await;

    proxy.restore();
    team.wait(
        "document.querySelector('.outbox').hidden && document.querySelector('.stale-note').hidden",
        "the queue empties",
    )
    .await;
    team.wait(
        "document.querySelectorAll('.timeline .post-card img.photo').length === 3",
        "the posts on the team's timeline",
    )
    .await;
    // A reload finds nothing left to send, and each item is there exactly once.
    team.client.refresh().await.unwrap();
    team.wait("document.querySelector('.title')?.textContent === 'Team t2' && document.querySelectorAll('.timeline .post-card').length === 3", "the console after a reload").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = logged(&server, &["progress_posted", "milestone_reached"]).await;
    let order: Vec<String> = events
        .iter()
        .map(|e| {
            let text = e.to_string();
            if text.contains("\"milestone_reached\"") {
                "tick".to_owned()
            } else {
                texts
                    .iter()
                    .find(|t| text.contains(*t))
                    .expect("a post made here")
                    .to_string()
            }
        })
        .collect();
    assert_eq!(order, [texts[0], texts[1], "tick", texts[2]], "{events:?}");
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    for post in timeline.as_array().unwrap() {
        assert_eq!(post["photos"].as_array().unwrap().len(), 1, "{post}");
    }
    assert_eq!(queue_in_idb(&team).await, json!([]));
    team.assert_clean("team").await;
    team.close().await;
    server.stop().await;
}

/// A judge on a tablet loses the network twice: the first scorecard made offline lands when it
/// returns; the second reaches the server after the organizers closed scoring, and stays on the
/// console with the server's reason, through a reload; when scoring opens again, "correct" puts it
/// back into its form and it lands.
#[tokio::test]
async fn a_judges_scorecard_refused_after_the_fact_is_shown_with_its_reason() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let proxy = Proxy::start(server.addr).await;
    let driver = Driver::start().await;
    let judge = driver.browser(TABLET.0, TABLET.1).await;
    judge
        .goto(&format!(
            "http://{}/judge/c#token={}",
            proxy.addr,
            seeded.judge("j1")
        ))
        .await;
    judge
        .wait(
            "document.querySelector('.team-pick[data-team=\"t2\"]')",
            "the judge console",
        )
        .await;
    judge
        .wait(
            "window.makerpulse.offlineReady",
            "the shell kept for offline",
        )
        .await;
    let criteria = [
        "innovation",
        "execution",
        "completeness",
        "commercial",
        "presentation",
    ];
    for (team, value) in [("t1", 8), ("t2", 6)] {
        proxy.cut();
        judge
            .wait(
                "!document.querySelector('.banner').hidden",
                "the reconnecting banner",
            )
            .await;
        judge
            .click(&format!(".team-pick[data-team=\"{team}\"]"))
            .await;
        for criterion in criteria {
            judge
                .click(&format!(
                    ".pt[data-criterion=\"{criterion}\"][data-value=\"{value}\"]"
                ))
                .await;
        }
        judge.click(".score-form button[type=submit]").await;
        judge
            .wait(
                "document.querySelector('.judge-queue .count')?.textContent === '1 waiting to send'",
                "the scorecard waits",
            )
            .await;
        if team == "t2" {
            ok(&server, ADMIN, Command::CloseScoring).await;
        }
        proxy.restore();
        if team == "t1" {
            judge
                .wait(
                    "document.querySelector('.judge-queue').hidden",
                    "the scorecard sent",
                )
                .await;
        }
    }
    // The server's own reason, as it answers the same scorecard now.
    let (status, refusal) = server
        .command("c", Some(seeded.judge("j1")), scorecard("t2", 6))
        .await;
    assert_ne!(status, 200, "{refusal}");
    let reason = refusal["error"]["message"].as_str().unwrap().to_owned();
    let shown =
        "document.querySelector('.judge-queue li[data-kind=scorecard] .state.error')?.textContent";
    judge
        .wait(&format!("{shown}?.includes({reason:?})"), "the refusal")
        .await;
    judge.shot("judge-refused").await;
    judge.client.refresh().await.unwrap();
    judge
        .wait(
            &format!("{shown}?.includes({reason:?})"),
            "the refusal after a reload",
        )
        .await;
    let (_, view) = server
        .get("/api/challenges/c/view", Some(seeded.judge("j1")))
        .await;
    let mine: Vec<&str> = view["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["judge"] == "j1")
        .map(|c| c["team"].as_str().unwrap())
        .collect();
    assert_eq!(mine, ["t1"], "only the scorecard sent in time landed");
    // Scoring opens again: "correct" puts the refused scorecard back into its form, and saving it
    // then lands it as a new command.
    ok(
        &server,
        ADMIN,
        Command::OpenScoring {
            reason: "late cards".into(),
        },
    )
    .await;
    judge.click(".judge-queue button.correct").await;
    judge
        .wait(
            "document.querySelector('.judge-queue').hidden && document.querySelectorAll('.pt[aria-pressed=true][data-value=\"6\"]').length === 5",
            "the refused scorecard back in its form",
        )
        .await;
    judge.click(".score-form button[type=submit]").await;
    judge
        .wait(
            "window.makerpulse.live.view.scorecards.some(c => c.judge === 'j1' && c.team === 't2')",
            "the corrected scorecard landed",
        )
        .await;
    judge.assert_clean("judge").await;
    judge.close().await;
    server.stop().await;
}

/// A post waits offline while the organizers revoke the team's link: when the network returns it
/// is refused, and stays in view under the notice with the server's reason, to be discarded.
#[tokio::test]
async fn a_post_queued_under_a_revoked_link_is_shown_with_its_reason() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let proxy = Proxy::start(server.addr).await;
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
    team.type_into("textarea[name=text]", "Made before the link was revoked")
        .await;
    team.click(".composer button[type=submit]").await;
    team.wait(
        "document.querySelectorAll('.outbox li').length === 1",
        "the post waits",
    )
    .await;
    ok(
        &server,
        ADMIN,
        Command::RevokeTokens {
            subject: Subject::Team(TeamId::new("t2").unwrap()),
        },
    )
    .await;
    let (status, refusal) = server
        .command(
            "c",
            Some(seeded.team("t2")),
            Command::PostProgress {
                text: "x".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 401, "{refusal}");
    let reason = refusal["error"]["message"].as_str().unwrap().to_owned();
    proxy.restore();
    team.wait(
        &format!("document.querySelector('.notice .outbox li .state.error')?.textContent.includes({reason:?})"),
        "the refusal under the notice",
    )
    .await;
    team.click(".notice .outbox button.discard").await;
    team.wait(
        "document.querySelector('.notice .outbox').hidden",
        "discarded",
    )
    .await;
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    assert_eq!(timeline, json!([]));
    team.close().await;
    server.stop().await;
}

/// The phone view and the big screen reload without network and show the last board, marked as
/// the last known state, until the network returns.
#[tokio::test]
async fn the_phone_and_the_screen_reload_offline_with_the_last_board() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    ok(&server, seeded.judge("j1"), scorecard("t2", 7)).await;
    post(&server, &seeded, "t3", "Offline-proof board", None).await;
    let proxy = Proxy::start(server.addr).await;
    let driver = Driver::start().await;
    for (page, (w, h), rows) in [
        ("phone/c", PHONE, "li[data-team]"),
        ("screen/c", DESKTOP, ".board .row"),
    ] {
        let b = driver.browser(w, h).await;
        b.goto(&format!("http://{}/{page}", proxy.addr)).await;
        let count = b
            .wait(
                &format!("document.querySelectorAll('{rows}').length"),
                "the board",
            )
            .await;
        b.wait(
            "window.makerpulse.offlineReady",
            "the shell kept for offline",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        proxy.cut();
        b.client.refresh().await.unwrap();
        b.wait(
            &format!("!document.querySelector('.stale-note')?.hidden && document.querySelectorAll('{rows}').length === {count}"),
            &format!("{page} reloaded offline"),
        )
        .await;
        b.shot(&format!("{}-offline", page.replace('/', "-"))).await;
        proxy.restore();
        b.wait(
            "document.querySelector('.stale-note').hidden",
            &format!("{page} live again"),
        )
        .await;
        b.assert_clean(page).await;
        b.close().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_page_joins_with_the_compressed_snapshot_over_http_and_follows_from_its_seq() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    ok(&server, seeded.judge("j1"), scorecard("t2", 7)).await;
    post(&server, &seeded, "t3", "Before the page opened", None).await;
    let driver = Driver::start().await;
    for (page, (w, h), score) in [("phone/c", PHONE, 8), ("screen/c", DESKTOP, 9)] {
        let b = driver.browser(w, h).await;
        b.goto(&format!("{}/{page}", server.http())).await;
        assert_same_view(&b, &server, "c", None, page).await;
        // The view came over HTTP, compressed: the browser's own record of the request.
        let sizes = b
            .js(
                "const e = performance.getEntriesByType('resource').find(e => e.name.includes('/api/challenges/c/snapshot')); \
                 return e ? [e.encodedBodySize, e.decodedBodySize] : null;",
                vec![],
            )
            .await;
        let sizes = sizes
            .as_array()
            .unwrap_or_else(|| panic!("{page}: no snapshot over HTTP"));
        let (encoded, decoded) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
        assert!(
            encoded > 0 && encoded * 2 < decoded,
            "{page}: {encoded} of {decoded} bytes"
        );
        // What follows comes over the socket from that seq, applied onto it.
        post(
            &server,
            &seeded,
            "t1",
            &format!("After {page} joined"),
            None,
        )
        .await;
        ok(&server, seeded.judge("j1"), scorecard("t2", score)).await;
        assert_same_view(&b, &server, "c", None, page).await;
        b.assert_clean(page).await;
        b.close().await;
    }
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
    let photo = upload(
        &server,
        seeded.team("t1"),
        makerpulse_server::picture::circuit(480, 360, 0),
    )
    .await;
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
            // Photos settle before the picture is taken. A lazy image the page has not
            // scrolled to (below the fold, or in a ticker slot not shown) is never fetched,
            // so only those in the viewport are waited for.
            b.wait(
                "[...document.images].every(i => { \
                   if (i.complete) return true; \
                   const r = i.getBoundingClientRect(); \
                   return i.loading === 'lazy' && (r.width === 0 || r.bottom < 0 || r.top > innerHeight); })",
                "images",
            )
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
    let first = "document.querySelector('.reveal-moment')?.dataset.team";
    let a = left.wait(first, "the first reveal on the left").await;
    let b = right.wait(first, "the first reveal on the right").await;
    assert_eq!(a, b);
    let (status, body) = server.command("c", admin, Command::RevealNext).await;
    assert_eq!(status, 200, "{body}");
    // The second place revealed stays listed under the moment of the first.
    let second = "document.querySelectorAll('.reveal-list .revealed').length === 1 && document.querySelector('.reveal-moment').dataset.rank";
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
    assert_eq!(
        b.read_qr(".minted .qr").await,
        link,
        "a phone scanning the QR code opens the link"
    );

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

    // Closing scoring with scorecards owed: the console lists them (Wang has not scored Lumen;
    // nobody can score Atlas) and waits for an explicit "go ahead anyway".
    b.click("button[data-i18n=\"close_scoring\"]").await;
    b.click("button[data-i18n=\"confirm\"]").await;
    b.wait(
        "document.querySelector('.outstanding .outstanding-judges li[data-judge=\"wang\"]')?.textContent.includes('Lumen')",
        "the scorecards still owed",
    )
    .await;
    b.wait(
        "document.querySelector('.outstanding .outstanding-unjudged')?.textContent.includes('Atlas')",
        "the team nobody can score",
    )
    .await;
    b.shot("admin-outstanding").await;
    assert_eq!(
        b.js(
            "return [window.makerpulse.live.view.challenge.scoring_open, document.querySelector('button[data-i18n=\"close_scoring_anyway\"]').disabled]",
            vec![]
        )
        .await,
        json!([true, true]),
        "nothing happens until the organizer confirms"
    );
    b.click(".outstanding input[name=accept_outstanding]").await;
    b.click("button[data-i18n=\"close_scoring_anyway\"]").await;
    b.wait(
        "window.makerpulse.live.view.challenge.scoring_open === false && !document.querySelector('.outstanding')",
        "scoring closed after the confirmation",
    )
    .await;
    // The audit tab's event log names each event in words, with its reason.
    b.click(".admin-tabs .tab[data-tab=\"audit\"]").await;
    b.click("button[data-i18n=\"load_log\"]").await;
    b.wait(
        "[...document.querySelectorAll('.log span[data-type=\"clock_paused\"]')].some(s => s.textContent === 'Clock paused' && s.nextElementSibling?.textContent.includes('Fire drill'))",
        "the event log in words",
    )
    .await;
    b.wait(
        "document.querySelector('.log span[data-type=\"scoring_closed\"]')?.textContent === 'Scoring closed'",
        "the closing of scoring in the log",
    )
    .await;

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

#[tokio::test]
async fn a_cheer_lands_on_the_team_under_the_finger_while_the_ranking_moves() {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};

    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let driver = Driver::start().await;
    // At 4, 30 and 100 teams: four of them (a, b, c, d) are cheered, the rest never are.
    for (id, sizes) in SHOW_SIZES {
        let teams = big_challenge(&server, id, sizes).await;
        let [a, b, c, d] = ["tr0-t0", "tr0-t1", "tr1-t0", "tr1-t1"];
        let cheers_for = |team: &'static str, n: usize| {
            let server = &server;
            async move {
                for _ in 0..n {
                    let (status, answer) = server
                        .command(
                            id,
                            None,
                            Command::Cheer {
                                team: TeamId::new(team).unwrap(),
                            },
                        )
                        .await;
                    assert_eq!(status, 200, "{answer}");
                }
            }
        };
        cheers_for(a, 30).await;
        cheers_for(b, 20).await;
        cheers_for(c, 10).await;

        let phone = driver.browser(PHONE.0, PHONE.1).await;
        phone.goto(&format!("{}/phone/{id}", server.http())).await;
        phone.click(".tabs button[data-tab=\"cheers\"]").await;
        let first = |n: usize| {
            format!("[...document.querySelectorAll('.cheer-list li')].slice(0, {n}).map(li => li.dataset.team).join()")
        };
        phone
            .wait(
                &format!(
                    "document.querySelectorAll('.cheer-list li').length === {} && {} === '{a},{b},{c}'",
                    teams.len(),
                    first(3)
                ),
                &format!("{id}: the people's choice in order"),
            )
            .await;
        // Where c's button is: the person's thumb stays there.
        let at = phone
            .js(
                &format!(
                    "const r = document.querySelector('.cheer-list li[data-team=\"{c}\"] button.cheer').getBoundingClientRect(); \
                     return [r.x + r.width / 2, r.y + r.height / 2];"
                ),
                vec![],
            )
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        // Six taps a second apart at that spot; meanwhile the hall cheers d past c and b, and
        // the tallies (every 2 s) reach the phone between the taps.
        for _ in 0..6 {
            cheers_for(d, 5).await;
            let tap = MouseActions::new("finger".into())
                .then(PointerAction::MoveTo {
                    duration: None,
                    x,
                    y,
                })
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                });
            phone.client.perform_actions(tap).await.expect("tap");
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        // Every tap counted for c (10 + 6), none for anyone else; d got only the hall's 30.
        let counts = |view: &Value| {
            let rows = view["peoples_choice"].as_array().unwrap();
            let of = |team: &str| {
                rows.iter()
                    .find(|r| r["team"] == team)
                    .map_or(0, |r| r["cheers"].as_u64().unwrap())
            };
            let others: u64 = rows
                .iter()
                .map(|r| r["cheers"].as_u64().unwrap())
                .sum::<u64>()
                - [a, b, c, d].iter().map(|t| of(t)).sum::<u64>();
            [of(a), of(b), of(c), of(d), others]
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, view) = server
                .get(&format!("/api/challenges/{id}/view"), None)
                .await;
            let now = counts(&view);
            if now == [30, 20, 16, 30, 0] {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{id}: the taps went elsewhere: a, b, c, d, the others = {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // Once the person stops, the list catches up with the ranking.
        phone
            .wait(
                &format!("{} === '{a},{d},{b},{c}'", first(4)),
                &format!("{id}: the people's choice in its new order"),
            )
            .await;
        phone.assert_clean("phone cheers").await;
        phone.close().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn the_organizers_print_every_link_and_the_result() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let seeded = server.seed("c").await;
    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;
    b.goto(&format!("{}/admin?c=c#token={ADMIN}", server.http()))
        .await;
    // Every team (4) and judge (3) gets a card with a link and its QR code.
    b.click("button[data-i18n=\"mint_all_links\"]").await;
    b.click("button[data-i18n=\"confirm\"]").await;
    b.wait(
        "document.querySelectorAll('.link-sheet .link-card').length === 7",
        "seven link cards",
    )
    .await;
    b.shot("admin-link-sheet").await;
    let link = b
        .js(
            "return document.querySelector('.link-card[data-role=\"judge\"][data-id=\"j2\"] .link-text').textContent",
            vec![],
        )
        .await;
    let link = link.as_str().unwrap().to_owned();
    assert_eq!(
        b.read_qr(".link-card[data-role=\"judge\"][data-id=\"j2\"] .qr")
            .await,
        link
    );
    // The CSV holds the same links, and each one opens its console.
    let csv = b
        .js(
            "const href = document.querySelector('.link-sheet-card a.csv-download').href; \
             return decodeURIComponent(href.slice(href.indexOf(',') + 1));",
            vec![],
        )
        .await;
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("\u{feff}role,id,name_zh,name_en,track,link\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 8, "{csv}");
    assert!(
        csv.contains(&format!("judge,j2,评委 j2,Judge j2,,{link}")),
        "{csv}"
    );
    let token = link.split("#token=").nth(1).unwrap();
    let (status, _) = server.get("/api/challenges/c/view", Some(token)).await;
    assert_eq!(status, 200, "the printed link works");
    // The seed's own links still work: minting adds links, it does not replace them.
    let (status, _) = server
        .get("/api/challenges/c/view", Some(seeded.judge("j2")))
        .await;
    assert_eq!(status, 200);

    // The result, once final: every team in CSV with the breakdown, and a printable table.
    for (judge, team, score) in [
        ("j1", "t1", 8),
        ("j1", "t2", 6),
        ("j2", "t1", 7),
        ("j2", "t3", 9),
        ("j2", "t4", 5),
        ("j3", "t3", 8),
        ("j3", "t4", 6),
    ] {
        ok(&server, seeded.judge(judge), scorecard(team, score)).await;
    }
    ok(&server, ADMIN, Command::EndBuilding).await;
    ok(&server, ADMIN, Command::CloseScoring).await;
    ok(&server, ADMIN, Command::Freeze).await;
    while server.get("/api/challenges/c/view", Some(ADMIN)).await.1["challenge"]["phase"]
        != "revealed"
    {
        ok(&server, ADMIN, Command::RevealNext).await;
    }
    b.wait(
        "document.querySelector('.result-sheet-card a.csv-download')",
        "the result sheet",
    )
    .await;
    let csv = b
        .js(
            "const href = document.querySelector('.result-sheet-card a.csv-download').href; \
             return decodeURIComponent(href.slice(href.indexOf(',') + 1));",
            vec![],
        )
        .await;
    let csv = csv.as_str().unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with(
            "\u{feff}track,rank,team,name_zh,name_en,score,judges_scored,judges_assigned,mean_"
        ) && header.contains(",mean_innovation,"),
        "{header}"
    );
    assert!(header.ends_with(",total_j1,total_j2,total_j3"), "{header}");
    // t1: j1 8 and j2 7 on the seed's scale of 1 to 10 (77.78 and 66.67 on 0–100), both
    // complete: first of track a, and j3 (not on its panel) has no part in it.
    let t1 = csv.lines().find(|l| l.contains(",t1,")).unwrap();
    assert_eq!(
        t1,
        "a,1,t1,团队 t1,Team t1,72.22,2,2,7.5,7.5,7.5,7.5,7.5,77.777778,66.666667,"
    );
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert_eq!(
        b.js(
            "return document.querySelectorAll('.result-sheet tbody tr').length",
            vec![]
        )
        .await,
        json!(4)
    );
    b.shot("admin-result-sheet").await;
    b.assert_clean("admin sheets").await;
    b.close().await;
    server.stop().await;
}

#[tokio::test]
async fn teams_and_judges_are_imported_from_csv_whole_or_not_at_all() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let driver = Driver::start().await;
    let b = driver.browser(DESKTOP.0, DESKTOP.1).await;
    b.goto(&format!("{}/admin?c=c#token={ADMIN}", server.http()))
        .await;
    b.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
    let paste = |csv: &str| {
        format!(
            "const a = document.querySelector('textarea[name=import_csv]'); a.value = {}; \
             document.querySelector('button[data-i18n=import_check]').click();",
            json!(csv)
        )
    };
    // A team in a track that does not exist: the server refuses the whole file and says which
    // row; nothing is added.
    let csv = "id,track,name_zh,name_en,members\r\n\
               t10,a,团队十,Team ten,\"Li Na|hardware|中国; Tom|software|Sverige\"\r\n\
               t11,nope,团队十一,Team eleven,\r\n\
               t12,b,\"团队,十二\",\"Team \"\"twelve\"\"\",\r\n";
    b.js(&paste(csv), vec![]).await;
    b.wait(
        "document.querySelectorAll('.import-preview tr').length === 3",
        "the preview",
    )
    .await;
    b.click("button[data-i18n=\"import_send_teams\"]").await;
    b.wait(
        "document.querySelector('.import-preview tr[data-row=\"2\"].refused .problems')?.textContent.includes('nope')",
        "the refused row and its reason",
    )
    .await;
    let (_, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert!(view["teams"]["t10"].is_null(), "nothing of a refused file");
    b.shot("admin-import-refused").await;
    // Corrected, it all goes in, quotes and commas inside names included.
    b.js(&paste(&csv.replace("nope", "b")), vec![]).await;
    b.wait(
        "document.querySelectorAll('.import-preview tr.refused').length === 0 && document.querySelector('button[data-i18n=import_send_teams]')",
        "the corrected preview",
    )
    .await;
    b.click("button[data-i18n=\"import_send_teams\"]").await;
    b.wait(
        "document.querySelector('tr[data-team=\"t12\"]')",
        "the imported teams",
    )
    .await;
    let (_, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(view["teams"]["t12"]["name"]["en"], "Team \"twelve\"");
    assert_eq!(view["teams"]["t12"]["name"]["zh"], "团队,十二");
    assert_eq!(view["teams"]["t10"]["members"][1]["region"], "Sverige");
    // A judge with a seat that does not exist is caught before anything is sent.
    b.click(".admin-tabs .tab[data-tab=\"judges\"]").await;
    b.js(
        &paste("id,name_zh,name_en,panel_role,tracks,conflicts\r\nj10,评委十,Judge ten,astrologer,a;b,t10\r\n"),
        vec![],
    )
    .await;
    b.wait(
        "document.querySelector('.import-preview tr.refused .problems')?.textContent.includes('astrologer') \
         && !document.querySelector('button[data-i18n=import_send_judges]')",
        "the judge's unknown seat",
    )
    .await;
    b.js(
        &paste("id,name_zh,name_en,panel_role,tracks,conflicts\r\nj10,评委十,Judge ten,investor,a;b,t10\r\n"),
        vec![],
    )
    .await;
    b.click("button[data-i18n=\"import_send_judges\"]").await;
    b.wait(
        "document.querySelector('tr[data-judge=\"j10\"]')",
        "the imported judge",
    )
    .await;
    let (_, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(view["judges"]["j10"]["conflicts"], json!(["t10"]));
    assert_eq!(
        view["judges"]["j10"]["assignment"]["tracks"],
        json!(["a", "b"])
    );
    b.assert_clean("admin import").await;
    b.close().await;
    server.stop().await;
}

/// The sizes of the show the browser tests play at: 4 teams (the demo's), 30 in three tracks, and
/// 100 with a track of 40.
const SHOW_SIZES: [(&str, &[usize]); 3] = [
    ("four", &[2, 2]),
    ("thirty", &[10, 10, 10]),
    ("hundred", &[40, 30, 30]),
];

/// A challenge `id` with one track per entry of `sizes` (`tr0`, `tr1`, …) and no team yet.
async fn challenge_with_tracks(server: &TestServer, id: &str, sizes: &[usize]) {
    let (status, answer) = server
        .command(
            id,
            Some(ADMIN),
            Command::CreateChallenge {
                id: makerpulse_core::ChallengeId::new(id).unwrap(),
                title: Localized::new("大赛", "The big one"),
                description: Localized::default(),
                planned_start: None,
                duration_secs: None,
            },
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    for t in 0..sizes.len() {
        let (status, answer) = server
            .command(
                id,
                Some(ADMIN),
                Command::AddTrack {
                    id: TrackId::new(format!("tr{t}")).unwrap(),
                    name: Localized::new(format!("赛道 {t}"), format!("Track {t}")),
                    description: Localized::default(),
                },
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// A challenge `id` with tracks of `sizes` teams (`tr0`, `tr1`, … with teams `tr0-t0`, …), made
/// the way an organizer would with an import; the clock started.
async fn big_challenge(server: &TestServer, id: &str, sizes: &[usize]) -> Vec<String> {
    use makerpulse_core::command::NewTeam;
    challenge_with_tracks(server, id, sizes).await;
    let mut teams = Vec::new();
    let mut new_teams = Vec::new();
    for (t, &n) in sizes.iter().enumerate() {
        let track = format!("tr{t}");
        for i in 0..n {
            let team = format!("{track}-t{i}");
            new_teams.push(NewTeam {
                id: TeamId::new(&team).unwrap(),
                track: TrackId::new(&track).unwrap(),
                name: Localized::new(format!("团队 {t}-{i}"), format!("Team {t}-{i}")),
                description: Localized::default(),
                members: vec![],
                contact: String::new(),
            });
            teams.push(team);
        }
    }
    let (status, answer) = server
        .command(
            id,
            Some(ADMIN),
            Command::ImportRoster {
                teams: new_teams,
                judges: vec![],
            },
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = server
        .command(id, Some(ADMIN), Command::StartChallenge)
        .await;
    assert_eq!(status, 200, "{answer}");
    teams
}

#[tokio::test]
async fn every_team_is_on_the_big_screen_within_one_rotation() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let driver = Driver::start().await;
    for (id, sizes) in SHOW_SIZES {
        let teams = big_challenge(&server, id, sizes).await;
        for (w, h) in [(1920, 1080), (3840, 2160), (1080, 1920), (390, 844)] {
            let b = driver.browser(w, h).await;
            b.goto(&format!("{}/screen/{id}?rotate=1", server.http()))
                .await;
            b.wait("document.querySelector('.board .row')", "the board")
                .await;
            // Every team whose row is wholly on the screen and inside the board, collected as
            // the screen rotates through tracks and pages.
            b.js(
                "window.seenTeams = new Set(); window.seenTimer = setInterval(() => { \
                   const board = document.querySelector('.board').getBoundingClientRect(); \
                   for (const row of document.querySelectorAll('.board .row')) { \
                     const r = row.getBoundingClientRect(); \
                     if (r.height > 0 && r.top >= Math.max(0, board.top) - 1 && r.bottom <= Math.min(innerHeight, board.bottom) + 1 \
                         && r.left >= 0 && r.right <= innerWidth + 1) window.seenTeams.add(row.dataset.team); \
                   } }, 50);",
                vec![],
            )
            .await;
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                let seen: Vec<String> =
                    serde_json::from_value(b.js("return [...window.seenTeams]", vec![]).await)
                        .unwrap();
                if seen.len() == teams.len() {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    b.shot(&format!("FAILED-screen-{id}")).await;
                    let missing: Vec<&String> =
                        teams.iter().filter(|t| !seen.contains(t)).collect();
                    panic!("{id} at {w}×{h}: never on the screen: {missing:?}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // The dots of a row are named: the milestones, in order, under the board.
            let (_, view) = server
                .get(&format!("/api/challenges/{id}/view"), None)
                .await;
            let names: Vec<String> = view["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"]["en"].as_str().unwrap().to_owned())
                .collect();
            assert!(!names.is_empty());
            assert_eq!(
                b.js(
                    "return [...document.querySelectorAll('.ms-legend li .data')].map(e => e.textContent)",
                    vec![]
                )
                .await,
                json!(names),
                "the milestone legend"
            );
            if id == "hundred" {
                b.shot(&format!("screen-{id}")).await;
                // A page is a screenful of rows, not a handful: at least 8 on a wall screen.
                if w >= 1920 && h >= 1080 {
                    let per_page = b
                        .js(
                            "return Number(document.querySelector('.board').dataset.perPage)",
                            vec![],
                        )
                        .await;
                    assert!(
                        per_page.as_u64().unwrap() >= 8,
                        "{w}×{h}: {per_page} rows a page"
                    );
                }
            }
            b.assert_clean(&format!("screen {id} {w}×{h}")).await;
            b.close().await;
        }
    }
    server.stop().await;
}

/// A milestone is a moment, at 4, 30 and 100 teams: ticked, it is announced in the ticker of the
/// big screen, the phone and the embed, in both languages; the organizer takes it back from the
/// admin console with a reason; the dot goes and the announcement is struck out on every screen,
/// the team's console says why, and the audit log names the undo in words with its reason.
#[tokio::test]
async fn a_milestone_is_announced_everywhere_and_an_organizer_takes_it_back() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    for (id, sizes) in SHOW_SIZES {
        big_challenge(&server, id, sizes).await;
        let team = "tr0-t0";
        let token = server
            .mint(id, Subject::Team(TeamId::new(team).unwrap()))
            .await;
        let screen = driver.browser(DESKTOP.0, DESKTOP.1).await;
        let phone = driver.browser(PHONE.0, PHONE.1).await;
        let embed = driver.browser(480, 640).await;
        let console = driver.browser(PHONE.0, PHONE.1).await;
        screen.goto(&format!("{http}/screen/{id}?track=tr0")).await;
        phone.goto(&format!("{http}/phone/{id}")).await;
        embed.goto(&format!("{http}/embed/{id}")).await;
        console
            .goto(&format!("{http}/team/{id}#token={token}"))
            .await;
        for (b, what) in [
            (&screen, "screen"),
            (&phone, "phone"),
            (&embed, "embed"),
            (&console, "team console"),
        ] {
            b.wait("window.makerpulse?.live?.view", what).await;
        }
        let (status, body) = server
            .command(
                id,
                Some(&token),
                Command::ReachMilestone {
                    milestone: makerpulse_core::MilestoneId::new("idea").unwrap(),
                    note: String::new(),
                },
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // Announced on every screen: the team, and the milestone named in both languages.
        let news = |scope: &str| {
            format!(
                "[...document.querySelectorAll('{scope} .milestone-news[data-team=\"{team}\"][data-milestone=\"idea\"]')]\
                   .map(e => e.textContent).find(t => t.includes('Idea') && t.includes('创意提出') && t.includes('0-0'))"
            )
        };
        screen
            .wait(&news(".ticker"), "the big screen's announcement")
            .await;
        phone.wait(&news("main"), "the phone's announcement").await;
        embed
            .wait(&news(".embed-news"), "the embed's announcement")
            .await;
        let dot = format!(
            "document.querySelectorAll('.board .row[data-team=\"{team}\"] .dot.on').length"
        );
        assert_eq!(
            screen.wait(&dot, "the team's dot on the big screen").await,
            json!(1)
        );
        screen.shot(&format!("screen-milestone-{id}")).await;
        phone.shot(&format!("phone-milestone-{id}")).await;

        // The organizer takes it back: the undo button of the ticked milestone, a reason, confirmed.
        let admin = driver.browser(DESKTOP.0, DESKTOP.1).await;
        admin
            .goto(&format!("{http}/admin?c={id}#token={ADMIN}"))
            .await;
        admin.click(".admin-tabs .tab[data-tab=\"teams\"]").await;
        admin
            .click(&format!(
                "tr[data-team=\"{team}\"] .ms-chip[data-milestone=\"idea\"] .undo-ms"
            ))
            .await;
        // Without a reason nothing is sent.
        admin.click(".undo-form button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (_, view) = server
            .get(&format!("/api/challenges/{id}/view"), None)
            .await;
        assert_eq!(
            view["teams"][team]["progress"]["reached"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "an undo without a reason is not sent"
        );
        let reason = "误点 / ticked by mistake";
        admin.type_into(".undo-form textarea", reason).await;
        admin.shot(&format!("admin-undo-milestone-{id}")).await;
        admin.click(".undo-form button[type=submit]").await;
        admin
            .wait(
                &format!("!document.querySelector('.undo-form') && !document.querySelector('tr[data-team=\"{team}\"] .ms-chip')"),
                "the tick gone from the console",
            )
            .await;

        // The dot goes and the announcement is struck out everywhere; the public is not told
        // why, the team is.
        screen
            .wait(&format!("{dot} === 0"), "the dot gone from the big screen")
            .await;
        let withdrawn = |scope: &str| {
            format!("document.querySelector('{scope} .milestone-news.withdrawn[data-team=\"{team}\"]')?.textContent")
        };
        for (b, scope, what) in [
            (&screen, ".ticker", "the big screen"),
            (&phone, "main", "the phone"),
            (&embed, ".embed-news", "the embed"),
        ] {
            let text = b.wait(&withdrawn(scope), what).await;
            assert!(
                !text.as_str().unwrap().contains("mistake"),
                "{what}: {text}"
            );
            assert_same_view(b, &server, id, None, what).await;
        }
        let told = console
            .wait(
                "document.querySelector('.notice-line.undone')?.textContent",
                "the team console told",
            )
            .await;
        assert!(told.as_str().unwrap().contains(reason), "{told}");
        screen
            .shot(&format!("screen-milestone-withdrawn-{id}"))
            .await;
        console.shot(&format!("team-milestone-undone-{id}")).await;

        // The audit log names the undo in words, with the team, the milestone and the reason.
        admin.click(".admin-tabs .tab[data-tab=\"audit\"]").await;
        admin.click("button[data-i18n=\"load_log\"]").await;
        let line = admin
            .wait(
                "document.querySelector('.table.log [data-type=\"milestone_undone\"]')?.parentElement.textContent",
                "the undo in the audit log",
            )
            .await;
        let line = line.as_str().unwrap();
        assert!(
            (line.contains("Milestone taken back") || line.contains("撤销里程碑"))
                && line.contains(reason)
                && line.contains("0-0"),
            "{line}"
        );
        for (b, what) in [
            (&screen, "screen"),
            (&phone, "phone"),
            (&embed, "embed"),
            (&console, "team console"),
            (&admin, "admin"),
        ] {
            b.assert_clean(what).await;
        }
        for b in [screen, phone, embed, console, admin] {
            b.close().await;
        }
    }
    server.stop().await;
}

/// Scores every team of `id` (made by [`big_challenge`]) with one judge, a different score per
/// team of a track, then ends building, freezes and closes scoring: ready for the reveal.
async fn scored_and_frozen(server: &TestServer, id: &str, sizes: &[usize]) {
    use makerpulse_core::roster::{Assignment, PanelRole};
    use makerpulse_core::JudgeId;
    let admin = Some(ADMIN);
    let accepted = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
    accepted(
        server
            .command(
                id,
                admin,
                Command::AddJudge {
                    id: JudgeId::new("j").unwrap(),
                    name: Localized::new("评委", "Judge"),
                    panel_role: PanelRole::DomainExpert,
                    affiliation: Localized::default(),
                    assignment: Assignment {
                        tracks: (0..sizes.len())
                            .map(|t| TrackId::new(format!("tr{t}")).unwrap())
                            .collect(),
                        teams: Default::default(),
                    },
                    conflicts: Default::default(),
                },
            )
            .await,
    );
    let judge = server
        .mint(id, Subject::Judge(JudgeId::new("j").unwrap()))
        .await;
    accepted(
        server
            .command(
                id,
                admin,
                Command::OpenScoring {
                    reason: String::new(),
                },
            )
            .await,
    );
    for (t, &n) in sizes.iter().enumerate() {
        for i in 0..n {
            let team = format!("tr{t}-t{i}");
            // 40 teams need more than the 10 steps of the 1–10 scale: ties share a place.
            accepted(
                server
                    .command(id, Some(&judge), scorecard(&team, (i % 10) as u32 + 1))
                    .await,
            );
        }
    }
    for command in [Command::EndBuilding, Command::Freeze, Command::CloseScoring] {
        accepted(server.command(id, admin, command).await);
    }
}

/// The reveal, step by step, at 4, 30 and 100 teams and on big screens of four shapes: after every
/// step the big screen's moment (in view), the track its header marks, the phone's reveal and the
/// embed's all show the team the server just revealed, in its place; first place is a step of its
/// own; after the last step every screen shows the final result. Before the first track's first
/// place, every place revealed before it is seen on every big screen (the list turns its pages).
#[tokio::test]
async fn the_header_big_screen_phone_and_embed_agree_at_every_step_of_the_reveal() {
    let _turn = TURN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let http = server.http();
    let driver = Driver::start().await;
    for (id, sizes) in SHOW_SIZES {
        let teams = big_challenge(&server, id, sizes).await;
        scored_and_frozen(&server, id, sizes).await;
        // Big screens of four shapes: a hall's 1080p and 4K, a portrait totem, a phone.
        let mut screens = Vec::new();
        for (w, h) in [(1920, 1080), (3840, 2160), (1080, 1920), (390, 844)] {
            let b = driver.browser(w, h).await;
            // Pages (of the board, and of the places revealed) turn every second.
            b.goto(&format!("{http}/screen/{id}?rotate=1")).await;
            screens.push((b, format!("the big screen at {w}×{h}")));
        }
        let phone = driver.browser(PHONE.0, PHONE.1).await;
        let embed = driver.browser(480, 720).await;
        phone.goto(&format!("{http}/phone/{id}")).await;
        embed.goto(&format!("{http}/embed/{id}")).await;
        for (b, what) in screens
            .iter()
            .map(|(b, what)| (b, what.as_str()))
            .chain([(&phone, "phone"), (&embed, "embed")])
        {
            b.wait(
                "window.makerpulse?.live?.view?.challenge?.phase === 'frozen'",
                what,
            )
            .await;
        }
        for step in 1..=teams.len() {
            let (status, body) = server.command(id, Some(ADMIN), Command::RevealNext).await;
            assert_eq!(status, 200, "{body}");
            let (_, view) = server
                .get(&format!("/api/challenges/{id}/view"), None)
                .await;
            let last = view["reveal"].as_array().unwrap().last().unwrap().clone();
            let (team, track) = (
                last["team"].as_str().unwrap(),
                last["track"].as_str().unwrap(),
            );
            let rank = last["rank"]
                .as_u64()
                .map_or(String::new(), |r| r.to_string());
            let track_name = view["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == track)
                .unwrap()["name"]
                .clone();
            let seq = view["seq"].as_u64().unwrap();
            let at = format!("{id}, step {step} ({team}, place {rank:?})");
            let shown = |css: &str| {
                format!(
                    "window.makerpulse.live.view.seq >= {seq} && (() => {{ const e = document.querySelector('{css}'); \
                       return e && !e.closest('[hidden]') ? [e.dataset.team, e.dataset.rank] : null; }})()"
                )
            };
            let expected = json!([team, rank]);
            for (screen, what) in &screens {
                assert_eq!(
                    screen
                        .wait(&shown(".reveal-moment"), &format!("{what} at {at}"))
                        .await,
                    expected,
                    "{what} at {at}"
                );
                // The team just revealed is in view: the hall reads its name.
                assert_eq!(
                    screen
                        .js(
                            "const r = document.querySelector('.reveal-moment .moment-name').getBoundingClientRect(); \
                             return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight + 1 && r.left >= 0 && r.right <= innerWidth + 1;",
                            vec![],
                        )
                        .await,
                    json!(true),
                    "{what}: the team revealed at {at} is off the screen"
                );
                let marked = screen
                    .wait(
                        "document.querySelector('.tracks-nav [aria-current=true]')?.textContent",
                        &format!("the header of {what} at {at}"),
                    )
                    .await;
                assert!(
                    marked == track_name["en"] || marked == track_name["zh"],
                    "{what}: the header marks {marked} at {at}, not {track_name}"
                );
            }
            if step < teams.len() {
                for (b, what) in [(&phone, "the phone"), (&embed, "the embed")] {
                    assert_eq!(
                        b.wait(&shown(".reveal .just"), &format!("{what} at {at}"))
                            .await,
                        expected,
                        "{what} at {at}"
                    );
                    // No frozen board beside the places revealed: it ranked as at the freeze.
                    assert_eq!(
                        b.js(
                            "return !!document.querySelector('.board:not([hidden]) .row')",
                            vec![]
                        )
                        .await,
                        json!(false),
                        "{what} shows the frozen board during the reveal at {at}"
                    );
                }
            } else {
                // First place, the last step: the result is final; the big screen keeps the moment,
                // the phone and the embed show the final board with the winner first in its track.
                assert_eq!(rank, "1", "the last step reveals a first place");
                for (b, what) in [(&phone, "the phone"), (&embed, "the embed")] {
                    b.wait(
                        &format!("window.makerpulse.live.view.seq >= {seq} && document.querySelector('.reveal').hidden && document.querySelector('.board .row[data-team=\"{team}\"]')"),
                        &format!("{what}'s final board"),
                    )
                    .await;
                }
            }
            // One step before the first track's first place: every place of the track revealed
            // before is seen whole on each big screen in turn, never cut at the stage's edge.
            if step + 1 == sizes[0] && step > 1 {
                let before: Vec<String> = view["reveal"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["track"] == track && e["seq"] != last["seq"])
                    .map(|e| e["team"].as_str().unwrap().to_owned())
                    .collect();
                show::every_place_is_seen(&screens, &before, id).await;
            }
            if step == 1 || step == teams.len() {
                for b in screens.iter().map(|(b, _)| b).chain([&phone, &embed]) {
                    b.shot(&format!("reveal-{id}-step{step}")).await;
                }
            }
        }
        for (b, what) in screens
            .iter()
            .map(|(b, what)| (b, what.as_str()))
            .chain([(&phone, "phone"), (&embed, "embed")])
        {
            assert_same_view(b, &server, id, None, what).await;
            b.assert_clean(what).await;
        }
        for b in screens.into_iter().map(|(b, _)| b).chain([phone, embed]) {
            b.close().await;
        }
    }
    server.stop().await;
}
