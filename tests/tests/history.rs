//! Checkpoints of the state and of the past, proven from the outside: `view?at=SEQ` is the fold
//! of the journal up to SEQ at every seq, across several checkpoints of both kinds, for the
//! organizers and for the audience (who see the posts hidden since as hidden), after a restart
//! and whatever lies in the checkpoint folder — a torn file, another journal's, one beyond a
//! journal cut back or restored from a backup, a crash's half-written `.tmp`. The journal is the
//! only truth: a checkpoint that is not the fold of its bytes is ignored and the answers stay
//! right.

use std::path::{Path, PathBuf};

use makerpulse_core::{snapshot, ChallengeId, Command, Event, EventBody, Role, State};
use makerpulse_e2e::{scorecard, Seeded, TestServer, ADMIN};
use makerpulse_server::journal::{self, Kind};
use serde_json::Value;

/// Events between checkpoints in these tests: a few dozen events span several.
const EVERY: u64 = 10;

/// Events between checkpoints of the past: not a divisor of [`EVERY`], so that reads start from
/// either kind.
const PAST_EVERY: u64 = 4;

async fn start(dir: &Path) -> TestServer {
    TestServer::start_configured(dir, |config| {
        config.settings.checkpoint_every = EVERY;
        config.settings.history_every = PAST_EVERY;
    })
    .await
}

fn journal_path(dir: &Path, id: &str) -> PathBuf {
    journal::path_for(dir, &ChallengeId::new(id).unwrap())
}

fn events(dir: &Path, id: &str) -> Vec<Event> {
    journal::read_until(&journal_path(dir, id), u64::MAX).unwrap()
}

fn checkpoints(dir: &Path, id: &str) -> Vec<u64> {
    let folder = journal::checkpoint::dir_for(&journal_path(dir, id));
    journal::checkpoint::claimed(&folder)
        .iter()
        .map(|m| m.seq)
        .collect()
}

fn pasts(dir: &Path, id: &str) -> Vec<u64> {
    let folder = journal::checkpoint::dir_for(&journal_path(dir, id));
    journal::checkpoint::claimed_of(&folder, Kind::Past)
        .iter()
        .map(|m| m.seq)
        .collect()
}

/// `n` commands of teams and judges: posts and scorecard revisions, each tagged with `tag` so that
/// two runs tell different stories.
async fn play(server: &TestServer, id: &str, tokens: &Seeded, n: usize, tag: &str) {
    for i in 0..n {
        let (status, body) = if i % 3 == 2 {
            let team = ["t1", "t2"][i % 2];
            let card = scorecard(team, 3 + (i % 7) as u32);
            server.command(id, Some(tokens.judge("j1")), card).await
        } else {
            let team = ["t1", "t2", "t3", "t4"][i % 4];
            let post = Command::PostProgress {
                text: format!("{tag} post {i}"),
                photos: vec![],
                links: vec![],
                percent: Some((i % 100) as u8),
            };
            server.command(id, Some(tokens.team(team)), post).await
        };
        assert_eq!(status, 200, "{body}");
    }
}

/// [`every_view_is_the_fold`] from the first seq once the checkpoints being saved are written,
/// then again after a restart (which opens from them), and stops the server.
async fn the_fold_now_and_after_a_restart(server: TestServer, dir: &Path, id: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    every_view_is_the_fold(&server, dir, id, 1).await;
    server.stop().await;
    let server = start(dir).await;
    every_view_is_the_fold(&server, dir, id, 1).await;
    server.stop().await;
}

/// Asks `view?at=SEQ` of every seq `from..=top` as the organizers and as the audience, and
/// compares each with the fold of the journal's first SEQ events: as it was for the organizers,
/// with every post hidden since hidden for the audience.
async fn every_view_is_the_fold(server: &TestServer, dir: &Path, id: &str, from: u64) -> u64 {
    let log = events(dir, id);
    let now = State::replay(&log).unwrap();
    let mut state = State::new();
    for event in &log {
        state.apply(event).unwrap();
        if event.seq < from {
            continue;
        }
        let path = format!("/api/challenges/{id}/view?at={}", event.seq);
        let (status, got) = server.get(&path, Some(ADMIN)).await;
        assert_eq!(status, 200, "{path}: {got}");
        let want = serde_json::to_value(snapshot(&state, &Role::Admin)).unwrap();
        assert_eq!(got, want, "{path}");
        let (status, got) = server.get(&path, None).await;
        assert_eq!(status, 200, "{path}: {got}");
        let mut hidden = state.clone();
        hidden.hide_as_in(&now);
        let want = serde_json::to_value(snapshot(&hidden, &Role::Audience)).unwrap();
        assert_eq!(got, want, "{path}, the audience's");
    }
    let top = log.len() as u64;
    let (_, live) = server
        .get(&format!("/api/challenges/{id}/view"), Some(ADMIN))
        .await;
    let want = serde_json::to_value(snapshot(&state, &Role::Admin)).unwrap();
    assert_eq!(live, want, "the live view is the fold of the whole journal");
    top
}

/// Hides the post `post`, as an organizer.
async fn hide(server: &TestServer, id: &str, post: u64) {
    let hide = Command::HidePost {
        post,
        reason: format!("hidden {post}"),
    };
    let (status, body) = server.command(id, Some(ADMIN), hide).await;
    assert_eq!(status, 200, "{body}");
}

/// A timeline longer than a state keeps whole (the older posts known by id only, taken back from
/// the live state when a checkpoint of the past is loaded), with posts hidden while whole, long
/// after they were posted, and after the checkpoints that saw them visible: every seq's view is
/// the fold's, before and after a restart.
#[tokio::test]
async fn the_past_of_a_long_timeline_with_hidden_posts_is_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let tokens = server.seed("c").await;
    play(&server, "c", &tokens, 120, "long").await;
    let posts: Vec<u64> = events(dir.path(), "c")
        .iter()
        .filter(|e| matches!(e.body, EventBody::ProgressPosted { .. }))
        .map(|e| e.seq)
        .collect();
    assert!(posts.len() > 64, "more posts than a state keeps whole");
    hide(&server, "c", posts[2]).await;
    hide(&server, "c", posts[posts.len() - 1]).await;
    play(&server, "c", &tokens, 12, "more").await;
    hide(&server, "c", posts[5]).await;
    hide(&server, "c", posts[posts.len() - 40]).await;
    play(&server, "c", &tokens, 6, "last").await;
    the_fold_now_and_after_a_restart(server, dir.path(), "c").await;
}

#[tokio::test]
async fn the_past_is_the_fold_of_the_journal_at_every_seq_across_checkpoints_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let tokens = server.seed("c").await;
    play(&server, "c", &tokens, 60, "first").await;
    // The checkpoints are written beside the writer; give the last one a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let saved = checkpoints(dir.path(), "c");
    assert!(saved.len() >= 3, "several checkpoints: {saved:?}");
    let saved = pasts(dir.path(), "c");
    assert!(saved.len() >= 8, "checkpoints of the past: {saved:?}");
    let top = every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    // The reads started from the checkpoints of the past, and folded only what follows one.
    let metrics = server.metrics().await;
    let count = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(name));
        line.and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    let from_past = count("makerpulse_history_reads_total{start=\"past\"}");
    assert!(from_past >= top / 2, "reads from the past: {metrics}");
    let folded = count("makerpulse_history_folded_events_total");
    assert!(
        folded < 2 * top * PAST_EVERY,
        "{folded} events folded for {} reads",
        2 * top
    );
    let (status, _) = server
        .get(
            &format!("/api/challenges/c/view?at={}", top + 1),
            Some(ADMIN),
        )
        .await;
    assert_eq!(status, 404, "a seq not reached yet");
    server.stop().await;

    // A restart starts from the latest checkpoint and folds the rest; the past reads the same.
    let server = start(dir.path()).await;
    every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    play(&server, "c", &tokens, 30, "second").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    server.stop().await;
}

#[tokio::test]
async fn a_torn_foreign_or_too_new_checkpoint_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let tokens = server.seed("c").await;
    play(&server, "c", &tokens, 45, "c").await;
    let other = server.seed("d").await;
    play(&server, "d", &other, 45, "d").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    server.stop().await;

    let c = journal::checkpoint::dir_for(&journal_path(dir.path(), "c"));
    let d = journal::checkpoint::dir_for(&journal_path(dir.path(), "d"));
    let (in_c, in_d) = (checkpoints(dir.path(), "c"), checkpoints(dir.path(), "d"));
    let name = |seq: u64| format!("{seq:020}.ckpt");
    // Another journal's checkpoint under the name of one of c's (the same seq, other bytes).
    let shared = *in_c
        .iter()
        .find(|s| in_d.contains(s))
        .expect("a seq both have");
    std::fs::copy(d.join(name(shared)), c.join(name(shared))).unwrap();
    // And of the past: d's under c's name, and c's latest torn.
    let (pasts_c, pasts_d) = (pasts(dir.path(), "c"), pasts(dir.path(), "d"));
    let past = |seq: u64| format!("{seq:020}.past");
    let shared_past = *pasts_c
        .iter()
        .find(|s| pasts_d.contains(s))
        .expect("a seq both have");
    std::fs::copy(d.join(past(shared_past)), c.join(past(shared_past))).unwrap();
    let latest_past = *pasts_c.last().unwrap();
    let bytes = std::fs::read(c.join(past(latest_past))).unwrap();
    std::fs::write(c.join(past(latest_past)), &bytes[..bytes.len() - 9]).unwrap();
    // The latest torn in half, as a disk that lost the end of it.
    let latest = *in_c.last().unwrap();
    let bytes = std::fs::read(c.join(name(latest))).unwrap();
    std::fs::write(c.join(name(latest)), &bytes[..bytes.len() / 2]).unwrap();
    // And the journal cut back before one checkpoint at least, as a restored older copy: the
    // checkpoints beyond it are too new for it.
    let keep = in_c[in_c.len() - 2] as usize - 3;
    let text = std::fs::read_to_string(journal_path(dir.path(), "c")).unwrap();
    let cut: String = text.split_inclusive('\n').take(keep).collect();
    // With one early post's text changed, to the same length: the journal of another history
    // whose checkpoints would sit at the very same seqs and byte offsets. Only the bytes tell.
    let other_history = cut.replacen("c post 1\"", "x post 1\"", 1);
    assert_ne!(other_history, cut);
    std::fs::write(journal_path(dir.path(), "c"), other_history).unwrap();

    let server = start(dir.path()).await;
    let top = every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    assert_eq!(top, keep as u64);
    assert_eq!(events(dir.path(), "c").len(), keep);
    every_view_is_the_fold(&server, dir.path(), "d", 1).await;
    // The challenge goes on from the journal, and its past stays the journal's.
    play(&server, "c", &tokens, 25, "again").await;
    the_fold_now_and_after_a_restart(server, dir.path(), "c").await;
}

#[tokio::test]
async fn a_crash_while_a_checkpoint_is_written_leaves_the_state_right() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let tokens = server.seed("c").await;
    play(&server, "c", &tokens, 40, "c").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let folder = journal::checkpoint::dir_for(&journal_path(dir.path(), "c"));
    let latest = *checkpoints(dir.path(), "c").last().unwrap();
    let bytes = std::fs::read(folder.join(format!("{latest:020}.ckpt"))).unwrap();
    // What a crash mid-write leaves: the half of a checkpoint under its temporary name, and the
    // server gone without a graceful stop.
    let tmp = folder.join(format!("{:020}.ckpt.tmp", latest + EVERY));
    std::fs::write(&tmp, &bytes[..bytes.len() / 2]).unwrap();
    // And a checkpoint of the past saved unsynced along a fold, empty after the crash.
    let empty = folder.join(format!("{:020}.past", latest + 1));
    std::fs::write(&empty, b"").unwrap();
    server.abort().await;

    let server = start(dir.path()).await;
    assert!(!empty.exists(), "the open removes what does not read");
    every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    play(&server, "c", &tokens, 30, "after").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !tmp.exists(),
        "the next checkpoint clears what the crash left"
    );
    every_view_is_the_fold(&server, dir.path(), "c", 1).await;
    server.stop().await;
}

#[tokio::test]
async fn a_restore_is_never_served_from_a_stale_checkpoint() {
    let data = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let server = start(data.path()).await;
    let tokens = server.seed("c").await;
    play(&server, "c", &tokens, 20, "before").await;
    let copy = backups.path().join("b1");
    makerpulse_server::backup::backup(data.path(), &copy).unwrap();
    play(&server, "c", &tokens, 40, "lost").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    server.stop().await;
    let stale = checkpoints(data.path(), "c");
    let restored_top = events(&copy, "c").len() as u64;
    assert!(
        stale.iter().any(|&s| s > restored_top),
        "checkpoints beyond the backup: {stale:?}"
    );

    // The operator moves the journal aside (its checkpoints stay where they were) and restores.
    std::fs::rename(
        journal_path(data.path(), "c"),
        data.path().join("c.journal.old"),
    )
    .unwrap();
    makerpulse_server::backup::restore(&copy, data.path()).unwrap();
    let server = start(data.path()).await;
    let top = every_view_is_the_fold(&server, data.path(), "c", 1).await;
    assert_eq!(top, restored_top);
    // The seqs the lost history reached are written again with other events: their past is the
    // new journal's, never the stale checkpoints'.
    play(&server, "c", &tokens, 40, "rewritten").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    every_view_is_the_fold(&server, data.path(), "c", 1).await;
    let posts: Vec<Value> = events(data.path(), "c")
        .iter()
        .map(|e| serde_json::to_value(&e.body).unwrap())
        .filter(|b| b.to_string().contains("lost post"))
        .collect();
    assert!(
        posts.is_empty(),
        "the restored journal holds none of the lost events"
    );
    server.stop().await;
    let server = start(data.path()).await;
    every_view_is_the_fold(&server, data.path(), "c", 1).await;
    server.stop().await;
}
