//! The real `makerpulse` binary refuses to start with an admin token too short to resist
//! guessing, and says why.

use std::process::Command as Process;

#[test]
fn a_short_admin_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Process::new(env!("CARGO_BIN_EXE_makerpulse"))
        .arg("serve")
        .env("MAKERPULSE_BIND", "127.0.0.1:0")
        .env("MAKERPULSE_METRICS_BIND", "off")
        .env("MAKERPULSE_DATA_DIR", dir.path())
        .env("MAKERPULSE_ADMIN_TOKEN", "hunter2-is-short")
        .output()
        .unwrap();
    assert!(!out.status.success(), "it must not start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MAKERPULSE_ADMIN_TOKEN is 16 characters long; it must be at least 24"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the token itself is not printed"
    );
}
