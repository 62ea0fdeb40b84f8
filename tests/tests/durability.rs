//! End-to-end tests of durability: every acknowledged event survives a restart and a crash of
//! the server, and seq goes on without a gap.

use makerpulse_core::{ChallengeId, Command, State};
use makerpulse_e2e::{TestServer, ADMIN};

fn journal_events(dir: &std::path::Path) -> Vec<makerpulse_core::Event> {
    let path = makerpulse_server::journal::path_for(dir, &ChallengeId::new("c").unwrap());
    makerpulse_server::journal::read_until(&path, u64::MAX).unwrap()
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_event_and_seq_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let team = ["t1", "t2", "t3", "t4"][i % 4];
        let (status, ack) = server
            .command(
                "c",
                Some(tokens.team(team)),
                Command::PostProgress {
                    text: format!("post {i}"),
                    photos: vec![],
                    links: vec![],
                    percent: None,
                },
            )
            .await;
        assert_eq!(status, 200);
        acked.push(ack["last_seq"].as_u64().unwrap());
    }
    let (_, before) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    server.stop().await;

    let server = TestServer::start(dir.path()).await;
    let (_, after) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(before, after, "the restarted server has the same state");
    let (status, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "after restart".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200, "tokens survive the restart: {ack}");
    assert_eq!(
        ack["first_seq"].as_u64().unwrap(),
        acked.last().unwrap() + 1,
        "no gap"
    );
    server.stop().await;

    let events = journal_events(dir.path());
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    for seq in acked {
        assert!(events.iter().any(|e| e.seq == seq));
    }
    State::replay(&events).unwrap();
}

#[tokio::test]
async fn concurrent_writers_get_one_gapless_sequence_and_a_crash_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut writers = Vec::new();
    for (w, team) in ["t1", "t2", "t3", "t4"].into_iter().enumerate() {
        let http = server.http();
        let token = tokens.team(team).to_owned();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acked = Vec::new();
            for i in 0..25 {
                let seq = makerpulse_e2e::send_accepted(
                    &client,
                    &http,
                    &token,
                    Command::PostProgress {
                        text: format!("w{w} #{i}"),
                        photos: vec![],
                        links: vec![],
                        percent: None,
                    },
                )
                .await;
                acked.push((seq, format!("w{w} #{i}")));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    // A crash: the server goes away without a graceful shutdown.
    server.abort().await;

    let events = journal_events(dir.path());
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "gapless"
    );
    for (seq, text) in &acked {
        let event = events
            .iter()
            .find(|e| e.seq == *seq)
            .expect("acknowledged event is in the journal");
        let json = event.to_json();
        assert!(json.contains(text.as_str()), "{json}");
    }
    let texts: Vec<_> = acked.iter().map(|(_, t)| t).collect();
    let unique: std::collections::BTreeSet<_> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "nothing twice");

    // A new server over the same directory serves them all.
    let server = TestServer::start(dir.path()).await;
    let (_, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(view["seq"].as_u64().unwrap(), events.last().unwrap().seq);
    server.stop().await;
}
