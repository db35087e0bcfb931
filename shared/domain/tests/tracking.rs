//! Shipments and tracking over the embedded adapters (in memory), on a clock the tests
//! move: shipments consume holds, carrier events move shipments and orders, ETAs are
//! learned, alerts are raised once, and the order's stage limits what may change.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};

use oms_conformance::fixtures::{self, sku, warehouse, warehouse_id};
use oms_domain::access::Caller;
use oms_domain::alert::{AlertKind, AlertStatus};
use oms_domain::messages::Handled;
use oms_domain::order::{Address, Channel, OrderPatch};
use oms_domain::ports::{Clock, Ports};
use oms_domain::shipment::{ShipmentStatus, TrackingEvent};
use oms_domain::usecases::fulfilment::{allocate_order, reserve_order};
use oms_domain::usecases::intake::receive_order;
use oms_domain::usecases::inventory::{put_warehouse, set_on_hand};
use oms_domain::usecases::orders::{cancel_order, get_order, modify_order, CancelError, ModifyError};
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_domain::usecases::tracking::{receive_events, record_shipment, tracking_view, ShipError, ShipLine, ShipRequest};
use oms_domain::{CarrierId, Order, OrderId, OrderStatus, TrackingEventId, TrackingNumber};
use oms_embedded::Embedded;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().expect("a valid instant")
}

/// A clock the test moves forward.
#[derive(Debug)]
struct Moving(Mutex<DateTime<Utc>>);

impl Clock for Moving {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("the clock")
    }
}

struct World {
    ports: Ports,
    clock: Arc<Moving>,
}

impl World {
    async fn new() -> Self {
        let clock = Arc::new(Moving(Mutex::new(start())));
        let store = Embedded::open_in_memory().expect("an in-memory store");
        let ports = store.ports(clock.clone());
        put_warehouse(&ports, &warehouse("WH-A", "Hangzhou A")).await.expect("a warehouse");
        let caller = Caller::platform_with_every_scope();
        set_on_hand(&ports, &caller, &warehouse_id("WH-A"), None, &sku("SKU-1"), 10).await.expect("a stock count");
        Self { ports, clock }
    }

    fn advance(&self, hours: i64) {
        *self.clock.0.lock().expect("the clock") += Duration::hours(hours);
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A delivered order of `quantity` units of SKU-1 (to Zhejiang), reserved.
    async fn reserved(&self, external_id: &str, quantity: u32) -> OrderId {
        self.reserved_for(external_id, quantity, "c-1").await
    }

    /// [`World::reserved`] for customer `customer` (orders of one customer to one address,
    /// placed together, merge into one parcel when planned).
    async fn reserved_for(&self, external_id: &str, quantity: u32, customer: &str) -> OrderId {
        let mut order = fixtures::order(Channel::Generic, external_id);
        order.lines[0].quantity = quantity;
        order.customer.id = oms_domain::CustomerId::parse(customer).expect("a customer id");
        let new = oms_domain::order::NewOrder {
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
        };
        let id = receive_order(&self.ports, new).await.expect("received").order_id;
        assert_eq!(allocate_order(&self.ports, &id).await.expect("allocated"), Handled::Moved(OrderStatus::Allocated));
        assert_eq!(reserve_order(&self.ports, &id).await.expect("reserved"), Handled::Moved(OrderStatus::Reserved));
        id
    }

    async fn order(&self, id: &OrderId) -> Order {
        get_order(&self.ports, id).await.expect("the order")
    }

    /// (on hand, reserved) of SKU-1 in WH-A.
    async fn level(&self) -> (u32, u32) {
        let levels = self.ports.inventory.stock_of(&sku("SKU-1")).await.expect("stock");
        levels.iter().find(|l| l.warehouse == warehouse_id("WH-A")).map(|l| (l.on_hand, l.reserved)).expect("counted")
    }

    async fn ship(
        &self,
        id: &OrderId,
        number: &str,
        quantity: u32,
    ) -> Result<oms_domain::usecases::tracking::Shipped, ShipError> {
        let request = ShipRequest {
            carrier: CarrierId::parse("sf").expect("as expected"),
            tracking_number: TrackingNumber::parse(number).expect("as expected"),
            lines: vec![ShipLine { sku: sku("SKU-1"), quantity, warehouse: None, order_id: None }],
        };
        record_shipment(&self.ports, id, &request).await
    }

    async fn event(&self, number: &str, id: &str, status: ShipmentStatus, at: DateTime<Utc>) {
        let event = TrackingEvent {
            event_id: TrackingEventId::parse(id).expect("as expected"),
            tracking_number: TrackingNumber::parse(number).expect("as expected"),
            carrier: CarrierId::parse("sf").expect("as expected"),
            status,
            at,
            location: Some("Hangzhou".into()),
            description: Some(status.to_string()),
            promised: None,
            received_at: self.now(),
        };
        receive_events(&self.ports, &[event]).await.expect("events received");
    }

    async fn alerts(&self, kind: AlertKind) -> Vec<oms_domain::alert::Alert> {
        let page = self.ports.alerts.list_alerts(AlertStatus::Open, None, None, 100).await.expect("alerts");
        page.alerts.into_iter().filter(|a| a.kind == kind).collect()
    }
}

#[tokio::test]
async fn a_reserved_order_ships_in_two_parcels_each_taking_its_units_from_the_hold() {
    let w = World::new().await;
    let id = w.reserved("T-1", 3).await;
    assert_eq!(w.level().await, (10, 3));
    let first = w.ship(&id, "SF1", 2).await.expect("shipped");
    assert_eq!((first.duplicate, first.order_status), (false, OrderStatus::PartiallyShipped));
    assert_eq!(w.level().await, (8, 1), "on hand and reserved both drop");
    let second = w.ship(&id, "SF2", 1).await.expect("shipped");
    assert_eq!(second.order_status, OrderStatus::Shipped);
    assert_eq!(w.level().await, (7, 0));
    assert_eq!(w.ports.inventory.reservation(&id).await.expect("as expected"), None, "nothing is held any more");
    let again = w.ship(&id, "SF1", 2).await.expect("the same tracking number again");
    assert_eq!((again.shipment_id, again.duplicate), (first.shipment_id, true));
    assert_eq!(w.level().await, (7, 0), "a repeat takes nothing");
}

#[tokio::test]
async fn a_shipment_the_order_cannot_make_is_refused_with_its_reason_and_stores_nothing() {
    let w = World::new().await;
    let id = w.reserved("T-2", 2).await;
    assert!(matches!(w.ship(&id, "X1", 3).await, Err(ShipError::MoreThanHeld { asked: 3, held: 2, .. })));
    let request = ShipRequest {
        carrier: CarrierId::parse("sf").expect("as expected"),
        tracking_number: TrackingNumber::parse("X2").expect("as expected"),
        lines: vec![ShipLine { sku: sku("SKU-9"), quantity: 1, warehouse: None, order_id: None }],
    };
    assert!(matches!(record_shipment(&w.ports, &id, &request).await, Err(ShipError::UnknownSku { .. })));
    let named = ShipRequest {
        lines: vec![ShipLine { sku: sku("SKU-1"), quantity: 1, warehouse: Some(warehouse_id("WH-Z")), order_id: None }],
        ..request.clone()
    };
    assert!(matches!(record_shipment(&w.ports, &id, &named).await, Err(ShipError::MoreThanHeld { held: 0, .. })));
    assert_eq!(w.level().await, (10, 2));
    assert_eq!(w.order(&id).await.status, OrderStatus::Reserved);
    assert!(w.ports.shipments.shipments_of(&id).await.expect("as expected").is_empty());
    let cancelled = w.reserved_for("T-3", 1, "c-2").await;
    cancel_order(&w.ports, &cancelled, "buyer").await.expect("cancelled");
    assert!(matches!(w.ship(&cancelled, "X3", 1).await, Err(ShipError::NotReserved(OrderStatus::Cancelled))));
    w.ship(&id, "X4", 1).await.expect("shipped");
    assert!(matches!(w.ship(&cancelled, "X4", 1).await, Err(ShipError::TrackingNumberTaken(_))));
}

#[tokio::test]
async fn events_out_of_order_and_repeated_end_delivered_and_an_older_event_never_moves_the_status_back() {
    let w = World::new().await;
    let id = w.reserved("T-4", 2).await;
    w.ship(&id, "SF4", 2).await.expect("shipped");
    let t0 = start();
    w.event("SF4", "e-3", ShipmentStatus::Delivered, t0 + Duration::hours(30)).await;
    assert_eq!(w.order(&id).await.status, OrderStatus::Delivered);
    w.event("SF4", "e-1", ShipmentStatus::InTransit, t0 + Duration::hours(2)).await;
    w.event("SF4", "e-2", ShipmentStatus::OutForDelivery, t0 + Duration::hours(26)).await;
    w.event("SF4", "e-2", ShipmentStatus::OutForDelivery, t0 + Duration::hours(26)).await;
    let view = tracking_view(&w.ports, &w.order(&id).await).await.expect("the view");
    let shipment = &view.shipments[0];
    assert_eq!(shipment.shipment.status, ShipmentStatus::Delivered);
    let statuses: Vec<ShipmentStatus> = shipment.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [ShipmentStatus::InTransit, ShipmentStatus::OutForDelivery, ShipmentStatus::Delivered]);
    assert_eq!((view.status, view.eta), (OrderStatus::Delivered, Some(t0 + Duration::hours(30))));
    // The lane learned 30 h: the next parcel on it is expected 30 h after its hand-over.
    let next = w.reserved("T-5", 1).await;
    w.ship(&next, "SF5", 1).await.expect("shipped");
    let view = tracking_view(&w.ports, &w.order(&next).await).await.expect("the view");
    assert_eq!(view.eta, Some(w.now() + Duration::hours(30)));
    assert!(matches!(cancel_order(&w.ports, &id, "too late").await, Err(CancelError::NotCancellable(_))));
}

#[tokio::test]
async fn an_event_for_an_unknown_tracking_number_is_kept_and_applied_when_the_shipment_is_reported() {
    let w = World::new().await;
    let id = w.reserved("T-6", 2).await;
    w.event("EARLY1", "e-1", ShipmentStatus::OutForDelivery, start() + Duration::hours(1)).await;
    assert_eq!(w.order(&id).await.status, OrderStatus::Reserved);
    w.ship(&id, "EARLY1", 2).await.expect("shipped");
    let order = w.order(&id).await;
    assert_eq!(order.status, OrderStatus::InTransit, "the kept event was applied: out for delivery");
    let view = tracking_view(&w.ports, &order).await.expect("as expected");
    assert_eq!(view.shipments[0].shipment.status, ShipmentStatus::OutForDelivery);
    assert_eq!(view.shipments[0].events.len(), 1);
}

#[tokio::test]
async fn a_lost_parcel_raises_one_alert_and_makes_the_order_an_exception() {
    let w = World::new().await;
    let id = w.reserved("T-7", 2).await;
    w.ship(&id, "LOST1", 2).await.expect("shipped");
    w.event("LOST1", "e-1", ShipmentStatus::FailedAttempt, start() + Duration::hours(20)).await;
    assert_eq!(w.alerts(AlertKind::DeliveryFailed).await.len(), 1);
    assert_eq!(w.order(&id).await.status, OrderStatus::InTransit, "a failed attempt only alerts");
    w.event("LOST1", "e-2", ShipmentStatus::Lost, start() + Duration::hours(40)).await;
    w.event("LOST1", "e-2", ShipmentStatus::Lost, start() + Duration::hours(40)).await;
    let order = w.order(&id).await;
    assert_eq!(order.status, OrderStatus::Exception);
    assert_eq!(w.alerts(AlertKind::ShipmentLost).await.len(), 1);
    assert!(order.timeline.iter().any(|e| e.detail.contains("shipment_lost")), "the alert shows on the order");
}

#[tokio::test]
async fn the_sweeper_raises_one_no_scan_and_one_late_alert_per_parcel_however_often_it_runs() {
    let w = World::new().await;
    // Teach the lane 24 h, so the next parcel has an ETA.
    let taught = w.reserved("T-8", 1).await;
    w.ship(&taught, "TEACH", 1).await.expect("shipped");
    w.event("TEACH", "d", ShipmentStatus::Delivered, start() + Duration::hours(24)).await;
    let id = w.reserved("T-9", 1).await;
    w.ship(&id, "SLOW1", 1).await.expect("shipped");
    let report = sweep(&w.ports, &SweepLimits::default()).await.expect("swept");
    assert_eq!((report.tracking.no_scan, report.tracking.late), (0, 0), "fresh and on time");
    w.advance(30);
    let report = sweep(&w.ports, &SweepLimits::default()).await.expect("swept");
    assert_eq!((report.tracking.no_scan, report.tracking.late), (0, 1), "past its 24 h ETA");
    w.advance(20);
    let report = sweep(&w.ports, &SweepLimits::default()).await.expect("swept");
    assert_eq!((report.tracking.no_scan, report.tracking.late), (1, 0), "50 h without a scan; late was raised before");
    let report = sweep(&w.ports, &SweepLimits::default()).await.expect("swept");
    assert_eq!((report.tracking.no_scan, report.tracking.late), (0, 0), "one alert each, not one per sweep");
    assert_eq!(w.alerts(AlertKind::ShipmentLate).await.len(), 1);
    assert_eq!(w.alerts(AlertKind::ShipmentNoScan).await.len(), 1);
    let notes: Vec<String> =
        w.order(&id).await.timeline.into_iter().map(|e| e.detail).filter(|d| d.starts_with("alert")).collect();
    assert_eq!(notes.len(), 2, "both show on the order: {notes:?}");
}

#[tokio::test]
async fn after_a_first_shipment_the_address_is_fixed_and_a_cancel_releases_only_what_has_not_shipped() {
    let w = World::new().await;
    let id = w.reserved("T-10", 3).await;
    w.ship(&id, "PART1", 2).await.expect("shipped");
    let mut address: Address = w.order(&id).await.shipping_address;
    address.line1 = "9 Other Rd".into();
    let patch = OrderPatch { shipping_address: Some(address), ..OrderPatch::default() };
    assert!(matches!(modify_order(&w.ports, &id, patch).await, Err(ModifyError::NotModifiable { .. })));
    let cancelled = cancel_order(&w.ports, &id, "buyer changed their mind").await.expect("the rest is cancelled");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(w.level().await, (8, 0), "the unshipped unit went back; the shipped two stay gone");
}

#[tokio::test]
async fn the_sweeper_applies_an_event_whose_effects_a_crash_left_undone() {
    let w = World::new().await;
    let id = w.reserved("T-11", 1).await;
    w.ship(&id, "CRASH1", 1).await.expect("shipped");
    // The event was stored, then the process died before applying it.
    let event = TrackingEvent {
        event_id: TrackingEventId::parse("e-1").expect("an id"),
        tracking_number: TrackingNumber::parse("CRASH1").expect("a number"),
        carrier: CarrierId::parse("sf").expect("a carrier"),
        status: ShipmentStatus::Delivered,
        at: start() + Duration::hours(10),
        location: None,
        description: None,
        promised: None,
        received_at: start(),
    };
    let _ = w.ports.shipments.add_event(&event).await.expect("stored");
    assert_eq!(w.order(&id).await.status, OrderStatus::Shipped);
    w.advance(1);
    sweep(&w.ports, &SweepLimits::default()).await.expect("swept");
    assert_eq!(w.order(&id).await.status, OrderStatus::Delivered, "the sweep applied the stored event");
    let lane = oms_domain::shipment::Lane { origin: "Zhejiang".into(), destination: "Zhejiang".into() };
    let learned = w.ports.shipments.transit_hours(&CarrierId::parse("sf").expect("a carrier"), &lane, 10).await;
    assert_eq!(learned.expect("transit times"), vec![10], "and learned its transit time");
}

#[tokio::test]
async fn a_customers_orders_planned_together_merge_and_ship_in_one_parcel_that_moves_them_all() {
    let w = World::new().await;
    let first = w.reserved("MG-1", 2).await;
    let second = w.reserved("MG-2", 1).await;
    let stranger = w.reserved_for("MG-3", 1, "c-2").await;
    let merge = w.order(&second).await.allocation.and_then(|a| a.merge).expect("the second order joined the first's parcel");
    assert_eq!((merge.group.clone(), merge.with.clone()), (first.clone(), vec![first.clone()]));
    assert!(merge.saving > rust_decimal::Decimal::ZERO, "merged because it saves: {merge:?}");
    assert!(w.order(&second).await.timeline.iter().any(|e| e.detail.contains(&format!("one parcel with order {first}"))));
    assert!(w.order(&first).await.timeline.iter().any(|e| e.detail.contains(&format!("order {second} joins its parcel"))));
    assert_eq!(w.order(&stranger).await.allocation.and_then(|a| a.merge), None, "another customer's order ships alone");

    let line = |quantity, order_id: Option<&OrderId>| ShipLine {
        sku: sku("SKU-1"),
        quantity,
        warehouse: None,
        order_id: order_id.cloned(),
    };
    let parcel = |lines| ShipRequest {
        carrier: CarrierId::parse("sf").expect("a carrier"),
        tracking_number: TrackingNumber::parse("PARCEL-9").expect("a number"),
        lines,
    };
    // A line of an order outside the group refuses the whole parcel: nothing is stored.
    let outside = parcel(vec![line(2, None), line(1, Some(&stranger))]);
    assert!(matches!(record_shipment(&w.ports, &first, &outside).await, Err(ShipError::NotMerged { line: 1, .. })));
    // So does a part its order cannot ship, whichever part it is.
    let too_many = parcel(vec![line(2, None), line(5, Some(&second))]);
    assert!(matches!(record_shipment(&w.ports, &first, &too_many).await, Err(ShipError::MoreThanHeld { line: 1, .. })));
    assert_eq!(w.level().await, (10, 4), "nothing shipped");
    assert!(w.ports.shipments.shipments_with(&TrackingNumber::parse("PARCEL-9").unwrap()).await.unwrap().is_empty());

    let shipped = record_shipment(&w.ports, &first, &parcel(vec![line(2, None), line(1, Some(&second))])).await.expect("shipped");
    assert_eq!(shipped.order_status, OrderStatus::Shipped);
    assert_eq!(shipped.merged.len(), 1);
    assert_eq!((&shipped.merged[0].order_id, shipped.merged[0].order_status), (&second, OrderStatus::Shipped));
    assert_eq!(w.level().await, (7, 1), "both orders' units left; the stranger's unit is still held");
    let again = record_shipment(&w.ports, &first, &parcel(vec![line(2, None), line(1, Some(&second))])).await.expect("again");
    assert!(again.duplicate && again.merged[0].duplicate, "the same parcel again is the same shipments");
    assert_eq!(w.level().await, (7, 1));
    assert!(matches!(w.ship(&stranger, "PARCEL-9", 1).await, Err(ShipError::TrackingNumberTaken(_))));

    w.event("PARCEL-9", "d-1", ShipmentStatus::Delivered, start() + Duration::hours(30)).await;
    for id in [&first, &second] {
        assert_eq!(w.order(id).await.status, OrderStatus::Delivered, "the parcel's delivery moves every order in it");
    }
    assert_eq!(w.order(&stranger).await.status, OrderStatus::Reserved);
}
