//! The ceiling of the benchmark: the least a WebSocket fan-out can do on this machine. A raw
//! tokio-tungstenite server that forwards each text frame of its publisher (`?pub=1`) to every
//! other connection as the same pre-serialised bytes, through a tokio broadcast channel, with
//! the buffer sizes DESIGN.md recommends. New viewers first get one fixed "snapshot" message.

use std::net::SocketAddr;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Flags.
#[derive(Parser, Debug)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9001")]
    bind: SocketAddr,
    /// Size of the message each viewer gets on connecting, in bytes.
    #[arg(long, default_value_t = 1024)]
    snapshot_bytes: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    makerpulse_loadgen::procstat::raise_nofile();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        builder.worker_threads(n);
    }
    builder.enable_all().build()?.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    // The same backlog as makerpulse (the kernel default of 128 drops a join storm's SYNs).
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(args.bind)?;
    let listener: TcpListener = socket.listen(4096)?;
    println!("ceiling listening on {}", listener.local_addr()?);
    let snapshot = {
        let head = r#"{"type":"snapshot","pad":""#;
        let pad = args.snapshot_bytes.saturating_sub(head.len() + 2);
        Utf8Bytes::from(format!("{head}{}\"}}", "x".repeat(pad)))
    };
    let (tx, _) = broadcast::channel::<Utf8Bytes>(256);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, tx.clone(), snapshot.clone()));
    }
}

async fn connection(stream: TcpStream, tx: broadcast::Sender<Utf8Bytes>, snapshot: Utf8Bytes) {
    let config = WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(4 * 1024);
    let mut publisher = false;
    // The error type is tungstenite's, sized as it is; this callback never fails.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, res: Response| {
        publisher = req.uri().query().is_some_and(|q| q.contains("pub=1"));
        Ok(res)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    if publisher {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(text) = msg {
                let _ = tx.send(text);
            }
        }
        return;
    }
    let mut rx = tx.subscribe();
    if sink.send(Message::Text(snapshot)).await.is_err() {
        return;
    }
    let (gone_tx, mut gone) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if msg.is_close() {
                break;
            }
        }
        let _ = gone_tx.send(());
    });
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(text) => {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut gone => break,
        }
    }
    reader.abort();
}
