//! Where verification work runs, so that a flood of `Verify` calls cannot starve the rest of
//! the server (gRPC health, the accept loop, captures).
//!
//! Answering `Verify` on the async runtime's worker threads let a flood of them fill the
//! workers' run queues: a health check waited behind every verification queued before it. Here
//! each verification runs on the blocking pool, at most [`GateOptions::threads`] at once, so
//! the worker threads stay free to read requests and answer health checks (the operating
//! system shares the cores between them). At most [`GateOptions::waiting_max`] more wait for
//! a thread; one more is refused at once with `RESOURCE_EXHAUSTED` / `OVERLOADED` instead of
//! queueing without bound.

use std::sync::Arc;

use isnad_proto::contract::Reason;
use tokio::sync::Semaphore;

use crate::error::LedgerError;

/// Verifications waiting for a thread at most, by default: about a second of work on two
/// cores, well within a client's patience and the unary call timeout.
pub const VERIFY_WAITING_MAX_DEFAULT: usize = 1_024;

/// How many verifications run at once and how many may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateOptions {
    /// Verifications running at once at most (threads of the blocking pool they use).
    pub threads: usize,
    /// Verifications waiting for a thread at most; beyond it they are shed.
    pub waiting_max: usize,
}

impl Default for GateOptions {
    /// One thread per core, and [`VERIFY_WAITING_MAX_DEFAULT`] waiting.
    fn default() -> GateOptions {
        GateOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            waiting_max: VERIFY_WAITING_MAX_DEFAULT,
        }
    }
}

/// Bounded, off-runtime execution of verification work, shedding what does not fit.
#[derive(Debug, Clone)]
pub struct Gate {
    /// Places for admitted work: running plus waiting.
    admitted: Arc<Semaphore>,
    /// Places for running work.
    running: Arc<Semaphore>,
    options: GateOptions,
}

impl Gate {
    /// A gate of `options` (each at least 1 thread; 0 waiting means only what runs at once).
    pub fn new(options: GateOptions) -> Gate {
        let threads = options.threads.max(1);
        let options = GateOptions { threads, ..options };
        Gate {
            admitted: Arc::new(Semaphore::new(threads.saturating_add(options.waiting_max))),
            running: Arc::new(Semaphore::new(threads)),
            options,
        }
    }

    /// Runs `work` on the blocking pool once a thread is free, or refuses it at once with
    /// [`Reason::Overloaded`] when as many are already waiting as the gate lets wait. A caller
    /// that goes away while waiting frees its place; work that started runs to its end.
    pub async fn run<T, F>(&self, work: F) -> Result<T, LedgerError>
    where
        F: FnOnce() -> Result<T, LedgerError> + Send + 'static,
        T: Send + 'static,
    {
        let Ok(admitted) = Arc::clone(&self.admitted).try_acquire_owned() else {
            return Err(self.overloaded());
        };
        let running = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let _places = (admitted, running);
            work()
        })
        .await
        .map_err(|e| LedgerError::Unavailable(format!("verification worker failed: {e}")))?
    }

    fn overloaded(&self) -> LedgerError {
        LedgerError::ResourceExhausted {
            reason: Reason::Overloaded,
            message: format!(
                "the server is overloaded: {} verifications running and {} waiting; retry shortly",
                self.options.threads, self.options.waiting_max
            ),
            event: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// One past running plus waiting is shed with `OVERLOADED`, and a freed place admits again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_past_running_and_waiting_is_shed() {
        let gate = Gate::new(GateOptions {
            threads: 1,
            waiting_max: 1,
        });
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let first = tokio::spawn({
            let gate = gate.clone();
            async move {
                gate.run(move || {
                    started.send(()).expect("the test waits");
                    held.recv_timeout(Duration::from_secs(60))
                        .expect("the test releases the work");
                    Ok(1)
                })
                .await
            }
        });
        tokio::task::spawn_blocking(move || running.recv_timeout(Duration::from_secs(60)))
            .await
            .expect("join")
            .expect("the first work starts");
        // The second waits for the thread; the third finds no place.
        let second = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| Ok(2)).await }
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while gate.admitted.available_permits() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the second waits");
            tokio::task::yield_now().await;
        }
        match gate.run(|| Ok(3)).await {
            Err(LedgerError::ResourceExhausted {
                reason: Reason::Overloaded,
                ..
            }) => {}
            other => panic!("expected OVERLOADED, got {other:?}"),
        }
        release.send(()).expect("the first waits");
        assert_eq!(first.await.expect("join").expect("ran"), 1);
        assert_eq!(second.await.expect("join").expect("ran"), 2);
        assert_eq!(gate.run(|| Ok(4)).await.expect("a place again"), 4);
    }
}
