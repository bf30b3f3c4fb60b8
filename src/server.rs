//! Serving connections: the accept loop in front of the router, and what it does about
//! slow, idle and too many clients, and about shutdown. Connections speak HTTP/1.1, as
//! they did under `axum::serve` (axum's `http2` feature is off); TLS, when wanted, ends
//! at the load balancer.
//!
//! - **Headers**: hyper's HTTP/1 `header_read_timeout` closes a connection whose request
//!   headers are not complete within `header_read_timeout_ms`. hyper starts that clock
//!   whenever it waits for a request, so it also closes a keep-alive connection that sits
//!   idle that long.
//! - **Body**: each request body must arrive within `body_read_timeout_ms` of its headers,
//!   in total (a client that trickles a byte at a time is cut off too, which a timeout
//!   between frames such as tower-http's `RequestBodyTimeoutLayer` would not do); past
//!   it the request is answered `408` with `Connection: close`.
//! - **Idle**: a connection with no request being handled and no bytes moving in either
//!   direction for `keep_alive_timeout_ms` is closed (this also ends a client that stops
//!   reading its response).
//! - **Cap**: at most `max_open_connections` connections are served at once. At the cap
//!   the loop stops accepting, so new connections wait in the kernel's listen backlog
//!   (and beyond it are refused by the kernel) until a served one closes; the timeouts
//!   above bound how long any one connection can hold its place. Waiting rather than
//!   accepting and closing keeps a burst of ordinary clients from being turned away,
//!   and costs the server no file descriptor or memory for the waiting ones.
//! - **Shutdown**: when the shutdown future completes the listener is closed, every
//!   connection is asked to finish (idle keep-alive connections close at once, a
//!   request in flight gets its answer with `Connection: close`), and after
//!   `shutdown_grace_ms` the connections still open are closed and the function returns.
//!
//! Each connection task owns its hyper connection and calls `graceful_shutdown` on it
//! itself when a watch channel says so (hyper-util's `GracefulShutdown` would take the
//! connection away, and the idle check needs it too); the tasks sit in a `JoinSet`, so
//! the ones still running when the grace ends are aborted, which closes their sockets.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::anyhow_free::Failure;
use crate::config::ServerConfig;

/// The connection settings of a [`ServerConfig`], checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// See [`ServerConfig::header_read_timeout_ms`].
    pub header_read_timeout: Duration,
    /// See [`ServerConfig::body_read_timeout_ms`].
    pub body_read_timeout: Duration,
    /// See [`ServerConfig::keep_alive_timeout_ms`].
    pub keep_alive_timeout: Duration,
    /// See [`ServerConfig::max_open_connections`].
    pub max_open_connections: usize,
    /// See [`ServerConfig::shutdown_grace_ms`].
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    /// The limits of a configuration; every value must be above zero (a zero timeout
    /// would refuse every request, a zero cap would serve none).
    pub fn of(config: &ServerConfig) -> Result<Self, Failure> {
        let positive = |name: &str, value: u64| {
            if value == 0 {
                Err(Failure(format!("server.{name} must be above zero")))
            } else {
                Ok(Duration::from_millis(value))
            }
        };
        if config.max_open_connections == 0 {
            return Err(Failure("server.max_open_connections must be above zero".into()));
        }
        Ok(Self {
            header_read_timeout: positive("header_read_timeout_ms", config.header_read_timeout_ms)?,
            body_read_timeout: positive("body_read_timeout_ms", config.body_read_timeout_ms)?,
            keep_alive_timeout: positive("keep_alive_timeout_ms", config.keep_alive_timeout_ms)?,
            max_open_connections: config.max_open_connections,
            shutdown_grace: positive("shutdown_grace_ms", config.shutdown_grace_ms)?,
        })
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains in-flight
/// requests for at most the configured grace and closes what remains (see the module
/// documentation). Handlers see the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Failure> {
    let limits = ServerLimits::of(config)?;
    if limits.keep_alive_timeout > limits.header_read_timeout {
        tracing::warn!(
            keep_alive_timeout_ms = config.keep_alive_timeout_ms,
            header_read_timeout_ms = config.header_read_timeout_ms,
            "idle connections close after server.header_read_timeout_ms, which is shorter than server.keep_alive_timeout_ms"
        );
    }
    let router = router.layer(axum::middleware::from_fn_with_state(limits.body_read_timeout, read_body_within));
    let permits = Arc::new(Semaphore::new(limits.max_open_connections));
    let (stop, _) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    let mut warned_at_cap: Option<Instant> = None;
    loop {
        while let Some(ended) = connections.try_join_next() {
            log_panic(ended);
        }
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if warned_at_cap.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                    warned_at_cap = Some(Instant::now());
                    tracing::warn!(
                        max_open_connections = limits.max_open_connections,
                        "connection cap reached: new connections wait in the listen backlog"
                    );
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(stream, peer, router.clone(), limits, stop.subscribe(), permit));
    }

    drop(listener);
    tracing::info!(
        open = connections.len(),
        grace_ms = limits.shutdown_grace.as_millis(),
        "shutting down: stopped accepting, finishing in-flight requests"
    );
    stop.send_replace(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while let Some(ended) = connections.join_next().await {
            log_panic(ended);
        }
    })
    .await;
    if drained.is_err() {
        let remaining = connections.len();
        connections.shutdown().await;
        tracing::warn!(remaining, "closed the connections still open at the end of the shutdown grace");
    }
    Ok(())
}

fn log_panic(ended: Result<(), tokio::task::JoinError>) {
    if let Err(err) = ended
        && err.is_panic()
    {
        tracing::error!(%err, "a connection task panicked");
    }
}

/// An accept error: a connection that went away before it was accepted is skipped; any
/// other error (out of file descriptors, say) is logged and the loop pauses briefly
/// rather than spinning on it.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(%err, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Serves one connection until it ends, is idle too long, or is closed by shutdown (the
/// accept loop aborts the task once the grace is over). Holds its place under the cap.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
    _place: OwnedSemaphorePermit,
) {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%err, %peer, "cannot set TCP_NODELAY");
    }
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked { inner: stream, activity: Arc::clone(&activity) });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let handling = activity.begin();
            let router = router.clone();
            async move {
                let response: Result<Response, Infallible> = router.oneshot(request).await;
                drop(handling);
                response
            }
        })
    };
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let mut conn = pin!(http.serve_connection(io, service));
    let mut idle = pin!(activity.idle(limits.keep_alive_timeout));
    let mut draining = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!(%err, %peer, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = idle.as_mut() => {
                tracing::debug!(%peer, "closing an idle connection");
                return;
            }
        }
    }
}

/// When a connection last moved bytes, and how many of its requests are being handled.
struct Activity {
    opened: Instant,
    last_progress_ms: AtomicU64,
    handling: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self { opened: Instant::now(), last_progress_ms: AtomicU64::new(0), handling: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_progress_ms.fetch_max(now, Ordering::Relaxed);
    }

    fn last_progress(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed))
    }

    fn begin(self: &Arc<Self>) -> Handling {
        self.handling.fetch_add(1, Ordering::Relaxed);
        Handling(Arc::clone(self))
    }

    /// Completes once no request has been handled and no byte moved for `limit`.
    async fn idle(&self, limit: Duration) {
        loop {
            let deadline = self.last_progress() + limit;
            if Instant::now() < deadline {
                tokio::time::sleep_until(deadline).await;
            } else if self.handling.load(Ordering::Relaxed) == 0 {
                return;
            } else {
                // A handler is running: its own limits apply; look again later.
                tokio::time::sleep(limit).await;
            }
        }
    }
}

/// A request being handled; the idle clock restarts when it ends.
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A socket that records when bytes move through it.
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Gives the request body `limit` (from now) to arrive; a handler still waiting for it
/// then reads an error, and the client gets `408` and a closed connection.
async fn read_body_within(State(limit): State<Duration>, request: axum::extract::Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(limit)), expired: expired.clone() })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!(limit_ms = limit.as_millis(), "closed a connection whose request body did not arrive in time");
    let message = format!("the request body did not arrive within {} ms", limit.as_millis());
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": parkgraph_api::error::code::TIMEOUT } }]
    });
    let mut response = (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline passes while the client still owes data.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

/// The error a handler reads from a body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.expired.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
