//! The link sheet and the result sheet at the show's sizes.

use std::collections::{BTreeMap, BTreeSet};

use makerpulse_core::Command;
use makerpulse_e2e::{TestServer, ADMIN};
use serde_json::json;

use super::super::driver::Driver;
use super::super::{big_challenge, scored_and_frozen, DESKTOP, PHONE, SHOW_SIZES, TURN};
use super::{assert_seen, confirm, data_of, once_each};

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
