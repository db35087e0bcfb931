//! The warehouse list, cached per container: every allocation and re-plan reads every
//! warehouse, and a strongly consistent `Query` of the one partition `WAREHOUSES` per
//! order would make that partition the hottest of the table. Warehouses change rarely (a
//! warehouse opens, moves, closes), so a list at most [`WAREHOUSES_TTL`] old is used; a
//! container that writes a warehouse drops its own copy at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use oms_domain::ports::{PutWarehouse, StoreError, WarehouseStore};
use oms_domain::stock::Warehouse;
use oms_domain::WarehouseId;

/// How old a cached warehouse list may be: a warehouse registered in another container is
/// planned with at most this much later.
pub const WAREHOUSES_TTL: Duration = Duration::from_secs(30);

/// A `WarehouseStore` that answers `list_warehouses` from a copy at most `ttl` old.
#[derive(Debug)]
pub struct CachedWarehouses<W> {
    inner: W,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<Vec<Warehouse>>)>>,
}

impl<W: WarehouseStore> CachedWarehouses<W> {
    pub fn new(inner: W, ttl: Duration) -> Self {
        Self { inner, ttl, cached: Mutex::new(None) }
    }

    fn fresh(&self) -> Option<Arc<Vec<Warehouse>>> {
        let cached = self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.as_ref().filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, list)| Arc::clone(list))
    }

    fn keep(&self, list: Option<Arc<Vec<Warehouse>>>) {
        *self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = list.map(|list| (Instant::now(), list));
    }
}

#[async_trait]
impl<W: WarehouseStore> WarehouseStore for CachedWarehouses<W> {
    /// Written through, and this container's copy dropped.
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<PutWarehouse, StoreError> {
        let outcome = self.inner.put_warehouse(warehouse).await?;
        self.keep(None);
        Ok(outcome)
    }

    /// Read through, never cached: one warehouse is one cheap read.
    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        self.inner.get_warehouse(id).await
    }

    /// The cached list while it is younger than the TTL; else read and kept.
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError> {
        if let Some(list) = self.fresh() {
            return Ok(list.as_ref().clone());
        }
        let list = Arc::new(self.inner.list_warehouses().await?);
        self.keep(Some(Arc::clone(&list)));
        Ok(list.as_ref().clone())
    }
}
