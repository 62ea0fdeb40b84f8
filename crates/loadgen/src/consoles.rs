//! Every team's and judge's console as a live socket of its own, as at a real event where each
//! team and each judge has the tracker open: the server then projects every event into one view
//! per console, which is what the cost of a scorecard by challenge size measures. The consoles
//! read and drop what they get; their messages are not part of the viewers' latency figures.

use std::net::IpAddr;

use futures_util::{SinkExt, StreamExt};
use makerpulse_core::protocol::ClientMessage;
use makerpulse_core::Parts;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::target;

/// Opens one socket per token on `url` (from 127.0.0.254, apart from the viewers' addresses),
/// says hello with it and the parts its page follows, and reads until `stop` changes. Returns once every console has had its
/// first message (the snapshot), with the tasks that hold them.
pub async fn open(
    url: &str,
    tokens: &[(String, Parts)],
    stop: watch::Receiver<u64>,
) -> anyhow::Result<JoinSet<()>> {
    let mut held = JoinSet::new();
    for (token, parts) in tokens {
        let mut ws = target::connect(url, IpAddr::from([127, 0, 0, 254])).await?;
        let hello = ClientMessage::Hello {
            token: Some(token.clone()),
            since: None,
            parts: *parts,
        };
        ws.send(Message::text(serde_json::to_string(&hello)?))
            .await?;
        // The welcome, then the snapshot.
        for _ in 0..2 {
            anyhow::ensure!(
                matches!(ws.next().await, Some(Ok(Message::Text(_)))),
                "a console got no snapshot"
            );
        }
        let mut stop = stop.clone();
        held.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Ping(p))) => {
                            let _ = ws.send(Message::Pong(p)).await;
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                }
            }
        });
    }
    Ok(held)
}
