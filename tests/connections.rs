//! Connection handling over real sockets (`parkgraph::serve_with` on 127.0.0.1:0): slow
//! headers, stalled bodies, idle keep-alive connections, the connection cap, and a
//! shutdown that drains for a bounded time. Timeouts are short; assertions only bound
//! what must happen eventually, with wide margins, never exact timings.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use common::TestDb;
use parkgraph::Config;
use parkgraph::anyhow_free::Failure;
use parkgraph::config::{KeyConfig, Secret, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What "eventually" means here: far above every timeout the tests configure.
const MARGIN: Duration = Duration::from_secs(5);
/// Long enough never to fire during a test.
const LONG_MS: u64 = 60_000;

fn patient() -> ServerConfig {
    ServerConfig {
        header_read_timeout_ms: LONG_MS,
        body_read_timeout_ms: LONG_MS,
        keep_alive_timeout_ms: LONG_MS,
        max_open_connections: 64,
        shutdown_grace_ms: LONG_MS,
    }
}

/// The real application over a fresh database.
async fn parkgraph_app() -> (TestDb, Router) {
    let test = TestDb::migrated().await;
    let mut config = Config { database_url: test.url.clone(), ..Config::default() };
    config.auth.keys = vec![KeyConfig {
        kid: "k1".into(),
        algorithm: "HS256".into(),
        secret: Some(Secret("test-secret-of-at-least-thirty-two-bytes!".into())),
        secret_file: None,
        private_key_file: None,
        public_key_file: None,
    }];
    config.auth.signing_kid = Some("k1".into());
    config.auth.dev_keys = false;
    let router = parkgraph::app(&config, test.db.clone()).expect("app builds");
    (test, router)
}

/// A router without a database: the caller's address, and a handler slower than the
/// idle timeout of the test that uses it.
fn small_app() -> Router {
    Router::new()
        .route("/peer", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(900)).await;
                "slow"
            }),
        )
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), Failure>>,
}

impl Running {
    async fn start(router: Router, server: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            parkgraph::serve_with(listener, router, &server, async {
                stopped.await.ok();
            })
            .await
        });
        Self { addr, stop: Some(stop), task }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connect")
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

fn find(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes.windows(needle.len()).position(|w| w == needle)
}

/// Reads one response (its head and a `Content-Length` or chunked body); `None` when the
/// connection closes first or nothing complete arrives `within`.
async fn response(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let read = async {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = find(&bytes, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
                let complete = if head.contains("transfer-encoding: chunked") {
                    bytes.ends_with(b"0\r\n\r\n")
                } else {
                    let length = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    bytes.len() >= end + 4 + length
                };
                if complete {
                    return Some(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// True when the server closes the connection `within` (whatever it sends first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let drain = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, drain).await.is_ok()
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: parkgraph.test\r\n\r\n")
}

fn graphql_head(content_length: usize) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: parkgraph.test\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

#[tokio::test]
async fn handlers_see_the_client_address() {
    let server = Running::start(small_app(), patient()).await;
    let mut client = server.connect().await;
    let local = client.local_addr().expect("local address");
    client.write_all(get_request("/peer").as_bytes()).await.expect("send");
    let answer = response(&mut client, MARGIN).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(&local.to_string()), "the handler saw another address: {answer}");
}

#[tokio::test]
async fn a_client_that_sends_headers_slowly_is_disconnected_after_the_header_timeout() {
    let server = Running::start(small_app(), ServerConfig { header_read_timeout_ms: 300, ..patient() }).await;
    let client = server.connect().await;
    let (mut reader, mut writer) = client.into_split();
    // One header line every 50 ms: bytes keep coming, the headers never end.
    let trickle = tokio::spawn(async move {
        if writer.write_all(b"GET /peer HTTP/1.1\r\nHost: parkgraph.test\r\n").await.is_err() {
            return;
        }
        for i in 0..400 {
            if writer.write_all(format!("X-Slow-{i}: a\r\n").as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut chunk = [0u8; 1024];
    let closed = tokio::time::timeout(MARGIN, async {
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok();
    trickle.abort();
    assert!(closed, "a client still sending headers after the header timeout kept its connection");
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_is_answered_408_and_closed() {
    let (_test, app) = parkgraph_app().await;
    let server = Running::start(app, ServerConfig { body_read_timeout_ms: 300, ..patient() }).await;
    let mut client = server.connect().await;
    let body = r#"{"query":"{ __typename }"}"#;
    client.write_all(graphql_head(body.len()).as_bytes()).await.expect("send headers");
    client.write_all(&body.as_bytes()[..10]).await.expect("send half the body");
    let answer = response(&mut client, MARGIN).await.expect("an answer before the margin");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains("TIMEOUT"), "{answer}");
    assert!(closed_within(&mut client, MARGIN).await, "the connection stayed open after the 408");
}

#[tokio::test]
async fn a_body_that_arrives_in_time_is_served() {
    let (_test, app) = parkgraph_app().await;
    let server = Running::start(app, ServerConfig { body_read_timeout_ms: 3_000, ..patient() }).await;
    let mut client = server.connect().await;
    let body = r#"{"query":"{ __typename }"}"#;
    client.write_all(graphql_head(body.len()).as_bytes()).await.expect("send headers");
    client.write_all(&body.as_bytes()[..10]).await.expect("send half the body");
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.write_all(&body.as_bytes()[10..]).await.expect("send the rest");
    let answer = response(&mut client, MARGIN).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"__typename\":\"Query\""), "{answer}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_timeout() {
    let server = Running::start(small_app(), ServerConfig { keep_alive_timeout_ms: 300, ..patient() }).await;
    let mut client = server.connect().await;
    client.write_all(get_request("/peer").as_bytes()).await.expect("send");
    let answer = response(&mut client, MARGIN).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "the first answer already closed the connection: {answer}"
    );
    assert!(closed_within(&mut client, MARGIN).await, "an idle keep-alive connection stayed open");
}

#[tokio::test]
async fn a_request_slower_than_the_idle_timeout_is_still_answered() {
    let server = Running::start(small_app(), ServerConfig { keep_alive_timeout_ms: 200, ..patient() }).await;
    let mut client = server.connect().await;
    client.write_all(get_request("/slow").as_bytes()).await.expect("send");
    let answer = response(&mut client, MARGIN).await.expect("the slow handler's answer");
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("slow"), "{answer}");
}

#[tokio::test]
async fn with_a_cap_of_two_a_third_connection_waits_until_one_closes() {
    let server = Running::start(small_app(), ServerConfig { max_open_connections: 2, ..patient() }).await;
    // Two keep-alive connections, each answered once so the server holds both.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut client = server.connect().await;
        client.write_all(get_request("/peer").as_bytes()).await.expect("send");
        let answer = response(&mut client, MARGIN).await.expect("an answer under the cap");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(client);
    }
    // The third connects (the kernel's backlog takes it) but is not served.
    let mut third = server.connect().await;
    third.write_all(get_request("/peer").as_bytes()).await.expect("send");
    let mut chunk = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(800), third.read(&mut chunk)).await;
    assert!(early.is_err(), "a connection beyond the cap was served: {early:?}");
    // One held connection goes away: the third takes its place.
    drop(held.pop());
    let answer = response(&mut third, MARGIN).await.expect("served once a place is free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn shutdown_with_a_stalled_client_returns_within_the_grace() {
    let (_test, app) = parkgraph_app().await;
    let mut server = Running::start(app, ServerConfig { shutdown_grace_ms: 300, ..patient() }).await;
    // One client stalls mid-body (a request in flight), one mid-headers.
    let mut mid_body = server.connect().await;
    let body = r#"{"query":"{ __typename }"}"#;
    mid_body.write_all(graphql_head(body.len()).as_bytes()).await.expect("send headers");
    mid_body.write_all(&body.as_bytes()[..10]).await.expect("send half the body");
    let mut mid_headers = server.connect().await;
    mid_headers.write_all(b"POST /graphql HTTP/1.1\r\nHost: parkgraph.test\r\n").await.expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.shut_down();
    let ended = tokio::time::timeout(MARGIN, &mut server.task).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serve_with did not return within the grace: {ended:?}");
    assert!(closed_within(&mut mid_body, MARGIN).await, "the stalled request's connection stayed open");
    assert!(closed_within(&mut mid_headers, MARGIN).await, "the half-sent headers' connection stayed open");
}

#[tokio::test]
async fn shutdown_stops_accepting_and_answers_the_request_in_flight() {
    let (_test, app) = parkgraph_app().await;
    let mut server = Running::start(app, ServerConfig { shutdown_grace_ms: 10_000, ..patient() }).await;
    let mut client = server.connect().await;
    let body = r#"{"query":"{ __typename }"}"#;
    client.write_all(graphql_head(body.len()).as_bytes()).await.expect("send headers");
    client.write_all(&body.as_bytes()[..10]).await.expect("send half the body");
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.shut_down();
    // The listener closes: new connections are refused while the request drains.
    let refused = tokio::time::timeout(MARGIN, async {
        loop {
            if TcpStream::connect(server.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "the server kept accepting after shutdown began");
    assert!(!server.task.is_finished(), "shutdown did not wait for the request in flight");

    client.write_all(&body.as_bytes()[10..]).await.expect("send the rest");
    let answer = response(&mut client, MARGIN).await.expect("the request in flight is answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let ended = tokio::time::timeout(MARGIN, &mut server.task).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "serve_with did not return once drained: {ended:?}");
}

#[tokio::test]
async fn zero_limits_are_refused() {
    for server in [
        ServerConfig { max_open_connections: 0, ..patient() },
        ServerConfig { header_read_timeout_ms: 0, ..patient() },
        ServerConfig { shutdown_grace_ms: 0, ..patient() },
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let served = parkgraph::serve_with(listener, small_app(), &server, std::future::pending()).await;
        assert!(served.is_err(), "{server:?} was accepted");
    }
}
