//! The use cases over the embedded adapters (in memory), with the time held still so that
//! every timeline entry is known to the second.
//!
//! Each test drives an order to a stage through the use cases themselves, acts, and checks
//! what really happened: the order's status and timeline, the stock per warehouse, and the
//! messages queued (read off the queue and decoded as its consumer would).
//!
//! Layout: helpers first (the fixed clock, a `World` that drives an order to any stage, and
//! wrapper ports that lose races on purpose), then one section per use case: intake,
//! allocation, reservation, leftover release, cancel, modify, the read-modify-write loop.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oms_conformance::fixtures::{self, hold, line, order_id, reserved, sku, warehouse, warehouse_id};
use oms_domain::access::Caller;
use oms_domain::alert::{AlertKind, AlertStatus};
use oms_domain::messages::{self, decode, AllocateOrder, Handled, Outgoing, QueueMessage, ReserveOrder};
use oms_domain::order::{Address, Channel, Customer, HoldReason, InvalidTransition, NewOrder, OrderLine, OrderPart, OrderPatch};
use oms_domain::order::{AllocatedLine, TimelineEvent};
use oms_domain::ports::{
    Clock, Effects, InsertOutcome, InventoryStore, OrderQuery, OrderStore, OrdersPage, Page, Ports, ReleaseOutcome,
    ReserveOutcome, SetOnHandOutcome, StatusEntry, StoreError, UpdateOutcome,
};
use oms_domain::reservation::{Hold, HoldId, Reservation};
use oms_domain::sku_mapping::SkuMapping;
use oms_domain::stock::StockLevel;
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order, Allocate, Reserve, MAX_REPLANS, MAX_REQUEUED_PER_SKU};
use oms_domain::usecases::intake::{receive_order, NotApplied, Receipt, UnknownSku};
use oms_domain::usecases::inventory::{map_sku, put_warehouse, set_on_hand};
use oms_domain::usecases::orders::{cancel_order, get_order, modify_order, CancelError, ModifyError};
use oms_domain::usecases::{update_with_retry, Change, CONFLICT_RETRIES};
use oms_domain::{MerchantId, Order, OrderId, OrderStatus, Sku, WarehouseId};
use oms_embedded::Embedded;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The one instant every use case sees: half an hour after the fixtures' `noon`, so an
/// entry written by a use case is told apart from one built by a fixture.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 30, 0).single().expect("a valid instant")
}

/// A clock that never moves.
#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// A timeline entry written by a use case (so at [`now`]).
fn event(status: OrderStatus, detail: &str) -> TimelineEvent {
    TimelineEvent { at: now(), status, detail: detail.to_owned() }
}

/// The fixtures' order as a channel delivers it: `external_id` on the generic channel,
/// customer `c-1`, two units of `SKU-1` at 19.90 CNY, to Zhejiang.
fn delivery(external_id: &str) -> NewOrder {
    as_delivered(&fixtures::order(Channel::Generic, external_id))
}

/// The channel delivery an order was built from.
fn as_delivered(order: &Order) -> NewOrder {
    NewOrder {
        channel: order.channel,
        external_id: order.external_id.clone(),
        order_number: order.order_number.clone(),
        merchant_id: order.merchant_id.clone(),
        placed_at: order.placed_at,
        currency: order.currency,
        customer: order.customer.clone(),
        shipping_address: order.shipping_address.clone(),
        lines: order.lines.clone(),
        charges: order.charges,
        channel_updated_at: order.channel_updated_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    }
}

/// `new` as a later version of the order: the channel's time `minutes` after the first.
fn later(mut new: NewOrder, minutes: i64) -> NewOrder {
    new.channel_updated_at += chrono::Duration::minutes(minutes);
    new
}

/// `quantity` units of `sku` at 19.90.
fn order_line(sku_id: &str, quantity: u32) -> OrderLine {
    OrderLine { sku: sku(sku_id), quantity, unit_price: Decimal::new(1990, 2) }
}

fn other_address() -> Address {
    Address {
        name: Some("Han Meimei".into()),
        line1: "8 Nanjing Rd".into(),
        line2: Some("Flat 3".into()),
        city: "Shanghai".into(),
        province: Some("Shanghai".into()),
        postal_code: Some("200000".into()),
        country: "CN".into(),
    }
}

fn other_customer() -> Customer {
    Customer {
        id: oms_domain::CustomerId::parse("c-2").expect("a valid customer id"),
        email: Some("b@example.com".into()),
        phone: None,
        name: Some("Han Meimei".into()),
        card: None,
        billing: None,
    }
}

/// One in-memory store, its ports on the fixed clock, and two warehouses in the buyer's
/// province, `WH-A` and `WH-B` (so a plan that fits in either picks `WH-A`).
struct World {
    store: Embedded,
    ports: Ports,
}

impl World {
    async fn new() -> Self {
        Self::on_clock(Arc::new(FixedClock)).await
    }

    async fn on_clock(clock: Arc<dyn Clock>) -> Self {
        let store = Embedded::open_in_memory().expect("an in-memory store");
        let ports = store.ports(clock);
        for (id, name) in [("WH-A", "Hangzhou A"), ("WH-B", "Hangzhou B")] {
            put_warehouse(&ports, &warehouse(id, name)).await.expect("a warehouse registered");
        }
        Self { store, ports }
    }

    /// Counts `on_hand` units of `sku` in `warehouse`, of the warehouse's merchant (`m-1`).
    async fn stock(&self, warehouse: &str, sku_id: &str, on_hand: u32) {
        set_on_hand(&self.ports, &Caller::platform_with_every_scope(), &warehouse_id(warehouse), None, &sku(sku_id), on_hand)
            .await
            .expect("a stock count");
    }

    /// Counts `on_hand` units of `sku` that `owner` keeps in `warehouse`.
    async fn owned_stock(&self, warehouse: &str, owner: &str, sku_id: &str, on_hand: u32) {
        let owner = fixtures::merchant(owner);
        set_on_hand(
            &self.ports,
            &Caller::platform_with_every_scope(),
            &warehouse_id(warehouse),
            Some(&owner),
            &sku(sku_id),
            on_hand,
        )
        .await
        .expect("a stock count");
    }

    /// (on hand, reserved, available) of `sku` in `warehouse`, of the warehouse's merchant.
    async fn level(&self, warehouse: &str, sku_id: &str) -> (u32, u32, u32) {
        self.owned_level(warehouse, "m-1", sku_id).await
    }

    /// (on hand, reserved, available) of the `sku` that `owner` keeps in `warehouse`.
    async fn owned_level(&self, warehouse: &str, owner: &str, sku_id: &str) -> (u32, u32, u32) {
        let levels = self.ports.inventory.stock_of(&sku(sku_id)).await.expect("the stock read");
        let StockLevel { on_hand, reserved, available, .. } = levels
            .into_iter()
            .find(|l| l.warehouse == warehouse_id(warehouse) && l.owner.as_str() == owner)
            .expect("a counted stock level");
        (on_hand, reserved, available)
    }

    async fn order(&self, id: &OrderId) -> Order {
        get_order(&self.ports, id).await.expect("the order read")
    }

    /// Takes every message waiting on `M`'s queue, acks it and decodes it as its consumer would.
    async fn take<M: QueueMessage>(&self) -> Vec<M> {
        let deliveries = self.store.receive(M::QUEUE, 100, Duration::from_secs(60)).await.expect("messages received");
        let mut messages = Vec::new();
        for delivery in deliveries {
            self.store.ack(delivery.id).await.expect("a message acked");
            messages.push(decode::<M>(&delivery.body).expect("a message of its queue's kind"));
        }
        assert_eq!(
            self.store.queue_depth(M::QUEUE).await.expect("the queue's depth"),
            0,
            "every message of {} was taken",
            M::QUEUE
        );
        messages
    }

    /// The orders queued for allocation since the last look.
    async fn allocations_queued(&self) -> Vec<OrderId> {
        self.take::<AllocateOrder>().await.into_iter().map(|m| m.order_id).collect()
    }

    /// The orders queued for reservation since the last look.
    async fn reservations_queued(&self) -> Vec<OrderId> {
        self.take::<ReserveOrder>().await.into_iter().map(|m| m.order_id).collect()
    }

    /// The notices queued for the outside since the last look.
    async fn notices_queued(&self) -> Vec<oms_domain::outbound::Notice> {
        self.take::<oms_domain::outbound::OutboundNotice>().await.into_iter().map(|m| m.notice).collect()
    }

    /// The flow's queues (allocate, reserve) are empty; notices to the outside are looked
    /// at by the tests about them.
    async fn assert_nothing_queued(&self) {
        for queue in [messages::QueueName::Allocate, messages::QueueName::Reserve] {
            assert_eq!(self.store.queue_depth(queue).await.expect("the queue's depth"), 0, "nothing queued on {queue}");
        }
    }

    /// A delivered order, received (its allocation message taken off the queue).
    async fn received(&self, external_id: &str) -> OrderId {
        let receipt = receive_order(&self.ports, delivery(external_id)).await.expect("the order received");
        assert_eq!(self.allocations_queued().await, vec![receipt.order_id.clone()]);
        receipt.order_id
    }

    /// A delivered order, allocated (its reservation message taken off the queue).
    async fn allocated(&self, external_id: &str) -> OrderId {
        let id = self.received(external_id).await;
        assert_eq!(allocate_order(&self.ports, &id).await.expect("allocation ran"), Handled::Moved(OrderStatus::Allocated));
        assert_eq!(self.reservations_queued().await, vec![id.clone()]);
        id
    }

    /// A delivered order, reserved.
    async fn reserved(&self, external_id: &str) -> OrderId {
        let id = self.allocated(external_id).await;
        assert_eq!(reserve_order(&self.ports, &id).await.expect("reservation ran"), Handled::Moved(OrderStatus::Reserved));
        id
    }

    /// A delivered order, backordered (the caller left too little stock).
    async fn backordered(&self, external_id: &str) -> OrderId {
        let id = self.received(external_id).await;
        assert_eq!(allocate_order(&self.ports, &id).await.expect("allocation ran"), Handled::Moved(OrderStatus::Backordered));
        self.assert_nothing_queued().await;
        id
    }

    /// A reserved order, shipped: written straight through the store, as no use case ships.
    async fn shipped(&self, external_id: &str) -> OrderId {
        let id = self.reserved(external_id).await;
        let mut order = self.order(&id).await;
        order.transition(OrderStatus::Shipped, now(), "handed to the carrier").expect("a reserved order can ship");
        assert!(matches!(
            self.ports.orders.update_order(&order).await.expect("the shipped order written"),
            UpdateOutcome::Updated { .. }
        ));
        id
    }
}

/// Cancels the order and checks the answer is the stored order, cancelled at [`now`].
async fn cancel_and_check(world: &World, id: &OrderId) -> Order {
    let before = world.order(id).await;
    let cancelled = cancel_order(&world.ports, id, "buyer changed their mind").await.expect("the order cancelled");
    assert_eq!(cancelled, world.order(id).await, "the answer is the stored order");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.version, before.version + 1);
    assert_eq!(cancelled.timeline[..before.timeline.len()], before.timeline[..]);
    assert_eq!(cancelled.timeline[before.timeline.len()..], [event(OrderStatus::Cancelled, "buyer changed their mind")]);
    cancelled
}

// ---------------------------------------------------------------------------------------
// Helpers: ports that lose races
// ---------------------------------------------------------------------------------------

/// An inventory store on which one order always loses the race for its stock: just before
/// each of its reservations, a rival order takes every unit its lines ask for.
#[derive(Debug)]
struct AlwaysOutrun {
    inner: Embedded,
    loser: OrderId,
    rivals: AtomicUsize,
}

#[async_trait]
impl InventoryStore for AlwaysOutrun {
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        self.inner.set_on_hand(warehouse, owner, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.inner.stock_of(sku).await
    }
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.inner.hold_set_aside(order_id, reservation).await
    }
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &oms_domain::ledger::Adjustment,
    ) -> Result<oms_domain::ledger::AdjustOutcome, StoreError> {
        self.inner.adjust(warehouse, owner, sku, adjustment).await
    }
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<oms_domain::ledger::LedgerPage, StoreError> {
        self.inner.ledger(sku, owner, after, limit).await
    }
    async fn stock_figures(&self) -> Result<Vec<oms_domain::ledger::StockFigures>, StoreError> {
        self.inner.stock_figures().await
    }
    async fn open_holds(&self) -> Result<Vec<oms_domain::ledger::OpenHold>, StoreError> {
        self.inner.open_holds().await
    }
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.inner.lots_of(sku).await
    }
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.inner.claim_lot_sweep(day).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        if *order_id == self.loser {
            for wanted in reservation.lines() {
                let levels = self.inner.stock_of(&wanted.sku).await?;
                let Some(level) =
                    levels.iter().find(|l| l.warehouse == wanted.warehouse && l.owner == wanted.owner && l.available > 0)
                else {
                    continue;
                };
                let taken = hold([AllocatedLine { quantity: level.available, ..wanted.clone() }]);
                reserved(self.inner.reserve(&fixtures::order_id(), &taken).await?);
                self.rivals.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.inner.reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        self.inner.release(order_id, hold_id).await
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        self.inner.reservation(order_id).await
    }
}

/// An inventory store on which, just after a worker reads the order's (stale) hold, another
/// worker releases that hold and reserves the order's current plan: the first worker's
/// judgement is out of date by the time it releases.
#[derive(Debug)]
struct HoldReplacedAfterRead {
    inner: Embedded,
    current_plan: Reservation,
    placed: std::sync::Mutex<Option<HoldId>>,
}

#[async_trait]
impl InventoryStore for HoldReplacedAfterRead {
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        self.inner.set_on_hand(warehouse, owner, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.inner.stock_of(sku).await
    }
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.inner.hold_set_aside(order_id, reservation).await
    }
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &oms_domain::ledger::Adjustment,
    ) -> Result<oms_domain::ledger::AdjustOutcome, StoreError> {
        self.inner.adjust(warehouse, owner, sku, adjustment).await
    }
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<oms_domain::ledger::LedgerPage, StoreError> {
        self.inner.ledger(sku, owner, after, limit).await
    }
    async fn stock_figures(&self) -> Result<Vec<oms_domain::ledger::StockFigures>, StoreError> {
        self.inner.stock_figures().await
    }
    async fn open_holds(&self) -> Result<Vec<oms_domain::ledger::OpenHold>, StoreError> {
        self.inner.open_holds().await
    }
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.inner.lots_of(sku).await
    }
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.inner.claim_lot_sweep(day).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.inner.reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId, hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        self.inner.release(order_id, hold_id).await
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        let read = self.inner.reservation(order_id).await?;
        let first_read = self.placed.lock().expect("the lock").is_none();
        if let (Some(stale), true) = (&read, first_read) {
            assert!(matches!(self.inner.release(order_id, &stale.hold_id).await?, ReleaseOutcome::Released(_)));
            let hold_id = reserved(self.inner.reserve(order_id, &self.current_plan).await?);
            *self.placed.lock().expect("the lock") = Some(hold_id);
        }
        Ok(read)
    }
}

/// An order store whose first `update_order` loses a race: it lets a competitor write the
/// order first (its customer becomes `c-2`), then answers `VersionConflict`.
#[derive(Debug)]
struct RacedOnce {
    inner: Embedded,
    raced: AtomicUsize,
}

/// An order store on which every `update_order` loses a race.
#[derive(Debug)]
struct AlwaysRaced {
    inner: Embedded,
    updates: AtomicUsize,
}

#[async_trait]
impl OrderStore for RacedOnce {
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        self.inner.insert_order_sending(order, send).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.get_order(id).await
    }
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        if self.raced.fetch_add(1, Ordering::SeqCst) > 0 {
            return self.inner.update_order_with(order, effects).await;
        }
        let mut competing = self.inner.get_order(&order.order_id).await?.expect("the order exists");
        competing.customer = other_customer();
        assert!(matches!(self.inner.update_order(&competing).await?, UpdateOutcome::Updated { .. }));
        Ok(UpdateOutcome::VersionConflict)
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.inner.find_orders(query, page).await
    }
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.inner.backorders_waiting_for(sku, limit).await
    }
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        self.inner.orders_in_status_since(status, before, after, limit).await
    }
}

#[async_trait]
impl OrderStore for AlwaysRaced {
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        self.inner.insert_order_sending(order, send).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.get_order(id).await
    }
    async fn update_order_with(&self, _order: &Order, _effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        Ok(UpdateOutcome::VersionConflict)
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.inner.find_orders(query, page).await
    }
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.inner.backorders_waiting_for(sku, limit).await
    }
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        self.inner.orders_in_status_since(status, before, after, limit).await
    }
}

/// A fresh store holding one received order (at version 1).
async fn store_with_an_order() -> (Embedded, Order) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let order = fixtures::order(Channel::Generic, "A-1");
    assert_eq!(store.insert_order(&order).await.expect("the order inserted"), InsertOutcome::Inserted);
    (store, fixtures::stored(&order))
}

// ---------------------------------------------------------------------------------------
// Intake: receive_order
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_order_is_stored_received_and_queued_for_allocation() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let receipt = receive_order(&world.ports, delivery("A-1")).await.unwrap();
    assert_eq!(
        receipt,
        Receipt {
            order_id: receipt.order_id.clone(),
            status: OrderStatus::Received,
            duplicate: false,
            updated: vec![],
            not_updated: vec![],
            not_applied: None
        }
    );
    let order = world.order(&receipt.order_id).await;
    assert_eq!(order.status, OrderStatus::Received);
    assert_eq!(order.version, 1);
    assert_eq!(order.timeline, [event(OrderStatus::Received, "received from generic")]);
    assert_eq!(world.allocations_queued().await, [receipt.order_id]);
    assert!(world.reservations_queued().await.is_empty());
}

/// The alerts in `status`.
async fn alerts_in(world: &World, status: AlertStatus) -> Vec<oms_domain::alert::Alert> {
    world.ports.alerts.list_alerts(status, None, None, 10).await.expect("the alerts listed").alerts
}

#[tokio::test]
async fn a_paid_order_naming_a_sku_no_warehouse_stocks_is_stored_on_hold_with_one_alert_and_nothing_queued() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let mut new = delivery("A-1");
    new.lines.push(order_line("NOPE", 1));

    let receipt = receive_order(&world.ports, new.clone()).await.unwrap();
    assert_eq!((receipt.status, receipt.duplicate), (OrderStatus::OnHold, false));
    let order = world.order(&receipt.order_id).await;
    assert_eq!(order.status, OrderStatus::OnHold);
    assert_eq!(order.hold(), Some(HoldReason::UnknownSku(sku("NOPE"))));
    assert_eq!(
        order.timeline,
        [
            event(OrderStatus::Received, "received from generic"),
            event(OrderStatus::OnHold, &HoldReason::UnknownSku(sku("NOPE")).to_string()),
        ]
    );
    world.assert_nothing_queued().await;
    // It waits for the SKU in the index of backorders.
    assert_eq!(
        world.ports.orders.backorders_waiting_for(&sku("NOPE"), 10).await.unwrap(),
        std::slice::from_ref(&receipt.order_id)
    );

    // Delivered again: the same order, still on hold, one alert.
    let again = receive_order(&world.ports, new).await.unwrap();
    assert_eq!((again.order_id, again.status, again.duplicate), (receipt.order_id.clone(), OrderStatus::OnHold, true));
    let open = alerts_in(&world, AlertStatus::Open).await;
    assert_eq!(open.len(), 1, "one alert: {open:?}");
    assert_eq!((open[0].kind, open[0].order_id.as_ref()), (AlertKind::OrderOnHold, Some(&receipt.order_id)));
    assert!(open[0].message.contains("NOPE"), "{}", open[0].message);
    // The spare allocation message of the redelivery leaves it on hold.
    for id in world.allocations_queued().await {
        assert!(matches!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Skipped(_)));
    }
    assert_eq!(world.order(&receipt.order_id).await.status, OrderStatus::OnHold);
}

#[tokio::test]
async fn stock_of_the_unknown_sku_counted_in_releases_the_held_order_to_allocation_and_resolves_its_alert() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let mut new = delivery("A-1");
    new.lines.push(order_line("NOPE", 1));
    let id = receive_order(&world.ports, new).await.unwrap().order_id;

    world.stock("WH-A", "NOPE", 3).await;
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&id), "the held order is queued like a backorder");
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let order = world.order(&id).await;
    assert_eq!(order.hold(), None);
    let statuses: Vec<_> = order.timeline.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [OrderStatus::Received, OrderStatus::OnHold, OrderStatus::Received, OrderStatus::Allocated]);
    assert!(world.ports.orders.backorders_waiting_for(&sku("NOPE"), 10).await.unwrap().is_empty());
    assert!(alerts_in(&world, AlertStatus::Open).await.is_empty());
    let resolved = alerts_in(&world, AlertStatus::Resolved).await;
    assert_eq!((resolved.len(), resolved[0].kind), (1, AlertKind::OrderOnHold));
    assert_eq!(world.reservations_queued().await, [id]);
}

#[tokio::test]
async fn a_channel_sku_mapped_to_ours_is_taken_in_as_ours_and_mapping_it_releases_orders_held_for_it() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let mut new = delivery("A-1");
    new.lines = vec![order_line("SHOP-TEE", 1)];
    let held = receive_order(&world.ports, new.clone()).await.unwrap();
    assert_eq!(held.status, OrderStatus::OnHold);

    let mapping = SkuMapping {
        channel: Channel::Generic,
        merchant_id: new.merchant_id.clone(),
        channel_sku: sku("SHOP-TEE"),
        sku: sku("SKU-1"),
    };
    map_sku(&world.ports, &mapping).await.unwrap();
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&held.order_id), "mapping queues the orders held for it");
    assert_eq!(allocate_order(&world.ports, &held.order_id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let order = world.order(&held.order_id).await;
    assert_eq!(order.lines, [order_line("SKU-1", 1)], "the held order now names our SKU");
    assert!(alerts_in(&world, AlertStatus::Open).await.is_empty());

    // A later order naming the channel's SKU takes ours at intake.
    let mut next = delivery("A-2");
    next.lines = vec![order_line("SHOP-TEE", 2)];
    let receipt = receive_order(&world.ports, next).await.unwrap();
    assert_eq!(receipt.status, OrderStatus::Received);
    assert_eq!(world.order(&receipt.order_id).await.lines, [order_line("SKU-1", 2)]);
    // Another merchant's same channel SKU is not mapped.
    let mut other = delivery("B-1");
    other.merchant_id = MerchantId::parse("m-2").unwrap();
    other.lines = vec![order_line("SHOP-TEE", 1)];
    assert_eq!(receive_order(&world.ports, other).await.unwrap().status, OrderStatus::OnHold);
}

#[tokio::test]
async fn an_operator_fixing_the_lines_of_an_order_on_hold_sends_it_on() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let mut new = delivery("A-1");
    new.lines = vec![order_line("NOPE", 1)];
    let id = receive_order(&world.ports, new).await.unwrap().order_id;
    let patch = OrderPatch { lines: Some(vec![order_line("SKU-1", 1)]), ..OrderPatch::default() };
    modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&id));
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    assert!(alerts_in(&world, AlertStatus::Open).await.is_empty());
}

#[tokio::test]
async fn an_order_on_hold_can_be_cancelled() {
    let world = World::new().await;
    let mut new = delivery("A-1");
    new.lines = vec![order_line("NOPE", 1)];
    let id = receive_order(&world.ports, new).await.unwrap().order_id;
    let order = cancel_order(&world.ports, &id, "the buyer changed their mind").await.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(world.ports.orders.backorders_waiting_for(&sku("NOPE"), 10).await.unwrap().is_empty());
    assert!(alerts_in(&world, AlertStatus::Open).await.is_empty(), "its alert is resolved");
}

#[tokio::test]
async fn the_same_channel_order_delivered_again_is_a_duplicate_of_the_first_and_changes_nothing() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let first = world.allocated("A-1").await;
    let before = world.order(&first).await;

    let receipt = receive_order(&world.ports, delivery("A-1")).await.unwrap();
    assert_eq!(
        receipt,
        Receipt {
            order_id: first.clone(),
            status: OrderStatus::Allocated,
            duplicate: true,
            updated: vec![],
            not_updated: vec![],
            not_applied: Some(NotApplied::Stale)
        }
    );
    assert_eq!(world.order(&first).await, before, "not even the version moved");
    let lookup = OrderQuery::of(before.merchant_id.clone()).channel(Channel::Generic).external_id(before.external_id.clone());
    assert_eq!(world.ports.orders.find_orders(&lookup, &Page::first(10)).await.unwrap().orders, [before]);
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_redelivery_with_a_new_address_applies_it_and_reports_it() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let first = world.reserved("A-1").await;
    let before = world.order(&first).await;

    let mut again = later(delivery("A-1"), 5);
    again.shipping_address = other_address();
    let receipt = receive_order(&world.ports, again).await.unwrap();
    assert_eq!(
        receipt,
        Receipt {
            order_id: first.clone(),
            status: OrderStatus::Reserved,
            duplicate: true,
            updated: vec![OrderPart::ShippingAddress],
            not_updated: vec![],
            not_applied: None
        }
    );
    let after = world.order(&first).await;
    assert_eq!(after.shipping_address, other_address());
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.timeline.last(), Some(&event(OrderStatus::Reserved, "updated by generic: shipping_address")));
    assert_eq!(after.timeline.len(), before.timeline.len() + 1);
    assert_eq!(after.lines, before.lines);
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_redelivery_with_new_lines_after_reservation_reports_them_not_updated_and_keeps_the_lines() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let first = world.reserved("A-1").await;
    let before = world.order(&first).await;

    let mut again = later(delivery("A-1"), 5);
    again.lines = vec![order_line("SKU-1", 3)];
    let receipt = receive_order(&world.ports, again).await.unwrap();
    assert_eq!(
        receipt,
        Receipt {
            order_id: first.clone(),
            status: OrderStatus::Reserved,
            duplicate: true,
            updated: vec![],
            not_updated: vec![OrderPart::Lines],
            not_applied: None
        }
    );
    assert_eq!(world.order(&first).await, before, "lines unchanged, and the refusal is reported, not written");
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
}

#[tokio::test]
async fn a_redelivery_queues_again_an_order_whose_first_enqueue_was_lost() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    // The first delivery stored the order, then crashed before queuing it.
    let lost = fixtures::order(Channel::Generic, "A-1");
    assert_eq!(world.ports.orders.insert_order(&lost).await.unwrap(), InsertOutcome::Inserted);
    world.assert_nothing_queued().await;

    let receipt = receive_order(&world.ports, as_delivered(&lost)).await.unwrap();
    assert_eq!(
        receipt,
        Receipt {
            order_id: lost.order_id.clone(),
            status: OrderStatus::Received,
            duplicate: true,
            updated: vec![],
            not_updated: vec![],
            not_applied: Some(NotApplied::Stale)
        }
    );
    assert_eq!(world.allocations_queued().await, vec![lost.order_id.clone()]);
    assert_eq!(world.order(&lost.order_id).await, fixtures::stored(&lost));
}

/// A delivery as a channel cancels it: the same order, with `cancelled_at`.
fn cancelled(new: NewOrder, minutes: i64) -> NewOrder {
    let mut new = later(new, minutes);
    new.cancelled_at = Some(new.channel_updated_at);
    new
}

#[tokio::test]
async fn a_retry_of_the_first_delivery_after_an_operators_change_changes_nothing_and_says_stale() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let patch = OrderPatch { shipping_address: Some(other_address()), ..OrderPatch::default() };
    modify_order(&world.ports, &id, patch).await.expect("the operator's change");
    let before = world.order(&id).await;

    let mut older = later(delivery("A-1"), -5);
    older.customer = other_customer();
    for delivered in [delivery("A-1"), older] {
        let receipt = receive_order(&world.ports, delivered).await.unwrap();
        assert_eq!((receipt.duplicate, receipt.not_applied), (true, Some(NotApplied::Stale)));
        assert!(receipt.updated.is_empty() && receipt.not_updated.is_empty(), "{receipt:?}");
    }
    let after = world.order(&id).await;
    assert_eq!(after, before, "not even the version moved");
    assert_eq!(after.shipping_address, other_address(), "the operator's address stays");
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_newer_delivery_applies_and_becomes_the_version_so_it_and_anything_older_are_stale_after() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let mut newer = later(delivery("A-1"), 10);
    newer.shipping_address = other_address();
    let receipt = receive_order(&world.ports, newer.clone()).await.unwrap();
    assert_eq!((receipt.updated, receipt.not_applied), (vec![OrderPart::ShippingAddress], None));
    let applied = world.order(&id).await;
    assert_eq!(applied.channel_updated_at, newer.channel_updated_at);

    let between = later(delivery("A-1"), 5);
    for delivered in [newer, between] {
        let receipt = receive_order(&world.ports, delivered).await.unwrap();
        assert_eq!(receipt.not_applied, Some(NotApplied::Stale));
    }
    assert_eq!(world.order(&id).await, applied);
}

#[tokio::test]
async fn a_channel_cancel_of_a_reserved_order_cancels_it_and_releases_its_stock_once() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));

    for _ in 0..2 {
        let receipt = receive_order(&world.ports, cancelled(delivery("A-1"), 5)).await.unwrap();
        assert_eq!(
            (receipt.order_id, receipt.status, receipt.duplicate, receipt.not_applied),
            (id.clone(), OrderStatus::Cancelled, true, None)
        );
    }
    let order = world.order(&id).await;
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.timeline.iter().filter(|e| e.status == OrderStatus::Cancelled).count(), 1, "cancelled once");
    assert_eq!(order.timeline.last(), Some(&event(OrderStatus::Cancelled, "cancelled by generic")));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5), "the hold is released");
    world.assert_nothing_queued().await;
    let open = world.ports.alerts.list_alerts(AlertStatus::Open, None, None, 10).await.unwrap();
    assert!(open.alerts.is_empty());
}

#[tokio::test]
async fn a_channel_cancel_of_a_shipped_order_is_refused_with_one_alert_however_often_it_is_delivered() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.shipped("A-1").await;
    let before = world.order(&id).await;

    for _ in 0..3 {
        let receipt = receive_order(&world.ports, cancelled(delivery("A-1"), 5)).await.unwrap();
        assert_eq!(
            (receipt.status, receipt.duplicate, receipt.not_applied),
            (OrderStatus::Shipped, true, Some(NotApplied::CancelRefused))
        );
    }
    assert_eq!(world.order(&id).await, before, "the shipped order goes on");
    let open = world.ports.alerts.list_alerts(AlertStatus::Open, None, None, 10).await.unwrap();
    assert_eq!(open.alerts.len(), 1, "one alert: {open:?}");
    let alert = &open.alerts[0];
    assert_eq!(
        (alert.kind, alert.order_id.as_ref(), &alert.merchant_id),
        (AlertKind::ChannelCancelRefused, Some(&id), &before.merchant_id)
    );
    assert!(alert.message.contains("shipped"), "{}", alert.message);
    assert_eq!((alert.raised_at, alert.updated_at), (now(), now()));
}

#[tokio::test]
async fn a_cancel_of_an_order_never_seen_stores_it_cancelled_and_a_late_create_does_not_revive_it() {
    let world = World::new().await;
    // No stock counted at all: a cancel is not checked for SKUs, as it is never allocated.
    let receipt = receive_order(&world.ports, cancelled(delivery("A-1"), 5)).await.unwrap();
    assert_eq!((receipt.status, receipt.duplicate, receipt.not_applied), (OrderStatus::Cancelled, false, None));
    world.assert_nothing_queued().await;
    let stored = world.order(&receipt.order_id).await;
    assert_eq!(stored.status, OrderStatus::Cancelled);

    world.stock("WH-A", "SKU-1", 5).await;
    let late = receive_order(&world.ports, delivery("A-1")).await.unwrap();
    assert_eq!((late.order_id, late.status, late.duplicate), (receipt.order_id.clone(), OrderStatus::Cancelled, true));
    assert_eq!(world.order(&receipt.order_id).await, stored);
    world.assert_nothing_queued().await;
}

// ---------------------------------------------------------------------------------------
// Allocation: allocate_order and the Allocate consumer
// ---------------------------------------------------------------------------------------

/// [`delivery`] from merchant `merchant` instead of the fixtures' `m-1`.
fn delivery_of(merchant: &str, external_id: &str) -> NewOrder {
    NewOrder { merchant_id: fixtures::merchant(merchant), ..delivery(external_id) }
}

#[tokio::test]
async fn an_order_naming_a_sku_only_another_merchant_stocks_is_held_for_its_merchant_not_planned_from_the_others() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;

    let receipt = receive_order(&world.ports, delivery_of("m-3", "A-1")).await.unwrap();
    assert_eq!(receipt.status, OrderStatus::OnHold, "m-1's SKU-1 is not m-3's to sell");
    assert_eq!(world.order(&receipt.order_id).await.hold(), Some(HoldReason::UnknownSku(sku("SKU-1"))));
    world.assert_nothing_queued().await;
    let open = alerts_in(&world, AlertStatus::Open).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].message.contains("SKU-1, which no warehouse has counted for merchant m-3"), "{}", open[0].message);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5));

    // m-3's own units counted into the same warehouse release it, and it takes only those.
    world.owned_stock("WH-A", "m-3", "SKU-1", 4).await;
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&receipt.order_id));
    assert_eq!(allocate_order(&world.ports, &receipt.order_id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(reserve_order(&world.ports, &receipt.order_id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    assert_eq!(world.owned_level("WH-A", "m-3", "SKU-1").await, (4, 2, 2));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5), "m-1's units beside them are untouched");
}

#[tokio::test]
async fn an_order_whose_merchant_has_none_left_is_backordered_though_another_merchant_has_plenty_beside_it() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 50).await;
    world.owned_stock("WH-B", "m-3", "SKU-1", 1).await;
    let id = receive_order(&world.ports, delivery_of("m-3", "A-1")).await.unwrap().order_id;
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&id), "m-3 stocks SKU-1: the order is taken in");

    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Backordered));
    let order = world.order(&id).await;
    assert_eq!(
        order.timeline.last(),
        Some(&event(
            OrderStatus::Backordered,
            "not enough stock: SKU-1: 2 wanted, 1 of the merchant's own available in all warehouses"
        ))
    );
    assert_eq!(world.level("WH-A", "SKU-1").await, (50, 0, 50));
}

#[tokio::test]
async fn an_order_is_reserved_from_its_merchants_units_in_a_shared_warehouse_and_a_cancel_gives_them_back_to_that_merchant() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 10).await;
    world.owned_stock("WH-A", "m-3", "SKU-1", 3).await;
    let id = receive_order(&world.ports, delivery_of("m-3", "A-1")).await.unwrap().order_id;
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&id));
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let plan = world.order(&id).await.allocation.expect("a plan").lines;
    assert_eq!(plan, [fixtures::owned_line("WH-A", "m-3", "SKU-1", 2)]);
    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    assert_eq!((world.owned_level("WH-A", "m-3", "SKU-1").await, world.level("WH-A", "SKU-1").await), ((3, 2, 1), (10, 0, 10)));

    cancel_order(&world.ports, &id, "changed mind").await.expect("the cancel");
    assert_eq!((world.owned_level("WH-A", "m-3", "SKU-1").await, world.level("WH-A", "SKU-1").await), ((3, 0, 3), (10, 0, 10)));
}

#[tokio::test]
async fn a_received_order_with_stock_is_allocated_with_its_plan_and_queued_for_reservation() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;

    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let order = world.order(&id).await;
    let why = "one shipment from WH-A at 7.51: the only warehouse holding every line; no split is cheaper";
    assert_eq!(order.status, OrderStatus::Allocated);
    assert_eq!(
        order.allocation.map(|a| (a.lines, a.explanation, a.costing.map(|c| c.chosen.cost.to_string()), a.planned_at)),
        Some((vec![line("WH-A", "SKU-1", 2)], why.into(), Some("7.51".into()), now()))
    );
    assert_eq!(order.timeline, [event(OrderStatus::Received, "received from generic"), event(OrderStatus::Allocated, why)]);
    assert_eq!(world.reservations_queued().await, [id]);
    assert!(world.allocations_queued().await.is_empty());
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5), "a plan holds no stock");
}

#[tokio::test]
async fn a_received_order_without_enough_stock_is_backordered() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.received("A-1").await;

    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Backordered));
    let order = world.order(&id).await;
    assert_eq!(order.status, OrderStatus::Backordered);
    assert_eq!(order.allocation, None);
    assert_eq!(
        order.timeline.last(),
        Some(&event(
            OrderStatus::Backordered,
            "not enough stock: SKU-1: 2 wanted, 1 of the merchant's own available in all warehouses"
        ))
    );
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn allocating_an_allocated_order_again_changes_nothing_but_queues_its_reservation_again() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    let before = world.order(&id).await;

    assert_eq!(
        allocate_order(&world.ports, &id).await.unwrap(),
        Handled::Skipped("already allocated; reservation re-queued".into())
    );
    assert_eq!(world.order(&id).await, before);
    assert_eq!(world.reservations_queued().await, [id]);
}

#[tokio::test]
async fn allocating_an_order_past_allocation_changes_nothing_and_queues_nothing() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let before = world.order(&id).await;

    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is already reserved".into()));
    assert_eq!(world.order(&id).await, before);
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_backordered_order_still_short_stays_backordered_and_is_not_written() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.backordered("A-1").await;
    let before = world.order(&id).await;

    assert_eq!(
        allocate_order(&world.ports, &id).await.unwrap(),
        Handled::Skipped("still short: SKU-1: 2 wanted, 1 of the merchant's own available in all warehouses".into())
    );
    assert_eq!(world.order(&id).await, before);
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_backordered_order_is_allocated_once_stock_arrives() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.backordered("A-1").await;
    world.stock("WH-B", "SKU-1", 4).await;

    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let order = world.order(&id).await;
    assert_eq!(order.allocation.map(|a| a.lines), Some(vec![line("WH-B", "SKU-1", 2)]));
    assert_eq!(
        order.timeline.last(),
        Some(&event(
            OrderStatus::Allocated,
            "one shipment from WH-B at 7.51: the only warehouse holding every line; no split is cheaper"
        ))
    );
    assert_eq!(world.reservations_queued().await, [id]);
}

#[tokio::test]
async fn an_unknown_order_is_skipped_by_allocation() {
    let world = World::new().await;
    let id = order_id();
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Skipped(format!("no order {id}")));
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn the_queue_consumers_carry_a_received_order_to_reserved() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let receipt = receive_order(&world.ports, delivery("A-1")).await.unwrap();

    let [allocate] = &world.store.receive(AllocateOrder::QUEUE, 10, Duration::from_secs(60)).await.unwrap()[..] else {
        panic!("one allocation message")
    };
    let handled = messages::consume(&Allocate::default(), &world.ports, &allocate.body).await.unwrap();
    assert_eq!(handled, Handled::Moved(OrderStatus::Allocated));
    let [reserve] = &world.store.receive(ReserveOrder::QUEUE, 10, Duration::from_secs(60)).await.unwrap()[..] else {
        panic!("one reservation message")
    };
    let handled = messages::consume(&Reserve, &world.ports, &reserve.body).await.unwrap();
    assert_eq!(handled, Handled::Moved(OrderStatus::Reserved));

    assert_eq!(world.order(&receipt.order_id).await.status, OrderStatus::Reserved);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    // Each queue's consumer refuses the other queue's kind.
    assert!(messages::consume(&Reserve, &world.ports, &allocate.body).await.is_err());
    assert!(messages::consume(&Allocate::default(), &world.ports, &reserve.body).await.is_err());
}

// ---------------------------------------------------------------------------------------
// Reservation: reserve_order and the Reserve consumer
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_allocated_order_is_reserved_and_its_stock_held() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    world.stock("WH-B", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    let order = world.order(&id).await;
    assert_eq!(order.status, OrderStatus::Reserved);
    assert_eq!(order.timeline.last(), Some(&event(OrderStatus::Reserved, "2 units held")));
    assert_eq!(
        world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation),
        Some(hold([line("WH-A", "SKU-1", 2)]))
    );
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    assert_eq!(world.level("WH-B", "SKU-1").await, (5, 0, 5));
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_reservation_that_lost_its_stock_is_replanned_and_held_in_another_warehouse() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    world.stock("WH-B", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    assert_eq!(world.order(&id).await.allocation.map(|a| a.lines), Some(vec![line("WH-A", "SKU-1", 2)]));
    // Another order takes one of WH-A's two units between the plan and the reservation.
    let rival = order_id();
    reserved(world.ports.inventory.reserve(&rival, &hold([line("WH-A", "SKU-1", 1)])).await.unwrap());

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    let order = world.order(&id).await;
    let why = "one shipment from WH-B at 7.51: the only warehouse holding every line; no split is cheaper";
    assert_eq!(
        order.allocation.map(|a| (a.lines, a.explanation, a.costing.map(|c| c.chosen.cost.to_string()), a.planned_at)),
        Some((vec![line("WH-B", "SKU-1", 2)], why.into(), Some("7.51".into()), now()))
    );
    let [.., replanned, reserved] = &order.timeline[..] else { panic!("a re-plan and a reservation: {:?}", order.timeline) };
    assert_eq!(*replanned, event(OrderStatus::Allocated, &format!("re-planned (WH-A has only 1 of SKU-1 left): {why}")));
    assert_eq!(*reserved, event(OrderStatus::Reserved, "2 units held"));
    assert_eq!(
        world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation),
        Some(hold([line("WH-B", "SKU-1", 2)]))
    );
    assert_eq!(world.level("WH-A", "SKU-1").await, (2, 1, 1), "only the rival holds WH-A");
    assert_eq!(world.level("WH-B", "SKU-1").await, (5, 2, 3));
}

#[tokio::test]
async fn a_reservation_that_lost_its_stock_with_none_left_anywhere_backorders_the_order() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    world.stock("WH-B", "SKU-1", 0).await;
    let id = world.allocated("A-1").await;
    let rival = order_id();
    reserved(world.ports.inventory.reserve(&rival, &hold([line("WH-A", "SKU-1", 1)])).await.unwrap());

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Backordered));
    let order = world.order(&id).await;
    assert_eq!(order.status, OrderStatus::Backordered);
    assert_eq!(
        order.timeline.last(),
        Some(&event(
            OrderStatus::Backordered,
            "stock ran out: SKU-1: 2 wanted, 1 of the merchant's own available in all warehouses"
        ))
    );
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation), None);
    assert_eq!(world.level("WH-A", "SKU-1").await, (2, 1, 1));
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_redelivered_reservation_changes_nothing() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let before = world.order(&id).await;

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is already reserved".into()));
    assert_eq!(world.order(&id).await, before);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3), "held once, not twice");
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_reservation_asks_its_warehouses_to_ship_once_and_a_cancel_tells_them_to_stop() {
    use oms_domain::outbound::Notice;
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    assert_eq!(world.notices_queued().await, vec![Notice::FulfilmentRequested { order_id: id.clone() }]);
    // A redelivered reservation asks nothing again.
    reserve_order(&world.ports, &id).await.unwrap();
    assert_eq!(world.notices_queued().await, vec![]);
    // A new address while the warehouse works on it: the request again, under a new id.
    let patch = OrderPatch { shipping_address: Some(other_address()), ..OrderPatch::default() };
    modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(world.notices_queued().await, vec![Notice::FulfilmentRequested { order_id: id.clone() }]);
    cancel_order(&world.ports, &id, "buyer changed their mind").await.unwrap();
    assert_eq!(world.notices_queued().await, vec![Notice::FulfilmentCancelled { order_id: id.clone() }]);
    // A repeated cancel tells nobody again; an order cancelled before it was reserved
    // tells nobody at all.
    cancel_order(&world.ports, &id, "again").await.unwrap();
    let early = world.allocated("A-2").await;
    cancel_order(&world.ports, &early, "before the hold").await.unwrap();
    assert_eq!(world.notices_queued().await, vec![]);
}

#[tokio::test]
async fn an_order_holding_stock_for_an_older_plan_gives_it_back_and_holds_its_current_plan() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    world.stock("WH-B", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    // A reservation for a plan the order no longer has (it was planned again since).
    reserved(world.ports.inventory.reserve(&id, &hold([line("WH-B", "SKU-1", 2)])).await.unwrap());

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    assert_eq!(
        world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation),
        Some(hold([line("WH-A", "SKU-1", 2)]))
    );
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    assert_eq!(world.level("WH-B", "SKU-1").await, (5, 0, 5));
}

#[tokio::test]
async fn an_order_of_more_lines_than_one_write_is_planned_reserved_and_released_whole() {
    let world = World::new().await;
    let skus = fixtures::many_skus(150);
    for sku_id in &skus {
        world.stock("WH-A", sku_id, 3).await;
    }
    let mut big = delivery("BIG-1");
    big.lines = skus.iter().map(|sku_id| order_line(sku_id, 1)).collect();
    let id = receive_order(&world.ports, big).await.expect("the order received").order_id;
    assert_eq!(world.allocations_queued().await, vec![id.clone()]);
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(world.reservations_queued().await, vec![id.clone()]);

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    let held = world.ports.inventory.reservation(&id).await.unwrap().expect("the order holds stock").reservation;
    assert_eq!(held.lines().len(), 150);
    assert_eq!(world.level("WH-A", "SKU-149").await, (3, 1, 2));

    let cancelled = cancel_order(&world.ports, &id, "too big after all").await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap(), None);
    for sku_id in &skus {
        assert_eq!(world.level("WH-A", sku_id).await, (3, 0, 3), "{sku_id}");
    }
}

#[tokio::test]
async fn a_worker_releasing_a_stale_hold_never_frees_the_hold_another_worker_just_placed() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    world.stock("WH-B", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    // The order holds stock for an older plan; another worker is about to replace that
    // hold with one for the current plan (WH-A) right after this worker reads it.
    let _ = reserved(world.ports.inventory.reserve(&id, &hold([line("WH-B", "SKU-1", 2)])).await.unwrap());
    let store = Arc::new(HoldReplacedAfterRead {
        inner: world.store.clone(),
        current_plan: hold([line("WH-A", "SKU-1", 2)]),
        placed: Default::default(),
    });
    let racing = Ports { inventory: store.clone(), ..world.ports.clone() };

    assert_eq!(reserve_order(&racing, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    let placed = store.placed.lock().expect("the lock").clone().expect("the other worker placed its hold");
    let now = world.ports.inventory.reservation(&id).await.unwrap().expect("the order holds stock");
    assert_eq!(now.hold_id, placed, "the other worker's hold is the one still held");
    assert_eq!(now.reservation, hold([line("WH-A", "SKU-1", 2)]));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    assert_eq!(world.level("WH-B", "SKU-1").await, (5, 0, 5));
}

#[tokio::test]
async fn a_reservation_that_keeps_losing_races_stays_allocated_and_fails_to_be_delivered_again() {
    let world = World::new().await;
    for (id, name) in [("WH-C", "Hangzhou C"), ("WH-D", "Hangzhou D"), ("WH-E", "Hangzhou E")] {
        put_warehouse(&world.ports, &warehouse(id, name)).await.unwrap();
    }
    for w in ["WH-A", "WH-B", "WH-C", "WH-D", "WH-E"] {
        world.stock(w, "SKU-1", 2).await;
    }
    let id = world.allocated("A-1").await;
    let outrun = Arc::new(AlwaysOutrun { inner: world.store.clone(), loser: id.clone(), rivals: AtomicUsize::new(0) });
    let racing = Ports { inventory: outrun.clone(), ..world.ports.clone() };

    // Planned on WH-A, then re-planned after each lost race: after MAX_REPLANS losses the
    // delivery fails (the queue tries again later); the order is never backordered while
    // the stock it may use could cover it.
    let err = reserve_order(&racing, &id).await.unwrap_err();
    assert!(err.to_string().contains("lost 3 races"), "{err}");
    assert_eq!(outrun.rivals.load(Ordering::SeqCst), MAX_REPLANS);
    let order = world.order(&id).await;
    assert_eq!(order.status, OrderStatus::Allocated);
    let replans = order.timeline.iter().filter(|e| e.detail.starts_with("re-planned")).count();
    assert_eq!(replans, MAX_REPLANS);
    assert!(order.allocation.is_some(), "it keeps its latest plan");
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation), None, "it holds nothing");

    // Delivered again once the rivals are gone, it is reserved from what is left.
    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
}

#[tokio::test]
async fn a_reservation_whose_stock_ran_out_everywhere_is_backordered_without_its_plan() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    let id = world.allocated("A-1").await;
    let rival = order_id();
    assert!(matches!(
        world.ports.inventory.reserve(&rival, &hold([line("WH-A", "SKU-1", 2)])).await.unwrap(),
        ReserveOutcome::Reserved { .. }
    ));

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Backordered));
    let order = world.order(&id).await;
    assert_eq!(order.allocation, None, "a backordered order shows no plan");
    assert_eq!(
        order.timeline.last(),
        Some(&event(
            OrderStatus::Backordered,
            "stock ran out: SKU-1: 2 wanted, 0 of the merchant's own available in all warehouses"
        ))
    );
}

#[tokio::test]
async fn an_unknown_order_is_skipped_by_reservation() {
    let world = World::new().await;
    let id = order_id();
    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Skipped(format!("no order {id}")));
}

// ---------------------------------------------------------------------------------------
// Leftover release: a reservation that landed after the order moved on
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_cancelled_order_gives_back_the_stock_a_late_reservation_took() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    let cancelled = cancel_order(&world.ports, &id, "buyer changed their mind").await.unwrap();
    // The reservation of a reserve_order that read the order before the cancel lands now.
    reserved(world.ports.inventory.reserve(&id, &hold([line("WH-A", "SKU-1", 2)])).await.unwrap());
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is cancelled".into()));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5));
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation), None);
    assert_eq!(world.order(&id).await, cancelled);
}

#[tokio::test]
async fn a_backordered_order_gives_back_the_stock_a_late_reservation_took() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.backordered("A-1").await;
    let before = world.order(&id).await;
    reserved(world.ports.inventory.reserve(&id, &hold([line("WH-A", "SKU-1", 1)])).await.unwrap());

    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is backordered".into()));
    assert_eq!(world.level("WH-A", "SKU-1").await, (1, 0, 1));
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation), None);
    assert_eq!(world.order(&id).await, before);
}

// ---------------------------------------------------------------------------------------
// Cancel: cancel_order
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_received_order_is_cancelled() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;
    cancel_and_check(&world, &id).await;
    // The allocation message still on its way finds nothing to do.
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is already cancelled".into()));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5));
}

#[tokio::test]
async fn an_allocated_order_is_cancelled() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;
    cancel_and_check(&world, &id).await;
    // The reservation message still on its way holds nothing.
    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Skipped("order is cancelled".into()));
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5));
}

#[tokio::test]
async fn a_reserved_order_cancelled_gives_its_stock_back() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    cancel_and_check(&world, &id).await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5));
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap().map(|h| h.reservation), None);
}

#[tokio::test]
async fn a_backordered_order_is_cancelled() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.backordered("A-1").await;
    cancel_and_check(&world, &id).await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (1, 0, 1));
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn cancelling_a_cancelled_order_answers_the_same_order_and_releases_nothing_twice() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let other = world.reserved("A-2").await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 4, 1));
    let cancelled = cancel_and_check(&world, &id).await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));

    let again = cancel_order(&world.ports, &id, "asked twice").await.unwrap();
    assert_eq!(again, cancelled, "same order, same version, no second timeline entry");
    assert_eq!(world.order(&id).await, cancelled);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3), "the other order still holds its units");
    assert_eq!(
        world.ports.inventory.reservation(&other).await.unwrap().map(|h| h.reservation),
        Some(hold([line("WH-A", "SKU-1", 2)]))
    );
}

#[tokio::test]
async fn a_shipped_order_cannot_be_cancelled_and_nothing_changes() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.shipped("A-1").await;
    let before = world.order(&id).await;

    let err = cancel_order(&world.ports, &id, "too late").await.unwrap_err();
    assert!(
        matches!(err, CancelError::NotCancellable(InvalidTransition { from: OrderStatus::Shipped, to: OrderStatus::Cancelled })),
        "{err:?}"
    );
    assert_eq!(world.order(&id).await, before);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3), "the shipped units stay held");
}

#[tokio::test]
async fn cancelling_an_unknown_order_is_not_found() {
    let world = World::new().await;
    let id = order_id();
    let err = cancel_order(&world.ports, &id, "why not").await.unwrap_err();
    assert!(matches!(&err, CancelError::NotFound(missing) if *missing == id), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Modify: modify_order
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_received_order_takes_new_lines_address_and_customer() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    world.stock("WH-A", "SKU-2", 5).await;
    let id = world.received("A-1").await;
    let before = world.order(&id).await;

    let lines = vec![order_line("SKU-1", 1), order_line("SKU-2", 3)];
    let patch =
        OrderPatch { customer: Some(other_customer()), shipping_address: Some(other_address()), lines: Some(lines.clone()) };
    let modified = modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(modified, world.order(&id).await, "the answer is the stored order");
    assert_eq!((modified.customer, modified.shipping_address, modified.lines), (other_customer(), other_address(), lines));
    assert_eq!(modified.status, OrderStatus::Received);
    assert_eq!(modified.version, before.version + 1);
    assert_eq!(
        modified.timeline[before.timeline.len()..],
        [event(OrderStatus::Received, "updated by request: customer, shipping_address, lines")]
    );
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn an_allocated_order_takes_a_new_customer() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.allocated("A-1").await;

    let patch = OrderPatch { customer: Some(other_customer()), ..OrderPatch::default() };
    let modified = modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(modified.customer, other_customer());
    assert_eq!(modified.timeline.last(), Some(&event(OrderStatus::Allocated, "updated by request: customer")));
    assert_eq!(world.order(&id).await, modified);
}

#[tokio::test]
async fn a_reserved_order_takes_a_new_address() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;

    let patch = OrderPatch { shipping_address: Some(other_address()), ..OrderPatch::default() };
    let modified = modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(modified.shipping_address, other_address());
    assert_eq!(modified.status, OrderStatus::Reserved);
    assert_eq!(modified.timeline.last(), Some(&event(OrderStatus::Reserved, "updated by request: shipping_address")));
    assert_eq!(world.order(&id).await, modified);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
}

#[tokio::test]
async fn an_operator_text_field_over_200_characters_is_refused_and_changes_nothing() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let before = world.order(&id).await;

    let long = Address { line2: Some("x".repeat(oms_domain::order::MAX_TEXT_CHARS + 1)), ..other_address() };
    let patch = OrderPatch { customer: Some(other_customer()), shipping_address: Some(long), lines: None };
    let err = modify_order(&world.ports, &id, patch).await.unwrap_err();
    assert!(matches!(&err, ModifyError::TooLong(o) if o.field == "shipping_address.line2" && o.chars == 201), "{err:?}");
    assert_eq!(world.order(&id).await, before, "not even the customer, which alone would have been allowed");
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_reserved_order_refuses_new_lines_and_then_changes_nothing_at_all() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    let before = world.order(&id).await;

    let patch = OrderPatch { shipping_address: Some(other_address()), lines: Some(vec![order_line("SKU-1", 3)]), customer: None };
    let err = modify_order(&world.ports, &id, patch).await.unwrap_err();
    assert!(
        matches!(&err, ModifyError::NotModifiable { parts, status: OrderStatus::Reserved } if *parts == [OrderPart::Lines]),
        "{err:?}"
    );
    assert_eq!(world.order(&id).await, before, "not even the address, which alone would have been allowed");
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_backordered_order_with_new_lines_is_queued_for_allocation_again() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let id = world.backordered("A-1").await;

    let patch = OrderPatch { lines: Some(vec![order_line("SKU-1", 1)]), ..OrderPatch::default() };
    let modified = modify_order(&world.ports, &id, patch).await.unwrap();
    assert_eq!(modified.lines, [order_line("SKU-1", 1)]);
    assert_eq!(modified.status, OrderStatus::Backordered);
    assert_eq!(modified.timeline.last(), Some(&event(OrderStatus::Backordered, "updated by request: lines")));
    assert_eq!(world.allocations_queued().await, vec![id.clone()]);
    // And the queued allocation now finds enough.
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
}

#[tokio::test]
async fn new_lines_naming_an_unknown_sku_are_refused_and_nothing_changes() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;
    let before = world.order(&id).await;

    let patch = OrderPatch {
        lines: Some(vec![order_line("SKU-1", 1), order_line("NOPE", 1)]),
        shipping_address: Some(other_address()),
        customer: None,
    };
    let err = modify_order(&world.ports, &id, patch).await.unwrap_err();
    assert!(matches!(&err, ModifyError::UnknownSku(UnknownSku { line: 1, sku: s, .. }) if *s == sku("NOPE")), "{err:?}");
    assert_eq!(world.order(&id).await, before);
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn a_price_finer_than_the_currency_allows_is_refused_and_nothing_changes() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;
    let before = world.order(&id).await;

    // CNY has two minor digits; a price may go three finer, not four.
    let too_fine = OrderLine { unit_price: Decimal::new(1_990_001, 6), ..order_line("SKU-1", 1) };
    let patch = OrderPatch { lines: Some(vec![order_line("SKU-1", 1), too_fine]), ..OrderPatch::default() };
    let err = modify_order(&world.ports, &id, patch).await.unwrap_err();
    assert!(matches!(&err, ModifyError::Invalid(e) if e.field == "lines[1].unit_price"), "{err:?}");
    assert_eq!(world.order(&id).await, before);
}

#[tokio::test]
async fn a_shipped_or_cancelled_order_refuses_even_a_new_address() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let shipped = world.shipped("A-1").await;
    let cancelled = world.received("A-2").await;
    cancel_order(&world.ports, &cancelled, "buyer changed their mind").await.unwrap();

    for (id, stage) in [(shipped, OrderStatus::Shipped), (cancelled, OrderStatus::Cancelled)] {
        let before = world.order(&id).await;
        let patch = OrderPatch { shipping_address: Some(other_address()), ..OrderPatch::default() };
        let err = modify_order(&world.ports, &id, patch).await.unwrap_err();
        assert!(
            matches!(&err, ModifyError::NotModifiable { parts, status } if *parts == [OrderPart::ShippingAddress] && *status == stage),
            "{err:?}"
        );
        assert_eq!(world.order(&id).await, before);
    }
    world.assert_nothing_queued().await;
}

#[tokio::test]
async fn an_empty_patch_is_refused_and_an_unknown_order_is_not_found() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;
    let before = world.order(&id).await;
    let err = modify_order(&world.ports, &id, OrderPatch::default()).await.unwrap_err();
    assert!(matches!(err, ModifyError::Invalid(_)), "{err:?}");
    assert_eq!(world.order(&id).await, before);

    let unknown = order_id();
    let patch = OrderPatch { shipping_address: Some(other_address()), ..OrderPatch::default() };
    let err = modify_order(&world.ports, &unknown, patch).await.unwrap_err();
    assert!(matches!(&err, ModifyError::NotFound(missing) if *missing == unknown), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Backorders come back: a release or a stock count re-queues the orders waiting
// ---------------------------------------------------------------------------------------

/// A clock one second later at every look, so each use case's time is its own and "older"
/// means "earlier" whatever the order ids.
#[derive(Debug, Default)]
struct SteppingClock(AtomicUsize);

impl Clock for SteppingClock {
    fn now(&self) -> DateTime<Utc> {
        let step = self.0.fetch_add(1, Ordering::SeqCst);
        now() + chrono::Duration::seconds(i64::try_from(step).expect("a small step"))
    }
}

/// Plans and holds each order queued for allocation, as the two workers would, in the
/// order they were queued; answers the statuses they reached.
async fn work_the_queues(world: &World, queued: &[OrderId]) -> Vec<OrderStatus> {
    let mut statuses = Vec::new();
    for id in queued {
        allocate_order(&world.ports, id).await.expect("allocation ran");
        for reserve in world.reservations_queued().await {
            reserve_order(&world.ports, &reserve).await.expect("reservation ran");
        }
        statuses.push(world.order(id).await.status);
    }
    statuses
}

#[tokio::test]
async fn a_backorder_is_allocated_and_reserved_after_a_cancel_frees_its_stock() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    let first = world.reserved("A-1").await;
    let waiting = world.backordered("A-2").await;
    cancel_and_check(&world, &first).await;
    let queued = world.allocations_queued().await;
    assert_eq!(queued, vec![waiting.clone()], "the cancel's release re-queued the backorder");
    assert_eq!(work_the_queues(&world, &queued).await, vec![OrderStatus::Reserved]);
    assert_eq!(world.level("WH-A", "SKU-1").await, (2, 2, 0));
    assert_eq!(world.ports.orders.backorders_waiting_for(&sku("SKU-1"), 10).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_repeated_cancel_re_queues_the_backorders_an_interrupted_first_cancel_left_waiting() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    let first = world.reserved("A-1").await;
    let waiting = world.backordered("A-2").await;
    // The first cancel wrote the order and released its hold, then stopped.
    let mut cancelled = world.order(&first).await;
    cancelled.transition(OrderStatus::Cancelled, now(), "buyer changed their mind").unwrap();
    assert!(matches!(world.ports.orders.update_order(&cancelled).await.unwrap(), UpdateOutcome::Updated { .. }));
    assert!(oms_domain::usecases::fulfilment::release_current_hold(&world.ports, &first).await.unwrap().is_some());
    world.assert_nothing_queued().await;
    // The caller tries again.
    cancel_order(&world.ports, &first, "buyer changed their mind").await.expect("the cancel answered");
    let queued = world.allocations_queued().await;
    assert_eq!(queued, vec![waiting]);
    assert_eq!(work_the_queues(&world, &queued).await, vec![OrderStatus::Reserved]);
}

#[tokio::test]
async fn a_backorder_is_allocated_and_reserved_after_a_stock_count_raises_on_hand() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    let waiting = world.backordered("A-1").await;
    world.stock("WH-B", "SKU-1", 2).await;
    let queued = world.allocations_queued().await;
    assert_eq!(queued, vec![waiting.clone()], "the count re-queued the backorder");
    assert_eq!(work_the_queues(&world, &queued).await, vec![OrderStatus::Reserved]);
    assert_eq!(world.level("WH-B", "SKU-1").await, (2, 2, 0));
}

#[tokio::test]
async fn backorders_come_back_oldest_first_when_only_some_can_be_served() {
    let world = World::on_clock(Arc::new(SteppingClock::default())).await;
    world.stock("WH-A", "SKU-1", 0).await;
    let oldest = world.backordered("A-1").await;
    let middle = world.backordered("A-2").await;
    let newest = world.backordered("A-3").await;
    // Two orders' worth (two units each) comes in: the two oldest get it.
    world.stock("WH-A", "SKU-1", 4).await;
    let queued = world.allocations_queued().await;
    assert_eq!(queued, vec![oldest.clone(), middle.clone(), newest.clone()], "oldest first");
    assert_eq!(
        work_the_queues(&world, &queued).await,
        vec![OrderStatus::Reserved, OrderStatus::Reserved, OrderStatus::Backordered]
    );
    // The one still short keeps waiting, and comes back with the next units.
    assert_eq!(world.ports.orders.backorders_waiting_for(&sku("SKU-1"), 10).await.unwrap(), vec![newest.clone()]);
    world.stock("WH-A", "SKU-1", 6).await;
    assert_eq!(world.allocations_queued().await, vec![newest]);
}

#[tokio::test]
async fn one_event_re_queues_at_most_the_bound_of_backorders() {
    let world = World::on_clock(Arc::new(SteppingClock::default())).await;
    world.stock("WH-A", "SKU-1", 0).await;
    let mut waiting = Vec::new();
    for i in 0..MAX_REQUEUED_PER_SKU + 2 {
        waiting.push(world.backordered(&format!("A-{i}")).await);
    }
    world.stock("WH-A", "SKU-1", 2).await;
    let queued = world.take::<AllocateOrder>().await.into_iter().map(|m| m.order_id).collect::<Vec<_>>();
    assert_eq!(queued, waiting[..MAX_REQUEUED_PER_SKU], "the oldest, up to the bound; the rest wait for the next event");
}

// ---------------------------------------------------------------------------------------
// The read-modify-write loop: update_with_retry
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn update_with_retry_decides_again_on_the_fresh_order_after_losing_a_race() {
    let (inner, order) = store_with_an_order().await;
    let store = RacedOnce { inner: inner.clone(), raced: AtomicUsize::new(0) };
    let runs = AtomicUsize::new(0);
    let seen_versions = std::sync::Mutex::new(Vec::new());

    let changed = update_with_retry(&store, &order.order_id, |mut order| {
        let (runs, seen_versions) = (&runs, &seen_versions);
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            seen_versions.lock().unwrap().push(order.version);
            order.note(now(), "ours");
            Ok::<_, StoreError>(Change::Write(order, "done"))
        })
    })
    .await
    .unwrap()
    .expect("the order exists");

    assert_eq!(runs.load(Ordering::SeqCst), 2, "the change ran again after the lost race");
    assert_eq!(*seen_versions.lock().unwrap(), [1, 2], "the second run saw the competitor's write");
    assert!(changed.written);
    assert_eq!(changed.value, "done");
    let stored = inner.get_order(&order.order_id).await.unwrap().unwrap();
    assert_eq!(changed.order, stored, "the answer is the stored order, version included");
    assert_eq!(stored.version, 3);
    assert_eq!(stored.customer, other_customer(), "the competitor's change survived");
    assert_eq!(stored.timeline.last(), Some(&event(OrderStatus::Received, "ours")), "and ours was made on top");
    assert_eq!(stored.timeline.len(), 2, "ours once, not once per run");
}

#[tokio::test]
async fn update_with_retry_gives_up_after_conflict_retries_lost_races() {
    let (inner, order) = store_with_an_order().await;
    let store = AlwaysRaced { inner: inner.clone(), updates: AtomicUsize::new(0) };
    let runs = AtomicUsize::new(0);

    let err = update_with_retry(&store, &order.order_id, |mut order| {
        let runs = &runs;
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            order.note(now(), "ours");
            Ok::<_, StoreError>(Change::Write(order, ()))
        })
    })
    .await
    .unwrap_err();

    assert_eq!(runs.load(Ordering::SeqCst), CONFLICT_RETRIES);
    assert_eq!(store.updates.load(Ordering::SeqCst), CONFLICT_RETRIES);
    assert!(err.to_string().contains(&format!("gave up after {CONFLICT_RETRIES} lost races")), "{err}");
    assert_eq!(inner.get_order(&order.order_id).await.unwrap(), Some(order));
}

#[tokio::test]
async fn update_with_retry_answers_none_for_an_unknown_order_without_running_the_change() {
    let (inner, _) = store_with_an_order().await;
    let runs = AtomicUsize::new(0);
    let changed = update_with_retry(&inner, &order_id(), |order| {
        let runs = &runs;
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, StoreError>(Change::Write(order, ()))
        })
    })
    .await
    .unwrap();
    assert_eq!(changed, None);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn update_with_retry_writes_nothing_when_the_change_keeps_the_order() {
    let (inner, order) = store_with_an_order().await;
    let changed = update_with_retry(&inner, &order.order_id, |mut order| {
        Box::pin(async move {
            order.note(now(), "thought about it");
            Ok::<_, StoreError>(Change::Keep(order, 7))
        })
    })
    .await
    .unwrap()
    .expect("the order exists");
    assert!(!changed.written);
    assert_eq!(changed.value, 7);
    assert_eq!(inner.get_order(&order.order_id).await.unwrap(), Some(order));
}

// ---------------------------------------------------------------------------------------
// Atomic effects and the sweeper
// ---------------------------------------------------------------------------------------

/// A queue that is down: every direct send fails, as a crash right after a write would
/// leave it. Only messages that go with a write (the outbox) can still be queued.
#[derive(Debug)]
struct QueueDown;

#[async_trait]
impl oms_domain::ports::Queue for QueueDown {
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError> {
        Err(StoreError::msg(format!("the queue is down: {} not sent", message.kind)))
    }
}

/// An inventory whose `release` always fails, as a crash right after the order's write
/// would leave it; everything else is the store's.
#[derive(Debug)]
struct ReleaseDown(Embedded);

#[async_trait]
impl InventoryStore for ReleaseDown {
    async fn set_on_hand(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        on_hand: u32,
    ) -> Result<SetOnHandOutcome, StoreError> {
        self.0.set_on_hand(warehouse, owner, sku, on_hand).await
    }
    async fn stock_of(&self, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.0.stock_of(sku).await
    }
    async fn hold_set_aside(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.0.hold_set_aside(order_id, reservation).await
    }
    async fn adjust(
        &self,
        warehouse: &WarehouseId,
        owner: &MerchantId,
        sku: &Sku,
        adjustment: &oms_domain::ledger::Adjustment,
    ) -> Result<oms_domain::ledger::AdjustOutcome, StoreError> {
        self.0.adjust(warehouse, owner, sku, adjustment).await
    }
    async fn ledger(
        &self,
        sku: &Sku,
        owner: Option<&MerchantId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<oms_domain::ledger::LedgerPage, StoreError> {
        self.0.ledger(sku, owner, after, limit).await
    }
    async fn stock_figures(&self) -> Result<Vec<oms_domain::ledger::StockFigures>, StoreError> {
        self.0.stock_figures().await
    }
    async fn open_holds(&self) -> Result<Vec<oms_domain::ledger::OpenHold>, StoreError> {
        self.0.open_holds().await
    }
    async fn lots_of(&self, sku: &Sku) -> Result<Vec<oms_domain::lot::LotBalance>, StoreError> {
        self.0.lots_of(sku).await
    }
    async fn claim_lot_sweep(&self, day: chrono::NaiveDate) -> Result<bool, StoreError> {
        self.0.claim_lot_sweep(day).await
    }
    async fn reserve(&self, order_id: &OrderId, reservation: &Reservation) -> Result<ReserveOutcome, StoreError> {
        self.0.reserve(order_id, reservation).await
    }
    async fn release(&self, order_id: &OrderId, _hold_id: &HoldId) -> Result<ReleaseOutcome, StoreError> {
        Err(StoreError::msg(format!("crashed before releasing the hold of {order_id}")))
    }
    async fn reservation(&self, order_id: &OrderId) -> Result<Option<Hold>, StoreError> {
        self.0.reservation(order_id).await
    }
}

#[tokio::test]
async fn a_received_order_is_queued_with_its_insert_so_no_crash_after_it_loses_the_message() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let ports = Ports { queue: Arc::new(QueueDown), ..world.ports.clone() };
    let receipt = receive_order(&ports, delivery("A-1")).await.expect("intake needs no send of its own");
    assert_eq!(world.allocations_queued().await, vec![receipt.order_id]);
}

#[tokio::test]
async fn a_planned_order_is_queued_for_reservation_with_its_plan() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.received("A-1").await;
    let ports = Ports { queue: Arc::new(QueueDown), ..world.ports.clone() };
    assert_eq!(allocate_order(&ports, &id).await.expect("allocation ran"), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(world.reservations_queued().await, vec![id]);
}

#[tokio::test]
async fn a_cancel_gives_the_stock_back_in_the_write_that_cancels_so_no_crash_leaves_it_held() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let id = world.reserved("A-1").await;
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 2, 3));
    // A separate release after the write would fail here: the cancel must not need one.
    let ports = Ports { inventory: Arc::new(ReleaseDown(world.store.clone())), ..world.ports.clone() };
    let cancelled = cancel_order(&ports, &id, "buyer changed their mind").await.expect("the order cancelled");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(world.level("WH-A", "SKU-1").await, (5, 0, 5), "the units came back with the cancel");
    assert_eq!(world.ports.inventory.reservation(&id).await.unwrap(), None);
}

/// The world's clock `minutes` after [`now`].
#[derive(Debug)]
struct LaterClock(i64);

impl Clock for LaterClock {
    fn now(&self) -> DateTime<Utc> {
        now() + chrono::Duration::minutes(self.0)
    }
}

#[tokio::test]
async fn the_sweeper_queues_again_the_step_each_stuck_order_waits_for_and_leaves_the_rest() {
    use oms_domain::usecases::sweep::{sweep, Repair, SweepLimits};
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 4).await;
    // Each message below is taken off its queue and lost, as a dead-lettered one would be.
    let received = world.received("A-1").await;
    let reserved = world.reserved("A-3").await;
    let allocated = world.allocated("A-2").await;
    let cancelled = world.received("A-4").await;
    cancel_order(&world.ports, &cancelled, "test").await.unwrap();
    world.stock("WH-A", "SKU-1", 2).await;
    let backordered = world.backordered("A-5").await;
    world.assert_nothing_queued().await;

    // Five minutes on, nothing is stuck yet.
    let soon = Ports { clock: Arc::new(LaterClock(5)), ..world.ports.clone() };
    let report = sweep(&soon, &SweepLimits::default()).await.unwrap();
    assert!(report.repaired.is_empty(), "{report:?}");
    world.assert_nothing_queued().await;

    // Past the limits: the received one is planned again, the allocated one reserved
    // again; the backorder waits (no stock for it); reserved and cancelled are left alone.
    let later = Ports { clock: Arc::new(LaterClock(90)), ..world.ports.clone() };
    let report = sweep(&later, &SweepLimits::default()).await.unwrap();
    let repairs: Vec<_> = report.repaired.iter().map(|r| (r.order_id.clone(), r.status, r.repair)).collect();
    assert_eq!(
        repairs,
        vec![
            (received.clone(), OrderStatus::Received, Repair::Allocate),
            (allocated.clone(), OrderStatus::Allocated, Repair::Reserve),
        ]
    );
    assert_eq!(report.waiting, 1, "the backorder, still short");
    assert_eq!(world.allocations_queued().await, vec![received.clone()]);
    assert_eq!(world.reservations_queued().await, vec![allocated.clone()]);
    assert_eq!(world.order(&reserved).await.status, OrderStatus::Reserved);
    let note = world.order(&received).await.timeline.last().cloned().unwrap();
    assert!(note.detail.starts_with("sweeper: "), "the repair is on the order's timeline: {note:?}");

    // Stock for the backorder comes in (and its re-queue is lost): the next sweep plans it.
    world.stock("WH-A", "SKU-1", 10).await;
    let _ = world.allocations_queued().await;
    let report = sweep(&later, &SweepLimits::default()).await.unwrap();
    assert!(report.repaired.iter().any(|r| r.order_id == backordered && r.repair == Repair::Allocate), "{report:?}");
}

#[tokio::test]
async fn the_sweeper_gives_up_on_an_order_after_a_few_tries_and_raises_one_alert() {
    use oms_domain::usecases::sweep::{sweep, Repair, SweepLimits, MAX_SWEEPS};
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 4).await;
    let stuck = world.received("A-1").await;
    let later = Ports { clock: Arc::new(LaterClock(90)), ..world.ports.clone() };
    let mut repairs = Vec::new();
    for _ in 0..MAX_SWEEPS + 2 {
        // Every message it queues is lost again.
        let _ = world.allocations_queued().await;
        let report = sweep(&later, &SweepLimits::default()).await.unwrap();
        repairs.extend(report.repaired.into_iter().map(|r| r.repair));
    }
    let mut expected = vec![Repair::Allocate; MAX_SWEEPS];
    expected.push(Repair::GaveUp);
    assert_eq!(repairs, expected, "queued {MAX_SWEEPS} times, then one alert, then left alone");
    let alerts = alerts_in(&world, AlertStatus::Open).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].kind, alerts[0].order_id.clone()), (AlertKind::OrderStuck, Some(stuck)));
}

#[tokio::test]
async fn allocation_prices_the_plan_with_the_stored_rate_tables_and_the_catalogues_weights() {
    use oms_domain::carrier::{RateTable, UncheckedBand};
    use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
    use oms_domain::usecases::catalogue::{put_rates, put_sku};
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let band = |max_weight_g: i64, fen: i64| UncheckedBand {
        service: "standard".into(),
        max_distance_km: 5000,
        max_weight_g,
        price: rust_decimal::Decimal::new(fen, 2),
        transit_days: 2,
        handles: Vec::new(),
        max_side_mm: None,
    };
    let carrier = oms_domain::CarrierId::parse("zto").unwrap();
    let rates = RateTable::new(carrier, oms_domain::Currency::parse("CNY").unwrap(), vec![band(1000, 800), band(30_000, 2000)]);
    put_rates(&world.ports, &rates.unwrap()).await.unwrap();
    let facts = UncheckedSkuFacts {
        merchant_id: "m-1".into(),
        name: "Heavy tea chest".into(),
        category: "tea".into(),
        cost: rust_decimal::Decimal::ONE,
        list_price: rust_decimal::Decimal::TEN,
        weight_g: 2000,
        dims_mm: [400, 300, 300],
        traits: Vec::new(),
    };
    put_sku(&world.ports, &SkuFacts::new(sku("SKU-1"), facts).unwrap()).await.unwrap();

    let id = world.received("A-1").await;
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    let costing = world.order(&id).await.allocation.and_then(|a| a.costing).expect("a costed plan");
    // Two 2 kg units: the 30 kg band's 20.00, plus 1.50 handling.
    assert_eq!(costing.chosen.cost.to_string(), "21.50");
}

/// m-1's supplier of SKU-1, `days` of lead time.
async fn supplier_of_sku_1(world: &World, days: i64) {
    let supplied = vec![oms_domain::supply::SuppliedSku { sku: sku("SKU-1"), unit_cost: None, pack_size: None, min_order: None }];
    let supplier = oms_domain::supply::Supplier::new(
        oms_domain::SupplierId::parse("sup-1").expect("a supplier id"),
        fixtures::merchant("m-1"),
        "Acme",
        days,
        supplied,
    )
    .expect("a valid supplier");
    let caller = Caller::platform_with_every_scope();
    assert!(oms_domain::usecases::supply::put_supplier(&world.ports, &caller, &supplier).await.expect("stored"));
}

#[tokio::test]
async fn a_backorder_says_when_stock_is_expected_by_the_suppliers_lead_time_else_the_earliest_purchase_order() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    supplier_of_sku_1(&world, 4).await;
    let id = world.backordered("A-1").await;
    let by_lead_time = world.order(&id).await.timeline.last().unwrap().detail.clone();
    let expected = (now() + chrono::Duration::days(4)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(by_lead_time.contains(&format!("stock could arrive by {expected}")), "{by_lead_time}");
    assert!(by_lead_time.contains("supplier sup-1, lead time 4 days"), "{by_lead_time}");

    let new = oms_domain::usecases::supply::NewPurchaseOrder {
        supplier_id: oms_domain::SupplierId::parse("sup-1").unwrap(),
        warehouse: warehouse_id("WH-A"),
        lines: vec![oms_domain::supply::SupplyLine { sku: sku("SKU-1"), quantity: 5 }],
        expected_at: Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
        reference: None,
    };
    let caller = Caller::platform_with_every_scope();
    let (po, _) = oms_domain::usecases::supply::place_purchase_order(&world.ports, &caller, new).await.unwrap();
    let id = world.backordered("A-2").await;
    let by_po = world.order(&id).await.timeline.last().unwrap().detail.clone();
    assert!(
        by_po.ends_with(&format!("stock expected by 2026-12-02T09:00:00Z (purchase order {})", po.purchase_order_id)),
        "{by_po}"
    );
}

#[tokio::test]
async fn a_receipt_queues_the_backorders_of_its_skus_and_they_are_reserved_from_it() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    supplier_of_sku_1(&world, 4).await;
    let id = world.backordered("A-1").await;
    let caller = Caller::platform_with_every_scope();
    let new = oms_domain::usecases::supply::NewPurchaseOrder {
        supplier_id: oms_domain::SupplierId::parse("sup-1").unwrap(),
        warehouse: warehouse_id("WH-A"),
        lines: vec![oms_domain::supply::SupplyLine { sku: sku("SKU-1"), quantity: 5 }],
        expected_at: now(),
        reference: Some("PO-1".into()),
    };
    let (po, _) = oms_domain::usecases::supply::place_purchase_order(&world.ports, &caller, new).await.unwrap();
    world.assert_nothing_queued().await;
    let receipt = oms_domain::supply::Receipt {
        receipt_id: oms_domain::ReceiptId::parse("r-1").unwrap(),
        lines: vec![oms_domain::supply::SupplyLine { sku: sku("SKU-1"), quantity: 5 }],
        lots: std::collections::BTreeMap::new(),
        received_at: world.ports.clock.now(),
    };
    let (received, duplicate) =
        oms_domain::usecases::supply::receive(&world.ports, &caller, &po.purchase_order_id, &receipt).await.unwrap();
    assert_eq!((received.status, duplicate), (oms_domain::supply::PoStatus::Received, false));
    assert_eq!(world.level("WH-A", "SKU-1").await, (6, 0, 6));
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&id));
    assert_eq!(allocate_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    assert_eq!(world.reservations_queued().await, std::slice::from_ref(&id));
    assert_eq!(reserve_order(&world.ports, &id).await.unwrap(), Handled::Moved(OrderStatus::Reserved));
    assert_eq!(world.level("WH-A", "SKU-1").await, (6, 2, 4));
    // The same receipt again changes nothing but queues the SKU's backorders again (none now).
    let (_, duplicate) =
        oms_domain::usecases::supply::receive(&world.ports, &caller, &po.purchase_order_id, &receipt).await.unwrap();
    assert!(duplicate);
    assert_eq!(world.level("WH-A", "SKU-1").await, (6, 2, 4));
    world.assert_nothing_queued().await;
    let report = oms_domain::usecases::reconcile::reconcile(&world.ports).await.unwrap();
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_reserved_order_enters_its_merchants_sales_history_once_and_a_lost_race_for_stock_none() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 2).await;
    let first = world.allocated("A-1").await;
    let second = world.allocated("A-2").await;
    assert_eq!(reserve_order(&world.ports, &first).await.expect("reservation ran"), Handled::Moved(OrderStatus::Reserved));
    // Delivered again, the reservation changes nothing: still one sale.
    assert!(matches!(reserve_order(&world.ports, &first).await.expect("reservation ran"), Handled::Skipped(_)));
    // The first took the stock: the second is backordered, not sold.
    assert_eq!(reserve_order(&world.ports, &second).await.expect("reservation ran"), Handled::Moved(OrderStatus::Backordered));

    let page = world.ports.sales.sales(&fixtures::merchant("m-1"), None, 10).await.expect("the history read");
    let order = world.order(&first).await;
    assert_eq!(page.sales, vec![oms_domain::sales::Sale::of(&order)]);
    assert_eq!(page.sales[0].lines[0].unit_price, order.lines[0].unit_price);
    assert!(world.ports.sales.sales(&fixtures::merchant("m-2"), None, 10).await.expect("read").sales.is_empty());
}

/// A low-stock check raises one alert per crossing of the reorder point (here set by hand),
/// keeps it while the stock stays low, resolves it once the stock is above the point, and
/// raises a new one at the next crossing.
#[tokio::test]
async fn the_low_stock_check_raises_one_alert_per_crossing_and_resolves_it_when_restocked() {
    use oms_domain::catalogue::{SkuFacts, UncheckedSkuFacts};
    use oms_domain::usecases::catalogue::put_sku;
    use oms_domain::usecases::replenishment::{check_low_stock, suggestions, ReplenishmentQuery};
    // Each check at its own time, as hourly checks are.
    let world = World::on_clock(Arc::new(SteppingClock::default())).await;
    world.stock("WH-A", "SKU-1", 10).await;
    supplier_of_sku_1(&world, 4).await;
    let facts = UncheckedSkuFacts {
        merchant_id: "m-1".into(),
        name: "Green tea".into(),
        category: "tea".into(),
        cost: rust_decimal::Decimal::ONE,
        list_price: rust_decimal::Decimal::TEN,
        weight_g: 250,
        dims_mm: [100, 80, 60],
        traits: Vec::new(),
    };
    let facts = SkuFacts::new(sku("SKU-1"), facts).unwrap().with_reorder(Some(5), Some(20)).unwrap();
    put_sku(&world.ports, &facts).await.unwrap();

    let check = check_low_stock(&world.ports).await.unwrap();
    assert_eq!((check.checked, check.low, check.raised.len()), (1, 0, 0), "10 is above the point 5");
    world.stock("WH-A", "SKU-1", 4).await;
    let check = check_low_stock(&world.ports).await.unwrap();
    assert_eq!((check.low, check.raised.len()), (1, 1));
    let alert = world.ports.alerts.get_alert(&check.raised[0]).await.unwrap().expect("the alert");
    assert_eq!((alert.kind, alert.status), (AlertKind::LowStock, AlertStatus::Open));
    assert!(alert.message.contains("order 20 from Acme"), "{}", alert.message);
    let again = check_low_stock(&world.ports).await.unwrap();
    assert_eq!((again.low, again.raised.len(), again.resolved.len()), (1, 0, 0), "still low: the one alert stands");

    let query = ReplenishmentQuery { merchant: fixtures::merchant("m-1"), warehouse: None, sku: None, low_only: true };
    let found = suggestions(&world.ports, &query).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].position, found[0].reorder_point, found[0].order_quantity), (4, Some(5), 20));
    assert_eq!(found[0].supplier.as_ref().map(|s| s.supplier_id.as_str()), Some("sup-1"));
    let other = ReplenishmentQuery { merchant: fixtures::merchant("m-2"), ..query };
    assert!(suggestions(&world.ports, &other).await.unwrap().is_empty(), "another merchant sees none of it");

    world.stock("WH-A", "SKU-1", 30).await;
    let restocked = check_low_stock(&world.ports).await.unwrap();
    assert_eq!((restocked.low, restocked.resolved), (0, vec![alert.alert_id.clone()]));
    world.stock("WH-A", "SKU-1", 2).await;
    let next = check_low_stock(&world.ports).await.unwrap();
    assert_eq!(next.raised.len(), 1, "a new crossing is a new alert");
    assert_ne!(next.raised[0], alert.alert_id);
}

/// An `Outbound` that keeps what it was sent (each request id once) and is down for the
/// first delivery to one warehouse.
#[derive(Default)]
struct Recorder {
    sent: std::sync::Mutex<Vec<oms_domain::outbound::Delivery>>,
    down_once: std::sync::Mutex<Option<WarehouseId>>,
}

#[async_trait]
impl oms_domain::ports::Outbound for Recorder {
    async fn deliver(
        &self,
        delivery: &oms_domain::outbound::Delivery,
    ) -> Result<oms_domain::outbound::Delivered, oms_domain::outbound::DeliveryError> {
        use oms_domain::outbound::{Delivered, DeliveryError};
        if let Some(part) = delivery.warehouse_order() {
            let mut down = self.down_once.lock().expect("not poisoned");
            if down.as_ref() == Some(&part.warehouse) {
                *down = None;
                return Err(DeliveryError::Retry(format!("{} is down", part.warehouse)));
            }
        }
        let mut sent = self.sent.lock().expect("not poisoned");
        if sent.iter().any(|s| s.request_id() == delivery.request_id()) {
            return Ok(Delivered::AlreadyThere);
        }
        sent.push(delivery.clone());
        Ok(Delivered::Sent)
    }
}

#[tokio::test]
async fn a_request_to_two_warehouses_is_tried_again_whole_while_one_is_down_and_each_takes_it_once() {
    use oms_domain::outbound::{Delivery, OutboundNotice};
    use oms_domain::usecases::outbound::deliver;
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1).await;
    world.stock("WH-B", "SKU-1", 1).await;
    let id = world.reserved("A-1").await;
    let notices = world.take::<OutboundNotice>().await;
    assert_eq!(notices.len(), 1, "one notice for the write, however many warehouses");
    let outbound = Recorder { down_once: std::sync::Mutex::new(Some(warehouse_id("WH-B"))), ..Recorder::default() };

    assert!(deliver(&world.ports, &outbound, &notices[0]).await.is_err(), "WH-B is down: the notice is tried again");
    let handled = deliver(&world.ports, &outbound, &notices[0]).await.unwrap();
    assert!(matches!(&handled, Handled::Delivered(said) if said.contains("had it already")), "{handled:?}");
    let sent = outbound.sent.lock().unwrap().clone();
    let asked: Vec<(String, u32)> = sent
        .iter()
        .map(|d| match d {
            Delivery::Fulfilment(r) => (r.order.warehouse.to_string(), r.order.lines.iter().map(|l| l.quantity).sum()),
            other => panic!("not a request: {other:?}"),
        })
        .collect();
    assert_eq!(asked, [("WH-A".to_owned(), 1), ("WH-B".to_owned(), 1)], "each warehouse once, its own line");
    assert!(sent.iter().all(|d| d.request_id().starts_with(&notices[0].request_id)));
    assert_ne!(sent[0].request_id(), sent[1].request_id());
    assert_eq!(world.order(&id).await.status, OrderStatus::Reserved);
}

#[tokio::test]
async fn an_unpaid_hold_that_expires_tells_its_warehouse_to_stop() {
    use oms_domain::outbound::Notice;
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 5).await;
    let new = NewOrder { paid: false, ..delivery("U-1") };
    let id = receive_order(&world.ports, new).await.unwrap().order_id;
    world.allocations_queued().await;
    allocate_order(&world.ports, &id).await.unwrap();
    world.reservations_queued().await;
    reserve_order(&world.ports, &id).await.unwrap();
    assert_eq!(world.notices_queued().await, vec![Notice::FulfilmentRequested { order_id: id.clone() }]);
    assert!(oms_domain::usecases::orders::expire_unpaid(&world.ports, &id).await.unwrap());
    assert_eq!(world.notices_queued().await, vec![Notice::FulfilmentCancelled { order_id: id.clone() }]);
}

// ---------------------------------------------------------------------------------------
// Fraud review
// ---------------------------------------------------------------------------------------

/// Six orders by customer `c-1` within the hour, then a seventh: with 500 units in a line
/// it is held for review (velocity and an unusual quantity), with two it is not.
#[tokio::test]
async fn a_webhook_order_scoring_two_fraud_rules_is_held_for_review_until_staff_release_it() {
    use oms_domain::usecases::fraud::{release, ReleaseError};
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1_000).await;
    for index in 0..6 {
        let id = receive_order(&world.ports, delivery(&format!("V-{index}"))).await.unwrap().order_id;
        assert_eq!(world.order(&id).await.status, OrderStatus::Received, "one rule alone holds nothing");
    }
    let _ = world.allocations_queued().await;
    let mut bulk = delivery("V-bulk");
    bulk.lines[0].quantity = 500;
    let receipt = receive_order(&world.ports, bulk).await.unwrap();
    assert_eq!(receipt.status, OrderStatus::OnHold);
    let order = world.order(&receipt.order_id).await;
    let Some(HoldReason::FraudReview(assessment)) = order.hold() else { panic!("held for review: {:?}", order.hold()) };
    assert_eq!(assessment.score, 80, "{assessment:?}");
    assert!(assessment.reasons[0].contains("6 other orders by this customer"), "{assessment:?}");
    assert!(assessment.reasons[1].contains("500 units of SKU-1"), "{assessment:?}");
    world.assert_nothing_queued().await;
    let open = alerts_in(&world, AlertStatus::Open).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].message.contains("fraud review, score 80"), "{}", open[0].message);

    // Allocation (stock counted in queues it like any waiting order) leaves it held.
    assert!(matches!(allocate_order(&world.ports, &receipt.order_id).await.unwrap(), Handled::Skipped(_)));
    assert_eq!(world.order(&receipt.order_id).await.status, OrderStatus::OnHold);

    // Staff release it: received again, queued for allocation, its alert resolved.
    let released = release(&world.ports, &receipt.order_id, "called the buyer: a school's order").await.unwrap();
    assert_eq!((released.status, released.hold()), (OrderStatus::Received, None));
    assert_eq!(
        released.timeline.last(),
        Some(&event(OrderStatus::Received, "released after fraud review: called the buyer: a school's order"))
    );
    assert_eq!(world.allocations_queued().await, std::slice::from_ref(&receipt.order_id));
    assert!(alerts_in(&world, AlertStatus::Open).await.is_empty());
    assert_eq!(allocate_order(&world.ports, &receipt.order_id).await.unwrap(), Handled::Moved(OrderStatus::Allocated));
    // Released once: again is refused, as for an order never held.
    assert!(matches!(release(&world.ports, &receipt.order_id, "again").await, Err(ReleaseError::NotHeldForReview { .. })));
    let quiet = receive_order(&world.ports, delivery("V-small")).await.unwrap();
    assert_eq!(quiet.status, OrderStatus::Received, "velocity alone");
    assert!(matches!(release(&world.ports, &quiet.order_id, "x").await, Err(ReleaseError::NotHeldForReview { .. })));
    assert!(matches!(release(&world.ports, &OrderId::generate(), "x").await, Err(ReleaseError::NotFound(_))));
}

/// Six customers paying with one card and shipping to one door (typed each their own way)
/// within the hour: the seventh order, a bulk one by yet another customer, is held: the
/// velocity of the card and the address, though no customer ordered twice.
#[tokio::test]
async fn one_card_or_one_door_behind_many_customers_is_velocity() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 1_000).await;
    let spelt = ["1 West Lake Rd", "1 west lake rd.", " 1 WEST LAKE RD", "1, West Lake Rd"];
    let order_by = |index: usize, card: &str| {
        let mut new = delivery(&format!("D-{index}"));
        new.customer = Customer::parse(&format!("c-{index}"), None, None, None).unwrap().with_card(Some(card)).unwrap();
        new.shipping_address.line1 = spelt[index % spelt.len()].into();
        new
    };
    for index in 0..6 {
        assert_eq!(receive_order(&world.ports, order_by(index, "fp_1")).await.unwrap().status, OrderStatus::Received);
    }
    let mut bulk = order_by(6, "fp_1");
    bulk.lines[0].quantity = 500;
    let receipt = receive_order(&world.ports, bulk).await.unwrap();
    let order = world.order(&receipt.order_id).await;
    let Some(HoldReason::FraudReview(assessment)) = order.hold() else { panic!("held for review: {:?}", order.hold()) };
    assert!(assessment.reasons[0].contains("6 other orders by this shipping address"), "{assessment:?}");

    // Another door and another card: the same bulk line alone holds nothing.
    let mut elsewhere = order_by(7, "fp_2");
    elsewhere.shipping_address.line1 = "9 Hubin Rd".into();
    elsewhere.lines[0].quantity = 500;
    assert_eq!(receive_order(&world.ports, elsewhere).await.unwrap().status, OrderStatus::Received);
}

/// Orders the platform makes or imports are not screened: a CSV import of a bulk buyer's
/// year is not a burst.
#[tokio::test]
async fn imported_orders_are_not_screened() {
    let world = World::new().await;
    world.stock("WH-A", "SKU-1", 10_000).await;
    for index in 0..8 {
        let mut new = delivery(&format!("I-{index}"));
        new.channel = Channel::Import;
        new.lines[0].quantity = 500;
        assert_eq!(receive_order(&world.ports, new).await.unwrap().status, OrderStatus::Received);
    }
}
