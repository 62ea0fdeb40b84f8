//! `makerpulse backup DIR` and `makerpulse restore DIR`: the whole data directory — every
//! challenge's journal, the uploaded photos, the admin token's hash — copied while the server
//! runs, and put back into a data directory before a server starts on it.
//!
//! Why a copy taken under a running server is consistent: a journal is append-only and a command
//! is acknowledged only after its events are written and synced, so every byte of the file that
//! an acknowledged command needs is there before the backup reads it, and never changes after.
//! The copy takes the file up to its last complete line (an append being written at that moment
//! is either whole in the copy or absent, as after a crash) and reads it back before it counts.
//! Photos are immutable files named by their SHA-256, renamed into place whole, and a post may
//! only name a photo already uploaded; a named photo is never deleted. So the journals are copied
//! first and the photos after: every photo a copied post names is on disk by then. The backup is
//! written beside `DIR` and renamed to it at the end, so a `DIR` that exists is a whole backup.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};
use makerpulse_core::ids::hex_sha256;
use makerpulse_core::{ChallengeId, Event, EventBody, State};
use serde::{Deserialize, Serialize};

use crate::journal;

/// The manifest's file name inside a backup.
pub const MANIFEST: &str = "makerpulse-backup.json";
/// The admin token's hash in a data directory (and in a backup).
const ADMIN_TOKEN: &str = "admin-token.sha256";
const PHOTOS: &str = "photos";

/// What a backup holds, written last, checked by `restore`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The version of the binary that wrote it.
    pub version: String,
    /// When it was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// Every challenge, with the last seq copied and the journal's SHA-256.
    pub challenges: Vec<ChallengeEntry>,
    /// The photos copied.
    pub photos: usize,
    /// Whether the admin token's hash was copied (absent when the token is given by
    /// `MAKERPULSE_ADMIN_TOKEN`).
    pub admin_token: bool,
}

/// One challenge of a backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChallengeEntry {
    /// Its id.
    pub id: ChallengeId,
    /// The seq of its last event in the backup.
    pub last_seq: u64,
    /// SHA-256 of the journal file as copied.
    pub sha256: String,
}

/// Copies the data directory `data_dir` into the new directory `dir`, while a server may be
/// running on it.
pub fn backup(data_dir: &Path, dir: &Path) -> anyhow::Result<Manifest> {
    ensure!(
        data_dir.is_dir(),
        "no data directory at {}",
        data_dir.display()
    );
    ensure!(
        !dir.exists(),
        "{} exists already; a backup goes into a new directory",
        dir.display()
    );
    let partial = sibling(dir, "partial")?;
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("removing an unfinished backup {}", partial.display()))?;
    }
    std::fs::create_dir_all(partial.join("challenges"))
        .with_context(|| format!("creating {}", partial.display()))?;

    let mut challenges = Vec::new();
    let mut named = BTreeSet::new();
    for id in journal::list(data_dir)? {
        let source = journal::path_for(data_dir, &id);
        let bytes =
            std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
        // Up to the last complete line: a record being appended right now is left out whole.
        let whole = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let bytes = &bytes[..whole];
        let target = journal::path_for(&partial, &id);
        write_synced(&target, bytes)?;
        let events = journal::read_until(&target, u64::MAX)
            .with_context(|| format!("the copy of {} does not read back", source.display()))?;
        State::replay(&events)
            .with_context(|| format!("the copy of {} does not replay", source.display()))?;
        named.extend(photos_named(&events));
        challenges.push(ChallengeEntry {
            id,
            last_seq: events.last().map_or(0, |e| e.seq),
            sha256: hex_sha256(bytes),
        });
    }

    // After the journals: every photo a copied post names exists by now.
    let mut photos = 0;
    let source = data_dir.join(PHOTOS);
    if source.is_dir() {
        std::fs::create_dir_all(partial.join(PHOTOS))?;
        for entry in std::fs::read_dir(&source)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|n| is_photo_name(n)) else {
                continue; // an upload being written (`.….tmp`), or nothing of ours
            };
            match std::fs::read(entry.path()) {
                Ok(body) => {
                    write_synced(&partial.join(PHOTOS).join(name), &body)?;
                    photos += 1;
                }
                // Collected since it was listed: an upload no post named.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).context(format!("reading {}", entry.path().display())),
            }
        }
    }
    let missing: Vec<&String> = named
        .iter()
        .filter(|sha| !partial.join(PHOTOS).join(sha.as_str()).is_file())
        .collect();
    ensure!(
        missing.is_empty(),
        "photos named by posts are missing from {}: {missing:?}",
        source.display()
    );

    let admin_token = match std::fs::read(data_dir.join(ADMIN_TOKEN)) {
        Ok(hash) => {
            write_synced(&partial.join(ADMIN_TOKEN), &hash)?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).context("reading the admin token's hash"),
    };

    let manifest = Manifest {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        taken_at: chrono::Utc::now().to_rfc3339(),
        challenges,
        photos,
        admin_token,
    };
    write_synced(
        &partial.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    std::fs::rename(&partial, dir)
        .with_context(|| format!("renaming {} to {}", partial.display(), dir.display()))?;
    sync_dir(dir.parent().unwrap_or(Path::new(".")));
    Ok(manifest)
}

/// Puts the backup in `dir` into `data_dir`, which no server may be running on: checks the
/// manifest and every journal first (its checksum, that it reads back and replays), then copies.
/// Refuses to replace a challenge that `data_dir` already has, or an admin token hash that
/// differs, so a restore never overwrites anything.
pub fn restore(dir: &Path, data_dir: &Path) -> anyhow::Result<Manifest> {
    let manifest_path = dir.join(MANIFEST);
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&manifest_path)
            .with_context(|| format!("{} is not a makerpulse backup", dir.display()))?,
    )
    .with_context(|| format!("reading {}", manifest_path.display()))?;

    // Check everything before changing anything.
    for entry in &manifest.challenges {
        let path = journal::path_for(dir, &entry.id);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        ensure!(
            hex_sha256(&bytes) == entry.sha256,
            "{} does not match the manifest: the backup is damaged",
            path.display()
        );
        let events = journal::read_until(&path, u64::MAX)?;
        State::replay(&events).with_context(|| format!("{} does not replay", path.display()))?;
        ensure!(
            events.last().map_or(0, |e| e.seq) == entry.last_seq,
            "{} does not end at seq {}",
            path.display(),
            entry.last_seq
        );
        let target = journal::path_for(data_dir, &entry.id);
        if target.exists() && std::fs::metadata(&target)?.len() > 0 {
            bail!(
                "challenge {} already has a journal at {}; not overwriting it (restore into a new \
                 data directory, or move that one away first)",
                entry.id,
                target.display()
            );
        }
    }
    let token = dir.join(ADMIN_TOKEN);
    let token_target = data_dir.join(ADMIN_TOKEN);
    if manifest.admin_token && token_target.exists() {
        ensure!(
            std::fs::read(&token)? == std::fs::read(&token_target)?,
            "{} holds another admin token's hash; not overwriting it",
            token_target.display()
        );
    }

    std::fs::create_dir_all(data_dir.join("challenges"))
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let photos = dir.join(PHOTOS);
    if photos.is_dir() {
        std::fs::create_dir_all(data_dir.join(PHOTOS))?;
        for entry in std::fs::read_dir(&photos)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|n| is_photo_name(n)) else {
                continue;
            };
            let body = std::fs::read(entry.path())?;
            ensure!(
                hex_sha256(&body) == name,
                "photo {name} in the backup is damaged"
            );
            let target = data_dir.join(PHOTOS).join(name);
            if !target.exists() {
                write_new(&target, &body)?;
            }
        }
    }
    // Journals after the photos they name, each written whole under another name and renamed.
    for entry in &manifest.challenges {
        let bytes = std::fs::read(journal::path_for(dir, &entry.id))?;
        write_new(&journal::path_for(data_dir, &entry.id), &bytes)?;
    }
    if manifest.admin_token && !token_target.exists() {
        write_new(&token_target, &std::fs::read(&token)?)?;
    }
    Ok(manifest)
}

/// Every photo that a post in `events` names.
fn photos_named(events: &[Event]) -> impl Iterator<Item = String> + '_ {
    events.iter().flat_map(|event| match &event.body {
        EventBody::ProgressPosted { photos, .. } => {
            photos.iter().map(|p| p.sha256.clone()).collect()
        }
        _ => Vec::new(),
    })
}

/// A stored photo's file name: 64 lowercase hex digits.
fn is_photo_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `path` with `.suffix` added to its last component.
fn sibling(path: &Path, suffix: &str) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no directory", path.display()))?;
    let mut name = name.to_os_string();
    name.push(format!(".{suffix}"));
    Ok(path.with_file_name(name))
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes `path` whole or not at all: into a temporary name, synced, then renamed.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = sibling(path, "restoring")?;
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Makes a rename in `dir` durable (best effort: not every filesystem allows syncing a directory).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_left_out_and_a_restore_overwrites_nothing() {
        let data = tempfile::tempdir().unwrap();
        let id = ChallengeId::new("c").unwrap();
        let mut journal = journal::Journal::open(&journal::path_for(data.path(), &id))
            .unwrap()
            .journal;
        let create = makerpulse_core::Command::CreateChallenge {
            id: id.clone(),
            title: makerpulse_core::Localized::new("测试", "Test"),
            description: makerpulse_core::Localized::default(),
            planned_start: None,
            duration_secs: None,
        };
        let envelope =
            makerpulse_core::Envelope::new(makerpulse_core::CommandId::new("c0").unwrap(), create);
        let makerpulse_core::Outcome::Applied(mut events) = State::new()
            .execute(
                &makerpulse_core::Actor::Admin,
                &envelope,
                chrono::Utc::now(),
            )
            .unwrap()
        else {
            panic!("created")
        };
        let created = events.remove(0);
        journal.append(std::slice::from_ref(&created)).unwrap();
        // An append caught half-written.
        let path = journal::path_for(data.path(), &id);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"seq\":2,\"at\"")
            .unwrap();

        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("b");
        let manifest = backup(data.path(), &dir).unwrap();
        assert_eq!(manifest.challenges[0].last_seq, 1);
        assert!(!sibling(&dir, "partial").unwrap().exists());
        assert!(
            backup(data.path(), &dir).is_err(),
            "never into an existing backup"
        );

        let fresh = tempfile::tempdir().unwrap();
        restore(&dir, fresh.path()).unwrap();
        let events = journal::read_until(&journal::path_for(fresh.path(), &id), u64::MAX).unwrap();
        assert_eq!(events, vec![created]);
        let err = restore(&dir, fresh.path()).unwrap_err().to_string();
        assert!(err.contains("not overwriting"), "{err}");

        // A damaged backup is refused before anything is written.
        std::fs::write(journal::path_for(&dir, &id), b"{}\n").unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(restore(&dir, other.path()).is_err());
        assert!(!journal::path_for(other.path(), &id).exists());
    }
}
