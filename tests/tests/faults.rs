//! Network faults: viewers dropped at random while teams and judges keep writing. Each one
//! reconnects with `since`; at the end every viewer's view equals a fresh snapshot.

use std::time::Duration;

use makerpulse_client::LiveClient;
use makerpulse_core::Command;
use makerpulse_e2e::{scorecard, TestServer, ADMIN};

/// A small deterministic generator, so a failure replays the same way.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn viewers_dropped_at_random_end_with_the_state_of_a_fresh_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let ws = server.ws();

    // The writers: posts and scorecards for a while.
    let http = server.http();
    let team_tokens: Vec<String> = ["t1", "t2", "t3", "t4"]
        .iter()
        .map(|t| tokens.team(t).to_owned())
        .collect();
    let judge = tokens.judge("j1").to_owned();
    let writer = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut last = 0;
        for i in 0..120u32 {
            let (token, command) = if i % 3 == 0 {
                (
                    judge.clone(),
                    scorecard(if i % 2 == 0 { "t1" } else { "t2" }, 1 + i % 10),
                )
            } else {
                let text = format!("update {i}");
                (
                    team_tokens[i as usize % 4].clone(),
                    Command::PostProgress {
                        text,
                        photos: vec![],
                        links: vec![],
                        percent: Some((i % 101) as u8),
                    },
                )
            };
            last = makerpulse_e2e::send_accepted(&client, &http, &token, command).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        last
    });

    // The viewers: audience, a team, a judge and the admin, each dropped at random moments.
    let roles: Vec<Option<String>> = vec![
        None,
        None,
        None,
        Some(tokens.team("t1").to_owned()),
        Some(tokens.judge("j1").to_owned()),
        Some(ADMIN.to_owned()),
    ];
    let mut viewers = Vec::new();
    for (i, token) in roles.into_iter().enumerate() {
        let ws = ws.clone();
        viewers.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
            let mut client = LiveClient::connect(&ws, "c", token.as_deref(), None)
                .await
                .unwrap();
            let mut drops = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
            while tokio::time::Instant::now() < deadline {
                // Read for a random while, then drop the connection without a goodbye.
                let read_for = Duration::from_millis(20 + rng.below(200));
                let _ = tokio::time::timeout(read_for, async {
                    loop {
                        client.next_update().await.unwrap();
                    }
                })
                .await;
                let (view, last) = (client.view.take(), client.last_seq);
                drop(client);
                drops += 1;
                client = LiveClient::connect(&ws, "c", token.as_deref(), Some(last))
                    .await
                    .unwrap();
                client.view = view;
                client.last_seq = last;
            }
            (client, drops)
        }));
    }
    let last = writer.await.unwrap();
    for (i, viewer) in viewers.into_iter().enumerate() {
        let (mut client, drops) = viewer.await.unwrap();
        assert!(drops >= 5, "viewer {i} was dropped only {drops} times");
        client
            .wait_for(Duration::from_secs(10), |v| v.seq >= last)
            .await
            .unwrap();
        let role = client.role.clone();
        let token = match &role {
            makerpulse_core::Role::Admin => Some(ADMIN.to_owned()),
            makerpulse_core::Role::Team(t) => Some(tokens.team(t.as_str()).to_owned()),
            makerpulse_core::Role::Judge(j) => Some(tokens.judge(j.as_str()).to_owned()),
            makerpulse_core::Role::Audience => None,
        };
        let mut fresh = server.live("c", token.as_deref(), None).await;
        fresh.next_update().await.unwrap();
        let mut held = client.view.clone().unwrap();
        // A view that skipped the last events says so only in its seq.
        held.seq = fresh.view.as_ref().unwrap().seq;
        assert_eq!(
            &held,
            fresh.view.as_ref().unwrap(),
            "viewer {i} ({role:?}) differs from a fresh snapshot"
        );
    }
    server.stop().await;
}
