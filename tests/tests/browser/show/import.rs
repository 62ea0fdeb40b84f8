//! The CSV import at 30 and 100 rows.

use makerpulse_e2e::{TestServer, ADMIN};
use serde_json::{json, Value};

use super::super::driver::Driver;
use super::super::{challenge_with_tracks, DESKTOP, PHONE, SHOW_SIZES, TURN};
use super::{assert_seen, data_of, once_each};

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
