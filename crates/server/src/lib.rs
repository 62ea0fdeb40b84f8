//! The makerpulse server: the HTTP API, the live WebSocket and feeds, and the stores behind
//! [`event_log::EventLog`] (the embedded journal, the shared Redis stream), over the pure core in
//! `makerpulse-core`. `docs/architecture.md` walks one command through it.
//!
//! The binary and the tests start it the same way: bind a `TcpListener` (and, for `/metrics`,
//! another: [`Listeners`]), then [`run`] with a shutdown future.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

pub mod accept;
pub mod app;
pub mod archive;
pub mod audience;
pub mod backup;
pub mod cheers;
pub mod client_addr;
pub mod config;
pub mod demo;
pub mod event_log;
pub mod healthcheck;
pub mod http;
pub mod hub;
pub mod journal;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod photo_store;
pub mod picture;
pub mod redis_log;
pub mod socket;
pub mod web;

pub use app::{AppState, Config};

/// Where the server listens: the public port, and `/metrics` on a listener of its own (none:
/// not served), so that the metrics can stay on loopback or an internal network while the
/// public port faces the hall. A bare `TcpListener` is the public one alone.
pub struct Listeners {
    /// The API, the live sockets and feeds, and the pages.
    pub public: TcpListener,
    /// `GET /metrics` alone.
    pub metrics: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(public: TcpListener) -> Self {
        Listeners {
            public,
            metrics: None,
        }
    }
}

/// Loads the challenges under `config.settings.data_dir` and serves on `listener` until `shutdown`
/// completes; then tells live clients to reconnect, lets the feeds end, and writes the last
/// cheers. Every acknowledged command is already durable by then.
pub async fn run(
    listeners: impl Into<Listeners>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (state, stop) = AppState::open(config).await?;
    serve(listeners, state, stop, shutdown).await
}

/// The send buffer of every accepted connection, in bytes.
pub const SEND_BUFFER: usize = 256 * 1024;

/// Serves an opened [`AppState`]; see [`run`].
pub async fn serve(
    listeners: impl Into<Listeners>,
    state: AppState,
    stop: tokio::sync::watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Listeners {
        public: listener,
        metrics,
    } = listeners.into();
    let metrics = metrics.map(|listener| {
        let app = http::ops::metrics_router().with_state(state.clone());
        let mut stopping = state.shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { app::stopped(&mut stopping).await })
                .await
        })
    });
    let app = http::router(state.clone());
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = axum::serve::ListenerExt::tap_io(
        accept::Accepting {
            listener,
            metrics: state.metrics.clone(),
        },
        |conn: &mut accept::Guarded<tokio::net::TcpStream>| {
            let tcp = conn.get_ref();
            // A fixed send buffer instead of the kernel's autotuning (up to 4 MiB a socket here):
            // a viewer who stops reading then stalls the server's writes after a few dozen
            // messages, and is resynced or closed, rather than having megabytes copied into its
            // buffer at the expense of every other viewer's latency. Ample for a live view:
            // about 3 s of a busy stream, and a snapshot fits several times over.
            let _ = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER);
            let _ = tcp.set_nodelay(true);
        },
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: closing live connections");
            let _ = stop.send(true);
        })
        .await?;
    if let Some(metrics) = metrics {
        metrics.await??;
    }
    state.audience.drained(Duration::from_secs(5)).await;
    for hub in state.all_hubs() {
        hub.tally_cheers().await;
    }
    tracing::info!("stopped");
    Ok(())
}
