//! The runtime the audience's live connections run on, apart from the one that serves HTTP,
//! commands and the consoles' sockets.
//!
//! One event wakes every audience connection: ten thousand tasks at once, each writing its copy
//! to its socket. On one shared runtime, whatever is woken next (the HTTP request of a judge's
//! next score, the answer to a team's post) waits in line behind all of them: a post answered in
//! ~3 ms with nobody watching took 190 ms at the median and 750 ms at p99 with 10k viewers. With
//! the audience on a runtime of its own, the operating system shares the cores between the two
//! runtimes' threads, and a command never queues behind the fan-out. The consoles (a few hundred
//! connections at most, and the ones that send commands) stay on the main runtime; the audience's
//! cheers, counted in memory, are answered on the audience's runtime.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The audience's runtime and how many connections run on it.
pub struct AudienceRuntime {
    runtime: Option<tokio::runtime::Runtime>,
    live: Arc<AtomicUsize>,
}

impl AudienceRuntime {
    /// A multi-threaded runtime with `threads` workers, or one per core.
    pub fn new(threads: Option<u16>) -> std::io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(threads) = threads {
            builder.worker_threads(usize::from(threads).max(1));
        }
        let runtime = builder.thread_name("audience").enable_all().build()?;
        Ok(AudienceRuntime {
            runtime: Some(runtime),
            live: Arc::default(),
        })
    }

    /// Runs one audience connection on this runtime: `connection` makes its future from the
    /// place it holds in the count, which it keeps until it ends (returned, panicked or
    /// cancelled). The future is spawned as it is, not wrapped: a wrapping async block would
    /// hold the future twice (what it captures, and the future it awaits).
    pub fn spawn<C, F>(&self, connection: C)
    where
        C: FnOnce(Counted) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        self.live.fetch_add(1, Ordering::Relaxed);
        let connection = connection(Counted(self.live.clone()));
        if let Some(runtime) = &self.runtime {
            runtime.spawn(connection);
        }
    }

    /// Connections running now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Waits, at most `limit`, for every connection to end: at shutdown they each send their
    /// viewer a close frame saying to reconnect, which must go out before the process exits.
    pub async fn drained(&self, limit: Duration) {
        let started = Instant::now();
        while self.live() > 0 && started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One connection's place in the count of those running on the audience's runtime.
pub struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for AudienceRuntime {
    fn drop(&mut self) {
        // Dropped from inside the main runtime at exit: a blocking shutdown would panic there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workers(audience: &AudienceRuntime) -> usize {
        audience
            .runtime
            .as_ref()
            .expect("running")
            .metrics()
            .num_workers()
    }

    #[test]
    fn the_audience_runs_on_as_many_workers_as_it_is_given_or_one_per_core() {
        assert_eq!(workers(&AudienceRuntime::new(Some(1)).unwrap()), 1);
        assert_eq!(workers(&AudienceRuntime::new(Some(3)).unwrap()), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
            assert_eq!(workers(&AudienceRuntime::new(None).unwrap()), cores);
        }
    }
}
