//! The embedded store: one append-only journal file per challenge, one JSON event per line.
//!
//! An append is written and `fdatasync`ed before the command is acknowledged; the hub batches
//! the events of every command waiting at that moment into one write and one sync (group commit).
//! On open the journal is read back; a torn last line (a crash mid-write) is detected and cut, and
//! anything else that does not read back is refused rather than half-applied.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use futures_util::future::BoxFuture;
use makerpulse_core::{ChallengeId, Event};

use crate::event_log::{Appended, EventLog, StoreError};
use crate::metrics::Metrics;

pub mod checkpoint;
mod index;

pub use checkpoint::{Kind, Mark};
pub use index::{Index, STRIDE};

/// The index of an open journal, shared by its writer and its readers. A `std` lock: it is
/// held only to note an append or to copy a few numbers out, never across an `.await` or a read.
pub type SharedIndex = Arc<RwLock<Index>>;

fn read_index(index: &SharedIndex) -> std::sync::RwLockReadGuard<'_, Index> {
    index.read().unwrap_or_else(PoisonError::into_inner)
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// The seq of the last event in the file.
    last_seq: u64,
    /// The length of the file up to its last complete record.
    len: u64,
    /// Where each event lies.
    index: SharedIndex,
}

/// What opening a journal found.
#[derive(Debug)]
pub struct Opened {
    /// The journal, ready to append.
    pub journal: Journal,
    /// Every event in it, in order.
    pub events: Vec<Event>,
    /// Bytes of a torn last record that were cut, if any.
    pub cut_bytes: u64,
}

/// The journal file of a challenge under `data_dir`.
pub fn path_for(data_dir: &Path, id: &ChallengeId) -> PathBuf {
    data_dir.join("challenges").join(format!("{id}.journal"))
}

/// The challenge ids that have a journal under `data_dir`.
pub fn list(data_dir: &Path) -> Result<Vec<ChallengeId>, StoreError> {
    let dir = data_dir.join("challenges");
    let mut ids = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(ids);
    };
    for entry in entries {
        let name = entry
            .map_err(StoreError::io(format!("listing {}", dir.display())))?
            .file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".journal") {
            if let Ok(id) = ChallengeId::new(stem) {
                ids.push(id);
            }
        }
    }
    ids.sort();
    Ok(ids)
}

impl Journal {
    /// Opens (or creates) the journal at `path`, reads every event back and cuts a torn tail.
    pub fn open(path: &Path) -> Result<Opened, StoreError> {
        let mut events = Vec::new();
        let (journal, cut_bytes) = Journal::open_with(path, &[], None, &mut |event, _| {
            events.push(event);
            Ok(())
        })?
        .expect("no checkpoint to match");
        Ok(Opened {
            journal,
            events,
            cut_bytes,
        })
    }

    /// Opens (or creates) the journal at `path` like [`Journal::open`], handing each event to
    /// `sink` as it is read (with the index up to it) instead of keeping them all: a server folds
    /// a long journal into its state without ever holding the whole log in memory (a million
    /// events are ~400 MB as values, and glibc keeps most of a freed peak).
    ///
    /// The checkpoints `claimed` (of either kind) are checked against the bytes as read; those
    /// that match are in the index. With `from`, a checkpoint whose state the caller holds already, the events it
    /// covers are neither parsed whole nor handed to `sink`, only indexed: returns `None` when
    /// the journal does not hold exactly the bytes `from` covers (nothing is cut then; read it
    /// again without `from`). Otherwise returns the journal and the bytes cut.
    pub fn open_with(
        path: &Path,
        claimed: &[(Kind, Mark)],
        from: Option<&Mark>,
        sink: &mut dyn FnMut(Event, &Index) -> Result<(), StoreError>,
    ) -> Result<Option<(Journal, u64)>, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(StoreError::io(format!("creating {}", dir.display())))?;
        }
        let io = || StoreError::io(format!("opening journal {}", path.display()));
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io())?;
        let mut index = Index::default();
        let (last_seq, good_len, total_len) =
            read_all(&file, path, &mut index, claimed, from, sink)?;
        if let Some(from) = from {
            if index.checkpoints_to(from.seq).first() != Some(from) {
                return Ok(None);
            }
        }
        let cut_bytes = total_len - good_len;
        if cut_bytes > 0 {
            tracing::warn!(
                journal = %path.display(),
                cut_bytes,
                "cutting a torn last record left by a crash"
            );
            file.set_len(good_len).map_err(io())?;
            file.sync_all().map_err(io())?;
        }
        file.seek(SeekFrom::End(0)).map_err(io())?;
        let journal = Journal {
            path: path.to_owned(),
            file,
            last_seq,
            len: good_len,
            index: Arc::new(RwLock::new(index)),
        };
        Ok(Some((journal, cut_bytes)))
    }

    /// The seq of the last event written.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its index, kept up by every append.
    pub fn index(&self) -> SharedIndex {
        self.index.clone()
    }

    /// Appends `events` (which must continue the journal's seq) in one write, then syncs the data
    /// to disk. Only when this returns `Ok` may the commands behind the events be acknowledged.
    pub fn append(&mut self, events: &[Event]) -> Result<(), StoreError> {
        let mut buf = Vec::with_capacity(events.len() * 256);
        let mut lines = Vec::with_capacity(events.len());
        let mut expected = self.last_seq;
        for event in events {
            expected += 1;
            if event.seq != expected {
                return Err(StoreError::OutOfSequence {
                    got: event.seq,
                    top: expected - 1,
                });
            }
            let start = buf.len();
            buf.extend_from_slice(event.to_json().as_bytes());
            buf.push(b'\n');
            lines.push((event.seq, event.at, start, buf.len()));
        }
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        if let Err(err) = written {
            // Leave no partial record behind for the next append to follow.
            let _ = self.file.set_len(self.len);
            return Err(StoreError::io(format!(
                "appending to {}",
                self.path.display()
            ))(err));
        }
        let base = self.len;
        self.len += buf.len() as u64;
        self.last_seq = expected;
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for (seq, at, start, end) in lines {
            index.note(seq, at, base + start as u64, &buf[start..end]);
        }
        Ok(())
    }
}

/// Reads the events of the journal at `path` up to seq `until`, without changing the file: for
/// replays and exports while the server appends. A missing journal reads as empty.
pub fn read_until(path: &Path, until: u64) -> Result<Vec<Event>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(format!("reading {}", path.display()))(e)),
    };
    let mut events = Vec::new();
    read_all(
        &file,
        path,
        &mut Index::default(),
        &[],
        None,
        &mut |event, _| {
            if event.seq <= until {
                events.push(event);
            }
            Ok(())
        },
    )?;
    Ok(events)
}

/// Reads the events `from..=to` of the journal at `path` through its index: it seeks to the
/// stride below `from`, skips the lines before it unparsed, and stops at `to` or at the last
/// event indexed, so a read costs what it returns, not the length of the journal.
pub fn read_indexed(
    path: &Path,
    index: &SharedIndex,
    from: u64,
    to: u64,
) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    read_indexed_with(path, index, from, to, &mut |event| {
        events.push(event);
        Ok(())
    })?;
    Ok(events)
}

/// [`read_indexed`], handing each event to `sink` as it is read instead of keeping them.
pub fn read_indexed_with(
    path: &Path,
    index: &SharedIndex,
    from: u64,
    to: u64,
    sink: &mut dyn FnMut(Event) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let ((offset, mut seq), end, last) = {
        let index = read_index(index);
        (index.start_for(from), index.len(), index.last_seq())
    };
    let to = to.min(last);
    if from > to {
        return Ok(());
    }
    let io = || StoreError::io(format!("reading {}", path.display()));
    let mut file = File::open(path).map_err(io())?;
    file.seek(SeekFrom::Start(offset)).map_err(io())?;
    let mut reader = BufReader::new(file).take(end - offset);
    let mut line = Vec::new();
    while seq <= to {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io())? == 0 {
            break;
        }
        if seq >= from {
            sink(indexed_event(path, &line, seq)?)?;
        }
        seq += 1;
    }
    Ok(())
}

/// The event on `line` of the journal at `path`, which its index says holds `seq`.
fn indexed_event(path: &Path, line: &[u8], seq: u64) -> Result<Event, StoreError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| Event::from_json(text.trim_end()).ok())
        .filter(|e| e.seq == seq)
        .ok_or_else(|| {
            StoreError::Damaged(format!(
                "journal {} does not hold seq {seq} where its index says",
                path.display()
            ))
        })
}

/// Reads the events at `seqs` (in increasing order) through the index: one pass that seeks
/// to a stride only when the next seq is further on than reading up to it would cost, so a
/// team's timeline costs the posts it reads back, not the journal's length. A seq past the last
/// event indexed is left out.
pub fn read_seqs(path: &Path, index: &SharedIndex, seqs: &[u64]) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::with_capacity(seqs.len());
    if seqs.is_empty() {
        return Ok(events);
    }
    let (end, last) = {
        let index = read_index(index);
        (index.len(), index.last_seq())
    };
    let io = || StoreError::io(format!("reading {}", path.display()));
    let mut reader = BufReader::new(File::open(path).map_err(io())?);
    // The seq of the line the reader is at, and its byte offset.
    let (mut at, mut seq) = (u64::MAX, u64::MAX);
    let mut line = Vec::new();
    for &want in seqs.iter().filter(|&&s| s <= last) {
        if seq > want || want - seq >= STRIDE {
            let (offset, start) = read_index(index).start_for(want);
            reader.seek(SeekFrom::Start(offset)).map_err(io())?;
            (at, seq) = (offset, start);
        }
        while seq <= want {
            line.clear();
            let n = (&mut reader)
                .take(end.saturating_sub(at))
                .read_until(b'\n', &mut line)
                .map_err(io())? as u64;
            if n == 0 {
                return Err(StoreError::Damaged(format!(
                    "journal {} ends before seq {want}",
                    path.display()
                )));
            }
            at += n;
            if seq == want {
                events.push(indexed_event(path, &line, seq)?);
            }
            seq += 1;
        }
    }
    Ok(events)
}

/// [`read_indexed`] on a blocking thread, for async handlers.
pub async fn read_indexed_blocking(
    path: PathBuf,
    index: SharedIndex,
    from: u64,
    to: u64,
) -> Result<Vec<Event>, StoreError> {
    tokio::task::spawn_blocking(move || read_indexed(&path, &index, from, to)).await?
}

/// The command whose first event is at `first_seq`: its actor, and its answer with the seqs of
/// all its events (they are consecutive). `None` when the journal has no event at that seq or the
/// event carries no command.
pub fn command_at(
    path: &Path,
    index: &SharedIndex,
    first_seq: u64,
) -> Result<Option<(makerpulse_core::Actor, makerpulse_core::state::Ack)>, StoreError> {
    // A command's events are few (a reveal step, a create with its defaults); 64 is far above.
    let events = read_indexed(path, index, first_seq, first_seq + 63)?;
    let Some(first) = events.first().filter(|e| e.seq == first_seq) else {
        return Ok(None);
    };
    let Some(command) = &first.command else {
        return Ok(None);
    };
    let last_seq = events
        .iter()
        .take_while(|e| {
            e.actor == first.actor && e.command.as_ref().map(|c| &c.id) == Some(&command.id)
        })
        .last()
        .map_or(first_seq, |e| e.seq);
    Ok(Some((
        first.actor.clone(),
        makerpulse_core::state::Ack::from_log(command, first_seq, last_seq),
    )))
}

/// The head of an event's line: all the index needs of the lines a checkpoint covers, read
/// without building the event.
#[derive(serde::Deserialize)]
struct Head {
    seq: u64,
    at: chrono::DateTime<chrono::Utc>,
}

/// Reads every complete record into `index`, handing each event to `sink`, and notes in the index
/// the checkpoints `claimed` whose bytes the journal holds. The lines that `from` covers are read
/// for their head only and not handed to `sink` (the caller checks that `from` was found good).
/// Returns the last seq, the length of the good prefix and the file length. A last line without
/// its newline, or one that does not parse, is a torn write and is left out; a bad line anywhere
/// else is corruption, and an error.
fn read_all(
    file: &File,
    path: &Path,
    index: &mut Index,
    claimed: &[(Kind, Mark)],
    from: Option<&Mark>,
    sink: &mut dyn FnMut(Event, &Index) -> Result<(), StoreError>,
) -> Result<(u64, u64, u64), StoreError> {
    let io = || StoreError::io(format!("reading {}", path.display()));
    let total = file.metadata().map_err(io())?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    reader.seek(SeekFrom::Start(0)).map_err(io())?;
    let skip_to = from.map_or(0, |m| m.len);
    let mut claimed: Vec<&(Kind, Mark)> = claimed.iter().filter(|(_, m)| m.len <= total).collect();
    claimed.sort_by_key(|(_, m)| m.len);
    let mut claimed = claimed.into_iter().peekable();
    let mut last_seq = 0u64;
    let mut good = 0u64;
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io())? as u64;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = line.last() == Some(&b'\n');
        let at_end = good + n == total;
        let text = std::str::from_utf8(&line).ok().map(str::trim_end);
        let (head, event) = if good + n <= skip_to {
            let head = text.and_then(|t| serde_json::from_str::<Head>(t).ok());
            (head.map(|h| (h.seq, h.at)), None)
        } else {
            let event = text.and_then(|t| Event::from_json(t).ok());
            (event.as_ref().map(|e| (e.seq, e.at)), event)
        };
        match head {
            Some((seq, at)) if complete => {
                let expected = last_seq + 1;
                if seq != expected {
                    return Err(StoreError::Damaged(format!(
                        "journal {} line {line_no}: seq {seq} where {expected} was expected",
                        path.display(),
                    )));
                }
                index.note(seq, at, good, &line);
                last_seq = seq;
                good += n;
                if claimed.peek().is_some_and(|(_, m)| m.len <= good) {
                    let here = index.mark();
                    while let Some((kind, mark)) = claimed.next_if(|(_, m)| m.len <= good) {
                        if *mark == here {
                            index.found(*kind, *mark);
                        }
                    }
                }
                if let Some(event) = event {
                    sink(event, index)?;
                }
            }
            _ if at_end => break,
            _ => {
                return Err(StoreError::Damaged(format!(
                    "journal {} is damaged at line {line_no} (byte {good}); it is not a torn last \
                     record, so it was left untouched: restore it from a backup or an export",
                    path.display()
                )))
            }
        }
    }
    Ok((last_seq, good, total))
}

/// Reads the events of the journal at `path` up to seq `until` on a blocking thread, for async
/// handlers: a big journal takes a while to read, and must not stall the connections sharing the
/// runtime's threads.
pub async fn read_until_blocking(path: PathBuf, until: u64) -> Result<Vec<Event>, StoreError> {
    tokio::task::spawn_blocking(move || read_until(&path, until)).await?
}

/// An open journal as an [`EventLog`]: the embedded store, and the local mirror of a shared log.
///
/// Writes and syncs run on a blocking thread. The journal sits behind a `std` mutex that is only
/// taken inside that blocking task or for a read of its top, never across an `.await`; one writer
/// (the hub's writer, or the tailer of a shared log) appends, so the mutex is never contended.
pub struct JournalLog {
    journal: Arc<Mutex<Journal>>,
    path: PathBuf,
    index: SharedIndex,
    metrics: Arc<Metrics>,
}

impl JournalLog {
    /// The log of an open journal; `metrics` counts its write-and-sync latency.
    pub fn new(journal: Journal, metrics: Arc<Metrics>) -> JournalLog {
        JournalLog {
            path: journal.path().to_owned(),
            index: journal.index(),
            journal: Arc::new(Mutex::new(journal)),
            metrics,
        }
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl EventLog for JournalLog {
    fn append<'a>(
        &'a self,
        expected_top: u64,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Appended, StoreError>> {
        let journal = self.journal.clone();
        let events = events.to_vec();
        Box::pin(async move {
            let started = Instant::now();
            let appended = tokio::task::spawn_blocking(move || {
                let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
                if journal.last_seq != expected_top {
                    return Ok(Appended::Conflict {
                        top: journal.last_seq,
                    });
                }
                journal.append(&events)?;
                Ok(Appended::Done(journal.last_seq))
            })
            .await?;
            self.metrics.fsync(started.elapsed());
            appended
        })
    }

    fn top(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let top = self
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_seq;
        Box::pin(std::future::ready(Ok(top)))
    }

    fn read_after(
        &self,
        after: u64,
        count: usize,
    ) -> BoxFuture<'_, Result<Vec<Event>, StoreError>> {
        let (path, index) = (self.path.clone(), self.index.clone());
        let to = after.saturating_add(count as u64);
        Box::pin(read_indexed_blocking(path, index, after + 1, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use makerpulse_core::{Actor, Command, CommandId, Envelope, Localized, State};

    /// The create events and `n` updates, always the same for the same `n`'s prefix.
    fn events(n: usize) -> Vec<Event> {
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut state = State::new();
        let mut out = Vec::new();
        let create = Command::CreateChallenge {
            id: ChallengeId::new("c").unwrap(),
            title: Localized::new("测试", "Test"),
            description: Localized::default(),
            planned_start: None,
            duration_secs: None,
        };
        if let makerpulse_core::Outcome::Applied(evs) = state
            .execute(
                &Actor::Admin,
                &Envelope::new(CommandId::new("c0").unwrap(), create),
                now,
            )
            .unwrap()
        {
            out.extend(evs);
        }
        for i in 0..n {
            let update = Command::UpdateChallenge {
                title: Localized::new(format!("测试 {i}"), format!("Test {i}")),
                description: Localized::default(),
                planned_start: None,
                duration_secs: 72 * 3600,
            };
            if let makerpulse_core::Outcome::Applied(evs) = state
                .execute(
                    &Actor::Admin,
                    &Envelope::new(CommandId::new(format!("u{i}")).unwrap(), update),
                    now,
                )
                .unwrap()
            {
                out.extend(evs);
            }
        }
        out
    }

    #[test]
    fn appends_read_back_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        let evs = events(4);
        let mut opened = Journal::open(&path).unwrap();
        opened.journal.append(&evs[..3]).unwrap();
        opened.journal.append(&evs[3..]).unwrap();
        drop(opened);
        let again = Journal::open(&path).unwrap();
        assert_eq!(again.events, evs);
        assert_eq!(again.journal.last_seq(), evs.len() as u64);
        assert_eq!(again.cut_bytes, 0);
    }

    #[test]
    fn a_torn_last_record_is_cut_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        let evs = events(2);
        Journal::open(&path).unwrap().journal.append(&evs).unwrap();
        let full = std::fs::metadata(&path).unwrap().len();
        // A crash mid-write: half of a further line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"schema":1,"seq":6,"at":"2026-"#).unwrap();
        drop(f);
        let opened = Journal::open(&path).unwrap();
        assert_eq!(opened.events, evs);
        assert!(opened.cut_bytes > 0);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), full);
        // And appending goes on from there.
        let mut journal = opened.journal;
        let next = events(3);
        journal.append(&next[evs.len()..]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().events, next);
    }

    #[test]
    fn damage_in_the_middle_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        let evs = events(2);
        Journal::open(&path).unwrap().journal.append(&evs).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text = text.replacen("\"seq\":2", "\"seq\":9", 1);
        std::fs::write(&path, &text).unwrap();
        let err = Journal::open(&path).unwrap_err().to_string();
        assert!(err.contains("seq 9"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn indexed_reads_return_exactly_the_range_asked_after_opens_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        let evs = events(300);
        let mut journal = Journal::open(&path).unwrap().journal;
        journal.append(&evs[..150]).unwrap();
        let index = journal.index();
        let read = |from: u64, to: u64| read_indexed(&path, &index, from, to).unwrap();
        assert_eq!(read(1, 150), evs[..150]);
        assert_eq!(read(64, 66), evs[63..66]);
        assert_eq!(read(140, 10_000), evs[139..150], "up to what is indexed");
        journal.append(&evs[150..]).unwrap();
        assert_eq!(read(129, 200), evs[128..200]);
        assert!(read(500, 600).is_empty());
        drop(journal);
        let reopened = Journal::open(&path).unwrap().journal;
        let index = reopened.index();
        let n = evs.len() as u64;
        assert_eq!(
            read_indexed(&path, &index, n, n).unwrap(),
            evs[evs.len() - 1..]
        );
        assert_eq!(read_indexed(&path, &index, 1, n).unwrap(), evs);
        assert_eq!(read_index(&index).last_seq(), n);
    }

    #[test]
    fn scattered_reads_return_exactly_the_seqs_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.journal");
        let evs = events(300);
        let mut journal = Journal::open(&path).unwrap().journal;
        journal.append(&evs).unwrap();
        let index = journal.index();
        let n = evs.len() as u64;
        let seqs = [1, 2, 63, 64, 65, 130, 131, 250, n, n + 1, n + 100];
        let read = read_seqs(&path, &index, &seqs).unwrap();
        let got: Vec<u64> = read.iter().map(|e| e.seq).collect();
        assert_eq!(
            got,
            [1, 2, 63, 64, 65, 130, 131, 250, n],
            "none past the end"
        );
        assert!(read.iter().all(|e| e == &evs[e.seq as usize - 1]));
        assert!(read_seqs(&path, &index, &[]).unwrap().is_empty());
    }

    #[test]
    fn appends_must_continue_the_seq() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join("c.journal"))
            .unwrap()
            .journal;
        let evs = events(2);
        assert!(journal.append(&evs[1..]).is_err());
        assert_eq!(journal.last_seq(), 0);
    }
}
