//! Checkpoints: the folded state of a challenge saved beside its journal, so that a restart and
//! a read of the past fold only the events after the nearest one instead of the whole journal.
//! Two kinds, in one folder:
//!
//! - `SEQ.ckpt`, the whole state, every [`EVERY`] events, at most [`KEEP`] kept: what a restart
//!   loads (answers and older posts included, so the server goes on exactly where it was);
//! - `SEQ.past`, the state as a read of the past needs it ([`makerpulse_core::Past`]: without
//!   the answers and the older posts' ids, which grow with the challenge), gzipped, every
//!   [`PAST_EVERY`] events, at most [`KEEP_PAST`] kept: what `view?at=SEQ` loads, ~100–200 KB
//!   whatever the length of the journal, so that a read costs one small checkpoint and at most
//!   a few thousand events folded.
//!
//! The journal stays the only truth. A checkpoint names the seq it holds, the length of the
//! journal up to that seq and the SHA-256 of those bytes, and a checkpoint is used only where the
//! journal, as read at open, has exactly those bytes: one from another journal, from beyond a
//! truncated or restored journal, or torn (its own body has a SHA-256 too) is ignored and the
//! events are folded instead. A checkpoint is written under another name, synced and renamed,
//! so a crash leaves either the whole file or a `.tmp` that nothing reads.
//!
//! The file: its kind's magic ([`MAGIC`], [`MAGIC_PAST`]), then the seq, the journal length and
//! the body length (each a little-endian u64), the journal's SHA-256, the body's SHA-256, then
//! the body: the state in CBOR (self-describing, so the public types' own serde forms read back
//! as they are); for a `.past`, the state of the past in MessagePack (self-describing too, with
//! the fields named, and decoded in ~half the time of CBOR: the decode is most of a read of the
//! past), gzipped. A `.past` of the first format (CBOR, gzipped, [`MAGIC_PAST_CBOR`]) still reads.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use makerpulse_core::{Past, State};
use sha2::{Digest, Sha256};

/// Events between two checkpoints. A read of the past folds at most this many events after
/// loading one (≈ 0.1 s at the release build's ~100k events/s), and each checkpoint costs a
/// clone and one write of the whole state; see bench/README.md, "Memory over 72 hours and history
/// reads", for the measurements behind it.
pub const EVERY: u64 = 20_000;

/// Checkpoints kept on disk. Past that, the one whose neighbours are closest is removed, so that
/// the ones kept stay evenly spread over the journal (the latest is always kept): a long journal
/// has checkpoints further apart rather than ever more of them.
pub const KEEP: usize = 16;

/// Events between two checkpoints of the past. A read of the past folds at most this many
/// events after loading one (5–10 µs each at the release build: up to ~10 ms, as much as the
/// rest of the read), and each costs a copy of what the views show and ~100–200 KB on disk (60
/// teams, 12 judges); see bench/README.md, "History reads in O(1)".
pub const PAST_EVERY: u64 = 1_000;

/// Checkpoints of the past kept on disk, thinned like [`KEEP`]: [`PAST_EVERY`] apart up to
/// `KEEP_PAST × PAST_EVERY` events (2 M: 72 hours at ~8 events a second), further apart beyond;
/// ~200 MB at most at 60 teams, beside a journal of ~750 MB.
pub const KEEP_PAST: usize = 2048;

/// The first bytes of every checkpoint file of the whole state, with the format's version.
pub const MAGIC: &[u8; 8] = b"MPCKPT01";

/// The first bytes of every checkpoint file of the past, with the format's version: the state
/// of the past in MessagePack, gzipped.
pub const MAGIC_PAST: &[u8; 8] = b"MPPAST02";

/// The first bytes of a checkpoint file of the past of the first format, which is still read:
/// the state of the past in CBOR, gzipped.
pub const MAGIC_PAST_CBOR: &[u8; 8] = b"MPPAST01";

/// What a checkpoint file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The whole state, for a restart (`SEQ.ckpt`).
    State,
    /// The state of the past, for reads of the past (`SEQ.past`).
    Past,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::State => "ckpt",
            Kind::Past => "past",
        }
    }

    /// The magic a file of this kind is written with.
    fn magic(self) -> &'static [u8; 8] {
        match self {
            Kind::State => MAGIC,
            Kind::Past => MAGIC_PAST,
        }
    }

    /// Whether a file that starts with `magic` is one of this kind, of a format still read.
    fn reads(self, magic: &[u8]) -> bool {
        match self {
            Kind::State => magic == MAGIC,
            Kind::Past => magic == MAGIC_PAST || magic == MAGIC_PAST_CBOR,
        }
    }
}
const HEADER: u64 = 8 + 3 * 8 + 2 * 32;

/// What a checkpoint covers: the journal's first `len` bytes, whose last event is `seq`, and the
/// SHA-256 of those bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The seq of the state saved.
    pub seq: u64,
    /// The journal's length up to the end of that seq's line.
    pub len: u64,
    /// The SHA-256 of those bytes.
    pub digest: [u8; 32],
}

/// The folder of the checkpoints of the journal at `journal`.
pub fn dir_for(journal: &Path) -> PathBuf {
    journal.with_extension("checkpoints")
}

/// The file of the checkpoint of `kind` at `seq` in `dir`.
pub fn file_for(dir: &Path, kind: Kind, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.{}", kind.extension()))
}

/// The marks of the checkpoint files of the whole state in `dir`, as their headers claim, in seq
/// order: what to check against the journal. Files that cannot be read or do not start like a
/// checkpoint are left out.
pub fn claimed(dir: &Path) -> Vec<Mark> {
    claimed_of(dir, Kind::State)
}

/// [`claimed`], for the checkpoints of `kind`.
pub fn claimed_of(dir: &Path, kind: Kind) -> Vec<Mark> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let suffix = format!(".{}", kind.extension());
    let mut marks: Vec<Mark> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let seq: u64 = path
                .file_name()?
                .to_str()?
                .strip_suffix(suffix.as_str())?
                .parse()
                .ok()?;
            let (mark, _) = read_header(&mut File::open(&path).ok()?, kind).ok()?;
            (mark.seq == seq).then_some(mark)
        })
        .collect();
    marks.sort_by_key(|m| m.seq);
    marks
}

fn read_header(file: &mut impl Read, kind: Kind) -> std::io::Result<(Mark, ([u8; 32], u64))> {
    let mut header = [0u8; HEADER as usize];
    file.read_exact(&mut header)?;
    if !kind.reads(&header[..8]) {
        return Err(std::io::Error::other("not a checkpoint"));
    }
    let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().expect("8 bytes"));
    let digest_at = |i: usize| -> [u8; 32] { header[i..i + 32].try_into().expect("32 bytes") };
    let mark = Mark {
        seq: u64_at(8),
        len: u64_at(16),
        digest: digest_at(32),
    };
    Ok((mark, (digest_at(64), u64_at(24))))
}

/// Saves `state`, which is the fold of the journal's bytes that `mark` covers, into `dir`, then
/// thins the folder to [`KEEP`]. Returns the marks of the checkpoints removed.
pub fn save(dir: &Path, mark: Mark, state: &State) -> std::io::Result<Vec<Mark>> {
    debug_assert_eq!(mark.seq, state.seq());
    write(dir, Kind::State, mark, true, &mut |body| {
        ciborium::into_writer(state, body).map_err(std::io::Error::other)
    })?;
    Ok(thin(dir, KEEP))
}

/// Saves `past`, the state of the past at the seq of `mark` (see [`save`]), into `dir`; synced
/// when `durable`. The hundreds saved along a fold at open are not (a sync each made the first
/// start of a 1 M-event journal five times slower): one that a crash leaves torn or empty does
/// not read back, so it is ignored, and removed at the next open ([`unreadable_pasts`]).
/// Thinning these is the caller's ([`thinned`]): it knows them all without reading the folder.
/// Returns the file's size.
pub fn save_past(dir: &Path, mark: Mark, past: &Past, durable: bool) -> std::io::Result<u64> {
    debug_assert_eq!(mark.seq, past.seq());
    // Encoded whole, then compressed in one go: the encoder's many small writes each cost a
    // pass through the compressor's stream state (a third of the first start's time).
    let encoded = rmp_serde::to_vec_named(past).map_err(std::io::Error::other)?;
    write(dir, Kind::Past, mark, durable, &mut |body| {
        let mut gz = flate2::write::GzEncoder::new(body, flate2::Compression::fast());
        gz.write_all(&encoded)?;
        gz.finish().map(drop)
    })
}

/// Writes a checkpoint of `kind`: the header, the body `body` writes, synced (when `durable`),
/// renamed into place. Returns the file's size.
fn write(
    dir: &Path,
    kind: Kind,
    mark: Mark,
    durable: bool,
    body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let path = file_for(dir, kind, mark.seq);
    let tmp = path.with_extension(format!("{}.tmp", kind.extension()));
    let mut file = File::create(&tmp)?;
    file.write_all(&[0u8; HEADER as usize])?;
    let mut hashing = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        len: 0,
    };
    body(&mut hashing)?;
    let (body_len, body_digest) = (hashing.len, hashing.hasher.finalize());
    let mut file = hashing.inner.into_inner().map_err(|e| e.into_error())?;
    let mut header = Vec::with_capacity(HEADER as usize);
    header.extend_from_slice(kind.magic());
    header.extend_from_slice(&mark.seq.to_le_bytes());
    header.extend_from_slice(&mark.len.to_le_bytes());
    header.extend_from_slice(&body_len.to_le_bytes());
    header.extend_from_slice(&mark.digest);
    header.extend_from_slice(&body_digest);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    if durable {
        file.sync_all()?;
    }
    drop(file);
    std::fs::rename(&tmp, &path)?;
    if durable {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(HEADER + body_len)
}

/// The files in `dir` named like checkpoints of the past that do not read as one (what a crash
/// left of one saved unsynced), and the `.tmp`s of any: to remove.
pub fn unreadable_pasts(dir: &Path) -> Vec<PathBuf> {
    let good: Vec<u64> = claimed_of(dir, Kind::Past).iter().map(|m| m.seq).collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            let seq = name
                .strip_suffix(".past")
                .and_then(|s| s.parse::<u64>().ok());
            seq.is_some_and(|seq| !good.contains(&seq)) || name.ends_with(".past.tmp")
        })
        .collect()
}

/// Removes checkpoints of the whole state from `dir` until `keep` are left (see [`thinned`]),
/// and every `.tmp` a crash left. Returns the removed.
pub fn thin(dir: &Path, keep: usize) -> Vec<Mark> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let mut marks = claimed(dir);
    let removed = thinned(&mut marks, keep);
    for mark in &removed {
        let _ = std::fs::remove_file(file_for(dir, Kind::State, mark.seq));
    }
    removed
}

/// Takes out of `marks` (in seq order) until `keep` are left, each time the one (never the first
/// or the latest) whose neighbours are closest, so that the ones kept stay evenly spread and a
/// longer journal has them further apart rather than ever more of them. Returns those taken.
pub fn thinned(marks: &mut Vec<Mark>, keep: usize) -> Vec<Mark> {
    let mut removed = Vec::new();
    while marks.len() > keep.max(2) {
        let i = (1..marks.len() - 1)
            .min_by_key(|&i| marks[i + 1].seq - marks[i - 1].seq)
            .expect("more than two");
        removed.push(marks.remove(i));
    }
    removed
}

/// Loads the checkpoint of `mark` from `dir`: `None` when the file is gone, torn, damaged or not
/// the one `mark` names.
pub fn load(dir: &Path, mark: &Mark) -> Option<State> {
    let path = file_for(dir, Kind::State, mark.seq);
    let mut file = File::open(&path).ok()?;
    let size = file.metadata().ok()?.len();
    let (found, (body_digest, body_len)) = read_header(&mut file, Kind::State).ok()?;
    if found != *mark || size != HEADER + body_len {
        return None;
    }
    let mut body = Hashing {
        inner: BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        len: 0,
    };
    let state: Result<State, _> = ciborium::from_reader(&mut body);
    // What the decoder did not read still counts toward the digest.
    std::io::copy(&mut body, &mut std::io::sink()).ok()?;
    let whole = body.len == body_len && body.hasher.finalize()[..] == body_digest;
    match state {
        Ok(state) if whole && state.seq() == mark.seq => Some(state),
        _ => {
            tracing::warn!(checkpoint = %path.display(), "a checkpoint does not read back; ignored");
            None
        }
    }
}

/// Loads the checkpoint of the past of `mark` from `dir`, like [`load`]: the file is read whole
/// (it is small) and its digest checked before it is decoded.
pub fn load_past(dir: &Path, mark: &Mark) -> Option<Past> {
    let path = file_for(dir, Kind::Past, mark.seq);
    let bytes = std::fs::read(&path).ok()?;
    let (found, (body_digest, body_len)) = read_header(&mut &bytes[..], Kind::Past).ok()?;
    let body = &bytes[HEADER as usize..];
    let whole =
        found == *mark && body.len() as u64 == body_len && Sha256::digest(body)[..] == body_digest;
    // Decompressed whole before it is decoded: the decoder's byte-sized reads through the
    // decompressor cost more than the decoding (a profile of `view?at`).
    let mut encoded = Vec::new();
    let past = (whole
        && flate2::read::GzDecoder::new(body)
            .read_to_end(&mut encoded)
            .is_ok())
    .then(|| match &bytes[..8] == MAGIC_PAST_CBOR {
        true => ciborium::from_reader::<Past, _>(&encoded[..]).ok(),
        false => rmp_serde::from_slice::<Past>(&encoded).ok(),
    })
    .flatten()
    .filter(|past| past.seq() == mark.seq);
    if past.is_none() {
        tracing::warn!(checkpoint = %path.display(), "a checkpoint does not read back; ignored");
    }
    past
}

/// A reader or writer that hashes and counts what goes through it.
struct Hashing<T> {
    inner: T,
    hasher: Sha256,
    len: u64,
}

impl<T: Write> Write for Hashing<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Hashing<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(seq: u64) -> Mark {
        Mark {
            seq,
            len: seq * 100,
            digest: [seq as u8; 32],
        }
    }

    /// A state at `seq`: only the seq matters to the file's checks.
    fn state_at(seq: u64) -> State {
        let mut bytes = Vec::new();
        ciborium::into_writer(&State::new(), &mut bytes).unwrap();
        let mut value: ciborium::Value = ciborium::from_reader(&bytes[..]).unwrap();
        if let ciborium::Value::Map(fields) = &mut value {
            for (k, v) in fields.iter_mut() {
                if k.as_text() == Some("seq") {
                    *v = ciborium::Value::Integer(seq.into());
                }
            }
        }
        let mut bytes = Vec::new();
        ciborium::into_writer(&value, &mut bytes).unwrap();
        ciborium::from_reader(&bytes[..]).unwrap()
    }

    #[test]
    fn a_checkpoint_reads_back_only_whole_and_as_named() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("c.checkpoints");
        save(&dir, mark(7), &state_at(7)).unwrap();
        assert_eq!(claimed(&dir), vec![mark(7)]);
        assert_eq!(load(&dir, &mark(7)).unwrap().seq(), 7);
        let other = Mark {
            digest: [9; 32],
            ..mark(7)
        };
        assert!(load(&dir, &other).is_none(), "another journal's bytes");
        let path = file_for(&dir, Kind::State, 7);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(load(&dir, &mark(7)).is_none(), "torn");
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(load(&dir, &mark(7)).is_none(), "damaged");
        std::fs::write(&path, b"junk").unwrap();
        assert!(claimed(&dir).is_empty());
    }

    #[test]
    fn a_checkpoint_of_the_past_reads_back_only_whole_and_as_named() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("c.checkpoints");
        let past = state_at(7).past();
        let size = save_past(&dir, mark(7), &past, true).unwrap();
        let path = file_for(&dir, Kind::Past, 7);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
        assert_eq!(claimed_of(&dir, Kind::Past), vec![mark(7)]);
        assert!(
            claimed(&dir).is_empty(),
            "not a checkpoint of the whole state"
        );
        assert!(load(&dir, &mark(7)).is_none(), "no whole state at 7");
        assert_eq!(load_past(&dir, &mark(7)), Some(past));
        let other = Mark {
            digest: [9; 32],
            ..mark(7)
        };
        assert!(load_past(&dir, &other).is_none(), "another journal's bytes");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(load_past(&dir, &mark(7)).is_none(), "torn");
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(load_past(&dir, &mark(7)).is_none(), "damaged");
        // A whole state's file renamed as a past one is not one.
        save(&dir, mark(7), &state_at(7)).unwrap();
        std::fs::copy(file_for(&dir, Kind::State, 7), &path).unwrap();
        assert!(claimed_of(&dir, Kind::Past).is_empty());
        assert!(load_past(&dir, &mark(7)).is_none());
        // What a crash leaves of one saved unsynced: to remove, and only that.
        save_past(&dir, mark(8), &state_at(8).past(), false).unwrap();
        std::fs::write(file_for(&dir, Kind::Past, 9), b"").unwrap();
        std::fs::write(dir.join("00000000000000000010.past.tmp"), b"half").unwrap();
        let mut junk = unreadable_pasts(&dir);
        junk.sort();
        assert_eq!(
            junk,
            vec![
                file_for(&dir, Kind::Past, 7),
                file_for(&dir, Kind::Past, 9),
                dir.join("00000000000000000010.past.tmp"),
            ]
        );
    }

    #[test]
    fn a_checkpoint_of_the_past_of_the_first_format_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("c.checkpoints");
        let past = state_at(7).past();
        // The first format: the same file, but CBOR inside the gzip, and its own magic.
        let mut cbor = Vec::new();
        ciborium::into_writer(&past, &mut cbor).unwrap();
        write(&dir, Kind::Past, mark(7), true, &mut |body| {
            let mut gz = flate2::write::GzEncoder::new(body, flate2::Compression::fast());
            gz.write_all(&cbor)?;
            gz.finish().map(drop)
        })
        .unwrap();
        let path = file_for(&dir, Kind::Past, 7);
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], MAGIC_PAST);
        bytes[..8].copy_from_slice(MAGIC_PAST_CBOR);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(claimed_of(&dir, Kind::Past), vec![mark(7)]);
        assert!(unreadable_pasts(&dir).is_empty());
        assert_eq!(load_past(&dir, &mark(7)), Some(past.clone()));
        // Its CBOR under the new magic is not MessagePack: it does not read.
        bytes[..8].copy_from_slice(MAGIC_PAST);
        std::fs::write(&path, &bytes).unwrap();
        assert!(load_past(&dir, &mark(7)).is_none());
        // Saved again, it is written in the new format and reads back.
        save_past(&dir, mark(7), &past, true).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC_PAST);
        assert_eq!(load_past(&dir, &mark(7)), Some(past));
    }

    #[test]
    fn thinning_marks_in_memory_spreads_them_like_the_folder() {
        let mut marks: Vec<Mark> = (1..=100).map(|k| mark(k * 10)).collect();
        let removed = thinned(&mut marks, 10);
        assert_eq!((marks.len(), removed.len()), (10, 90));
        assert_eq!((marks[0].seq, marks[9].seq), (10, 1000));
        assert!(
            marks.windows(2).all(|w| w[1].seq - w[0].seq <= 160),
            "{marks:?}"
        );
        assert!(thinned(&mut marks, 10).is_empty());
    }

    #[test]
    fn thinning_keeps_the_ends_and_spreads_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("c.checkpoints");
        for k in 1..=10 {
            save(&dir, mark(k * 10), &state_at(k * 10)).unwrap();
        }
        std::fs::write(dir.join("00000000000000000110.ckpt.tmp"), b"torn").unwrap();
        let removed = thin(&dir, 4);
        assert_eq!(removed.len(), 6);
        let kept: Vec<u64> = claimed(&dir).iter().map(|m| m.seq).collect();
        assert_eq!(kept.len(), 4);
        assert_eq!((kept[0], kept[3]), (10, 100));
        assert!(kept.windows(2).all(|w| w[1] - w[0] <= 40), "{kept:?}");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            4,
            "the .tmp is gone"
        );
    }
}
