//! Checkpoints: the folded state of a challenge saved beside its journal every [`EVERY`] events,
//! so that a restart and a read of the past fold only the events after the nearest one instead of
//! the whole journal.
//!
//! The journal stays the only truth. A checkpoint names the seq it holds, the length of the
//! journal up to that seq and the SHA-256 of those bytes, and a checkpoint is used only where the
//! journal, as read at open, has exactly those bytes: one from another journal, from beyond a
//! truncated or restored journal, or torn (its own body has a SHA-256 too) is ignored and the
//! events are folded instead. A checkpoint is written under another name, synced and renamed,
//! so a crash leaves either the whole file or a `.tmp` that nothing reads.
//!
//! The file: [`MAGIC`], then the seq, the journal length and the body length (each a
//! little-endian u64), the journal's SHA-256, the body's SHA-256, then the body: the state in
//! CBOR (self-describing, so the public types' own serde forms read back as they are).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use makerpulse_core::State;
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

/// The first bytes of every checkpoint file, with the format's version.
pub const MAGIC: &[u8; 8] = b"MPCKPT01";
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

fn file_for(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.ckpt"))
}

/// The marks of the checkpoint files in `dir`, as their headers claim, in seq order: what to
/// check against the journal. Files that cannot be read or do not start like a checkpoint are
/// left out.
pub fn claimed(dir: &Path) -> Vec<Mark> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut marks: Vec<Mark> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let seq: u64 = path
                .file_name()?
                .to_str()?
                .strip_suffix(".ckpt")?
                .parse()
                .ok()?;
            let (mark, _) = read_header(&mut File::open(&path).ok()?).ok()?;
            (mark.seq == seq).then_some(mark)
        })
        .collect();
    marks.sort_by_key(|m| m.seq);
    marks
}

fn read_header(file: &mut impl Read) -> std::io::Result<(Mark, ([u8; 32], u64))> {
    let mut header = [0u8; HEADER as usize];
    file.read_exact(&mut header)?;
    if &header[..8] != MAGIC {
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
    std::fs::create_dir_all(dir)?;
    let path = file_for(dir, mark.seq);
    let tmp = path.with_extension("ckpt.tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(&[0u8; HEADER as usize])?;
    let mut body = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        len: 0,
    };
    ciborium::into_writer(state, &mut body).map_err(std::io::Error::other)?;
    let (body_len, body_digest) = (body.len, body.hasher.finalize());
    let mut file = body.inner.into_inner().map_err(|e| e.into_error())?;
    let mut header = Vec::with_capacity(HEADER as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&mark.seq.to_le_bytes());
    header.extend_from_slice(&mark.len.to_le_bytes());
    header.extend_from_slice(&body_len.to_le_bytes());
    header.extend_from_slice(&mark.digest);
    header.extend_from_slice(&body_digest);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, &path)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(thin(dir, KEEP))
}

/// Removes checkpoints from `dir` until `keep` are left, each time the one (never the first or
/// the latest) whose neighbours are closest; and every `.tmp` a crash left. Returns the removed.
pub fn thin(dir: &Path, keep: usize) -> Vec<Mark> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let mut marks = claimed(dir);
    let mut removed = Vec::new();
    while marks.len() > keep.max(2) {
        let i = (1..marks.len() - 1)
            .min_by_key(|&i| marks[i + 1].seq - marks[i - 1].seq)
            .expect("more than two");
        let mark = marks.remove(i);
        let _ = std::fs::remove_file(file_for(dir, mark.seq));
        removed.push(mark);
    }
    removed
}

/// Loads the checkpoint of `mark` from `dir`: `None` when the file is gone, torn, damaged or not
/// the one `mark` names.
pub fn load(dir: &Path, mark: &Mark) -> Option<State> {
    let path = file_for(dir, mark.seq);
    let mut file = File::open(&path).ok()?;
    let size = file.metadata().ok()?.len();
    let (found, (body_digest, body_len)) = read_header(&mut file).ok()?;
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
        let path = file_for(&dir, 7);
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
