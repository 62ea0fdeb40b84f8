//! `makerpulse export` and `import`: a challenge's event log as NDJSON, for archives and for
//! moving a challenge to another server.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::{bail, Context};
use makerpulse_core::{ChallengeId, Event, EventBody, State};

use crate::journal::{self, Journal};

/// Writes every event of `challenge` to `output` (standard output when `None`).
pub fn export(
    data_dir: &Path,
    challenge: &ChallengeId,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let path = journal::path_for(data_dir, challenge);
    if !path.exists() {
        bail!("no journal for challenge {challenge} at {}", path.display());
    }
    let events = journal::read_until(&path, u64::MAX)?;
    let mut out: Box<dyn Write> = match output {
        Some(file) => Box::new(
            std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    for event in &events {
        writeln!(out, "{}", event.to_json())?;
    }
    out.flush()?;
    eprintln!("exported {} events of {challenge}", events.len());
    Ok(())
}

/// Reads an NDJSON log into a new journal for `challenge`, after checking that it replays
/// cleanly and belongs to that challenge. Refuses to overwrite an existing journal.
pub fn import(data_dir: &Path, challenge: &ChallengeId, input: &Path) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if input == Path::new("-") {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(BufReader::new(
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?,
        ))
    };
    let mut events = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event = Event::from_json(&line).with_context(|| format!("line {}", n + 1))?;
        events.push(event);
    }
    match events.first().map(|e| &e.body) {
        Some(EventBody::ChallengeCreated { id, .. }) if id == challenge => {}
        Some(EventBody::ChallengeCreated { id, .. }) => {
            bail!("the log is of challenge {id}, not {challenge}")
        }
        _ => bail!("the log does not start with the creation of a challenge"),
    }
    State::replay(&events).context("the log does not replay")?;
    let path = journal::path_for(data_dir, challenge);
    if path.exists() && std::fs::metadata(&path)?.len() > 0 {
        bail!(
            "challenge {challenge} already has a journal at {}; not overwriting it",
            path.display()
        );
    }
    let mut journal = Journal::open(&path)?.journal;
    journal.append(&events)?;
    eprintln!("imported {} events into {}", events.len(), path.display());
    Ok(())
}
