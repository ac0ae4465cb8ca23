//! The HTTP server loop: hyper with timeouts that `axum::serve` does not set.
//!
//! - request headers must arrive within `HttpConfig::header_read_timeout` (a slow-loris client that trickles
//!   headers is cut off), and may not exceed [`MAX_HEADER_BYTES`] (431 otherwise);
//! - idle keep-alive connections are closed by hyper when the client goes away;
//! - graceful shutdown: stop accepting, let in-flight requests finish.
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::NormalizedApp;

/// Largest request head hyper buffers (the API itself refuses headers over 32 KiB with 431).
pub const MAX_HEADER_BYTES: usize = 128 * 1024;

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests (at most
/// 30 s).
pub async fn serve(listener: TcpListener, app: NormalizedApp, shutdown: impl Future<Output = ()>) {
    let header_read_timeout = app.http_config().header_read_timeout;
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // e.g. too many open files: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let app = app.clone();
            let mut request = request.map(Body::new);
            // The peer address: the client, for per-address rate limits.
            request.extensions_mut().insert(ConnectInfo(peer));
            async move { Ok::<_, Infallible>(app.oneshot(request).await.unwrap_or_else(|e| match e {})) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .max_buf_size(MAX_HEADER_BYTES);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("in-flight requests did not finish within 30 s; stopping anyway");
        }
    }
}
