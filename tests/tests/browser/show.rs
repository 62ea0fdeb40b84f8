//! The organizer's pages at the show's real sizes (4, 30 and 100 teams, a track of 40): the replay
//! on the four shapes of screen (`replay.rs`), the guardrails before the result (`guardrails.rs`),
//! the CSV import (`import.rs`), the link sheet and the result sheet (`sheets.rs`); here, what
//! they check with: every item seen whole, each once; and the check, used by the reveal's test,
//! that every place revealed is seen on the big screen. Each test keeps one server and one
//! chromedriver across the sizes.
//!
//! Which screens: the replay is opened on a hall's screen as well as on a phone, so it is checked
//! at 1920×1080, 3840×2160, 1080×1920 and 390×844, like the big screen. The admin console, the
//! import and the sheets are an organizer's desk pages, used on a laptop and, in the hall, on a
//! phone: 1920×1080 and 390×844 (a 4K or portrait admin is the desktop layout, larger).

mod guardrails;
mod import;
mod replay;
mod sheets;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::driver::Browser;

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
