//! `oms bench flash-sale`: claims/s on one SKU, the embedded store in process beside a
//! Redis Lua script (check the limit, decrement, record the claim) on a `redis-server` the
//! benchmark starts on loopback, at the same numbers of concurrent clients; and
//! `--simulate`, the DynamoDB capacity model (`crate::flash_model`).
//!
//! Both sides do the same work per claim: refuse a repeated idempotency key, check the
//! customer's limit, take a unit, record the claim. Ours also records the message that
//! makes the claim's order with it: the claim is answered once its line is in the sale's
//! journal (as durable as a commit in WAL mode: a process crash loses nothing) and written
//! to SQLite in batches behind it; Redis runs with its append-only file fsynced every
//! second, the same promise. After
//! the claims, the workers make, plan and reserve every claim's order from those messages,
//! timed apart (`orders/s`), and every claim is checked to have its order.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use chrono::Utc;
use rust_decimal::Decimal;

use oms_domain::flash_sale::{IdempotencyKey, SaleId, SaleTerms};
use oms_domain::order::Address;
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::usecases::flash_sales::{self, ClaimError, NewClaim};
use oms_domain::{Currency, CustomerId, MerchantId, Sku, WarehouseId};
use oms_embedded::Embedded;

/// What one run measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    claims: usize,
    elapsed: Duration,
    /// Units taken past the sale's units (must be 0).
    oversold: i64,
    /// How long the workers took, after the claims, to make and reserve their orders.
    orders: Option<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.claims as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs the comparison: `claims` claims (one unit each, every one of them served: the sale
/// has as many units) at each number of `clients`.
pub async fn compare(claims: usize, clients: &[usize], shards: u32, data_dir: &Path) -> anyhow::Result<()> {
    println!("flash sale on one SKU: {claims} claims of one unit, each served (the sale has {claims} units), {shards} shards");
    println!("  oms: the claim use case in process on the embedded store (claim + customer total + shard + its order's message: one journal line, then SQLite)");
    println!("  orders/s: then the workers make, plan and reserve the claims' orders from those messages (every claim checked to have its order)");
    let redis = match RedisServer::start() {
        Ok(server) => {
            println!(
                "  redis: a Lua script (key, limit, decrement, record) on redis-server {} (appendonly, fsync every second)",
                server.port
            );
            Some(server)
        }
        Err(e) => {
            println!("  redis: NOT MEASURED: {e:#}");
            println!("         install it with scripts/install-tools.sh (Debian: apt-get install redis-server)");
            None
        }
    };
    println!("  http: the same claims through `oms serve` over HTTP on loopback (keep-alive clients in this process)");
    println!();
    println!(
        "  {:>7}  {:>14}  {:>14}  {:>7}  {:>14}  {:>15}  {:>9}",
        "clients", "oms claims/s", "redis claims/s", "ratio", "http claims/s", "oversold o/r/h", "orders/s"
    );
    for (run, &count) in clients.iter().enumerate() {
        let dir = data_dir.join(format!("oms-{run}"));
        let ours = oms_run(&dir, claims, count, shards).await?;
        let http = http_run(&data_dir.join(format!("http-{run}")), claims, count, shards).await?;
        let theirs = match &redis {
            Some(server) => Some(redis_run(server, run, claims, count).await?),
            None => None,
        };
        let (redis_rate, ratio, redis_oversold) = match theirs {
            Some(t) => (format!("{:.0}", t.rate()), format!("{:.2}x", ours.rate() / t.rate()), t.oversold.to_string()),
            None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        let orders = ours.orders.map_or(0.0, |d| ours.claims as f64 / d.as_secs_f64());
        println!(
            "  {count:>7}  {:>14.0}  {redis_rate:>14}  {ratio:>7}  {:>14.0}  {:>15}  {orders:>9.0}",
            ours.rate(),
            http.rate(),
            format!("{}/{redis_oversold}/{}", ours.oversold, http.oversold)
        );
    }
    Ok(())
}

fn m1() -> MerchantId {
    MerchantId::parse("m-bench").expect("a merchant id")
}

fn address() -> Address {
    Address {
        name: Some("Li Lei".into()),
        line1: "1 West Lake Rd".into(),
        line2: None,
        city: "Hangzhou".into(),
        province: Some("Zhejiang".into()),
        postal_code: Some("310000".into()),
        country: "CN".into(),
    }
}

/// A fresh durable store with a sale of `units` open now.
async fn oms_sale(dir: &Path, units: usize, shards: u32) -> anyhow::Result<(Embedded, Ports, SaleId)> {
    let store = Embedded::open(dir)?;
    let ports = store.ports(Arc::new(SystemClock));
    let warehouse = WarehouseId::parse("wh-bench")?;
    let registered = Warehouse::new(warehouse.clone(), "Bench", m1(), "Zhejiang", "Hangzhou", 30.2, 120.1)?;
    ports.warehouses.put_warehouse(&registered).await?;
    let sku = Sku::parse("SKU-FLASH")?;
    let units = u32::try_from(units).context("too many units")?;
    let _ = ports.inventory.set_on_hand(&warehouse, &m1(), &sku, units).await?;
    let now = Utc::now();
    let terms = SaleTerms {
        sku,
        units,
        per_customer_limit: 1,
        starts_at: now - chrono::Duration::minutes(1),
        ends_at: now + chrono::Duration::hours(1),
        shards: shards.min(units),
        price: Decimal::new(9900, 2),
        currency: Currency::parse("CNY")?,
    };
    let sale = flash_sales::create_sale(&ports, &m1(), terms).await?;
    Ok((store, ports, sale.sale_id))
}

async fn oms_run(dir: &Path, claims: usize, clients: usize, shards: u32) -> anyhow::Result<Run> {
    let (store, ports, sale_id) = oms_sale(dir, claims, shards).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (ports, sale_id, next) = (ports.clone(), sale_id.clone(), next.clone());
            tokio::spawn(async move {
                let mut served = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= claims {
                        return Ok::<_, anyhow::Error>(served);
                    }
                    let new = NewClaim {
                        customer_id: CustomerId::parse(format!("c-{i}"))?,
                        quantity: 1,
                        idempotency_key: IdempotencyKey::parse(format!("k-{i}"))?,
                        shipping_address: Some(address()),
                    };
                    match flash_sales::claim(&ports, &sale_id, new).await {
                        Ok(_) => served += 1,
                        Err(ClaimError::SoldOut { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        served += task.await.context("a client panicked")??;
    }
    let elapsed = started.elapsed();
    let view = flash_sales::view_sale(&ports, &sale_id).await?.context("the sale vanished")?;
    let claimed = i64::try_from(view.units_claimed)?;
    let oversold = (claimed - i64::try_from(claims)?).max(0) + (i64::try_from(served)? - claimed).abs();
    // The claims' orders, made, planned and reserved by the workers from their messages.
    let making = Instant::now();
    crate::workers::drain(&store, &ports, Duration::from_secs(600)).await?;
    let orders = making.elapsed();
    let counts = store.order_counts_by_status().await?;
    let reserved = counts.iter().find(|(status, _)| *status == oms_domain::OrderStatus::Reserved).map_or(0, |(_, n)| *n);
    let made: usize = counts.iter().map(|(_, n)| n).sum();
    if made != served || reserved != served {
        bail!("{served} claims made {made} orders, {reserved} of them reserved: every claim must have its order");
    }
    Ok(Run { claims: served, elapsed, oversold, orders: Some(orders) })
}

/// The claims through a fresh `oms serve` (routes and queue workers) over HTTP.
async fn http_run(dir: &Path, claims: usize, clients: usize, shards: u32) -> anyhow::Result<Run> {
    use futures::stream::{self, StreamExt as _};
    let (store, ports, sale_id) = oms_sale(dir, claims, shards).await?;
    drop((store, ports));
    let options = crate::server::ServeOptions::local(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), dir.to_owned());
    let running = crate::server::start(options).await?;
    let url = format!("http://{}/flash-sales/{sale_id}/claims", running.addr);
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().context("Failed to build a client")?;
    let address = serde_json::json!({"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"});
    let started = Instant::now();
    let statuses: Vec<anyhow::Result<u16>> = stream::iter(0..claims)
        .map(|i| {
            let (client, url) = (&client, &url);
            let body = serde_json::json!({"customer_id": format!("c-{i}"), "quantity": 1, "idempotency_key": format!("k-{i}"),
                                          "shipping_address": address});
            async move { Ok(client.post(url).json(&body).send().await?.status().as_u16()) }
        })
        .buffer_unordered(clients)
        .collect()
        .await;
    let elapsed = started.elapsed();
    running.shutdown().await;
    let served = statuses.iter().filter(|s| matches!(s, Ok(201))).count();
    if let Some(bad) = statuses.iter().find(|s| !matches!(s, Ok(201) | Ok(409))) {
        bail!("a claim over HTTP was answered {bad:?}");
    }
    let store = Embedded::open(dir)?;
    let view = flash_sales::view_sale(&store.ports(Arc::new(SystemClock)), &sale_id).await?.context("the sale vanished")?;
    let claimed = i64::try_from(view.units_claimed)?;
    let oversold = (claimed - i64::try_from(claims)?).max(0) + (i64::try_from(served)? - claimed).abs();
    Ok(Run { claims: served, elapsed, oversold, orders: None })
}

/// The claim as one Lua script: the same answer for a repeated key, the limit, the
/// decrement never below zero, the claim recorded.
const CLAIM_LUA: &str = r"
local first = redis.call('HGET', KEYS[3], ARGV[3])
if first then return 1 end
local claimed = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
if claimed + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -2 end
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left < tonumber(ARGV[1]) then return -1 end
redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
return 0
";

/// A `redis-server` on a free loopback port, stopped (killed) when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> anyhow::Result<Self> {
        let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !found.is_ok_and(|s| s.success()) {
            bail!("redis-server is not installed (not on PATH)");
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "everysec", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("Failed to start redis-server")?;
        let server = Self { child, port, _dir: dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("redis-server did not listen on port {port}")
    }

    fn client(&self) -> anyhow::Result<redis::Client> {
        Ok(redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redis_run(server: &RedisServer, run: usize, claims: usize, clients: usize) -> anyhow::Result<Run> {
    let client = server.client()?;
    let keys = [format!("sale:{run}:left"), format!("sale:{run}:customers"), format!("sale:{run}:claims")];
    let mut setup = client.get_multiplexed_async_connection().await?;
    redis::cmd("SET").arg(&keys[0]).arg(claims).query_async::<()>(&mut setup).await?;
    let script = Arc::new(redis::Script::new(CLAIM_LUA));
    let next = Arc::new(AtomicUsize::new(0));
    // One connection per client, as each buyer's request would hold its own.
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(client.get_multiplexed_async_connection().await?);
    }
    let started = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .map(|mut connection| {
            let (script, next, keys) = (script.clone(), next.clone(), keys.clone());
            tokio::spawn(async move {
                let mut served = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= claims {
                        return Ok::<_, anyhow::Error>(served);
                    }
                    let answer: i64 = script
                        .key(&keys[0])
                        .key(&keys[1])
                        .key(&keys[2])
                        .arg(1)
                        .arg(1)
                        .arg(format!("k-{i}"))
                        .arg(format!("c-{i}"))
                        .arg(format!("claim-{i}"))
                        .invoke_async(&mut connection)
                        .await?;
                    if answer == 0 {
                        served += 1;
                    }
                }
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        served += task.await.context("a client panicked")??;
    }
    let elapsed = started.elapsed();
    let left: i64 = redis::cmd("GET").arg(&keys[0]).query_async(&mut setup).await?;
    let oversold = (-left).max(0) + (i64::try_from(claims)? - left - i64::try_from(served)?).abs();
    Ok(Run { claims: served, elapsed, oversold, orders: None })
}
