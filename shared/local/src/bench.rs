//! `oms bench`: throughput figures, printed (never asserted: this is a measuring tool).
//!
//! - `oms bench normalise`: orders/s of each channel's normaliser alone, on one core.
//! - `oms bench serve`: orders/s taken in by `oms serve` over real HTTP on loopback, with a
//!   durable data directory and the queue workers running, from concurrent keep-alive
//!   clients in the same process (so client and server share the machine's cores);
//!   then how long allocation and reservation of all of them took to finish.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::stream::{self, StreamExt as _};
use serde_json::json;

use oms_api::ChannelSecrets;
use oms_channels::{self as channels, signature, Meta};
use oms_domain::order::Channel;

use crate::server::{self, ServeOptions};

/// One realistic payload per webhook channel.
const PAYLOADS: [(Channel, &str, &str); 4] = [
    (Channel::Generic, "", include_str!("../../channels/tests/fixtures/generic_order.json")),
    (Channel::Shopify, "teahouse.myshopify.com", include_str!("../../channels/tests/fixtures/shopify_order.json")),
    (Channel::WooCommerce, "https://shop.example.com", include_str!("../../channels/tests/fixtures/woocommerce_order.json")),
    (Channel::Amazon, "", include_str!("../../channels/tests/fixtures/amazon_order.json")),
];

/// Normalises each channel's payload `orders` times and prints the rate.
pub fn normalise(orders: usize) -> anyhow::Result<()> {
    println!("normaliser throughput, {orders} orders per channel, one thread");
    for (channel, merchant, payload) in PAYLOADS {
        let meta = if merchant.is_empty() { Meta::default() } else { Meta::merchant(merchant) };
        channels::normalise_with_meta(channel, payload.as_bytes(), &meta)
            .with_context(|| format!("the {channel} sample is refused"))?;
        let started = Instant::now();
        for _ in 0..orders {
            std::hint::black_box(channels::normalise_with_meta(channel, std::hint::black_box(payload.as_bytes()), &meta).is_ok());
        }
        let elapsed = started.elapsed();
        println!(
            "  {:<12} {:>10.0} orders/s  ({:.1} µs per order, {} bytes)",
            channel.as_str(),
            orders as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / orders as f64,
            payload.len()
        );
    }
    Ok(())
}

/// Posts `orders` signed generic orders to a fresh `oms serve` from `concurrency` clients.
pub async fn serve(data_dir: &Path, orders: usize, concurrency: usize) -> anyhow::Result<()> {
    const SECRET: &str = "bench-secret";
    let options = ServeOptions {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_owned(),
        secrets: ChannelSecrets::default().with(Channel::Generic, SECRET),
        run_workers: true,
    };
    let running = server::start(options).await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().context("Failed to build a client")?;

    let warehouse =
        json!({"name": "Bench", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
    client.put(format!("{base}/warehouses/wh-bench")).json(&warehouse).send().await?.error_for_status()?;
    let stock = json!({ "on_hand": 100_000_000 });
    client.put(format!("{base}/inventory/wh-bench/SKU-1")).json(&stock).send().await?.error_for_status()?;

    let bodies: Vec<Vec<u8>> = (0..orders).map(|i| sample_body(&format!("BENCH-{i}")).into_bytes()).collect();
    println!(
        "oms serve intake: {orders} signed generic orders, {concurrency} concurrent keep-alive clients, data in {}",
        data_dir.display()
    );
    let started = Instant::now();
    let statuses: Vec<anyhow::Result<u16>> = stream::iter(bodies)
        .map(|body| {
            let client = &client;
            let url = format!("{base}/channels/generic/orders");
            async move {
                let sig = signature::sign(Channel::Generic, SECRET.as_bytes(), &body);
                let response = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-oms-signature", sig)
                    .body(body)
                    .send()
                    .await?;
                Ok(response.status().as_u16())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let intake = started.elapsed();
    let accepted = statuses.iter().filter(|s| matches!(s, Ok(202))).count();
    if accepted != orders {
        let first_bad = statuses.iter().find(|s| !matches!(s, Ok(202)));
        bail!("{} of {orders} orders were not accepted; first: {first_bad:?}", orders - accepted);
    }
    println!(
        "  accepted     {:>10.0} orders/s  ({orders} in {:.2} s)",
        orders as f64 / intake.as_secs_f64(),
        intake.as_secs_f64()
    );
    if !running.wait_until_idle(Duration::from_secs(600)).await? {
        bail!("allocation and reservation did not finish within 10 minutes");
    }
    let total = started.elapsed();
    println!(
        "  reserved     {:>10.0} orders/s  (all {orders} allocated and reserved {:.2} s after the first post)",
        orders as f64 / total.as_secs_f64(),
        total.as_secs_f64()
    );
    running.shutdown().await;
    Ok(())
}

fn sample_body(external_id: &str) -> String {
    json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                             "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "19.90"}]
    })
    .to_string()
}
