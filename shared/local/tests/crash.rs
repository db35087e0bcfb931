//! A crash of the real `oms serve` process (SIGKILL, no chance to clean up) in the middle
//! of a burst of orders and cancels: after a restart on the same data directory, every
//! order it stored moves on (none is left `received` with nothing queued) and the stock
//! held is exactly what reserved orders hold (no cancelled order keeps its units).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Orders taken in before the burst (the burst cancels them).
const FIRST: usize = 120;
/// Orders posted during the burst.
const BURST: usize = 400;
/// Answers to wait for in the burst before the process is killed: mid-burst for sure.
const KILL_AFTER: usize = 60;

/// A running `oms serve` process, killed when dropped (so a failing test leaves none behind).
struct Serving(Child);

impl Serving {
    /// SIGKILL, and reap it.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `oms serve` on `port` over `data_dir`, as its own process; generic webhooks unsigned.
fn serve(data_dir: &Path, port: u16) -> Serving {
    let child = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .env_remove("OMS_CHANNEL_SECRET_GENERIC")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oms serve starts");
    Serving(child)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

async fn up(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("oms serve did not come up at {base}");
}

fn order(external_id: &str) -> Value {
    json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z",
        "currency": "CNY", "customer": {"id": "c-1"},
        "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"},
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "19.90"}]
    })
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Option<(reqwest::StatusCode, Value)> {
    let response = client.post(url).json(&body).send().await.ok()?;
    let status = response.status();
    Some((status, response.json().await.ok()?))
}

/// Every order of merchant m-1 on the generic channel, by id, with its status.
async fn all_orders(client: &reqwest::Client, base: &str) -> BTreeMap<String, String> {
    let mut orders = BTreeMap::new();
    let mut uri = format!("{base}/orders?merchant=m-1&channel=generic&limit=100");
    loop {
        let page: Value = client.get(&uri).send().await.expect("the lookup").json().await.expect("a page");
        for order in page["orders"].as_array().expect("orders") {
            let field = |name: &str| order[name].as_str().expect("an order has an id and a status").to_owned();
            orders.insert(field("order_id"), field("status"));
        }
        match page["next"].as_str() {
            Some(cursor) => uri = format!("{base}/orders?merchant=m-1&channel=generic&limit=100&cursor={cursor}"),
            None => return orders,
        }
    }
}

/// `oms serve` over `data_dir`, up, with warehouse wh-1 of merchant m-1 holding `on_hand`
/// of SKU-1; and its base URL.
async fn serving_with_stock(data_dir: &Path, client: &reqwest::Client, on_hand: u32) -> (Serving, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let serving = serve(data_dir, port);
    up(client, &base).await;
    let warehouse = json!({"name": "Hangzhou 1", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
    let put = |path: &str, body: Value| client.put(format!("{base}{path}")).json(&body).send();
    let registered = put("/warehouses/wh-1", warehouse).await.expect("the warehouse is registered");
    assert!(registered.status().is_success(), "{registered:?}");
    let counted = put("/inventory/wh-1/SKU-1", json!({ "on_hand": on_hand })).await.expect("the stock is counted");
    assert!(counted.status().is_success(), "{counted:?}");
    (serving, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_mid_burst_leaves_no_order_stuck_and_no_stock_held_for_a_cancelled_order() {
    let dir = tempfile::tempdir().expect("a data directory");
    let client = reqwest::Client::new();
    let (mut first, base) = serving_with_stock(dir.path(), &client, 100_000).await;

    let mut taken = Vec::new();
    for i in 0..FIRST {
        let (status, receipt) = post(&client, format!("{base}/channels/generic/orders"), order(&format!("F-{i}"))).await.unwrap();
        assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{receipt}");
        taken.push(receipt["order_id"].as_str().unwrap().to_owned());
    }

    // The burst: new orders and cancels of the first ones at once, killed mid-way.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..BURST {
        let (client, base, answered) = (client.clone(), base.clone(), answered.clone());
        let cancel = taken.get(i % FIRST).filter(|_| i < FIRST).cloned();
        tasks.push(tokio::spawn(async move {
            let done = match cancel {
                Some(id) => post(&client, format!("{base}/orders/{id}/cancel"), json!({"reason": "burst"})).await,
                None => post(&client, format!("{base}/channels/generic/orders"), order(&format!("B-{i}"))).await,
            };
            answered.fetch_add(usize::from(done.is_some()), Ordering::SeqCst);
        }));
    }
    while answered.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    for task in tasks {
        task.await.expect("a burst task");
    }
    let killed_after = answered.load(Ordering::SeqCst);
    assert!(killed_after < BURST, "the kill landed after the burst ({killed_after} answers): it proves nothing");

    // Restart on the same data directory and let the queued work finish.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut second = serve(dir.path(), port);
    up(&client, &base).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let orders = loop {
        let orders = all_orders(&client, &base).await;
        let moving = orders.values().filter(|status| matches!(status.as_str(), "received" | "allocated")).count();
        if moving == 0 || Instant::now() > deadline {
            break orders;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let stuck: Vec<_> = orders.iter().filter(|(_, status)| matches!(status.as_str(), "received" | "allocated")).collect();
    assert!(stuck.is_empty(), "orders left behind by the crash: {stuck:?}");
    for id in &taken {
        assert!(orders.contains_key(id), "order {id} was accepted before the crash and is gone");
    }

    // The units held are exactly those of the reserved orders (one each).
    let reserved_orders = orders.values().filter(|status| *status == "reserved").count();
    let levels: Value = client.get(format!("{base}/inventory/SKU-1")).send().await.unwrap().json().await.unwrap();
    let reserved = levels["warehouses"][0]["reserved"].as_u64().expect("a count");
    assert_eq!(reserved, reserved_orders as u64, "stock held for orders that are not reserved: {levels}");
    second.kill();
}

/// Claims posted in the flash-sale burst, and answers to wait for before the kill.
const CLAIMS: usize = 3_000;
const KILL_AFTER_CLAIMS: usize = 400;

/// A SIGKILL in the middle of a burst of flash-sale claims: every claim answered 201 before
/// it (answered once journaled, written to the database a moment later) is there after the
/// restart, with its order made; the sale's units left and claims add up to its units.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_mid_claim_burst_loses_no_claim_answered() {
    let dir = tempfile::tempdir().expect("a data directory");
    let client = reqwest::Client::new();
    let (mut first, base) = serving_with_stock(dir.path(), &client, 10_000).await;
    let now = chrono::Utc::now();
    let sale = json!({"merchant_id": "m-1", "sku": "SKU-1", "units": CLAIMS, "per_customer_limit": 1, "shards": 16,
                      "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1)});
    let (status, sale) = post(&client, format!("{base}/flash-sales"), sale).await.expect("the sale");
    assert_eq!(status, reqwest::StatusCode::CREATED, "{sale}");
    let sale_id = sale["sale_id"].as_str().expect("a sale id").to_owned();

    let claim = |i: usize| {
        json!({"customer_id": format!("c-{i}"), "quantity": 1, "idempotency_key": format!("k-{i}"),
               "shipping_address": {"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"}})
    };
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..CLAIMS {
        let (client, url, answered, body) =
            (client.clone(), format!("{base}/flash-sales/{sale_id}/claims"), answered.clone(), claim(i));
        tasks.push(tokio::spawn(async move {
            let done = post(&client, url, body).await;
            answered.fetch_add(usize::from(done.is_some()), Ordering::SeqCst);
            done.filter(|(status, _)| *status == reqwest::StatusCode::CREATED).map(|(_, claim)| (i, claim))
        }));
    }
    while answered.load(Ordering::SeqCst) < KILL_AFTER_CLAIMS {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.kill();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("a claim task"));
    }
    assert!(
        claimed.len() >= KILL_AFTER_CLAIMS && claimed.len() < CLAIMS,
        "{} claims answered: the kill must land mid-burst",
        claimed.len()
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut second = serve(dir.path(), port);
    up(&client, &base).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    for (i, answer) in &claimed {
        let (status, again) = post(&client, format!("{base}/flash-sales/{sale_id}/claims"), claim(*i)).await.expect("an answer");
        assert_eq!((status, &again), (reqwest::StatusCode::CREATED, answer), "claim {i} was answered before the crash");
        let order_id = answer["order_id"].as_str().expect("an order id");
        loop {
            let found = client.get(format!("{base}/orders/{order_id}")).send().await.expect("the lookup").status();
            if found.is_success() {
                break;
            }
            assert!(Instant::now() < deadline, "claim {i}'s order {order_id} was never made");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let view: Value = client.get(format!("{base}/flash-sales/{sale_id}")).send().await.unwrap().json().await.unwrap();
    let (left, claims) = (view["units_left"].as_u64().expect("units left"), view["claims"].as_u64().expect("claims"));
    assert_eq!(left + claims, CLAIMS as u64, "units left and claims add up to the sale's units: {view}");
    assert!(claims >= claimed.len() as u64, "{claims} claims stored, {} answered: {view}", claimed.len());
    second.kill();
}
