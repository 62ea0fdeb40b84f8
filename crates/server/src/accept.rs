//! How the public listener accepts connections: with a guard that fails a connection's writes
//! once they have made no progress for [`WRITE_TIMEOUT`], so that a client who stops reading
//! holds nothing of the server's for longer than that, whatever it was sent (a feed, a socket, a
//! photo).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use crate::metrics::Metrics;

use crate::live::WRITE_TIMEOUT;

/// The public listener: a [`TcpListener`] whose connections are [`Guarded`], each connection
/// closed for a stall counted in `metrics`.
pub struct Accepting {
    /// The listener.
    pub listener: TcpListener,
    /// Where stalled connections are counted.
    pub metrics: Arc<Metrics>,
}

impl axum::serve::Listener for Accepting {
    type Io = Guarded<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        let guarded = Guarded::new(tcp, WRITE_TIMEOUT).counted_in(self.metrics.clone());
        (guarded, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection whose writes fail with `TimedOut` once they have waited `limit` without
/// progress. hyper keeps a response's writes pending for as long as the client does not read,
/// and the body of a feed is only asked for more when there is room, so without this a feed
/// reader who stops reading would hold its connection, its slot and its buffers for good.
pub struct Guarded<S> {
    inner: S,
    limit: std::time::Duration,
    /// Armed at the first write that waits, disarmed by any write that goes through.
    stalled: Option<Pin<Box<Sleep>>>,
    /// Where a close is counted. A socket's writer has a timeout of its own, as long and started
    /// a moment earlier; whichever ends the connection counts it, so it is counted once.
    metrics: Option<Arc<Metrics>>,
}

impl<S> Guarded<S> {
    /// `inner`, with writes that may wait `limit` at most.
    pub fn new(inner: S, limit: std::time::Duration) -> Self {
        Guarded {
            inner,
            limit,
            stalled: None,
            metrics: None,
        }
    }

    /// The same, counting a stalled connection's close in `metrics`.
    pub fn counted_in(self, metrics: Arc<Metrics>) -> Self {
        Guarded {
            metrics: Some(metrics),
            ..self
        }
    }

    /// The connection inside.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// What a write that returned `poll` means: progress disarms the timer, waiting arms it
    /// (once), and waiting past it is an error.
    fn watch<T>(&mut self, poll: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                if let Some(metrics) = self.metrics.take() {
                    metrics.slow_close();
                    tracing::info!("closing a connection whose writes stalled");
                }
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(poll, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(poll, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(poll, cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const LIMIT: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_write_that_waits_past_the_limit_fails() {
        let (near, _far) = tokio::io::duplex(8);
        let mut guarded = Guarded::new(near, LIMIT);
        guarded.write_all(b"12345678").await.unwrap();
        let started = tokio::time::Instant::now();
        let err = guarded.write_all(b"9").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= LIMIT);
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_is_never_cut_off() {
        let (near, mut far) = tokio::io::duplex(8);
        let mut guarded = Guarded::new(near, LIMIT);
        let reader = tokio::spawn(async move {
            let mut byte = [0u8; 1];
            for _ in 0..16 {
                tokio::time::sleep(LIMIT / 3).await;
                far.read_exact(&mut byte).await.unwrap();
            }
        });
        // Sixteen bytes through an eight-byte pipe read one at a time: longer than the limit in
        // all, but no write waits as long as the limit.
        guarded.write_all(&[7u8; 16]).await.unwrap();
        reader.await.unwrap();
    }
}
