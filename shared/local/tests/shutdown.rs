//! `oms serve` as a service manager runs it: SIGTERM (or SIGINT) stops it cleanly, with
//! what it accepted committed and exit status 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

async fn wait_for_health(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if client.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("oms serve did not answer /health within a minute");
}

fn order(external_id: &str) -> serde_json::Value {
    json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z",
        "currency": "CNY", "customer": {"id": "c-1"},
        "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"},
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "19.90"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_oms_serve_cleanly_with_every_accepted_order_committed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("OMS_CHANNEL_SECRET_GENERIC")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oms serve starts");
    let client = reqwest::Client::new();
    wait_for_health(&client, &base).await;
    let warehouse =
        json!({"name": "HZ", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
    assert!(client.put(format!("{base}/warehouses/wh-1")).json(&warehouse).send().await.unwrap().status().is_success());
    let stock = client.put(format!("{base}/inventory/wh-1/SKU-1")).json(&json!({"on_hand": 1000})).send().await.unwrap();
    assert!(stock.status().is_success());

    let mut accepted = Vec::new();
    for i in 0..50 {
        let answer = client.post(format!("{base}/channels/generic/orders")).json(&order(&format!("T-{i}"))).send().await.unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::ACCEPTED);
        let body: serde_json::Value = answer.json().await.unwrap();
        accepted.push(body["order_id"].as_str().unwrap().to_owned());
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("oms serve did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "oms serve exited with {status} on SIGTERM");

    let store = oms_embedded::Embedded::open(dir.path()).unwrap();
    let counts = store.order_counts_by_status().await.unwrap();
    let stored: usize = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(stored, accepted.len(), "every accepted order is stored: {counts:?}");
}
