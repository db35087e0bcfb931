//! The HTTP listener of `oms serve`: HTTP/1.1 connections with the limits a server on a
//! network needs and `axum::serve` does not set: a cap on open connections (the rest wait
//! in the kernel's backlog), a deadline for a request's headers that also runs while a
//! kept-alive connection sits idle between requests (so slow or idle clients cannot hold
//! connections open), and a deadline for reading a request's body (a body trickled in
//! slowly is answered `408 request_timeout`, see `oms_api::BodyReadLimit`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt as _;

use oms_api::BodyReadLimit;

/// How many connections `oms serve` keeps open and how long it waits for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; further clients wait until one closes.
    pub max_connections: usize,
    /// From a connection's start, or the end of its last answer, until a request's headers
    /// are in; past it the connection is closed.
    pub header_timeout: Duration,
    /// For reading a request's body once its headers are in; past it the answer is
    /// `408 request_timeout`.
    pub body_timeout: Duration,
}

impl ConnectionLimits {
    /// The defaults: 4,096 connections, 10 s for headers (and idle keep-alive), 10 s for a body.
    pub const DEFAULT: ConnectionLimits = ConnectionLimits {
        max_connections: 4096,
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
    };
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How long shutdown waits for open connections to finish their requests.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` within `limits` until `stopped` turns true, then stops
/// accepting, lets requests in flight finish (up to `DRAIN_LIMIT`) and returns. Handlers
/// see the client's address as `ConnectInfo<SocketAddr>`, as with axum's own server.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, mut stopped: watch::Receiver<bool>) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit,
            () = until_stopped(&mut stopped) => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = until_stopped(&mut stopped) => break,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %err, "failed to accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(client));
            request.extensions_mut().insert(BodyReadLimit(limits.body_timeout));
            request
        });
        let connection = connections.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%client, error = %err, "a connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_LIMIT, connections.shutdown()).await.is_err() {
        tracing::warn!("connections still open {DRAIN_LIMIT:?} after shutdown began; closing them");
    }
}

/// Returns once `stopped` is true (or its sender is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
