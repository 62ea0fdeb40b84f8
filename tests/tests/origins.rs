//! End-to-end tests of who may act through a browser: commands over HTTP must be declared as JSON,
//! and commands and live connections from a web page of another site are refused, while this
//! server's own pages, listed origins and clients that are not browsers carry on.

use makerpulse_core::{Command, Envelope, TeamId};
use makerpulse_e2e::{cid, TestServer, ADMIN};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn cheer() -> String {
    serde_json::to_string(&Envelope::new(
        cid(),
        Command::Cheer {
            team: TeamId::new("t1").unwrap(),
        },
    ))
    .unwrap()
}

/// Posts `body` to `path` with the given headers; returns the status and the JSON body.
async fn post(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", server.http()))
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn assert_refused(answer: (u16, Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    assert!(!body["error"]["message_zh"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn commands_over_http_must_be_declared_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let commands = "/api/challenges/c/commands";
    // What a form or a `fetch` of another page can send without asking first.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let answer = post(
            &server,
            commands,
            &[("content-type", content_type)],
            cheer(),
        )
        .await;
        assert_refused(answer, 415, "unsupported_media_type");
    }
    assert_refused(
        post(&server, commands, &[], cheer()).await,
        415,
        "unsupported_media_type",
    );
    let json = [("content-type", "application/json; charset=utf-8")];
    assert_eq!(post(&server, commands, &json, cheer()).await.0, 200);
    // Minting a token takes JSON too.
    let mint = serde_json::json!({"subject": {"role": "team", "id": "t1"}}).to_string();
    let bearer = format!("Bearer {ADMIN}");
    let plain = [
        ("content-type", "text/plain"),
        ("authorization", bearer.as_str()),
    ];
    assert_refused(
        post(&server, "/api/challenges/c/tokens", &plain, mint.clone()).await,
        415,
        "unsupported_media_type",
    );
    let json = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
    ];
    assert_eq!(
        post(&server, "/api/challenges/c/tokens", &json, mint)
            .await
            .0,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn pages_of_other_sites_cannot_act_but_our_own_and_listed_ones_can() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir.path(), |c| {
        c.settings.allowed_origins = vec!["https://partner.example".into()];
    })
    .await;
    server.seed("c").await;
    let commands = "/api/challenges/c/commands";
    let json = ("content-type", "application/json");
    let own = format!("http://{}", server.addr);
    let localhost = format!("localhost:{}", server.addr.port());
    let own_as_localhost = format!("http://{localhost}");
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let answer = post(&server, commands, &[json, ("origin", origin)], cheer()).await;
        assert_refused(answer, 403, "origin_not_allowed");
    }
    let allowed: [&[(&str, &str)]; 4] = [
        &[json],
        &[json, ("origin", own.as_str())],
        &[
            json,
            ("origin", own_as_localhost.as_str()),
            ("host", localhost.as_str()),
        ],
        &[json, ("origin", "https://partner.example")],
    ];
    for headers in allowed {
        assert_eq!(
            post(&server, commands, headers, cheer()).await.0,
            200,
            "{headers:?}"
        );
    }
    // Reads and the embed are for everyone.
    for path in ["/api/challenges/c/view", "/embed/c"] {
        let res = reqwest::Client::new()
            .get(format!("{}{path}", server.http()))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
    // The live socket: refused before the upgrade.
    let live = |origin: &str| {
        let mut request = format!("{}/api/challenges/c/live", server.ws())
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    match live("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "origin_not_allowed");
            assert!(body["error"]["message_zh"]
                .as_str()
                .unwrap()
                .contains("不允许"));
        }
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
    assert!(live(&own).await.is_ok(), "our own page");
    assert!(
        live("https://partner.example").await.is_ok(),
        "a listed origin"
    );
    server.stop().await;
}
