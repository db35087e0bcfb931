//! Helpers shared by the end-to-end tests: a real `oms serve` on a free loopback port
//! over a temporary data directory, and a client that speaks the contract.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use oms_api::ChannelSecrets;
use oms_channels::signature;
use oms_domain::order::Channel;
use oms_local::server::{self, Running, ServeOptions};

/// The generic channel's webhook secret in tests.
pub const SECRET: &str = "test-secret";

/// A running `oms serve` and a client for it.
#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Running,
}

/// Starts `oms serve` on a free port over `data_dir`; generic, Shopify and WooCommerce
/// webhooks must be signed with `SECRET`, Amazon's are left unsigned.
pub async fn spawn_app(data_dir: &Path) -> TestApp {
    spawn_app_with(data_dir, true).await
}

/// Like `spawn_app`; `run_workers: false` leaves queued work untouched (to test resuming it).
pub async fn spawn_app_with(data_dir: &Path, run_workers: bool) -> TestApp {
    start_app(data_dir, run_workers, oms_outbound::Destinations::none()).await
}

/// Like `spawn_app`, notices sent to `destinations` (the local fakes, in tests).
pub async fn spawn_app_sending(data_dir: &Path, destinations: oms_outbound::Destinations) -> TestApp {
    start_app(data_dir, true, destinations).await
}

async fn start_app(data_dir: &Path, run_workers: bool, outbound: oms_outbound::Destinations) -> TestApp {
    let options = ServeOptions {
        secrets: ChannelSecrets::default()
            .with(Channel::Generic, SECRET)
            .with(Channel::Shopify, SECRET)
            .with(Channel::WooCommerce, SECRET)
            .with_carrier("generic", SECRET)
            .with_carrier("aftership", SECRET)
            .with_carrier("easypost", SECRET),
        run_workers,
        outbound,
        ..ServeOptions::local(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir.to_owned())
    };
    let running = server::start(options).await.expect("oms serve starts");
    TestApp { base: format!("http://{}", running.addr), client: reqwest::Client::new(), running }
}

/// The contract's sample generic order, with its external id, SKU and quantity replaced.
pub fn generic_order(external_id: &str, sku: &str, quantity: i64) -> Value {
    json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z",
        "currency": "CNY", "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou",
                             "province": "Zhejiang", "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "19.90"}]
    })
}

/// A channel's sample payload, from the channels crate's fixtures (`amazon_order.json`, ...).
pub fn channel_fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../shared/channels/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("the fixture {path} is readable: {e}"))
}

/// An answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApp {
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let bytes = response.bytes().await.expect("the body is read");
        Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.request(reqwest::Method::PUT, path, Some(body.to_string().into_bytes()), &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(reqwest::Method::POST, path, Some(body.to_string().into_bytes()), &[]).await
    }

    /// Posts raw bytes to the generic webhook with a valid signature.
    pub async fn post_signed_bytes(&self, body: Vec<u8>) -> Answer {
        let sig = signature::sign(Channel::Generic, SECRET.as_bytes(), &body);
        self.request(reqwest::Method::POST, "/channels/generic/orders", Some(body), &[("x-oms-signature", sig)]).await
    }

    /// Posts a channel's own payload to its webhook, signed as that channel signs, with extra headers.
    pub async fn post_channel(&self, channel: Channel, body: &[u8], headers: &[(&str, String)]) -> Answer {
        let mut all = vec![(signature::header_name(channel), signature::sign(channel, SECRET.as_bytes(), body))];
        all.extend(headers.iter().cloned());
        self.request(reqwest::Method::POST, &format!("/channels/{channel}/orders"), Some(body.to_vec()), &all).await
    }

    /// Posts a carrier's tracking webhook to `/carriers/{carrier}/events`, signed with
    /// `SECRET` as the carrier's format signs.
    pub async fn post_carrier(&self, carrier: &str, body: &[u8]) -> Answer {
        let format = oms_channels::tracking::format_of(carrier);
        let header = (signature::tracking_header_name(format), signature::sign_tracking(format, SECRET.as_bytes(), body));
        self.request(reqwest::Method::POST, &format!("/carriers/{carrier}/events"), Some(body.to_vec()), &[header]).await
    }

    pub async fn post_order(&self, order: &Value) -> Answer {
        self.post_signed_bytes(order.to_string().into_bytes()).await
    }

    /// Registers a warehouse in Zhejiang (or `province`) and sets its stock of `sku`.
    pub async fn stock(&self, warehouse: &str, province: &str, sku: &str, on_hand: u32) {
        self.owned_stock(warehouse, province, "m-1", sku, on_hand).await;
    }

    /// As [`stock`](Self::stock), the units owned by `owner` (the warehouse is still `m-1`'s).
    pub async fn owned_stock(&self, warehouse: &str, province: &str, owner: &str, sku: &str, on_hand: u32) {
        let body = json!({"name": warehouse, "merchant_id": "m-1", "province": province, "city": "x", "lat": 30.0, "lon": 120.0});
        assert_eq!(self.put(&format!("/warehouses/{warehouse}"), body).await.status, StatusCode::OK);
        let count = json!({ "on_hand": on_hand, "merchant_id": owner });
        let answer = self.put(&format!("/inventory/{warehouse}/{sku}"), count).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    }

    /// Waits until the queues are empty: every order has been allocated and reserved or backordered.
    pub async fn settle(&self) {
        assert!(self.running.wait_until_idle(Duration::from_secs(60)).await.expect("queue depth"), "queued work did not finish");
    }

    pub async fn order(&self, order_id: &str) -> Value {
        let answer = self.get(&format!("/orders/{order_id}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body
    }

    /// The `(on_hand, reserved, available)` of a SKU in a warehouse.
    pub async fn counts(&self, warehouse: &str, sku: &str) -> (u64, u64, u64) {
        self.owned_counts(warehouse, "m-1", sku).await
    }

    /// (on hand, reserved, available) of the `sku` that `owner` keeps in `warehouse`, from
    /// `GET /inventory/{sku}`.
    pub async fn owned_counts(&self, warehouse: &str, owner: &str, sku: &str) -> (u64, u64, u64) {
        let answer = self.get(&format!("/inventory/{sku}")).await;
        let row = answer.body["warehouses"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["warehouse"] == warehouse && r["merchant_id"] == owner))
            .unwrap_or_else(|| panic!("{warehouse} holds no {sku} of {owner}: {:?}", answer.body))
            .clone();
        let n = |field: &str| row[field].as_u64().expect("a count");
        (n("on_hand"), n("reserved"), n("available"))
    }

    /// How many orders merchant `m-1` (the generic sample's) holds for `external_id` on
    /// any channel.
    pub async fn orders_with_external_id(&self, external_id: &str) -> usize {
        self.merchant_orders_with_external_id("m-1", external_id).await
    }

    /// How many orders `merchant` holds for `external_id` on any channel.
    pub async fn merchant_orders_with_external_id(&self, merchant: &str, external_id: &str) -> usize {
        let answer = self.get(&format!("/orders?merchant={merchant}&external_id={external_id}")).await;
        answer.body["orders"].as_array().map_or(0, Vec::len)
    }
}
