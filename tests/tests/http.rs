//! End-to-end tests of the HTTP surface: photos, replays, feeds, the OpenAPI document,
//! operations endpoints, graceful shutdown, and export/import of a log.

use std::time::Duration;

use makerpulse_client::ClientError;
use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::{ChallengeId, Command};
use makerpulse_e2e::{scorecard, TestServer, ADMIN};

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn upload(
    server: &TestServer,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/challenges/c/photos", server.http()))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_team_posts_a_photo_and_the_timeline_serves_it_safely() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let team = Some(tokens.team("t1"));

    let (status, body) = upload(&server, team, "image/png", PNG.to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let photo: PhotoRef = serde_json::from_value(body).unwrap();
    assert_eq!(photo.content_type, ImageType::Png);

    // Refused: not an image, an image claiming another type, too large, the audience.
    let (status, body) = upload(
        &server,
        team,
        "image/png",
        b"<svg onload=alert(1)>".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media"))
    );
    let (status, _) = upload(&server, team, "image/jpeg", PNG.to_vec()).await;
    assert_eq!(status, 415);
    let mut huge = PNG.to_vec();
    huge.resize(6 * 1024 * 1024, 0);
    let (status, _) = upload(&server, team, "image/png", huge).await;
    assert_eq!(status, 413);
    // Without a token: log in (401); with a judge's: not allowed (403).
    let (status, _) = upload(&server, None, "image/png", PNG.to_vec()).await;
    assert_eq!(status, 401);
    let (status, _) = upload(&server, Some(tokens.judge("j1")), "image/png", PNG.to_vec()).await;
    assert_eq!(status, 403);

    // Uploaded but named by no post yet: nobody but the organizers gets it.
    let url = format!("{}/api/challenges/c/photos/{}", server.http(), photo.sha256);
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 404);

    let post = Command::PostProgress {
        text: "原型第一次点亮 / first light".into(),
        photos: vec![photo.clone()],
        links: vec!["https://example.org/demo".into()],
        percent: Some(40),
    };
    let (status, body) = server.command("c", team, post).await;
    assert_eq!(status, 200, "{body}");
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t1/timeline", None)
        .await;
    assert_eq!(timeline[0]["photos"][0]["sha256"], photo.sha256.as_str());

    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // Cached briefly, revalidated by its hash: hiding the post takes it off screens soon.
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert_eq!(
        res.headers()["etag"],
        format!("\"{}\"", photo.sha256).as_str()
    );
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    let res = reqwest::get(format!(
        "{}/api/challenges/c/photos/{}",
        server.http(),
        "0".repeat(64)
    ))
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    server.stop().await;
}

#[tokio::test]
async fn the_view_can_be_replayed_at_any_past_seq() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let (_, before) = server.get("/api/challenges/c/view", None).await;
    let at = before["seq"].as_u64().unwrap();
    server
        .command("c", Some(tokens.judge("j1")), scorecard("t1", 9))
        .await;
    let (_, then) = server
        .get(&format!("/api/challenges/c/view?at={at}"), None)
        .await;
    assert_eq!(then, before);
    let (_, now) = server.get("/api/challenges/c/view", None).await;
    assert_ne!(now, before);
    let (status, _) = server.get("/api/challenges/c/view?at=999999", None).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn server_sent_events_carry_the_audience_view_with_seq_ids() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut res = reqwest::get(format!("{}/api/challenges/c/sse", server.http()))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let (_, ack) = server
        .command(
            "c",
            Some(tokens.team("t2")),
            Command::PostProgress {
                text: "sse".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    let seq = ack["last_seq"].as_u64().unwrap();
    let mut text = String::new();
    while !text.contains(&format!("id: {seq}\n")) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        text.starts_with("event: snapshot\n")
            || text.contains("\nevent: snapshot\n")
            || text.contains("event: snapshot"),
        "{text:.200}"
    );
    assert!(text.contains("event: delta\n"));
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (status, doc) = server.get("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/api/challenges",
        "/api/challenges/{id}/commands",
        "/api/challenges/{id}/tokens",
        "/api/challenges/{id}/view",
        "/api/challenges/{id}/leaderboard",
        "/api/challenges/{id}/teams/{team}/timeline",
        "/api/challenges/{id}/log",
        "/api/challenges/{id}/events",
        "/api/challenges/{id}/sse",
        "/api/challenges/{id}/photos",
        "/api/challenges/{id}/photos/{sha256}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Command",
        "Envelope",
        "View",
        "Delta",
        "Event",
        "ServerMessage",
        "ClientMessage",
        "Part",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    // The organizers' undo of a milestone, its event and the tickers' announcements follow the
    // protocol there too.
    for (schema, word) in [
        ("Command", "undo_milestone"),
        ("Event", "milestone_undone"),
        ("Delta", "announced"),
        ("Delta", "withdrawn"),
        ("View", "announcements"),
    ] {
        let text = serde_json::to_string(&doc["components"]["schemas"]).unwrap();
        assert!(
            schemas.contains_key(schema) && text.contains(&format!("\"{word}\"")),
            "{word} missing from the OpenAPI document"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn operations_endpoints_and_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let _viewer = server.live("c", None, None).await;
    let res = reqwest::get(format!("{}/healthz", server.http()))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!((status, &ready["ready"]), (200, &serde_json::json!(true)));
    // The metrics listen apart; the public port does not know them.
    let public = reqwest::get(format!("{}/metrics", server.http()))
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404);
    let metrics = server.metrics().await;
    for name in [
        "makerpulse_connections{role=\"audience\"} 1",
        "makerpulse_command_seconds_bucket",
        "makerpulse_journal_fsync_seconds_bucket",
        "makerpulse_messages_sent_total",
        "makerpulse_queue_resyncs_total",
        "makerpulse_build_info{version=\"",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(metrics.contains(name), "{name} missing in\n{metrics}");
    }
    let page = reqwest::get(server.http()).await.unwrap();
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    // The admin log is for admins only.
    let (status, _) = server.get("/api/challenges/c/log", None).await;
    assert_eq!(status, 401);
    let log = reqwest::Client::new()
        .get(format!("{}/api/challenges/c/log", server.http()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log
        .lines()
        .all(|l| makerpulse_core::Event::from_json(l).is_ok()));
    assert!(!log.contains(ADMIN));
    server.stop().await;
}

#[tokio::test]
async fn a_graceful_shutdown_tells_live_clients_to_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let mut client = server.live("c", None, None).await;
    client.next_update().await.unwrap();
    let stopping = tokio::spawn(server.stop());
    match tokio::time::timeout(Duration::from_secs(5), client.recv())
        .await
        .unwrap()
    {
        Err(ClientError::Closed { code, .. }) => {
            assert_eq!(code, makerpulse_core::protocol::CLOSE_RECONNECT)
        }
        other => panic!("{other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn export_and_import_move_a_challenge_to_another_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    server
        .command("c", Some(tokens.judge("j3")), scorecard("t3", 6))
        .await;
    let (_, original) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    server.stop().await;

    let id = ChallengeId::new("c").unwrap();
    let file = dir.path().join("c.ndjson");
    makerpulse_server::archive::export(dir.path(), &id, Some(&file)).unwrap();
    let other = tempfile::tempdir().unwrap();
    makerpulse_server::archive::import(other.path(), &id, &file).unwrap();
    // Importing twice, or under another id, is refused.
    assert!(makerpulse_server::archive::import(other.path(), &id, &file).is_err());
    assert!(makerpulse_server::archive::import(
        other.path(),
        &ChallengeId::new("d").unwrap(),
        &file
    )
    .is_err());

    let moved = TestServer::start(other.path()).await;
    let (_, view) = moved.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(view, original);
    moved.stop().await;
}

#[tokio::test]
async fn every_page_sends_security_headers_and_only_the_embed_may_be_framed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    for path in [
        "/",
        "/admin",
        "/screen/c",
        "/phone/c",
        "/phone/c/teams/t1",
        "/team/c",
        "/judge/c",
        "/replay/c",
        "/embed/c",
    ] {
        let res = reqwest::get(format!("{}{path}", server.http()))
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let headers = res.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        if path.starts_with("/embed/") {
            assert!(csp.contains("frame-ancestors *"), "{path}: {csp}");
            assert!(!headers.contains_key("x-frame-options"), "{path}");
        } else {
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        }
    }
    // API answers are not pages, but never sniffed either.
    let res = reqwest::get(format!("{}/api/challenges/c/view", server.http()))
        .await
        .unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    server.stop().await;
}

/// Text that fools the eye is refused over HTTP as it is anywhere: a bidi override in a team's
/// name, a name of zero-width characters; and a link is kept as browsers read it, so the host the
/// big screen shows is the host a click opens.
#[tokio::test]
async fn names_that_fool_the_eye_are_refused_and_links_are_read_as_browsers_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let rename = |zh: &str| {
        serde_json::json!({"id": makerpulse_e2e::cid(), "command": {"type": "update_team", "id": "t1",
            "track": "a", "name": {"zh": zh, "en": ""}}})
        .to_string()
    };
    let (status, body) = server
        .post_raw("c", Some(ADMIN), &rename("\u{202E}tseT maeT"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("control_character")),
        "{body}"
    );
    let (status, body) = server
        .post_raw("c", Some(ADMIN), &rename("\u{200B}\u{200D}\u{3164}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("empty_text")),
        "{body}"
    );
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    assert_eq!(
        view["teams"]["t1"]["name"]["zh"], "团队 t1",
        "nothing changed"
    );

    let (status, body) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "Our repo".into(),
                photos: vec![],
                links: vec!["https://evil.example\\@good.org".into()],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t1/timeline", None)
        .await;
    assert_eq!(
        timeline[0]["links"][0], "https://evil.example/@good.org",
        "kept as browsers read it: a link to evil.example"
    );
    let (status, body) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "Log in here".into(),
                photos: vec![],
                links: vec!["https://good.org@evil.example/".into()],
                percent: None,
            },
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_url")),
        "{body}"
    );
    server.stop().await;
}

/// Reads the NDJSON feed from `since` until it has carried seq `until`; returns all it read.
async fn feed_text(server: &TestServer, since: u64, until: u64) -> String {
    let mut res = reqwest::get(format!(
        "{}/api/challenges/c/events?since={since}",
        server.http()
    ))
    .await
    .unwrap();
    let mut text = String::new();
    let marker = format!("\"seq\":{until}");
    while !text.contains(&marker) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .expect("the feed reaches the seq")
            .unwrap()
            .expect("the feed stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// Hiding a post hides it from everyone but the organizers, on every surface and in the past
/// too: the replayed view at the seq it was posted, a socket or feed resuming from before it,
/// the team's timeline, and its photo. The log keeps the truth for the organizers.
#[tokio::test]
async fn a_hidden_post_is_gone_from_every_public_surface_and_from_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let team = Some(tokens.team("t1"));
    let (_, body) = upload(&server, team, "image/png", PNG.to_vec()).await;
    let photo: PhotoRef = serde_json::from_value(body).unwrap();
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    let before = view["seq"].as_u64().unwrap();
    let secret = "不该留下的文字 / text that must go";
    let (status, body) = server
        .command(
            "c",
            team,
            Command::PostProgress {
                text: secret.into(),
                photos: vec![photo.clone()],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let posted = body["last_seq"].as_u64().unwrap();
    let photo_url = format!("{}/api/challenges/c/photos/{}", server.http(), photo.sha256);
    assert_eq!(
        reqwest::get(&photo_url).await.unwrap().status().as_u16(),
        200
    );
    // Someone reads the feed while the post is up.
    assert!(feed_text(&server, before, posted).await.contains(secret));

    let (status, body) = server
        .command(
            "c",
            Some(ADMIN),
            Command::HidePost {
                post: posted,
                reason: "spam".into(),
            },
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hidden = body["last_seq"].as_u64().unwrap();

    for token in [None, team, Some(tokens.judge("j1"))] {
        for path in [
            format!("/api/challenges/c/view?at={posted}"),
            "/api/challenges/c/view".to_owned(),
            "/api/challenges/c/teams/t1/timeline".to_owned(),
        ] {
            let (status, body) = server.get(&path, token).await;
            assert_eq!(status, 200);
            assert!(!body.to_string().contains(secret), "{path}: {body}");
        }
    }
    // A socket resuming from before the post gets a snapshot, not the replayed post.
    let mut socket = server.live("c", None, Some(before)).await;
    let first = tokio::time::timeout(Duration::from_secs(5), socket.recv())
        .await
        .unwrap()
        .unwrap();
    let first = serde_json::to_string(&first).unwrap();
    assert!(first.contains("\"type\":\"snapshot\""), "{first}");
    assert!(!first.contains(secret));
    // So does a feed.
    assert!(!feed_text(&server, before, hidden).await.contains(secret));
    // The photo is gone for the public, not for the organizers.
    assert_eq!(
        reqwest::get(&photo_url).await.unwrap().status().as_u16(),
        404
    );
    let res = reqwest::Client::new()
        .get(&photo_url)
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // The organizers replay the log as it was.
    let (_, past) = server
        .get(&format!("/api/challenges/c/view?at={posted}"), Some(ADMIN))
        .await;
    assert!(past.to_string().contains(secret));
    server.stop().await;
}

/// A post older than the ones the server keeps whole in memory (its text is read back from the
/// journal) is still shown on its team's timeline, can still be hidden, and once hidden is gone
/// from every public surface and from the past, also after a restart; the organizers still read
/// it, with why it was hidden.
#[tokio::test]
async fn a_post_older_than_the_memory_window_reads_back_and_hides_like_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let team = Some(tokens.team("t1"));
    let other = Some(tokens.team("t2"));
    let (_, body) = upload(&server, team, "image/png", PNG.to_vec()).await;
    let photo: PhotoRef = serde_json::from_value(body).unwrap();
    let secret = "一条早已滚出内存的帖子 / a post long out of memory";
    let post = |text: &str, photos: Vec<PhotoRef>| Command::PostProgress {
        text: text.into(),
        photos,
        links: vec!["https://example.org/old".into()],
        percent: Some(12),
    };
    let (status, body) = server
        .command("c", team, post(secret, vec![photo.clone()]))
        .await;
    assert_eq!(status, 200, "{body}");
    let posted = body["last_seq"].as_u64().unwrap();
    let (_, body) = server
        .command("c", team, post("第二条 / second", vec![]))
        .await;
    let second = body["last_seq"].as_u64().unwrap();
    for n in 0..makerpulse_core::posts::POSTS_KEPT + 5 {
        let (status, body) = server
            .command("c", other, post(&format!("更新 {n} / update {n}"), vec![]))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let timeline = "/api/challenges/c/teams/t1/timeline";
    let (status, body) = server.get(timeline, None).await;
    assert_eq!(status, 200, "{body}");
    let posts = body.as_array().unwrap();
    assert_eq!(posts.len(), 2, "{body}");
    assert_eq!(posts[0]["id"], posted);
    assert_eq!(posts[0]["text"], secret);
    assert_eq!(posts[0]["photos"][0]["sha256"], photo.sha256.as_str());
    assert_eq!(posts[0]["links"][0], "https://example.org/old");
    assert_eq!(posts[0]["percent"], 12);
    assert_eq!(posts[1]["id"], second);
    let photo_url = format!("{}/api/challenges/c/photos/{}", server.http(), photo.sha256);
    assert_eq!(
        reqwest::get(&photo_url).await.unwrap().status().as_u16(),
        200
    );

    let hide = Command::HidePost {
        post: posted,
        reason: "spam".into(),
    };
    let (status, body) = server.command("c", Some(ADMIN), hide.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.command("c", Some(ADMIN), hide).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &"already_hidden".into()),
        "{body}"
    );

    let judge = tokens.judge("j1");
    let seqs = [posted, second];
    let sha = photo.sha256.as_str();
    assert_old_post_hidden(&server, &[team, Some(judge)], seqs, secret, sha).await;
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    assert_old_post_hidden(&server, &[team, Some(judge)], seqs, secret, sha).await;
    server.stop().await;
}

/// What the public, `tokens` and the organizers see of team t1's hidden first post
/// (`seqs`: it and the team's second post).
async fn assert_old_post_hidden(
    server: &TestServer,
    tokens: &[Option<&str>],
    [posted, second]: [u64; 2],
    secret: &str,
    photo: &str,
) {
    let photo_url = format!("{}/api/challenges/c/photos/{photo}", server.http());
    let timeline = "/api/challenges/c/teams/t1/timeline";
    for &token in tokens.iter().chain([&None]) {
        for path in [
            format!("/api/challenges/c/view?at={posted}"),
            format!("/api/challenges/c/view?at={second}"),
            "/api/challenges/c/view".to_owned(),
            timeline.to_owned(),
        ] {
            let (status, body) = server.get(&path, token).await;
            assert_eq!(status, 200);
            assert!(!body.to_string().contains(secret), "{path}: {body}");
        }
    }
    let (_, body) = server.get(timeline, None).await;
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body[0]["id"], second);
    assert_eq!(
        reqwest::get(&photo_url).await.unwrap().status().as_u16(),
        404
    );
    // The organizers read it back, marked hidden.
    let (_, body) = server.get(timeline, Some(ADMIN)).await;
    assert_eq!(body[0]["text"], secret, "{body}");
    assert_eq!(body[0]["hidden"], "spam", "{body}");
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    assert_eq!(view["teams"]["t1"]["progress"]["posts"], 1, "{view}");
}

/// A PNG that differs from every other by `n`: a 1×1 image with `n` in an ancillary chunk.
fn png(n: u32) -> Vec<u8> {
    let mut bytes = PNG[..PNG.len() - 12].to_vec();
    // A private ancillary chunk ("tEXt"-like; CRC unchecked by our sniffing) before IEND.
    bytes.extend_from_slice(&4u32.to_be_bytes());
    bytes.extend_from_slice(b"prVt");
    bytes.extend_from_slice(&n.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(&PNG[PNG.len() - 12..]);
    bytes
}

/// Photos: a team has a quota, a post may name only photos that were uploaded (with their real
/// type), and an upload that no post names in time is deleted — unless a post names it.
#[tokio::test]
async fn photos_have_a_quota_must_be_uploaded_to_be_posted_and_unnamed_uploads_are_collected() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir.path(), |config| {
        config.settings.photos.photos_per_team = 3;
        config.settings.photos.unnamed_photo_secs = 1;
    })
    .await;
    let tokens = server.seed("c").await;
    let team = Some(tokens.team("t1"));
    let mut refs = Vec::new();
    for n in 0..3 {
        let (status, body) = upload(&server, team, "image/png", png(n)).await;
        assert_eq!(status, 200, "{body}");
        refs.push(serde_json::from_value::<PhotoRef>(body).unwrap());
    }
    // The fourth goes over the quota: refused, with the limit in both languages.
    let (status, body) = upload(&server, team, "image/png", png(3)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("photo_quota")),
        "{body}"
    );
    assert!(body["error"]["message_zh"].as_str().unwrap().contains('3'));
    // Another team has its own quota; the same bytes again are not a new photo.
    let (status, _) = upload(&server, Some(tokens.team("t2")), "image/png", png(3)).await;
    assert_eq!(status, 200);
    let (status, _) = upload(&server, team, "image/png", png(0)).await;
    assert_eq!(status, 200);

    let post = |photos: Vec<PhotoRef>| Command::PostProgress {
        text: "photos".into(),
        photos,
        links: vec![],
        percent: None,
    };
    // A photo never uploaded, and an uploaded one given as another type: refused.
    let never = PhotoRef {
        sha256: "ab".repeat(32),
        content_type: ImageType::Png,
    };
    let (status, body) = server.command("c", team, post(vec![never])).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("unknown_photo")),
        "{body}"
    );
    let mistyped = PhotoRef {
        content_type: ImageType::Jpeg,
        ..refs[0].clone()
    };
    let (status, body) = server.command("c", team, post(vec![mistyped])).await;
    assert_eq!(body["error"]["code"], "unknown_photo", "{body}");
    assert_eq!(status, 400);
    // One photo is posted; the other two wait for a post that never comes.
    let (status, body) = server.command("c", team, post(vec![refs[0].clone()])).await;
    assert_eq!(status, 200, "{body}");

    let file = |r: &PhotoRef| dir.path().join("photos").join(&r.sha256);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while file(&refs[1]).exists() || file(&refs[2]).exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "unnamed uploads are collected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(file(&refs[0]).exists(), "a posted photo is kept");
    // With the waiting uploads gone, the team has room again.
    let (status, body) = upload(&server, team, "image/png", png(4)).await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn the_organizers_see_every_scorecard_the_jury_still_owes() {
    use makerpulse_core::ids::CriterionId;
    use makerpulse_core::roster::{Assignment, PanelRole};
    use makerpulse_core::{JudgeId, Localized, TeamId, TrackId};
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let path = "/api/challenges/c/outstanding";
    // Only the organizers read it: a judge is refused, a stranger asked to log in.
    assert_eq!(server.get(path, Some(tokens.judge("j1"))).await.0, 403);
    assert_eq!(server.get(path, Some(tokens.team("t1"))).await.0, 403);
    assert_eq!(server.get(path, None).await.0, 401);

    // The seed's panels: j1 scores track a (t1, t2), j2 tracks a and b but not t2 (a conflict),
    // j3 track b (t3, t4): seven scorecards owed, none made.
    let (status, owed) = server.get(path, Some(ADMIN)).await;
    assert_eq!(status, 200, "{owed}");
    assert_eq!(owed["expected"], 7);
    assert_eq!(owed["complete"], 0);
    assert_eq!(
        owed["by_judge"],
        json!([
            {"judge": "j1", "missing": ["t1", "t2"], "incomplete": []},
            {"judge": "j2", "missing": ["t1", "t3", "t4"], "incomplete": []},
            {"judge": "j3", "missing": ["t3", "t4"], "incomplete": []},
        ])
    );
    assert_eq!(
        owed["by_team"][1],
        json!({"team": "t2", "track": "a", "missing": ["j1"], "incomplete": []})
    );

    // j1 scores t1 in full; j2 scores only two criteria of t1; a new team comes that every judge
    // of its track has a conflict with.
    server
        .command("c", Some(tokens.judge("j1")), scorecard("t1", 8))
        .await;
    let partial = Command::SubmitScorecard {
        team: TeamId::new("t1").unwrap(),
        scores: [("innovation", 7), ("execution", 6)]
            .into_iter()
            .map(|(c, s)| (CriterionId::new(c).unwrap(), s))
            .collect(),
        comment: String::new(),
        reason: String::new(),
    };
    let (status, answer) = server.command("c", Some(tokens.judge("j2")), partial).await;
    assert_eq!(status, 200, "{answer}");
    let judge =
        |id: &str, role: PanelRole, tracks: &[&str], conflicts: &[&str]| Command::UpdateJudge {
            id: JudgeId::new(id).unwrap(),
            name: Localized::new(format!("评委 {id}"), format!("Judge {id}")),
            panel_role: role,
            affiliation: Localized::default(),
            assignment: Assignment {
                tracks: tracks.iter().map(|t| TrackId::new(*t).unwrap()).collect(),
                teams: Default::default(),
            },
            conflicts: conflicts.iter().map(|t| TeamId::new(*t).unwrap()).collect(),
        };
    for command in [
        Command::AddTeam {
            id: TeamId::new("t5").unwrap(),
            track: TrackId::new("b").unwrap(),
            name: Localized::new("团队 t5", "Team t5"),
            description: Localized::default(),
            members: vec![],
            contact: String::new(),
        },
        // Both judges of track b know t5's makers.
        judge("j2", PanelRole::Investor, &["a", "b"], &["t2", "t5"]),
        judge("j3", PanelRole::MakerRepresentative, &["b"], &["t5"]),
    ] {
        let (status, answer) = server.command("c", Some(ADMIN), command).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (_, owed) = server.get(path, Some(ADMIN)).await;
    assert_eq!(owed["complete"], 1);
    assert_eq!(
        owed["by_judge"][0],
        json!({"judge": "j1", "missing": ["t2"], "incomplete": []})
    );
    assert_eq!(
        owed["by_judge"][1],
        json!({"judge": "j2", "missing": ["t3", "t4"], "incomplete": ["t1"]})
    );
    assert_eq!(
        owed["by_team"][0],
        json!({"team": "t1", "track": "a", "missing": [], "incomplete": ["j2"]})
    );
    assert_eq!(owed["without_panel"], json!(["t5"]));

    // Every panel complete: nothing is owed, but t5 still has nobody to score it.
    for (judge, team) in [
        ("j1", "t2"),
        ("j2", "t1"),
        ("j2", "t3"),
        ("j2", "t4"),
        ("j3", "t3"),
        ("j3", "t4"),
    ] {
        let (status, answer) = server
            .command("c", Some(tokens.judge(judge)), scorecard(team, 7))
            .await;
        assert_eq!(status, 200, "{judge} {team}: {answer}");
    }
    let (_, owed) = server.get(path, Some(ADMIN)).await;
    assert_eq!(owed["complete"], 7);
    assert_eq!(owed["by_judge"], json!([]));
    assert_eq!(owed["by_team"], json!([]));
    assert_eq!(owed["without_panel"], json!(["t5"]));
    server.stop().await;
}

#[tokio::test]
async fn the_demo_posts_photos_the_phone_can_load() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    makerpulse_server::demo::start(server.state.clone(), 40.0)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let photo = loop {
        let (_, view) = server.get("/api/challenges/demo/view", None).await;
        let shown = view["ticker"].as_array().and_then(|posts| {
            posts
                .iter()
                .find_map(|p| p["photos"].as_array()?.first().cloned())
        });
        if let Some(photo) = shown {
            break photo;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no demo post with a photo: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let res = reqwest::get(format!(
        "{}/api/challenges/demo/photos/{}",
        server.http(),
        photo["sha256"].as_str().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    server.stop().await;
}

#[tokio::test]
async fn an_import_adds_every_row_or_none_and_names_each_bad_row() {
    use makerpulse_core::command::{NewJudge, NewTeam};
    use makerpulse_core::roster::{Assignment, Discipline, Member, PanelRole};
    use makerpulse_core::{JudgeId, Localized, TeamId, TrackId};
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let team = |id: &str, track: &str| NewTeam {
        id: TeamId::new(id).unwrap(),
        track: TrackId::new(track).unwrap(),
        name: Localized::new(format!("团队 {id}"), format!("Team {id}")),
        description: Localized::default(),
        members: vec![Member {
            name: format!("Maker of {id}"),
            discipline: Discipline::Hardware,
            region: "中国".into(),
        }],
        contact: String::new(),
    };
    let judge = |id: &str, tracks: &[&str], conflicts: &[&str]| NewJudge {
        id: JudgeId::new(id).unwrap(),
        name: Localized::new(format!("评委 {id}"), format!("Judge {id}")),
        panel_role: PanelRole::DomainExpert,
        affiliation: Localized::default(),
        assignment: Assignment {
            tracks: tracks.iter().map(|t| TrackId::new(*t).unwrap()).collect(),
            teams: Default::default(),
        },
        conflicts: conflicts.iter().map(|t| TeamId::new(*t).unwrap()).collect(),
    };
    let (_, before) = server.get("/api/challenges/c/view", Some(ADMIN)).await;

    // Three bad rows among good ones: a track that does not exist, a team listed twice (the
    // second time against the first), a judge in conflict with a team nobody has.
    let bad = Command::ImportRoster {
        teams: vec![team("t10", "a"), team("t11", "nope"), team("t10", "b")],
        judges: vec![
            judge("j10", &["a"], &["t10"]),
            judge("j11", &["b"], &["ghost"]),
        ],
    };
    let (status, answer) = server.command("c", Some(ADMIN), bad).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "import_refused");
    let rows: Vec<(String, u64, String)> = answer["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(!r["message_zh"].as_str().unwrap().is_empty());
            (
                r["section"].as_str().unwrap().to_owned(),
                r["row"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 3, "{answer}");
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("teams", 2));
    assert_eq!((rows[1].0.as_str(), rows[1].1), ("teams", 3));
    assert_eq!(rows[1].2, "duplicate_id");
    assert_eq!((rows[2].0.as_str(), rows[2].1), ("judges", 2));
    let (_, after) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(after, before, "nothing of a refused import is added");

    // Only admins import.
    let (status, _) = server
        .command(
            "c",
            Some(tokens.judge("j1")),
            Command::ImportRoster {
                teams: vec![team("t12", "a")],
                judges: vec![],
            },
        )
        .await;
    assert_eq!(status, 403);

    // The good rows alone: all added, the judge's conflict naming a team of the same import.
    let good = Command::ImportRoster {
        teams: vec![team("t10", "a"), team("t11", "b")],
        judges: vec![judge("j10", &["a", "b"], &["t10"])],
    };
    let (status, answer) = server.command("c", Some(ADMIN), good).await;
    assert_eq!(status, 200, "{answer}");
    let (_, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(view["teams"]["t10"]["track"], "a");
    assert_eq!(view["teams"]["t11"]["members"][0]["name"], "Maker of t11");
    assert_eq!(view["judges"]["j10"]["conflicts"], json!(["t10"]));
    server.stop().await;
}
