//! The `makerpulse-loadgen` binary: parses the flags, runs, prints the table and writes JSON.
//! It exits 1 when the run was not clean (a connection, gap, error or lost message).

use clap::Parser;
use makerpulse_loadgen::{run, Config};

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.threads.max(1))
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(&config))?;
    print!("{}", report.table());
    if let Some(path) = &config.json {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    // Dropping a runtime with thousands of sockets takes a while; the report is out already.
    runtime.shutdown_background();
    if !report.clean() {
        std::process::exit(1);
    }
    Ok(())
}
