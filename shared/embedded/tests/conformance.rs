//! The shared conformance suite, run against the SQLite store: file-backed in a temporary
//! directory (as `oms serve` runs it) and in memory (as handler tests use it).

use async_trait::async_trait;
use oms_conformance::Subject;
use oms_domain::ports::{
    InsertOutcome, InventoryStore, OrderQuery, OrderStore, OrdersPage, Page, ReleaseOutcome, ReserveOutcome, SetOnHandOutcome,
    StoreError, UpdateOutcome, WarehouseStore,
};
use oms_domain::reservation::Reservation;
use oms_domain::stock::{StockLevel, Warehouse};
use oms_domain::{Order, OrderId, Sku, WarehouseId};
use oms_embedded::Embedded;
use std::sync::Arc;
use tempfile::TempDir;

/// The store with its temporary directory, which lives as long as any port using it.
struct InTempDir {
    store: Embedded,
    _dir: TempDir,
}

async fn file_backed() -> Subject {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Embedded::open(dir.path()).expect("the store opens");
    let kept = Arc::new(InTempDir { store, _dir: dir });
    Subject { orders: kept.clone(), warehouses: kept.clone(), inventory: kept }
}

async fn in_memory() -> Subject {
    let store = Embedded::open_in_memory().expect("the store opens");
    let ports = store.ports(Arc::new(oms_domain::ports::SystemClock));
    Subject { orders: ports.orders, warehouses: ports.warehouses, inventory: ports.inventory }
}

mod file {
    oms_conformance::conformance_tests!(super::file_backed);
}

mod memory {
    oms_conformance::conformance_tests!(super::in_memory);
}

#[async_trait]
impl OrderStore for InTempDir {
    async fn insert_order(&self, order: &Order) -> Result<InsertOutcome, StoreError> {
        self.store.insert_order(order).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.store.get_order(id).await
    }
    async fn update_order(&self, order: &Order) -> Result<UpdateOutcome, StoreError> {
        self.store.update_order(order).await
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.store.find_orders(query, page).await
    }
}

#[async_trait]
impl WarehouseStore for InTempDir {
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<(), StoreError> {
        self.store.put_warehouse(warehouse).await
    }
    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        self.store.get_warehouse(id).await
    }
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError> {
        self.store.list_warehouses().await
    }
}

#[async_trait]
impl InventoryStore for InTempDir {
    async fn set_on_hand(&self, warehouse: &WarehouseId, sku: &Sku, on_hand: u32) -> Result<SetOnHandOutcome, StoreError> {
        self.store.set_on_hand(warehouse, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.store.stock_of(sku).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.store.reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId) -> Result<ReleaseOutcome, StoreError> {
        self.store.release(order_id).await
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Reservation>, StoreError> {
        self.store.reservation(order_id).await
    }
}
