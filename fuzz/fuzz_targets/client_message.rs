//! Fuzzes the decoder of what a WebSocket client sends: any bytes, read as a protocol message and
//! as a command envelope, must give a value or an error — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use makerpulse_core::protocol::ClientMessage;
use makerpulse_core::Envelope;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<ClientMessage>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(envelope) = Envelope::from_json(text) {
            // What was read writes back and reads again as the same value.
            let json = serde_json::to_string(&envelope).expect("serialises");
            assert_eq!(Envelope::from_json(&json).expect("reads back"), envelope);
        }
    }
});
