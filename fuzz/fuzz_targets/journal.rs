//! Fuzzes the journal reader: any bytes on disk must open as a journal (cutting a torn tail),
//! or be refused as damaged — never a panic, and never a half-applied record.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use makerpulse_server::journal::Journal;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.journal");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write");
    if let Ok(opened) = Journal::open(&path) {
        // What was kept is a gapless prefix that reads back whole after reopening.
        let kept = opened.events.clone();
        assert!(kept.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        drop(opened);
        let again = Journal::open(&path).expect("a journal that opened opens again");
        assert_eq!(again.events, kept);
        assert_eq!(again.cut_bytes, 0, "the torn tail was cut for good");
    }
});
