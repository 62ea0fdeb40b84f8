//! The CI smoke scenario of the benchmark: a few hundred viewers for a few seconds against the
//! real server (started in this process on 127.0.0.1:0), with judges scoring; every viewer must
//! connect, get a correct snapshot and every message, in order, with no gap and no error.
//! Latency is reported, never asserted: CI machines are shared and noisy.

use makerpulse_e2e::{TestServer, ADMIN};
use makerpulse_loadgen::{run, Config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_hundred_viewers_get_every_message_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path()).await;
    let mut config = Config::makerpulse(&server.ws(), ADMIN, 300);
    config.label = "smoke".into();
    config.teams = 6;
    config.judges = 4;
    config.post_every = 4;
    config.rates = vec![20.0];
    config.duration = 3.0;
    config.drain = 10.0;
    let report = tokio::time::timeout(std::time::Duration::from_secs(60), run(&config))
        .await
        .expect("the smoke run ends in time")
        .expect("the smoke run");
    println!("{}", report.table());
    let step = &report.steps[0];
    assert_eq!(report.connections_held, 300, "every viewer connected");
    assert_eq!(report.checks.gaps, 0, "no gap");
    assert_eq!(report.checks.errors + report.checks.connect_errors, 0);
    assert_eq!(
        report.checks.bad_snapshots, 0,
        "every snapshot is a correct view"
    );
    assert_eq!(report.checks.write_errors, 0, "every command was accepted");
    assert!(
        step.events >= 50,
        "the judges and teams wrote: {}",
        step.events
    );
    assert_eq!(
        step.delivered, step.expected,
        "every message reached every viewer"
    );
    assert!(report.clean());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_that_drop_resume_without_missing_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path()).await;
    let mut config = Config::makerpulse(&server.ws(), ADMIN, 100);
    config.label = "smoke-reconnect".into();
    config.teams = 4;
    config.judges = 4;
    config.rates = vec![20.0];
    config.duration = 3.0;
    config.reconnect_at = Some(1.0);
    let report = tokio::time::timeout(std::time::Duration::from_secs(60), run(&config))
        .await
        .expect("the run ends in time")
        .expect("the run");
    println!("{}", report.table());
    let storm = report.reconnect.as_ref().expect("a reconnect storm");
    assert_eq!(storm.reconnected, 100, "every viewer was welcomed again");
    // Each resume gets the missed messages, or a snapshot where they would weigh more.
    assert_eq!(
        storm.resumed_with_missed_messages + storm.resumed_with_snapshot,
        100,
        "every resume was answered"
    );
    assert_eq!(report.checks.gaps, 0);
    assert!(report.clean(), "{:?}", report.checks);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_that_join_over_http_get_every_message_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path()).await;
    let mut config = Config::makerpulse(&server.ws(), ADMIN, 200);
    config.label = "smoke-join-http".into();
    config.join = makerpulse_loadgen::config::Join::Http;
    config.teams = 6;
    config.judges = 4;
    config.post_every = 3;
    config.rates = vec![20.0];
    config.duration = 3.0;
    let report = tokio::time::timeout(std::time::Duration::from_secs(60), run(&config))
        .await
        .expect("the run ends in time")
        .expect("the run");
    println!("{}", report.table());
    let step = &report.steps[0];
    assert_eq!(report.connections_held, 200, "{:?}", report.checks);
    assert_eq!(
        report.checks.bad_snapshots, 0,
        "every HTTP snapshot checked"
    );
    assert_eq!(report.checks.gaps, 0, "nothing missed after the seq");
    assert_eq!(step.delivered, step.expected);
    assert!(report.clean(), "{:?}", report.checks);
    server.stop().await;
}
