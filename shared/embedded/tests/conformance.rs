//! The shared conformance suite, run against the SQLite store: file-backed in a temporary
//! directory (as `oms serve` runs it), in memory (as handler tests use it), and as two
//! stores on one file (as two processes would share it).
//!
//! One store runs every operation on its one database thread, so its races are decided in
//! that thread's queue. Two stores on one file are two connections: there the racing calls
//! alternate between them and contend for SQLite's write lock itself (`BEGIN IMMEDIATE`,
//! the busy timeout), which is the contention the conditions must also survive.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use oms_conformance::{Outbox, Subject};
use oms_domain::alert::{Alert, AlertPage, AlertStatus};
use oms_domain::carrier::RateTable;
use oms_domain::catalogue::SkuFacts;
use oms_domain::consignment::Consignment;
use oms_domain::flash_sale::{Claim, FlashSale, IdempotencyKey, SaleId, ShardLevel};
use oms_domain::messages::{Outgoing, QueueName};
use oms_domain::order::Channel;
use oms_domain::ports::{AddEventOutcome, ConsignmentStore, PutConsignment, ShipmentStore};
use oms_domain::ports::{
    AlertStore, InsertOutcome, InventoryStore, MoveOutcome, OrderQuery, OrderStore, OrdersPage, Page, RaiseOutcome,
    ReleaseOutcome, ReserveOutcome, SetOnHandOutcome, StatusEntry, StoreError, UpdateOutcome, WarehouseStore,
};
use oms_domain::ports::{
    ClaimOutcome, CreateSaleOutcome, Effects, FlashSaleStore, RateTables, SalesHistory, SkuCatalogue, SkuMappingStore,
};
use oms_domain::reservation::{Hold, HoldId, Reservation};
use oms_domain::sales::{SaleKey, SalesPage};
use oms_domain::shipment::{Lane, Shipment, TrackingEvent, TransitSample};
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::stock::{StockLevel, Warehouse};
use oms_domain::CarrierId;
use oms_domain::ConsignmentId;
use oms_domain::MerchantId;
use oms_domain::TrackingNumber;
use oms_domain::{AlertId, Order, OrderId, OrderStatus, Sku, WarehouseId};
use oms_embedded::Embedded;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    let outbox = Arc::new(QueueRows(kept.store.clone(), Vec::new()));
    Subject {
        orders: kept.clone(),
        warehouses: kept.clone(),
        inventory: kept.clone(),
        alerts: kept.clone(),
        sku_mappings: kept.clone(),
        catalogue: kept.clone(),
        rates: kept.clone(),
        flash_sales: kept.clone(),
        supply: kept.clone(),
        shipments: kept.clone(),
        sales: kept.clone(),
        outbox,
        consignments: kept.clone(),
        auctions: kept.clone(),
        group_buys: kept.clone(),
        rentals: kept.clone(),
        reviews: kept.clone(),
        repairs: kept.clone(),
        returns: kept.clone(),
        browsing: kept.clone(),
        merchants: kept.clone(),
        storefronts: kept.clone(),
        products: kept.clone(),
        rfqs: kept.clone(),
        buyer_requests: kept,
    }
}

/// The outbox of the embedded store: the rows of its queue table.
/// The queue rows of the first store, once every store's flash-sale claims answered are
/// written (a claim is answered once journaled, and another connection reads it once
/// written: a moment later).
struct QueueRows(Embedded, Vec<Embedded>);

#[async_trait]
impl Outbox for QueueRows {
    async fn sent(&self) -> Vec<Outgoing> {
        for store in &self.1 {
            store.claims_written().await.expect("the claims written");
        }
        let mut sent = Vec::new();
        for queue in QueueName::ALL {
            let rows = self.0.pending(queue).await.expect("the queue's rows");
            sent.extend(rows.into_iter().map(|row| Outgoing::stored(queue, row.body)));
        }
        sent
    }
}

async fn in_memory() -> Subject {
    let store = Embedded::open_in_memory().expect("the store opens");
    let ports = store.ports(Arc::new(oms_domain::ports::SystemClock));
    let store_for_rentals = store.clone();
    let repairs = ports.repairs;
    Subject {
        orders: ports.orders,
        warehouses: ports.warehouses,
        inventory: ports.inventory,
        alerts: ports.alerts,
        sku_mappings: ports.sku_mappings,
        catalogue: ports.catalogue,
        rates: ports.rates,
        flash_sales: ports.flash_sales,
        supply: ports.supply,
        shipments: ports.shipments,
        sales: ports.sales,
        outbox: Arc::new(QueueRows(store, Vec::new())),
        consignments: ports.consignments,
        auctions: ports.auctions,
        group_buys: ports.group_buys,
        rentals: Arc::new(store_for_rentals),
        reviews: ports.reviews,
        repairs,
        returns: ports.returns,
        merchants: ports.merchants,
        storefronts: ports.storefronts,
        browsing: ports.browsing,
        products: ports.products,
        rfqs: ports.rfqs,
        buyer_requests: ports.buyer_requests,
    }
}

/// Two stores (two connections, two database threads) on one file; calls alternate.
struct TwoOnOneFile {
    stores: [Embedded; 2],
    next: AtomicUsize,
    _dir: TempDir,
}

impl TwoOnOneFile {
    fn pick(&self) -> &Embedded {
        &self.stores[self.next.fetch_add(1, Ordering::Relaxed) % 2]
    }
}

async fn two_on_one_file() -> Subject {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stores = [Embedded::open(dir.path()).expect("the store opens"), Embedded::open(dir.path()).expect("it opens twice")];
    let outbox = Arc::new(QueueRows(stores[0].clone(), stores.to_vec()));
    let shared = Arc::new(TwoOnOneFile { stores, next: AtomicUsize::new(0), _dir: dir });
    Subject {
        orders: shared.clone(),
        warehouses: shared.clone(),
        inventory: shared.clone(),
        alerts: shared.clone(),
        sku_mappings: shared.clone(),
        catalogue: shared.clone(),
        rates: shared.clone(),
        flash_sales: shared.clone(),
        supply: shared.clone(),
        shipments: shared.clone(),
        sales: shared.clone(),
        outbox,
        consignments: shared.clone(),
        auctions: shared.clone(),
        group_buys: shared.clone(),
        rentals: shared.clone(),
        reviews: shared.clone(),
        repairs: shared.clone(),
        returns: shared.clone(),
        browsing: shared.clone(),
        merchants: shared.clone(),
        storefronts: shared.clone(),
        products: shared.clone(),
        rfqs: shared.clone(),
        buyer_requests: shared,
    }
}

mod file {
    oms_conformance::conformance_tests!(super::file_backed);
}

mod two_connections {
    oms_conformance::conformance_tests!(super::two_on_one_file);
}

mod memory {
    oms_conformance::conformance_tests!(super::in_memory);
}

#[async_trait]
impl OrderStore for InTempDir {
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        self.store.insert_order_sending(order, send).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.store.get_order(id).await
    }
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        self.store.update_order_with(order, effects).await
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.store.find_orders(query, page).await
    }
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.store.backorders_waiting_for(sku, limit).await
    }
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        self.store.orders_in_status_since(status, before, after, limit).await
    }
}

#[async_trait]
impl WarehouseStore for InTempDir {
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<oms_domain::ports::PutWarehouse, StoreError> {
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
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        self.store.set_on_hand(warehouse, owner, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.store.stock_of(sku).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.store.reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        self.store.release(order_id, hold_id).await
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        self.store.reservation(order_id).await
    }
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.store.hold_set_aside(order_id, reservation).await
    }
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &oms_domain::ledger::Adjustment,
    ) -> Result<oms_domain::ledger::AdjustOutcome, StoreError> {
        self.store.adjust(warehouse, owner, sku, adjustment).await
    }
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<oms_domain::ledger::LedgerPage, StoreError> {
        self.store.ledger(sku, owner, after, limit).await
    }
    async fn stock_figures(&self) -> Result<Vec<oms_domain::ledger::StockFigures>, StoreError> {
        self.store.stock_figures().await
    }
    async fn open_holds(&self) -> Result<Vec<oms_domain::ledger::OpenHold>, StoreError> {
        self.store.open_holds().await
    }
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.store.lots_of(sku).await
    }
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.store.claim_lot_sweep(day).await
    }
}

#[async_trait]
impl OrderStore for TwoOnOneFile {
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        self.pick().insert_order_sending(order, send).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.pick().get_order(id).await
    }
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        self.pick().update_order_with(order, effects).await
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.pick().find_orders(query, page).await
    }
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.pick().backorders_waiting_for(sku, limit).await
    }
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        self.pick().orders_in_status_since(status, before, after, limit).await
    }
}

#[async_trait]
impl WarehouseStore for TwoOnOneFile {
    async fn put_warehouse(&self, warehouse: &Warehouse) -> Result<oms_domain::ports::PutWarehouse, StoreError> {
        self.pick().put_warehouse(warehouse).await
    }
    async fn get_warehouse(&self, id: &WarehouseId) -> Result<Option<Warehouse>, StoreError> {
        self.pick().get_warehouse(id).await
    }
    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, StoreError> {
        self.pick().list_warehouses().await
    }
}

#[async_trait]
impl InventoryStore for TwoOnOneFile {
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        self.pick().set_on_hand(warehouse, owner, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.pick().stock_of(sku).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.pick().reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        self.pick().release(order_id, hold_id).await
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        self.pick().reservation(order_id).await
    }
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.pick().hold_set_aside(order_id, reservation).await
    }
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &oms_domain::ledger::Adjustment,
    ) -> Result<oms_domain::ledger::AdjustOutcome, StoreError> {
        self.pick().adjust(warehouse, owner, sku, adjustment).await
    }
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<oms_domain::ledger::LedgerPage, StoreError> {
        self.pick().ledger(sku, owner, after, limit).await
    }
    async fn stock_figures(&self) -> Result<Vec<oms_domain::ledger::StockFigures>, StoreError> {
        self.pick().stock_figures().await
    }
    async fn open_holds(&self) -> Result<Vec<oms_domain::ledger::OpenHold>, StoreError> {
        self.pick().open_holds().await
    }
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.pick().lots_of(sku).await
    }
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.pick().claim_lot_sweep(day).await
    }
}

#[async_trait]
impl AlertStore for InTempDir {
    async fn raise(&self, alert: &Alert) -> Result<RaiseOutcome, StoreError> {
        self.store.raise(alert).await
    }
    async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        self.store.get_alert(id).await
    }
    async fn list_alerts(
        &self,
        status: AlertStatus,
        merchant: Option<&MerchantId>,
        after: Option<&AlertId>,
        limit: usize,
    ) -> Result<AlertPage, StoreError> {
        self.store.list_alerts(status, merchant, after, limit).await
    }
    async fn move_alert(&self, id: &AlertId, to: AlertStatus, at: DateTime<Utc>) -> Result<MoveOutcome, StoreError> {
        self.store.move_alert(id, to, at).await
    }
}

#[async_trait]
impl AlertStore for TwoOnOneFile {
    async fn raise(&self, alert: &Alert) -> Result<RaiseOutcome, StoreError> {
        self.pick().raise(alert).await
    }
    async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        self.pick().get_alert(id).await
    }
    async fn list_alerts(
        &self,
        status: AlertStatus,
        merchant: Option<&MerchantId>,
        after: Option<&AlertId>,
        limit: usize,
    ) -> Result<AlertPage, StoreError> {
        self.pick().list_alerts(status, merchant, after, limit).await
    }
    async fn move_alert(&self, id: &AlertId, to: AlertStatus, at: DateTime<Utc>) -> Result<MoveOutcome, StoreError> {
        self.pick().move_alert(id, to, at).await
    }
}

#[async_trait]
impl SkuMappingStore for InTempDir {
    async fn put_sku_mapping(&self, mapping: &SkuMapping) -> Result<(), StoreError> {
        self.store.put_sku_mapping(mapping).await
    }

    async fn mapped_sku(&self, channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Result<Option<Sku>, StoreError> {
        self.store.mapped_sku(channel, merchant, channel_sku).await
    }
}

#[async_trait]
impl SkuMappingStore for TwoOnOneFile {
    async fn put_sku_mapping(&self, mapping: &SkuMapping) -> Result<(), StoreError> {
        self.pick().put_sku_mapping(mapping).await
    }

    async fn mapped_sku(&self, channel: Channel, merchant: &MerchantId, channel_sku: &Sku) -> Result<Option<Sku>, StoreError> {
        self.pick().mapped_sku(channel, merchant, channel_sku).await
    }
}

#[async_trait]
impl SkuCatalogue for InTempDir {
    async fn put_sku(&self, facts: &SkuFacts) -> Result<(), StoreError> {
        self.store.put_sku(facts).await
    }
    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuFacts>, StoreError> {
        self.store.get_sku(sku).await
    }
}

#[async_trait]
impl SkuCatalogue for TwoOnOneFile {
    async fn put_sku(&self, facts: &SkuFacts) -> Result<(), StoreError> {
        self.pick().put_sku(facts).await
    }
    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuFacts>, StoreError> {
        self.pick().get_sku(sku).await
    }
}

#[async_trait]
impl SalesHistory for InTempDir {
    async fn sales(&self, merchant: &MerchantId, after: Option<&SaleKey>, limit: usize) -> Result<SalesPage, StoreError> {
        self.store.sales(merchant, after, limit).await
    }
    async fn merchants_with_sales(&self) -> Result<Vec<MerchantId>, StoreError> {
        self.store.merchants_with_sales().await
    }
}

#[async_trait]
impl SalesHistory for TwoOnOneFile {
    async fn sales(&self, merchant: &MerchantId, after: Option<&SaleKey>, limit: usize) -> Result<SalesPage, StoreError> {
        self.pick().sales(merchant, after, limit).await
    }
    async fn merchants_with_sales(&self) -> Result<Vec<MerchantId>, StoreError> {
        self.pick().merchants_with_sales().await
    }
}

#[async_trait]
impl RateTables for InTempDir {
    async fn put_rates(&self, table: &RateTable) -> Result<(), StoreError> {
        self.store.put_rates(table).await
    }
    async fn get_rates(&self, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError> {
        self.store.get_rates(carrier).await
    }
    async fn list_rates(&self) -> Result<Vec<RateTable>, StoreError> {
        self.store.list_rates().await
    }
}

#[async_trait]
impl RateTables for TwoOnOneFile {
    async fn put_rates(&self, table: &RateTable) -> Result<(), StoreError> {
        self.pick().put_rates(table).await
    }
    async fn get_rates(&self, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError> {
        self.pick().get_rates(carrier).await
    }
    async fn list_rates(&self) -> Result<Vec<RateTable>, StoreError> {
        self.pick().list_rates().await
    }
}

/// `FlashSaleStore` of a wrapper, each call handed to the store `$store` picks.
macro_rules! delegate_flash_sales {
    ($wrapper:ty, |$this:ident| $store:expr) => {
        #[async_trait]
        impl FlashSaleStore for $wrapper {
            async fn create_sale(&self, sale: &FlashSale) -> Result<CreateSaleOutcome, StoreError> {
                let $this = self;
                $store.create_sale(sale).await
            }
            async fn get_sale(&self, id: &SaleId) -> Result<Option<FlashSale>, StoreError> {
                let $this = self;
                $store.get_sale(id).await
            }
            async fn shard_levels(&self, sale: &FlashSale) -> Result<Vec<ShardLevel>, StoreError> {
                let $this = self;
                $store.shard_levels(sale).await
            }
            async fn claim_by_key(&self, sale: &SaleId, key: &IdempotencyKey) -> Result<Option<Claim>, StoreError> {
                let $this = self;
                $store.claim_by_key(sale, key).await
            }
            async fn claim(&self, claim: &Claim, limit: u32, send: &[Outgoing]) -> Result<ClaimOutcome, StoreError> {
                let $this = self;
                $store.claim(claim, limit, send).await
            }
            async fn close_sale(
                &self,
                sale: &FlashSale,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<oms_domain::ports::CloseSaleOutcome, StoreError> {
                let $this = self;
                $store.close_sale(sale, now).await
            }
            async fn sale_closing(&self, id: &SaleId) -> Result<Option<oms_domain::flash_sale::SaleClosing>, StoreError> {
                let $this = self;
                $store.sale_closing(id).await
            }
            async fn ended_open_sales(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: usize,
            ) -> Result<Vec<SaleId>, StoreError> {
                let $this = self;
                $store.ended_open_sales(now, limit).await
            }
            async fn end_sale(
                &self,
                sale: &FlashSale,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<oms_domain::ports::EndSaleOutcome, StoreError> {
                let $this = self;
                $store.end_sale(sale, now).await
            }
        }
    };
}

/// `ShipmentStore` of a wrapper, each call handed to the store `$store` picks.
macro_rules! delegate_shipments {
    ($wrapper:ty, |$this:ident| $store:expr) => {
        #[async_trait]
        impl ShipmentStore for $wrapper {
            async fn shipments_with(&self, tracking: &TrackingNumber) -> Result<Vec<Shipment>, StoreError> {
                let $this = self;
                $store.shipments_with(tracking).await
            }
            async fn shipments_of(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
                let $this = self;
                $store.shipments_of(order).await
            }
            async fn update_shipment(&self, shipment: &Shipment) -> Result<UpdateOutcome, StoreError> {
                let $this = self;
                $store.update_shipment(shipment).await
            }
            async fn add_event(&self, event: &TrackingEvent) -> Result<AddEventOutcome, StoreError> {
                let $this = self;
                $store.add_event(event).await
            }
            async fn events_of(&self, tracking: &TrackingNumber) -> Result<Vec<TrackingEvent>, StoreError> {
                let $this = self;
                $store.events_of(tracking).await
            }
            async fn record_transit(&self, sample: &TransitSample) -> Result<(), StoreError> {
                let $this = self;
                $store.record_transit(sample).await
            }
            async fn transit_hours(&self, carrier: &CarrierId, lane: &Lane, limit: usize) -> Result<Vec<u32>, StoreError> {
                let $this = self;
                $store.transit_hours(carrier, lane, limit).await
            }
        }
    };
}

delegate_shipments!(InTempDir, |this| this.store);
delegate_shipments!(TwoOnOneFile, |this| this.pick());
delegate_flash_sales!(InTempDir, |this| this.store);
delegate_flash_sales!(TwoOnOneFile, |this| this.pick());

/// The load: 5,000 claims at once for 1,000 units on the file-backed store, a
/// quarter of them a client's retry of the request before (the same idempotency key).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_thousand_concurrent_claims_for_a_thousand_units_take_exactly_a_thousand_each_with_its_order() {
    oms_conformance::races::claim_race(&file_backed().await, 1000, 16, 2, 5000, 1500).await;
}

/// The ledger race at full size: 300 orders for 100 units over three warehouses, then
/// cancels, counts and second tries at once; the reconciliation finds no drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_orders_for_a_hundred_units_over_three_warehouses_reserve_a_hundred_and_reconcile() {
    oms_conformance::races::ledger_race(&file_backed().await, 300, 100).await;
}

#[async_trait]
impl ConsignmentStore for InTempDir {
    async fn put_consignment(&self, consignment: &Consignment) -> Result<PutConsignment, StoreError> {
        self.store.put_consignment(consignment).await
    }
    async fn get_consignment(&self, id: &ConsignmentId) -> Result<Option<Consignment>, StoreError> {
        self.store.get_consignment(id).await
    }
    async fn consignments_received(&self, seller: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.store.consignments_received(seller).await
    }
    async fn consignments_granted(&self, owner: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.store.consignments_granted(owner).await
    }
}

#[async_trait]
impl ConsignmentStore for TwoOnOneFile {
    async fn put_consignment(&self, consignment: &Consignment) -> Result<PutConsignment, StoreError> {
        self.pick().put_consignment(consignment).await
    }
    async fn get_consignment(&self, id: &ConsignmentId) -> Result<Option<Consignment>, StoreError> {
        self.pick().get_consignment(id).await
    }
    async fn consignments_received(&self, seller: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.pick().consignments_received(seller).await
    }
    async fn consignments_granted(&self, owner: &MerchantId) -> Result<Vec<Consignment>, StoreError> {
        self.pick().consignments_granted(owner).await
    }
}

/// `SupplyStore` of a wrapper, through the store `$store` picks.
macro_rules! supply_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::SupplyStore for $wrapper {
            async fn put_supplier(
                &self,
                supplier: &oms_domain::supply::Supplier,
            ) -> Result<oms_domain::ports::PutSupplier, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::put_supplier($store(self), supplier).await
            }
            async fn get_supplier(
                &self,
                id: &oms_domain::SupplierId,
            ) -> Result<Option<oms_domain::supply::Supplier>, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::get_supplier($store(self), id).await
            }
            async fn suppliers_of(
                &self,
                merchant: &oms_domain::MerchantId,
            ) -> Result<Vec<oms_domain::supply::Supplier>, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::suppliers_of($store(self), merchant).await
            }
            async fn create_purchase_order(
                &self,
                po: &oms_domain::supply::PurchaseOrder,
            ) -> Result<oms_domain::ports::CreatePoOutcome, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::create_purchase_order($store(self), po).await
            }
            async fn get_purchase_order(
                &self,
                id: &oms_domain::PurchaseOrderId,
            ) -> Result<Option<oms_domain::supply::PurchaseOrder>, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::get_purchase_order($store(self), id).await
            }
            async fn purchase_orders(
                &self,
                query: &oms_domain::supply::PoQuery,
                after: Option<&oms_domain::PurchaseOrderId>,
                limit: usize,
            ) -> Result<oms_domain::supply::PoPage, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::purchase_orders($store(self), query, after, limit).await
            }
            async fn incoming(
                &self,
                sku: &oms_domain::Sku,
            ) -> Result<Vec<oms_domain::supply::Incoming>, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::incoming($store(self), sku).await
            }
            async fn receive(
                &self,
                id: &oms_domain::PurchaseOrderId,
                receipt: &oms_domain::supply::Receipt,
            ) -> Result<oms_domain::ports::ReceiveOutcome, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::receive($store(self), id, receipt).await
            }
            async fn receive_goods(
                &self,
                receipt: &oms_domain::supply::GoodsReceipt,
            ) -> Result<oms_domain::ports::GoodsReceiptOutcome, oms_domain::ports::StoreError> {
                oms_domain::ports::SupplyStore::receive_goods($store(self), receipt).await
            }
        }
    };
}

fn kept_store(wrapper: &InTempDir) -> &Embedded {
    &wrapper.store
}

supply_through!(InTempDir, kept_store);
supply_through!(TwoOnOneFile, picked_store);

fn picked_store(wrapper: &TwoOnOneFile) -> &Embedded {
    wrapper.pick()
}

/// `AuctionStore` of a wrapper, through the store `$store` picks.
macro_rules! auctions_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::AuctionStore for $wrapper {
            async fn create_auction(
                &self,
                auction: &oms_domain::auction::Auction,
            ) -> Result<oms_domain::ports::CreateAuctionOutcome, StoreError> {
                oms_domain::ports::AuctionStore::create_auction($store(self), auction).await
            }
            async fn get_auction(
                &self,
                id: &oms_domain::auction::AuctionId,
            ) -> Result<Option<oms_domain::auction::Auction>, StoreError> {
                oms_domain::ports::AuctionStore::get_auction($store(self), id).await
            }
            async fn bid_by_key(
                &self,
                auction: &oms_domain::auction::AuctionId,
                key: &IdempotencyKey,
            ) -> Result<Option<oms_domain::auction::Bid>, StoreError> {
                oms_domain::ports::AuctionStore::bid_by_key($store(self), auction, key).await
            }
            async fn place_bid(
                &self,
                before: &oms_domain::auction::Auction,
                after: &oms_domain::auction::Auction,
                bid: &oms_domain::auction::Bid,
            ) -> Result<oms_domain::ports::PlaceBidOutcome, StoreError> {
                oms_domain::ports::AuctionStore::place_bid($store(self), before, after, bid).await
            }
            async fn bids(
                &self,
                auction: &oms_domain::auction::AuctionId,
                after: Option<u32>,
                limit: usize,
            ) -> Result<Vec<oms_domain::auction::Bid>, StoreError> {
                oms_domain::ports::AuctionStore::bids($store(self), auction, after, limit).await
            }
            async fn ended_open_auctions(
                &self,
                now: DateTime<Utc>,
                limit: usize,
            ) -> Result<Vec<oms_domain::auction::AuctionId>, StoreError> {
                oms_domain::ports::AuctionStore::ended_open_auctions($store(self), now, limit).await
            }
            async fn close_auction(
                &self,
                before: &oms_domain::auction::Auction,
                after: &oms_domain::auction::Auction,
                order: Option<(&Order, &[Outgoing])>,
            ) -> Result<oms_domain::ports::CloseAuctionOutcome, StoreError> {
                oms_domain::ports::AuctionStore::close_auction($store(self), before, after, order).await
            }
        }
    };
}

auctions_through!(InTempDir, kept_store);
auctions_through!(TwoOnOneFile, picked_store);

macro_rules! group_buys_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::GroupBuyStore for $wrapper {
            async fn create_group_buy(
                &self,
                offer: &oms_domain::group_buy::GroupBuy,
            ) -> Result<oms_domain::ports::CreateGroupBuyOutcome, StoreError> {
                oms_domain::ports::GroupBuyStore::create_group_buy($store(self), offer).await
            }
            async fn get_group_buy(
                &self,
                id: &oms_domain::group_buy::GroupBuyId,
            ) -> Result<Option<(oms_domain::group_buy::GroupBuy, oms_domain::group_buy::GroupBuyStatus)>, StoreError> {
                oms_domain::ports::GroupBuyStore::get_group_buy($store(self), id).await
            }
            async fn find_join(
                &self,
                id: &oms_domain::group_buy::GroupBuyId,
                customer: &oms_domain::CustomerId,
                key: &IdempotencyKey,
            ) -> Result<Option<oms_domain::group_buy::Join>, StoreError> {
                oms_domain::ports::GroupBuyStore::find_join($store(self), id, customer, key).await
            }
            async fn join(
                &self,
                join: &oms_domain::group_buy::Join,
                now: DateTime<Utc>,
            ) -> Result<oms_domain::ports::JoinOutcome, StoreError> {
                oms_domain::ports::GroupBuyStore::join($store(self), join, now).await
            }
            async fn unconverted_joins(
                &self,
                id: &oms_domain::group_buy::GroupBuyId,
                limit: usize,
            ) -> Result<Vec<oms_domain::group_buy::Join>, StoreError> {
                oms_domain::ports::GroupBuyStore::unconverted_joins($store(self), id, limit).await
            }
            async fn convert_join(
                &self,
                join: &oms_domain::group_buy::Join,
                order: &Order,
                send: &[Outgoing],
            ) -> Result<oms_domain::ports::ConvertOutcome, StoreError> {
                oms_domain::ports::GroupBuyStore::convert_join($store(self), join, order, send).await
            }
            async fn settle(
                &self,
                offer: &oms_domain::group_buy::GroupBuy,
                now: DateTime<Utc>,
            ) -> Result<oms_domain::ports::SettleOutcome, StoreError> {
                oms_domain::ports::GroupBuyStore::settle($store(self), offer, now).await
            }
            async fn due_group_buys(
                &self,
                now: DateTime<Utc>,
                limit: usize,
            ) -> Result<Vec<oms_domain::group_buy::GroupBuyId>, StoreError> {
                oms_domain::ports::GroupBuyStore::due_group_buys($store(self), now, limit).await
            }
        }
    };
}

group_buys_through!(InTempDir, kept_store);
group_buys_through!(TwoOnOneFile, picked_store);

macro_rules! rentals_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::RentalStore for $wrapper {
            async fn put_rental_unit(
                &self,
                unit: &oms_domain::rental::RentalUnit,
            ) -> Result<oms_domain::ports::PutRentalUnitOutcome, StoreError> {
                oms_domain::ports::RentalStore::put_rental_unit($store(self), unit).await
            }
            async fn get_rental_unit(
                &self,
                id: &oms_domain::rental::RentalUnitId,
            ) -> Result<Option<oms_domain::rental::RentalUnit>, StoreError> {
                oms_domain::ports::RentalStore::get_rental_unit($store(self), id).await
            }
            async fn book(
                &self,
                booking: &oms_domain::rental::Booking,
                order: &Order,
            ) -> Result<oms_domain::ports::BookOutcome, StoreError> {
                oms_domain::ports::RentalStore::book($store(self), booking, order).await
            }
            async fn get_booking(
                &self,
                id: &oms_domain::rental::BookingId,
            ) -> Result<Option<oms_domain::rental::Booking>, StoreError> {
                oms_domain::ports::RentalStore::get_booking($store(self), id).await
            }
            async fn move_booking(
                &self,
                booking: &oms_domain::rental::Booking,
                from: oms_domain::rental::RentalState,
                orders: &[oms_domain::ports::ServiceOrderWrite],
            ) -> Result<oms_domain::ports::MoveBookingOutcome, StoreError> {
                oms_domain::ports::RentalStore::move_booking($store(self), booking, from, orders).await
            }
            async fn booked_days(
                &self,
                unit: &oms_domain::rental::RentalUnitId,
                period: oms_domain::rental::Period,
            ) -> Result<Vec<(chrono::NaiveDate, oms_domain::rental::BookingId)>, StoreError> {
                oms_domain::ports::RentalStore::booked_days($store(self), unit, period).await
            }
        }
    };
}

rentals_through!(InTempDir, kept_store);
rentals_through!(TwoOnOneFile, picked_store);

macro_rules! reviews_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::ReviewStore for $wrapper {
            async fn add_review(
                &self,
                review: &oms_domain::review::Review,
            ) -> Result<oms_domain::ports::AddReviewOutcome, StoreError> {
                oms_domain::ports::ReviewStore::add_review($store(self), review).await
            }
            async fn reviews_of(
                &self,
                merchant: &oms_domain::MerchantId,
                sku: &oms_domain::Sku,
                limit: usize,
            ) -> Result<Vec<oms_domain::review::Review>, StoreError> {
                oms_domain::ports::ReviewStore::reviews_of($store(self), merchant, sku, limit).await
            }
            async fn rating_of(
                &self,
                merchant: &oms_domain::MerchantId,
                sku: &oms_domain::Sku,
            ) -> Result<oms_domain::review::Rating, StoreError> {
                oms_domain::ports::ReviewStore::rating_of($store(self), merchant, sku).await
            }
        }
    };
}

macro_rules! merchants_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::MerchantStore for $wrapper {
            async fn create_merchant(
                &self,
                record: &oms_domain::onboarding::MerchantRecord,
            ) -> Result<oms_domain::ports::CreateMerchantOutcome, StoreError> {
                oms_domain::ports::MerchantStore::create_merchant($store(self), record).await
            }
            async fn get_merchant(&self, id: &MerchantId) -> Result<Option<oms_domain::onboarding::MerchantRecord>, StoreError> {
                oms_domain::ports::MerchantStore::get_merchant($store(self), id).await
            }
            async fn update_merchant(
                &self,
                previous: &oms_domain::onboarding::MerchantRecord,
                next: &oms_domain::onboarding::MerchantRecord,
            ) -> Result<oms_domain::ports::UpdateMerchantOutcome, StoreError> {
                oms_domain::ports::MerchantStore::update_merchant($store(self), previous, next).await
            }
            async fn merchants_in_status(
                &self,
                status: oms_domain::onboarding::OnboardingStatus,
                after: Option<&str>,
                limit: usize,
            ) -> Result<oms_domain::ports::MerchantsPage, StoreError> {
                oms_domain::ports::MerchantStore::merchants_in_status($store(self), status, after, limit).await
            }
        }
    };
}

macro_rules! storefronts_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::StorefrontStore for $wrapper {
            async fn put_template(
                &self,
                template: &oms_domain::storefront::Template,
            ) -> Result<oms_domain::ports::PutTemplateOutcome, StoreError> {
                oms_domain::ports::StorefrontStore::put_template($store(self), template).await
            }
            async fn get_template(
                &self,
                id: &oms_domain::storefront::TemplateId,
            ) -> Result<Option<oms_domain::storefront::Template>, StoreError> {
                oms_domain::ports::StorefrontStore::get_template($store(self), id).await
            }
            async fn list_templates(&self) -> Result<Vec<oms_domain::storefront::Template>, StoreError> {
                oms_domain::ports::StorefrontStore::list_templates($store(self)).await
            }
            async fn get_draft(
                &self,
                merchant: &MerchantId,
            ) -> Result<Option<oms_domain::storefront::StorefrontDraft>, StoreError> {
                oms_domain::ports::StorefrontStore::get_draft($store(self), merchant).await
            }
            async fn save_draft(
                &self,
                draft: &oms_domain::storefront::StorefrontDraft,
            ) -> Result<oms_domain::ports::SaveDraftOutcome, StoreError> {
                oms_domain::ports::StorefrontStore::save_draft($store(self), draft).await
            }
            async fn get_published(
                &self,
                merchant: &MerchantId,
            ) -> Result<Option<oms_domain::storefront::PublishedStorefront>, StoreError> {
                oms_domain::ports::StorefrontStore::get_published($store(self), merchant).await
            }
            async fn publish(
                &self,
                published: &oms_domain::storefront::PublishedStorefront,
            ) -> Result<oms_domain::ports::PublishOutcome, StoreError> {
                oms_domain::ports::StorefrontStore::publish($store(self), published).await
            }
            async fn unpublish(&self, merchant: &MerchantId) -> Result<bool, StoreError> {
                oms_domain::ports::StorefrontStore::unpublish($store(self), merchant).await
            }
        }
    };
}

macro_rules! products_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::ProductStore for $wrapper {
            async fn create_product(
                &self,
                product: &oms_domain::product::Product,
            ) -> Result<oms_domain::ports::CreateProductOutcome, StoreError> {
                oms_domain::ports::ProductStore::create_product($store(self), product).await
            }
            async fn get_product(&self, sku: &oms_domain::Sku) -> Result<Option<oms_domain::product::Product>, StoreError> {
                oms_domain::ports::ProductStore::get_product($store(self), sku).await
            }
            async fn update_product(
                &self,
                previous: &oms_domain::product::Product,
                next: &oms_domain::product::Product,
            ) -> Result<oms_domain::ports::UpdateProductOutcome, StoreError> {
                oms_domain::ports::ProductStore::update_product($store(self), previous, next).await
            }
            async fn products_in_status(
                &self,
                status: oms_domain::product::ProductStatus,
                after: Option<&str>,
                limit: usize,
            ) -> Result<oms_domain::ports::ProductsPage, StoreError> {
                oms_domain::ports::ProductStore::products_in_status($store(self), status, after, limit).await
            }
            async fn promoted_products(&self, merchant: &MerchantId) -> Result<Vec<oms_domain::product::Product>, StoreError> {
                oms_domain::ports::ProductStore::promoted_products($store(self), merchant).await
            }
        }
    };
}

macro_rules! rfqs_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::RfqStore for $wrapper {
            async fn create_rfq(
                &self,
                rfq: &oms_domain::rfq::request::Rfq,
            ) -> Result<oms_domain::ports::CreateRfqOutcome, StoreError> {
                oms_domain::ports::RfqStore::create_rfq($store(self), rfq).await
            }
            async fn get_rfq(&self, id: &oms_domain::RfqId) -> Result<Option<oms_domain::rfq::request::Rfq>, StoreError> {
                oms_domain::ports::RfqStore::get_rfq($store(self), id).await
            }
            async fn update_rfq(
                &self,
                next: &oms_domain::rfq::request::Rfq,
            ) -> Result<oms_domain::ports::UpdateRfqOutcome, StoreError> {
                oms_domain::ports::RfqStore::update_rfq($store(self), next).await
            }
        }
    };
}

macro_rules! returns_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::ReturnStore for $wrapper {
            async fn create_return(
                &self,
                ret: &oms_domain::returns::Return,
                delivered: &[(oms_domain::Sku, u32)],
            ) -> Result<oms_domain::ports::CreateReturnOutcome, StoreError> {
                oms_domain::ports::ReturnStore::create_return($store(self), ret, delivered).await
            }
            async fn get_return(
                &self,
                id: &oms_domain::returns::ReturnId,
            ) -> Result<Option<oms_domain::returns::Return>, StoreError> {
                oms_domain::ports::ReturnStore::get_return($store(self), id).await
            }
            async fn returns_of(&self, order: &oms_domain::OrderId) -> Result<Vec<oms_domain::returns::Return>, StoreError> {
                oms_domain::ports::ReturnStore::returns_of($store(self), order).await
            }
            async fn return_by_tracking(
                &self,
                tracking: &oms_domain::TrackingNumber,
            ) -> Result<Option<oms_domain::returns::Return>, StoreError> {
                oms_domain::ports::ReturnStore::return_by_tracking($store(self), tracking).await
            }
            async fn move_return(
                &self,
                before: &oms_domain::returns::Return,
                next: &oms_domain::returns::Return,
                effects: &oms_domain::ports::ReturnEffects,
            ) -> Result<oms_domain::ports::MoveReturnOutcome, StoreError> {
                oms_domain::ports::ReturnStore::move_return($store(self), before, next, effects).await
            }
            async fn damaged_stock(
                &self,
                warehouse: &oms_domain::WarehouseId,
            ) -> Result<Vec<oms_domain::returns::DamagedStock>, StoreError> {
                oms_domain::ports::ReturnStore::damaged_stock($store(self), warehouse).await
            }
            async fn returns_since(
                &self,
                merchant: &MerchantId,
                since: DateTime<Utc>,
            ) -> Result<Vec<oms_domain::returns::Return>, StoreError> {
                oms_domain::ports::ReturnStore::returns_since($store(self), merchant, since).await
            }
        }
    };
}

macro_rules! browsing_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::BrowsingStore for $wrapper {
            async fn record_browsing(
                &self,
                batch: &oms_domain::browsing::BrowsingBatch,
            ) -> Result<oms_domain::ports::RecordBrowsingOutcome, StoreError> {
                oms_domain::ports::BrowsingStore::record_browsing($store(self), batch).await
            }
            async fn browsing_between(
                &self,
                merchant: &MerchantId,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> Result<Vec<oms_domain::browsing::BrowsingEvent>, StoreError> {
                oms_domain::ports::BrowsingStore::browsing_between($store(self), merchant, from, to).await
            }
        }
    };
}

macro_rules! buyer_requests_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::BuyerRequestStore for $wrapper {
            async fn create_buyer_request(
                &self,
                request: &oms_domain::matchmaking::BuyerRequest,
            ) -> Result<oms_domain::ports::CreateBuyerRequestOutcome, StoreError> {
                oms_domain::ports::BuyerRequestStore::create_buyer_request($store(self), request).await
            }
            async fn get_buyer_request(
                &self,
                id: &oms_domain::BuyerRequestId,
            ) -> Result<Option<oms_domain::matchmaking::BuyerRequest>, StoreError> {
                oms_domain::ports::BuyerRequestStore::get_buyer_request($store(self), id).await
            }
            async fn update_buyer_request(
                &self,
                next: &oms_domain::matchmaking::BuyerRequest,
            ) -> Result<oms_domain::ports::UpdateBuyerRequestOutcome, StoreError> {
                oms_domain::ports::BuyerRequestStore::update_buyer_request($store(self), next).await
            }
        }
    };
}

macro_rules! repairs_through {
    ($wrapper:ty, $store:ident) => {
        #[async_trait]
        impl oms_domain::ports::RepairStore for $wrapper {
            async fn create_repair(
                &self,
                repair: &oms_domain::repair::Repair,
            ) -> Result<oms_domain::ports::CreateRepairOutcome, StoreError> {
                oms_domain::ports::RepairStore::create_repair($store(self), repair).await
            }
            async fn get_repair(
                &self,
                id: &oms_domain::repair::RepairId,
            ) -> Result<Option<oms_domain::repair::Repair>, StoreError> {
                oms_domain::ports::RepairStore::get_repair($store(self), id).await
            }
            async fn move_repair(
                &self,
                repair: &oms_domain::repair::Repair,
                from: oms_domain::repair::RepairState,
                order: &oms_domain::ports::ServiceOrderWrite,
                parts: &[oms_domain::order::AllocatedLine],
            ) -> Result<oms_domain::ports::MoveRepairOutcome, StoreError> {
                oms_domain::ports::RepairStore::move_repair($store(self), repair, from, order, parts).await
            }
        }
    };
}

reviews_through!(InTempDir, kept_store);
reviews_through!(TwoOnOneFile, picked_store);
repairs_through!(InTempDir, kept_store);
repairs_through!(TwoOnOneFile, picked_store);
returns_through!(InTempDir, kept_store);
returns_through!(TwoOnOneFile, picked_store);
browsing_through!(InTempDir, kept_store);
browsing_through!(TwoOnOneFile, picked_store);
merchants_through!(InTempDir, kept_store);
merchants_through!(TwoOnOneFile, picked_store);
storefronts_through!(InTempDir, kept_store);
storefronts_through!(TwoOnOneFile, picked_store);
products_through!(InTempDir, kept_store);
products_through!(TwoOnOneFile, picked_store);
rfqs_through!(InTempDir, kept_store);
rfqs_through!(TwoOnOneFile, picked_store);
buyer_requests_through!(InTempDir, kept_store);
buyer_requests_through!(TwoOnOneFile, picked_store);
