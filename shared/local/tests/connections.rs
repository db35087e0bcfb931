//! `oms serve`'s listener against slow and idle clients: a client that sends no headers
//! is cut off, a body trickled in too slowly gets `408 request_timeout` as JSON, and no
//! more connections are served at once than the cap.

use std::net::SocketAddr;
use std::time::Duration;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use oms_local::connections::ConnectionLimits;
use oms_local::server::{self, Running, ServeOptions};

async fn serve(limits: ConnectionLimits) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = ServeOptions {
        connections: limits,
        run_workers: false,
        ..ServeOptions::local(SocketAddr::from(([127, 0, 0, 1], 0)), dir.path().to_owned())
    };
    (server::start(options).await.expect("oms serve starts"), dir)
}

const SHORT: ConnectionLimits =
    ConnectionLimits { max_connections: 64, header_timeout: Duration::from_secs(1), body_timeout: Duration::from_secs(1) };

/// Reads until the server closes the connection, or `limit` passes (then `None`), off
/// the runtime's threads (the client side blocks, like a plain socket client).
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut reader = stream.try_clone().expect("a second handle on the socket");
    tokio::task::spawn_blocking(move || {
        reader.set_read_timeout(Some(limit)).expect("a read timeout");
        let mut answer = Vec::new();
        reader.read_to_end(&mut answer).ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    })
    .await
    .expect("the reader finishes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_no_headers_is_disconnected() {
    let (running, _dir) = serve(SHORT).await;
    let mut silent = TcpStream::connect(running.addr).expect("connects");
    let answer = read_to_close(&mut silent, Duration::from_secs(10)).await;
    assert!(answer.is_some(), "the silent connection was still open after 10 s");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let (running, _dir) = serve(SHORT).await;
    let mut client = TcpStream::connect(running.addr).expect("connects");
    client.write_all(b"GET /health HTTP/1.1\r\nHost: oms\r\n\r\n").expect("sends");
    let answer = read_to_close(&mut client, Duration::from_secs(10)).await.expect("closed within 10 s");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_too_slowly_is_answered_408() {
    let (running, _dir) = serve(SHORT).await;
    let mut client = TcpStream::connect(running.addr).expect("connects");
    let head = "POST /channels/generic/orders HTTP/1.1\r\nHost: oms\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\nConnection: close\r\n\r\n{\"external_id\":";
    client.write_all(head.as_bytes()).expect("sends");
    let answer = read_to_close(&mut client, Duration::from_secs(10)).await.expect("answered within 10 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_connections_are_served_at_once_than_the_cap() {
    let limits = ConnectionLimits { max_connections: 1, header_timeout: Duration::from_secs(30), ..SHORT };
    let (running, _dir) = serve(limits).await;
    let holder = TcpStream::connect(running.addr).expect("connects");
    // Let the server take the first connection before the second arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waiting = TcpStream::connect(running.addr).expect("connects");
    waiting.write_all(b"GET /health HTTP/1.1\r\nHost: oms\r\nConnection: close\r\n\r\n").expect("sends");
    assert!(
        read_to_close(&mut waiting, Duration::from_millis(700)).await.is_none(),
        "a second connection was served while the first held the only place"
    );
    drop(holder);
    let answer = read_to_close(&mut waiting, Duration::from_secs(10)).await.expect("served once the first closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    running.shutdown().await;
}
