//! The order export `GET /analytics` reads in AWS: the scheduled `export-orders` function
//! scans the table's orders once per run (never on a request's path) and writes them to
//! the bucket, one JSON-lines object per merchant sorted by order id, then a manifest
//! naming the run; [`ExportedOrders`] serves the `OrderArchive` port from those objects.
//!
//! | key | what |
//! | --- | --- |
//! | `exports/orders/<merchant id>.jsonl` | the merchant's orders, one `GET /orders/{id}` JSON per line, by order id |
//! | `exports/orders/manifest.json` | `{"exported_at", "merchants": {"<merchant id>": <orders>}}`, written last |
//!
//! Figures are as of the last export: an order written since is not in them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use oms_domain::ports::{OrderArchive, StoreError};
use oms_domain::{MerchantId, Order, OrderId};

use crate::{Artifacts, DynamoStore};

/// Where the export's objects live in the bucket.
pub const EXPORT_PREFIX: &str = "exports/orders";
/// How long a reader trusts the manifest it read before reading it again.
pub const MANIFEST_TTL: Duration = Duration::from_secs(60);

/// What an export wrote: when, and how many orders of each merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub exported_at: DateTime<Utc>,
    pub merchants: BTreeMap<String, usize>,
}

fn manifest_key() -> String {
    format!("{EXPORT_PREFIX}/manifest.json")
}

fn merchant_key(merchant: &str) -> String {
    format!("{EXPORT_PREFIX}/{merchant}.jsonl")
}

/// What a run exported: the manifest, and every order it wrote (by id), for the reports
/// made from the same pass.
#[derive(Debug)]
pub struct Export {
    pub manifest: Manifest,
    pub orders: OrderSnapshot,
}

/// Orders held in memory, by id: an `OrderArchive` over one pass's orders.
#[derive(Debug, Clone, Default)]
pub struct OrderSnapshot(Vec<Order>);

impl OrderSnapshot {
    /// `orders`, put in id order.
    pub fn new(mut orders: Vec<Order>) -> Self {
        orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        Self(orders)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// At most `limit` orders of `merchant` (every merchant's for `None`) after `after`,
    /// by id: the `OrderArchive` page.
    fn page(&self, merchant: Option<&MerchantId>, after: Option<&OrderId>, limit: usize) -> Vec<Order> {
        let start = after.map_or(0, |after| self.0.partition_point(|o| &o.order_id <= after));
        let mine = |o: &&Order| merchant.is_none_or(|m| &o.merchant_id == m);
        self.0[start..].iter().filter(mine).take(limit).cloned().collect()
    }
}

#[async_trait]
impl OrderArchive for OrderSnapshot {
    async fn orders_after(
        &self,
        merchant: Option<&MerchantId>,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        Ok(self.page(merchant, after, limit))
    }
}

/// Scans every order of the table and writes the export (the manifest last, so a reader
/// never sees a manifest naming objects not written yet).
pub async fn export_orders(dynamo: &DynamoStore, artifacts: &Artifacts, at: DateTime<Utc>) -> Result<Export, StoreError> {
    let all = OrderSnapshot::new(dynamo.all_orders().await?);
    let mut by_merchant: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut merchants = BTreeMap::new();
    for order in &all.0 {
        let lines = by_merchant.entry(order.merchant_id.as_str()).or_default();
        serde_json::to_writer(&mut *lines, order).map_err(|e| StoreError::new("Failed to encode an order", e))?;
        lines.push(b'\n');
        *merchants.entry(order.merchant_id.to_string()).or_insert(0) += 1;
    }
    for (merchant, lines) in by_merchant {
        artifacts.put_object(&merchant_key(merchant), lines).await?;
    }
    let manifest = Manifest { exported_at: at, merchants };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| StoreError::new("Failed to encode the manifest", e))?;
    artifacts.put_object(&manifest_key(), bytes).await?;
    Ok(Export { manifest, orders: all })
}

/// The `OrderArchive` over the last export: each merchant's object read once per export
/// and kept (the manifest read again at most every [`MANIFEST_TTL`]); no export yet: no
/// orders.
#[derive(Debug)]
pub struct ExportedOrders {
    artifacts: Artifacts,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    manifest: Option<(Option<Manifest>, Instant)>,
    /// By merchant id; `None`: every merchant's, merged.
    orders: HashMap<Option<String>, Arc<OrderSnapshot>>,
}

impl ExportedOrders {
    pub fn new(artifacts: Artifacts) -> Self {
        Self { artifacts, cache: Default::default() }
    }

    async fn manifest(&self, cache: &mut Cache) -> Result<Option<Manifest>, StoreError> {
        if let Some((manifest, read_at)) = &cache.manifest {
            if read_at.elapsed() < MANIFEST_TTL {
                return Ok(manifest.clone());
            }
        }
        let manifest = match self.artifacts.get_object(&manifest_key()).await? {
            Some(bytes) => Some(
                serde_json::from_slice::<Manifest>(&bytes)
                    .map_err(|e| StoreError::new("Failed to read the export's manifest", e))?,
            ),
            None => None,
        };
        let previous = cache.manifest.as_ref().and_then(|(m, _)| m.as_ref()).map(|m| m.exported_at);
        if previous != manifest.as_ref().map(|m| m.exported_at) {
            cache.orders.clear();
        }
        cache.manifest = Some((manifest.clone(), Instant::now()));
        Ok(manifest)
    }

    async fn merchant_orders(&self, merchant: &str) -> Result<Vec<Order>, StoreError> {
        let key = merchant_key(merchant);
        let Some(bytes) = self.artifacts.get_object(&key).await? else {
            return Err(StoreError::msg(format!("the export's manifest names {key}, which is missing")));
        };
        bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| {
                serde_json::from_slice::<Order>(line).map_err(|e| StoreError::new(format!("Failed to read an order of {key}"), e))
            })
            .collect()
    }

    /// The orders of `merchant` (every merchant's for `None`) in the last export, by id.
    async fn orders_of(&self, merchant: Option<&MerchantId>) -> Result<Arc<OrderSnapshot>, StoreError> {
        let mut cache = self.cache.lock().await;
        let Some(manifest) = self.manifest(&mut cache).await? else {
            return Ok(Arc::default());
        };
        let wanted = merchant.map(|m| m.to_string());
        if let Some(orders) = cache.orders.get(&wanted) {
            return Ok(orders.clone());
        }
        let names: Vec<&String> = match &wanted {
            Some(m) => manifest.merchants.keys().filter(|name| *name == m).collect(),
            None => manifest.merchants.keys().collect(),
        };
        let mut orders = Vec::new();
        for name in names {
            orders.extend(self.merchant_orders(name).await?);
        }
        let orders = Arc::new(OrderSnapshot::new(orders));
        cache.orders.insert(wanted, orders.clone());
        Ok(orders)
    }
}

#[async_trait]
impl OrderArchive for ExportedOrders {
    /// The export's orders of `merchant` after `after`, by id: the page of the last export.
    async fn orders_after(
        &self,
        merchant: Option<&MerchantId>,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        Ok(self.orders_of(merchant).await?.page(merchant, after, limit))
    }
}
