//! End-to-end tests of several instances sharing challenges through a real `redis-server`
//! (started by the tests on a free port): fan-out across instances, one gapless seq under
//! concurrent writers, instance and Redis failures, a Redis emptied, and shared presence.

use std::time::Duration;

use makerpulse_client::Update;
use makerpulse_core::protocol::{Online, ServerMessage};
use makerpulse_core::{ChallengeId, Command, Event};
use makerpulse_e2e::{scorecard, RedisServer, TestServer, ADMIN};
use makerpulse_server::event_log::Appended;
use makerpulse_server::redis_log::RedisLog;

const WAIT: Duration = Duration::from_secs(10);

fn journal(dir: &std::path::Path) -> Vec<Event> {
    let path = makerpulse_server::journal::path_for(dir, &ChallengeId::new("c").unwrap());
    makerpulse_server::journal::read_until(&path, u64::MAX).unwrap()
}

fn post(text: &str) -> Command {
    Command::PostProgress {
        text: text.into(),
        photos: vec![],
        links: vec![],
        percent: None,
    }
}

#[tokio::test]
async fn xadd_alone_accepts_a_gap_and_the_append_script_refuses_it() {
    let redis = RedisServer::start().await;
    // What the design relies on: XADD refuses ids at or below the top, but accepts a gap.
    redis
        .query(&["XADD", "plain", "1-0", "e", "x"])
        .await
        .unwrap();
    assert!(redis
        .query(&["XADD", "plain", "1-0", "e", "x"])
        .await
        .is_err());
    redis
        .query(&["XADD", "plain", "5-0", "e", "x"])
        .await
        .unwrap();

    // The script only appends on exactly the expected top.
    let challenge = ChallengeId::new("c").unwrap();
    let log = RedisLog::connect(&redis.url(), &challenge).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    server.stop().await;
    let events = journal(dir.path());
    assert_eq!(
        log.append(0, &events[..3]).await.unwrap(),
        Appended::Done(3)
    );
    assert_eq!(
        log.append(2, &events[3..5]).await.unwrap(),
        Appended::Conflict { top: 3 },
        "a stale top is refused"
    );
    assert_eq!(
        log.append(4, &events[4..5]).await.unwrap(),
        Appended::Conflict { top: 3 },
        "a gap is refused"
    );
    assert_eq!(log.top().await.unwrap(), 3);
    assert_eq!(
        log.append(3, &events[3..5]).await.unwrap(),
        Appended::Done(5)
    );
    assert_eq!(log.get(4).await.unwrap().as_ref(), Some(&events[3]));
}

/// The writer and the tailer of a shared challenge run on a thread of their own; the instance
/// connected to Redis on its main runtime. A connection's replies are read by a task on the
/// runtime that opened it, so through the instance's connection every append of the writer
/// waited for the main runtime. Here the runtime that connected is not running at all: the
/// instance's connection gets no reply, the log apart (what the writer and the tailer use) gets
/// every one.
#[test]
fn a_log_apart_is_answered_on_its_own_thread_whatever_the_runtime_that_connected_does() {
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let challenge = ChallengeId::new("c").unwrap();
    let (redis, log) = main.block_on(async {
        let redis = RedisServer::start().await;
        let log = RedisLog::connect(&redis.url(), &challenge).await.unwrap();
        assert_eq!(
            log.top().await.unwrap(),
            0,
            "answered while its runtime runs"
        );
        (redis, log)
    });
    let apart = log.apart();
    let answers = std::thread::spawn(move || {
        let own = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        own.block_on(async {
            let started = std::time::Instant::now();
            let top = apart.top().await.unwrap();
            let append = apart.append(7, &[]).await.unwrap();
            let read = apart.read_after(0, 10).await.unwrap();
            let apart_took = started.elapsed();
            let shared = log.top().await;
            (top, append, read.len(), apart_took, shared.is_err())
        })
    })
    .join()
    .unwrap();
    let (top, append, read, apart_took, shared_failed) = answers;
    assert_eq!((top, read), (0, 0));
    assert_eq!(
        append,
        Appended::Conflict { top: 0 },
        "a wrong top is refused"
    );
    // The empty read blocks for the tail's wait (2 s) and no more.
    assert!(apart_took < Duration::from_secs(4), "took {apart_took:?}");
    assert!(
        shared_failed,
        "the instance's connection is answered only by the runtime that opened it"
    );
    drop(redis);
}

#[tokio::test]
async fn a_scorecard_through_one_instance_reaches_an_audience_on_the_other_in_order() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let tokens = a.seed("c").await;
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    let mut viewer = b.live("c", None, None).await;
    viewer.next_update().await.unwrap();

    let mut last = 0;
    for (judge, team, score) in [("j1", "t1", 8), ("j1", "t2", 6), ("j3", "t3", 9)] {
        let (status, ack) = a
            .command("c", Some(tokens.judge(judge)), scorecard(team, score))
            .await;
        assert_eq!(status, 200, "{ack}");
        last = ack["last_seq"].as_u64().unwrap();
    }
    viewer.wait_for(WAIT, |v| v.seq >= last).await.unwrap();
    assert!(viewer.applied.windows(2).all(|w| w[0] < w[1]));
    let (_, on_a) = a.get("/api/challenges/c/view", None).await;
    let (_, on_b) = b.get("/api/challenges/c/view", None).await;
    assert_eq!(on_a["leaderboard"], on_b["leaderboard"]);
    assert_eq!(
        serde_json::to_value(&viewer.view.as_ref().unwrap().leaderboard).unwrap(),
        on_b["leaderboard"]
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn concurrent_writers_on_both_instances_make_one_gapless_log() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let tokens = a.seed("c").await;
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    let mut writers = Vec::new();
    for (i, team) in ["t1", "t2", "t3", "t4"].into_iter().enumerate() {
        let base = if i % 2 == 0 { a.http() } else { b.http() };
        let token = tokens.team(team).to_owned();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acked = Vec::new();
            for n in 0..15 {
                let text = format!("{team} #{n}");
                let seq =
                    makerpulse_e2e::send_until_accepted(&client, &base, &token, post(&text)).await;
                acked.push((seq, text));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let top = acked.iter().map(|(s, _)| *s).max().unwrap();
    // Both instances hold the same log, gapless, with every acknowledged post exactly once.
    for server in [&a, &b] {
        let hub = server
            .state
            .hub(&ChallengeId::new("c").unwrap())
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        while hub.state().seq() < top {
            assert!(
                tokio::time::Instant::now() < deadline,
                "instance did not catch up"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    a.stop().await;
    b.stop().await;
    let (ja, jb) = (journal(da.path()), journal(db.path()));
    assert_eq!(ja, jb);
    assert!(ja.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    for (seq, text) in &acked {
        let matching: Vec<_> = ja
            .iter()
            .filter(|e| e.to_json().contains(&format!("\"text\":\"{text}\"")))
            .collect();
        assert_eq!(matching.len(), 1, "{text} exactly once");
        assert_eq!(matching[0].seq, *seq);
    }
}

#[tokio::test]
async fn an_instance_that_dies_catches_up_when_it_returns_and_the_other_carries_on() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let tokens = a.seed("c").await;
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    a.command("c", Some(tokens.team("t1")), post("before"))
        .await;
    a.abort().await;

    let mut last = 0;
    for n in 0..5 {
        let (status, ack) = b
            .command(
                "c",
                Some(tokens.team("t2")),
                post(&format!("while A is down {n}")),
            )
            .await;
        assert_eq!(status, 200, "{ack}");
        last = ack["last_seq"].as_u64().unwrap();
    }
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let mut viewer = a.live("c", None, None).await;
    viewer.wait_for(WAIT, |v| v.seq >= last).await.unwrap();
    let (status, ack) = a
        .command("c", Some(tokens.team("t1")), post("A is back"))
        .await;
    assert_eq!((status, ack["first_seq"].as_u64()), (200, Some(last + 1)));
    a.stop().await;
    b.stop().await;
    assert_eq!(journal(da.path()), journal(db.path()));
}

#[tokio::test]
async fn when_redis_stops_commands_fail_fast_and_nothing_acknowledged_is_lost() {
    let mut redis = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), Some(&redis.url())).await;
    let tokens = server.seed("c").await;
    let mut viewer = server.live("c", None, None).await;
    viewer.next_update().await.unwrap();
    let (_, ack) = server
        .command("c", Some(tokens.team("t1")), post("before the outage"))
        .await;
    let before = ack["last_seq"].as_u64().unwrap();

    redis.kill();
    let started = std::time::Instant::now();
    let (status, body) = server
        .command("c", Some(tokens.team("t1")), post("during the outage"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert_eq!(body["error"]["retry_after_ms"], 2000, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "failed fast: {:?}",
        started.elapsed()
    );
    // Reads go on from memory; readiness says not ready.
    let (status, view) = server.get("/api/challenges/c/view", None).await;
    assert_eq!((status, view["seq"].as_u64()), (200, Some(before)));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let res = reqwest::get(format!("{}/readyz", server.http()))
            .await
            .unwrap();
        if res.status().as_u16() == 503 {
            assert_eq!(
                res.headers()["retry-after"],
                "2",
                "a 503 says when to retry"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz never said not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    redis.restart().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let after = loop {
        let (status, ack) = server
            .command("c", Some(tokens.team("t1")), post("after the outage"))
            .await;
        if status == 200 {
            break ack["last_seq"].as_u64().unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never recovered: {ack}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(after, before + 1, "the refused command left no trace");
    viewer.wait_for(WAIT, |v| v.seq >= after).await.unwrap();
    let (status, _) = server.get("/readyz", None).await;
    assert_eq!(status, 200);
    server.stop().await;
    let texts: Vec<String> = journal(dir.path()).iter().map(Event::to_json).collect();
    assert!(texts.iter().any(|t| t.contains("before the outage")));
    assert!(!texts.iter().any(|t| t.contains("during the outage")));
}

#[tokio::test]
async fn a_redis_emptied_by_flushall_is_seeded_again_and_seq_does_not_change() {
    let redis = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), Some(&redis.url())).await;
    let tokens = server.seed("c").await;
    let (_, ack) = server
        .command("c", Some(tokens.team("t1")), post("before the flush"))
        .await;
    let before = ack["last_seq"].as_u64().unwrap();
    redis.query(&["FLUSHALL"]).await.unwrap();

    let (status, ack) = server
        .command("c", Some(tokens.team("t1")), post("after the flush"))
        .await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["first_seq"].as_u64(), Some(before + 1));
    let log = RedisLog::connect(&redis.url(), &ChallengeId::new("c").unwrap())
        .await
        .unwrap();
    assert_eq!(log.top().await.unwrap(), before + 1);
    server.stop().await;
    let events = journal(dir.path());
    for event in &events {
        assert_eq!(
            log.get(event.seq).await.unwrap().as_ref(),
            Some(event),
            "seq {}",
            event.seq
        );
    }
}

async fn presence(
    client: &mut makerpulse_client::LiveClient,
    want: impl Fn(&Online) -> bool,
) -> Online {
    let deadline = tokio::time::Instant::now() + WAIT + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, client.recv())
            .await
            .expect("presence in time")
            .unwrap();
        if let ServerMessage::Presence { online } = msg {
            if want(&online) {
                return online;
            }
        } else {
            let _: Update = client.accept(msg).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_online_count_sums_instances_and_forgets_a_dead_one() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let tokens = a.seed("c").await;
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    let mut on_a = a.live("c", None, None).await;
    let _also_a = a.live("c", None, None).await;
    let _judge_on_a = a.live("c", Some(tokens.judge("j1")), None).await;
    let _on_b = b.live("c", None, None).await;
    let mut admin_on_b = b.live("c", Some(ADMIN), None).await;

    let seen = presence(&mut admin_on_b, |o| {
        o.audience == 3 && o.judge == 1 && o.admin == 1
    })
    .await;
    assert_eq!(
        seen,
        Online {
            audience: 3,
            team: 0,
            judge: 1,
            admin: 1
        }
    );
    let _ = presence(&mut on_a, |o| o.audience == 3).await;

    // A dies without a word: its viewers drop out of the count once its report expires.
    a.abort().await;
    let seen = presence(&mut admin_on_b, |o| o.audience == 1).await;
    assert_eq!(
        seen,
        Online {
            audience: 1,
            team: 0,
            judge: 0,
            admin: 1
        }
    );
    b.stop().await;
}

#[tokio::test]
async fn first_viewers_storming_another_instance_open_the_challenge_once() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    // B runs before the challenge exists, so its first viewers are the ones that open it there,
    // all at once (a join storm). Two hubs over B's journal would mirror every event into it twice.
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    a.seed("c").await;
    let ws = b.ws();
    let joins = (0..40).map(|_| makerpulse_client::LiveClient::connect(&ws, "c", None, None));
    let viewers = futures_util::future::join_all(joins).await;
    assert!(
        viewers.iter().all(Result::is_ok),
        "every first viewer got in"
    );
    let (_, on_a) = a.get("/api/challenges/c/view", None).await;
    let top = on_a["seq"].as_u64().unwrap();
    let mut viewer = viewers.into_iter().next().unwrap().unwrap();
    viewer.wait_for(WAIT, |v| v.seq >= top).await.unwrap();
    b.stop().await;
    a.stop().await;
    let events = journal(db.path());
    assert!(events.iter().zip(1..).all(|(e, seq)| e.seq == seq));
    let path = makerpulse_server::journal::path_for(db.path(), &ChallengeId::new("c").unwrap());
    let lines = std::fs::read_to_string(path).unwrap().lines().count() as u64;
    assert_eq!(lines, top, "every event exactly once in B's journal");
}

#[tokio::test]
async fn a_first_viewer_on_another_instance_sees_the_challenge_as_shared_not_an_empty_one() {
    let redis = RedisServer::start().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_with(da.path(), Some(&redis.url())).await;
    let b = TestServer::start_with(db.path(), Some(&redis.url())).await;
    let ws = b.ws();
    // Created through A, then asked of B at once: B opens it there on first use, and what it
    // shows must already hold what the shared log held when it was asked — not a challenge of
    // nothing at seq 0, whose creation then arrives as deltas (a storm's viewers did get that).
    for round in 0..4 {
        let id = format!("c{round}");
        a.seed(&id).await;
        let (_, on_a) = a.get(&format!("/api/challenges/{id}/view"), None).await;
        let top = on_a["seq"].as_u64().unwrap();
        let path = format!("/api/challenges/{id}/view");
        let view = b.get(&path, None);
        let joins = (0..10).map(|_| makerpulse_client::LiveClient::connect(&ws, &id, None, None));
        let (viewers, (status, view)) =
            futures_util::future::join(futures_util::future::join_all(joins), view).await;
        assert_eq!(status, 200, "{view}");
        assert!(
            view["seq"].as_u64().unwrap() >= top,
            "{id}: B's view at {}",
            view["seq"]
        );
        assert_eq!(view["teams"], on_a["teams"]);
        for viewer in viewers {
            let mut viewer = viewer.unwrap();
            viewer.next_update().await.unwrap();
            let first = viewer.view.as_ref().unwrap();
            assert!(
                first.seq >= top,
                "{id}: a first snapshot at {} < {top}",
                first.seq
            );
            assert!(
                first.challenge.is_some(),
                "{id}: a snapshot without the challenge"
            );
        }
    }
    a.stop().await;
    b.stop().await;
}

/// Reads one field of `INFO` from Redis.
async fn info_field(conn: &mut redis::aio::MultiplexedConnection, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").query_async(conn).await.unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO has no {field}"))
}

#[tokio::test]
async fn lookups_of_unknown_challenges_open_no_redis_connections() {
    let redis = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), Some(&redis.url())).await;
    server.seed("c").await;
    // The test's own connection, opened before counting.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let accepted = info_field(&mut conn, "total_connections_received").await;
    let open = info_field(&mut conn, "connected_clients").await;
    for i in 0..50 {
        let (status, body) = server
            .get(&format!("/api/challenges/nobody-{i}/view"), None)
            .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (status, _) = server.get("/api/challenges/c/view", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        info_field(&mut conn, "total_connections_received").await,
        accepted,
        "every lookup went over the connection the server opened at start"
    );
    assert_eq!(info_field(&mut conn, "connected_clients").await, open);
    server.stop().await;
}
