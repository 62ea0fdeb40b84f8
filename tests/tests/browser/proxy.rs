//! A TCP proxy in front of the server that a test can cut and restore, as a phone losing and
//! finding its Wi-Fi: cutting drops every open connection and refuses new ones.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy.
pub(crate) struct Proxy {
    /// Where browsers connect.
    pub(crate) addr: SocketAddr,
    online: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    /// Starts forwarding to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let online = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (on, tx) = (online.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !on.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = tx.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, online, cuts }
    }

    /// The network goes away: open connections drop, new ones are refused.
    pub(crate) fn cut(&self) {
        self.online.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// The network comes back.
    pub(crate) fn restore(&self) {
        self.online.store(true, Ordering::SeqCst);
    }
}
