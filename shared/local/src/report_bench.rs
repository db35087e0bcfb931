//! `oms bench report --orders N`: a year of generated orders (several channels, provinces,
//! SKUs, two currencies; most delivered, some split, backordered or cancelled) written into
//! a fresh SQLite data directory through the store's own write path (`insert_order`, many
//! in flight so the database thread commits them in batches), then each template's
//! generation timed, and the files of all of them written. Figures are printed, never
//! asserted.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rust_decimal::Decimal;

use oms_domain::allocation::{AllocatedLine, Allocation, Candidate, Costing, Method};
use oms_domain::order::{Address, Channel, Charges, Customer, NewOrder, OrderLine};
use oms_domain::ports::{InsertOutcome, SetOnHandOutcome, SystemClock};
use oms_domain::reports::{ReportQuery, Template};
use oms_domain::{Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, OrderStatus, Sku, WarehouseId};
use oms_embedded::Embedded;

use crate::progress::Progress;
use crate::reports::{self, Formats};

const PROVINCES: [&str; 8] = ["Zhejiang", "Guangdong", "Jiangsu", "Beijing", "Shanghai", "Sichuan", "Hubei", "Fujian"];
const CHANNELS: [Channel; 4] = [Channel::Generic, Channel::Shopify, Channel::WooCommerce, Channel::Amazon];
const SKUS: usize = 500;
const WAREHOUSES: [&str; 3] = ["wh-east", "wh-south", "wh-north"];
/// Orders written at once (the database thread commits those waiting in one transaction).
const IN_FLIGHT: usize = 256;

/// Generates `orders` orders into `data_dir`, then times every template.
pub async fn run(data_dir: &Path, orders: usize) -> anyhow::Result<()> {
    let embedded = Embedded::open(data_dir).with_context(|| format!("Failed to open {}", data_dir.display()))?;
    let ports = embedded.ports(Arc::new(SystemClock));
    let end = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().context("a valid time")?;
    let start = end - Duration::days(365);

    let owner = MerchantId::parse("m-1")?;
    for (i, warehouse) in WAREHOUSES.iter().enumerate() {
        for sku in 0..SKUS {
            let on_hand = ((sku * 7 + i * 13) % 60) as u32;
            let set = ports.inventory.set_on_hand(&WarehouseId::parse(*warehouse)?, &owner, &sku_name(sku)?, on_hand).await?;
            anyhow::ensure!(matches!(set, SetOnHandOutcome::Set(_)), "the bench's stock count was refused: {set:?}");
        }
    }

    let loading = Progress::new("generate", orders as u64, "orders");
    let started = Instant::now();
    let store = ports.orders.clone();
    stream::iter(0..orders)
        .map(|n| {
            let store = store.clone();
            let loading = &loading;
            async move {
                let order = generated(n, orders, start, end)?;
                let inserted = store.insert_order(&order).await.with_context(|| format!("Failed to insert order {n}"))?;
                anyhow::ensure!(inserted == InsertOutcome::Inserted, "order {n} was already stored (use a fresh data directory)");
                loading.add(1);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    loading.finish();
    let load = started.elapsed();
    let db_bytes = std::fs::metadata(data_dir.join("oms.db")).map(|m| m.len()).unwrap_or(0);
    println!("report benchmark: {orders} orders over 365 days, {} SKUs x {} warehouses of stock", SKUS, WAREHOUSES.len());
    println!(
        "  generate + insert   {:>8.1} s  ({:.0} orders/s; database {:.0} MB)",
        load.as_secs_f64(),
        orders as f64 / load.as_secs_f64(),
        db_bytes as f64 / 1e6
    );

    let year = ReportQuery { from: start, to: end, merchant: None };
    let out = tempfile::tempdir().context("Failed to make a temporary directory")?;
    for template in Template::ALL {
        let started = Instant::now();
        let documents = reports::documents(&embedded, &year, &[template], false).await?;
        let read = started.elapsed();
        let written = reports::write(&documents, Formats::ALL, out.path())?;
        let rows: usize = documents.iter().flat_map(|d| &d.tables).map(|t| t.rows.len()).sum();
        println!(
            "  {:<12} read {:>7.1} s, write {:>6.2} s  ({} table rows, {} files)",
            template.as_str(),
            read.as_secs_f64(),
            (started.elapsed() - read).as_secs_f64(),
            rows,
            written.len()
        );
    }
    let started = Instant::now();
    let documents = reports::documents(&embedded, &year, &Template::ALL, false).await?;
    let written = reports::write(&documents, Formats::ALL, out.path())?;
    println!("  all four in one pass {:>6.1} s  ({} files)", started.elapsed().as_secs_f64(), written.len());
    Ok(())
}

fn sku_name(n: usize) -> anyhow::Result<Sku> {
    Ok(Sku::parse(format!("SKU-{n:04}"))?)
}

/// Order `n` of `total`, placed evenly over `[start, end)`, its fate drawn from a seed of
/// its own (so runs are the same).
fn generated(n: usize, total: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> anyhow::Result<Order> {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let span = (end - start).num_seconds();
    let placed_at = start + Duration::seconds(span * n as i64 / total.max(1) as i64);
    let province = PROVINCES[rng.random_range(0..PROVINCES.len())];
    let usd = rng.random_bool(0.1);
    let lines = (0..rng.random_range(1..=3))
        .map(|_| -> anyhow::Result<OrderLine> {
            Ok(OrderLine {
                sku: sku_name(rng.random_range(0..SKUS))?,
                quantity: rng.random_range(1..=4),
                unit_price: Decimal::new(rng.random_range(500..20_000), 2),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let new = NewOrder {
        channel: CHANNELS[n % CHANNELS.len()],
        external_id: ExternalId::parse(format!("B-{n}"))?,
        order_number: OrderNumber::parse(format!("B-{n}"))?,
        merchant_id: MerchantId::parse("m-1")?,
        placed_at,
        currency: Currency::parse(if usd { "USD" } else { "CNY" })?,
        customer: Customer::known(CustomerId::parse(format!("c-{}", n % 50_000))?),
        shipping_address: Address {
            name: None,
            line1: "1 Bench Rd".into(),
            line2: None,
            city: "City".into(),
            province: Some(province.into()),
            postal_code: None,
            country: "CN".into(),
        },
        lines,
        charges: Charges::default(),
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    };
    let mut order = Order::receive(new, OrderId::generate(), placed_at);
    let fate = rng.random_range(0..100);
    let at = |seconds: i64| placed_at + Duration::seconds(seconds);
    if fate < 4 {
        order.transition(OrderStatus::Backordered, at(20), "short")?;
        order.transition(OrderStatus::Cancelled, at(86_400), "customer")?;
        return Ok(order);
    }
    let split = fate < 14;
    let warehouses: Vec<WarehouseId> =
        WAREHOUSES[..if split { 2 } else { 1 }].iter().map(|w| WarehouseId::parse(*w)).collect::<Result<_, _>>()?;
    let allocated_lines = order
        .lines
        .iter()
        .zip(warehouses.iter().cycle())
        .map(|(line, warehouse)| AllocatedLine {
            warehouse: warehouse.clone(),
            owner: order.merchant_id.clone(),
            sku: line.sku.clone(),
            quantity: line.quantity,
            transfer_price: None,
        })
        .collect();
    let chosen = Candidate { warehouses, cost: Decimal::new(rng.random_range(800..3_000), 2), shipments: 1 };
    let costing = Costing { chosen: chosen.clone(), candidates: vec![chosen], considered: 1, method: Method::Exact, steps: 1 };
    order.allocation = Some(Allocation {
        lines: allocated_lines,
        explanation: "cheapest".into(),
        costing: Some(costing),
        planned_at: at(5),
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
    order.transition(OrderStatus::Allocated, at(5), "planned")?;
    order.transition(OrderStatus::Reserved, at(rng.random_range(10..600)), "held")?;
    if fate < 18 {
        order.transition(OrderStatus::Cancelled, at(3_600), "customer")?;
        return Ok(order);
    }
    if placed_at > end - Duration::days(2) {
        return Ok(order);
    }
    let shipped = rng.random_range(3_600..172_800);
    order.transition(OrderStatus::Shipped, at(shipped), "shipped")?;
    order.transition(OrderStatus::Delivered, at(shipped + rng.random_range(43_200..345_600)), "delivered")?;
    Ok(order)
}
