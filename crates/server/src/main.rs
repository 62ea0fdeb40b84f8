//! The `makerpulse` binary: parse the command line, start tracing, bind, and hand over to the
//! library.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use makerpulse_server::config::{Cli, Cmd, LogFormat, ServeArgs};
use makerpulse_server::{app, archive, backup, demo, healthcheck, AppState, Config, Listeners};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The main runtime's workers, as `--threads` says for a server (the audience's runtime
    // reads it from the settings), one per core otherwise.
    let threads = match &cli.command {
        Cmd::Serve(args) | Cmd::Demo { serve: args, .. } => args.settings.threads,
        _ => None,
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = threads {
        runtime.worker_threads(usize::from(threads));
    }
    runtime
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => log.json().with_current_span(true).init(),
    }
    match cli.command {
        Cmd::Serve(args) => {
            let (listeners, config) = prepare(&args).await?;
            makerpulse_server::run(listeners, config, shutdown_signal()).await
        }
        Cmd::Demo { serve, speed } => {
            let (listeners, config) = prepare(&serve).await?;
            let (state, stop) = AppState::open(config).await?;
            demo::start(state.clone(), speed).await?;
            let url = &state.config.public_url;
            println!("  演示挑战赛 / demo challenge:");
            for (zh, en, path) in [
                ("大屏", "big screen", "/screen/demo"),
                ("手机", "phone", "/phone/demo"),
                ("回放", "replay", "/replay/demo"),
                ("嵌入", "embed", "/embed/demo"),
                ("数据", "JSON view", "/api/challenges/demo/view"),
            ] {
                println!("    {zh} / {en}: {url}{path}");
            }
            makerpulse_server::serve(listeners, state, stop, shutdown_signal()).await
        }
        Cmd::Export {
            data_dir,
            challenge,
            output,
        } => archive::export(&data_dir, &challenge, output.as_deref()),
        Cmd::Import {
            data_dir,
            challenge,
            input,
        } => archive::import(&data_dir, &challenge, &input),
        Cmd::Healthcheck { bind, timeout } => {
            let addr = healthcheck::target(bind);
            let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.01, 60.0));
            if let Err(err) = healthcheck::check(addr, timeout).await {
                eprintln!("unhealthy: {err:#}");
                std::process::exit(1);
            }
            println!("ready");
            Ok(())
        }
        Cmd::Backup { data_dir, dir } => {
            let manifest = backup::backup(&data_dir, &dir)?;
            eprintln!(
                "backed up {} challenges and {} photos into {}",
                manifest.challenges.len(),
                manifest.photos,
                dir.display()
            );
            for c in &manifest.challenges {
                eprintln!("  {}: up to seq {}", c.id, c.last_seq);
            }
            Ok(())
        }
        Cmd::Restore { data_dir, dir } => {
            let manifest = backup::restore(&dir, &data_dir)?;
            eprintln!(
                "restored {} challenges and {} photos into {}",
                manifest.challenges.len(),
                manifest.photos,
                data_dir.display()
            );
            Ok(())
        }
    }
}

/// The log filter: `RUST_LOG` (default `info`), with the libraries that log whole messages and
/// headers at their finest levels held at `info`, so that a bearer token or a `hello` message
/// never reaches the log however verbose the rest is.
fn log_filter(rust_log: Option<&str>) -> EnvFilter {
    let wanted = rust_log
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("info,tower_http=warn");
    let capped = "tungstenite=info,tokio_tungstenite=info,hyper=info,hyper_util=info,h2=info";
    EnvFilter::try_new(format!("{wanted},{capped}"))
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{capped}")))
}

/// How many connections may wait to be accepted. `TcpListener::bind` leaves the kernel's
/// default of 128 here, and when ten thousand phones join at once (a big screen tells everyone
/// to open the page) the overflow is dropped and retried by the clients a whole second later.
/// The kernel caps this at `net.core.somaxconn` (4096 on current kernels).
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds the listeners and resolves the admin credential, printing a new admin token once.
async fn prepare(args: &ServeArgs) -> anyhow::Result<(Listeners, Config)> {
    let listener = listen(args.bind).with_context(|| format!("binding {}", args.bind))?;
    let metrics = match args.metrics_bind.0 {
        Some(addr) => Some(listen(addr).with_context(|| format!("binding the metrics to {addr}"))?),
        None => None,
    };
    let local = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_owned();
    let data_dir = &args.settings.data_dir;
    let (admin_token_hash, new_token) =
        app::admin_credential(data_dir, args.admin_token.as_deref())?;
    println!("makerpulse listening on {public_url}");
    if let Some(metrics) = &metrics {
        println!("  metrics: http://{}/metrics", metrics.local_addr()?);
    }
    match new_token {
        Some(token) => {
            println!("  管理员令牌（只显示这一次）/ admin token (shown only this once): {token}");
            println!("  管理控制台 / admin console: {public_url}/admin#token={token}");
        }
        None if args.admin_token.is_none() => println!(
            "  admin token: the one printed at the first start (its hash is in {}; delete that file to mint a new one)",
            data_dir.join("admin-token.sha256").display()
        ),
        None => println!("  admin token: from MAKERPULSE_ADMIN_TOKEN"),
    }
    let listeners = Listeners {
        public: listener,
        metrics,
    };
    Ok((listeners, args.config(admin_token_hash, public_url)))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
