//! `oms bench`: throughput figures, printed (never asserted: this is a measuring tool).
//!
//! - `oms bench normalise`: orders/s of each channel's normaliser alone, on one core.
//! - `oms bench serve`: orders/s taken in by `oms serve` over real HTTP on loopback, with a
//!   durable data directory and the queue workers running, from concurrent keep-alive
//!   clients in the same process (so client and server share the machine's cores);
//!   then how long allocation and reservation of all of them took to finish.
//! - `oms bench tree`: the fit time of our regression tree on a numeric CSV matrix (the
//!   features, then the target), the one scikit-learn's tree is timed on.
//! - `oms bench quote`: the latency of one quote in process (features, the narrowest
//!   segment's model, guard rails), over every row of a CSV, from the current model.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::stream::{self, StreamExt as _};
use serde_json::json;

use oms_api::ChannelSecrets;
use oms_channels::{self as channels, signature, Meta};
use oms_domain::order::Channel;

use crate::progress::Progress;
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
        secrets: ChannelSecrets::default().with(Channel::Generic, SECRET),
        ..ServeOptions::local(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir.to_owned())
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
    let progress = Progress::new("posting orders", orders as u64, "orders");
    let statuses: Vec<anyhow::Result<u16>> = stream::iter(bodies)
        .map(|body| {
            let client = &client;
            let progress = &progress;
            let url = format!("{base}/channels/generic/orders");
            async move {
                let _counted = Counted(progress);
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
    progress.finish();
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

/// Counts one piece of work as done when dropped, however its future ends.
struct Counted<'a>(&'a Progress);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.add(1);
    }
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

/// Quotes every row of `rows` with the data directory's current pricing model, one at a
/// time, and prints the latency percentiles and the RMSE against the prices paid.
pub fn quote(data_dir: &Path, rows: &Path) -> anyhow::Result<()> {
    let Some(artifact) = crate::retrain::load_current(data_dir, oms_pricing::DEFAULT_MERCHANT)? else {
        bail!("no pricing model in {}: run `oms retrain` first", data_dir.display());
    };
    let rows = crate::retrain::read_history(rows)?;
    let queries: Vec<oms_pricing::Query<'_>> = rows.iter().map(oms_pricing::Query::from).collect();
    for query in queries.iter().take(1_000) {
        std::hint::black_box(artifact.quote(query)?);
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let started = Instant::now();
    for query in &queries {
        let one = Instant::now();
        std::hint::black_box(artifact.quote(std::hint::black_box(query))?);
        latencies.push(one.elapsed());
    }
    let total = started.elapsed();
    latencies.sort_unstable();
    let percentile =
        |share: f64| latencies.get(((latencies.len() as f64 * share) as usize).min(latencies.len().saturating_sub(1)));
    let rmse = artifact.rmse(rows.iter().map(|row| (row.into(), row.price()))).unwrap_or(f64::NAN);
    println!(
        "{} quotes from model {} in {:.2} s: p50 {:?}, p99 {:?}, max {:?}; RMSE against the prices paid {rmse:.4}",
        latencies.len(),
        artifact.version,
        total.as_secs_f64(),
        percentile(0.5).copied().unwrap_or_default(),
        percentile(0.99).copied().unwrap_or_default(),
        latencies.last().copied().unwrap_or_default(),
    );
    Ok(())
}

/// Grows our regression tree on the rows of `matrix` (a header, then numbers: the
/// features and, last, the target) and prints the fit time.
pub fn tree(matrix: &Path, params: oms_pricing::models::TreeParams) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_path(matrix).with_context(|| format!("Failed to open {}", matrix.display()))?;
    let width = reader.headers().context("Failed to read the header")?.len();
    let mut values = Vec::new();
    for record in reader.records() {
        let record = record.context("Failed to read a row")?;
        for field in &record {
            values.push(field.parse::<f64>().with_context(|| format!("not a number: {field}"))?);
        }
    }
    if width < 2 {
        bail!("the matrix needs at least one feature and the target");
    }
    let rows = values.len() / width;
    let table = ndarray::Array2::from_shape_vec((rows, width), values).context("ragged rows")?;
    let (features, targets) = table.view().split_at(ndarray::Axis(1), width - 1);
    let targets = targets.column(0);
    let started = Instant::now();
    let fitted = params.fit_view(features, targets)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "our tree on {rows} rows x {} features: fit {seconds:.3} s, {} leaves, depth {} ({params:?})",
        width - 1,
        fitted.leaves(),
        fitted.depth()
    );
    Ok(())
}
