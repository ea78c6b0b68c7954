//! The accept loop and the transport limits: how many connections the server holds open, how
//! long a unary call may take, and how idle connections are found dead.
//!
//! Without a cap, thousands of idle sockets used up the process's file descriptors, after
//! which every `accept` failed at once and the loop spun without a word in the log. Here each
//! accepted connection holds a permit of a semaphore until it closes; when none is left the
//! loop stops accepting (new clients wait in the kernel's backlog) and says so once, and an
//! accept error (out of file descriptors, say) is logged and followed by a pause.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Connections the server holds open at most by default: far below the usual limit of file
/// descriptors (the store's files need some), far above what a ledger's partners keep open.
pub const CONNECTIONS_MAX_DEFAULT: usize = 4096;

/// Interval of the HTTP/2 pings on a connection, so that a peer gone without closing (a
/// handheld that lost its network) is noticed and its connection and streams freed.
pub const HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long a ping may go unanswered before the connection is closed.
pub const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Pause after a failed accept: the usual cause (no file descriptor left) does not clear at
/// once, and retrying at once is the spin this module exists to prevent.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The same warning (connections at the cap, accept failing) is logged at most once per this
/// long.
const WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// An accepted connection, holding its place among the open connections until it is dropped.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// The socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

/// The connections accepted on `listener`, at most `connections_max` open at once, with
/// `TCP_NODELAY` set on each: with Nagle's algorithm on, a small answer waited for the client's
/// delayed ACK (about 40 ms per single-event capture, which capped them near 1,300 a second).
pub fn incoming(
    listener: TcpListener,
    connections_max: usize,
) -> impl Stream<Item = io::Result<Connection>> + Send {
    let accept = Accept {
        listener,
        permits: Arc::new(Semaphore::new(connections_max)),
        connections_max,
        warned: None,
    };
    futures::stream::unfold(accept, |mut accept| async move {
        let connection = accept.next().await;
        Some((Ok(connection), accept))
    })
}

/// The state of the accept loop.
struct Accept {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    connections_max: usize,
    /// When a warning was last logged.
    warned: Option<Instant>,
}

impl Accept {
    /// The next connection: waits for a free place first, then accepts, pausing after errors.
    async fn next(&mut self) -> Connection {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.may_warn() {
                    tracing::warn!(
                        connections_max = self.connections_max,
                        "open connections at the cap; accepting no more until one closes"
                    );
                }
                Arc::clone(&self.permits)
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted socket");
                    }
                    return Connection {
                        stream,
                        _permit: permit,
                    };
                }
                Err(error) => {
                    if self.may_warn() {
                        tracing::error!(%error, "accepting a connection failed; pausing");
                    }
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            }
        }
    }

    /// Whether a warning may be logged now, at most one per [`WARNING_INTERVAL`].
    fn may_warn(&mut self) -> bool {
        let now = Instant::now();
        let quiet = self
            .warned
            .is_none_or(|warned| now.duration_since(warned) >= WARNING_INTERVAL);
        if quiet {
            self.warned = Some(now);
        }
        quiet
    }
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_do_not_wait_for_acks() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut accepted = std::pin::pin!(incoming(listener, 4));
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let connection = accepted.next().await.unwrap().unwrap();
        assert!(
            connection.stream().nodelay().unwrap(),
            "TCP_NODELAY is not set"
        );
    }

    /// One past the cap, the loop waits instead of accepting; a closed connection frees a place.
    #[tokio::test]
    async fn no_connection_is_accepted_beyond_the_cap_until_one_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut accepted = std::pin::pin!(incoming(listener, 2));
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(address).await.unwrap());
        }
        let first = accepted.next().await.unwrap().unwrap();
        let _second = accepted.next().await.unwrap().unwrap();
        // The third client is connected (the kernel's backlog) but not accepted while two
        // connections are open: the next accept does not complete.
        assert!(futures::poll!(accepted.next()).is_pending());
        drop(first);
        let third = accepted.next().await.unwrap().unwrap();
        assert_eq!(
            third.stream().peer_addr().unwrap(),
            clients[2].local_addr().unwrap()
        );
    }
}
