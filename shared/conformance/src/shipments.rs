//! `ShipmentStore`, and a shipment's write with its order (`HoldEffect::Ship`): the units
//! it carries leave the hold and the stock (on hand and reserved both drop) in the order's
//! own atomic write, never twice and never below zero.

use chrono::Duration;
use oms_domain::ledger::LedgerKind;
use oms_domain::order::{AllocatedLine, Channel, OrderStatus};
use oms_domain::ports::{AddEventOutcome, Effects, HoldEffect, InsertOutcome, ShipEffect, UpdateOutcome};
use oms_domain::reservation::HoldId;
use oms_domain::shipment::{Lane, Shipment, ShipmentStatus, ShippedLine, TrackingEvent, TransitSample};
use oms_domain::{CarrierId, Order, ShipmentId, TrackingNumber};

use crate::fixtures::{hold, line, merchant, noon, order, reserved, sku, stored, warehouse_id};
use crate::Subject;

/// (on hand, reserved) of SKU-1 in WH-A.
async fn counts(s: &Subject) -> (u32, u32) {
    let levels = s.inventory.stock_of(&sku("SKU-1")).await.expect("stock_of failed");
    levels.iter().find(|l| l.warehouse == warehouse_id("WH-A")).map_or((0, 0), |l| (l.on_hand, l.reserved))
}

/// An order holding 3 units of SKU-1 in WH-A (of 10 on hand), and its hold.
async fn held_order(s: &Subject, external_id: &str) -> (Order, HoldId) {
    assert!(s.inventory.set_on_hand(&warehouse_id("WH-A"), &merchant("m-1"), &sku("SKU-1"), 10).await.is_ok());
    let placed = order(Channel::Generic, external_id);
    assert_eq!(s.orders.insert_order(&placed).await.expect("insert_order failed"), InsertOutcome::Inserted);
    let hold_id =
        reserved(s.inventory.reserve(&placed.order_id, &hold([line("WH-A", "SKU-1", 3)])).await.expect("reserve failed"));
    (stored(&placed), hold_id)
}

/// The one shipment of a list.
fn only(mut shipments: Vec<Shipment>) -> Shipment {
    assert_eq!(shipments.len(), 1, "one shipment: {shipments:?}");
    shipments.remove(0)
}

fn tracking(raw: &str) -> TrackingNumber {
    TrackingNumber::parse(raw).expect("a valid tracking number")
}

fn shipment_of(order: &Order, number: &str, quantity: u32) -> Shipment {
    let lines = vec![ShippedLine { sku: sku("SKU-1"), quantity, warehouse: warehouse_id("WH-A"), owner: merchant("m-1") }];
    let lane = Lane { origin: "Zhejiang".into(), destination: "Beijing".into() };
    Shipment::new(order, CarrierId::parse("sf").expect("a carrier"), tracking(number), lines, Some(lane), None, noon())
}

/// The write of `order` (moved to `status`) shipping `quantity` units under `number`.
fn shipping(order: &Order, hold_id: &HoldId, number: &str, quantity: u32, status: OrderStatus) -> (Order, Effects, Shipment) {
    let mut moved = order.clone();
    moved.status = status;
    let shipment = shipment_of(order, number, quantity);
    let taken: Vec<AllocatedLine> = vec![line("WH-A", "SKU-1", quantity)];
    let effect = ShipEffect { hold_id: hold_id.clone(), taken, shipment: shipment.clone() };
    (moved, Effects { send: vec![], hold: HoldEffect::Ship(Box::new(effect)), sale: None }, shipment)
}

pub async fn a_shipment_consumes_exactly_its_units_from_the_hold_and_the_stock(s: Subject) {
    let (order, hold_id) = held_order(&s, "S-1").await;
    assert_eq!(counts(&s).await, (10, 3));
    let (moved, effects, shipment) = shipping(&order, &hold_id, "SF1", 2, OrderStatus::PartiallyShipped);
    let outcome = s.orders.update_order_with(&moved, &effects).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: 2 });
    assert_eq!(counts(&s).await, (8, 1), "on hand and reserved both drop by the units shipped");
    let left = s.inventory.reservation(&order.order_id).await.expect("reservation failed").expect("a unit is still held");
    assert_eq!((left.hold_id, left.reservation.lines().to_vec()), (hold_id, vec![line("WH-A", "SKU-1", 1)]));
    let read = only(s.shipments.shipments_with(&tracking("SF1")).await.expect("shipments_with failed"));
    assert_eq!(read, Shipment { version: 1, ..shipment.clone() });
    assert_eq!(s.shipments.shipments_of(&order.order_id).await.expect("shipments_of failed"), vec![read]);
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("the order");
    assert_eq!(read.status, OrderStatus::PartiallyShipped);
    let ledger: Vec<_> =
        crate::ledger::entries(&s, "SKU-1").await.into_iter().map(|e| (e.kind, e.delta_on_hand, e.delta_held)).collect();
    assert_eq!(
        ledger,
        vec![(LedgerKind::Recount, 10, 0), (LedgerKind::Reserve, 0, 3), (LedgerKind::Ship, -2, -2)],
        "the shipment appends its ship entry in the same write"
    );
    crate::ledger::assert_no_drift(&s).await;
}

pub async fn the_last_units_shipped_leave_no_hold_and_a_release_holds_nothing(s: Subject) {
    let (order, hold_id) = held_order(&s, "S-2").await;
    let (moved, effects, _) = shipping(&order, &hold_id, "SF2", 3, OrderStatus::Shipped);
    assert_eq!(s.orders.update_order_with(&moved, &effects).await.expect("update failed"), UpdateOutcome::Updated { version: 2 });
    assert_eq!(counts(&s).await, (7, 0));
    assert_eq!(s.inventory.reservation(&order.order_id).await.expect("reservation failed"), None);
    let released = s.inventory.release(&order.order_id, &hold_id).await.expect("release failed");
    assert_eq!(released, oms_domain::ports::ReleaseOutcome::NothingHeld);
    assert_eq!(counts(&s).await, (7, 0), "nothing shipped comes back");
}

pub async fn a_shipment_write_whose_tracking_number_is_taken_writes_nothing(s: Subject) {
    let (order, hold_id) = held_order(&s, "S-3").await;
    let (moved, effects, _) = shipping(&order, &hold_id, "SF3", 1, OrderStatus::PartiallyShipped);
    assert!(matches!(s.orders.update_order_with(&moved, &effects).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    let now = Order { version: 2, ..moved };
    let (again, effects, _) = shipping(&now, &hold_id, "SF3", 1, OrderStatus::PartiallyShipped);
    let outcome = s.orders.update_order_with(&again, &effects).await.expect("update failed");
    assert_eq!(outcome, UpdateOutcome::VersionConflict);
    assert_eq!(counts(&s).await, (9, 2), "the second write took nothing");
    assert_eq!(s.shipments.shipments_of(&order.order_id).await.expect("shipments_of failed").len(), 1);
    let (more, effects, _) = shipping(&now, &hold_id, "SF4", 3, OrderStatus::Shipped);
    assert_eq!(
        s.orders.update_order_with(&more, &effects).await.expect("update failed"),
        UpdateOutcome::VersionConflict,
        "more than the hold has left writes nothing"
    );
    assert_eq!(counts(&s).await, (9, 2));
    assert_eq!(s.shipments.shipments_with(&tracking("SF4")).await.expect("shipments_with failed"), vec![]);
}

pub async fn concurrent_shipments_of_the_same_held_units_ship_them_once_and_never_go_negative(s: Subject) {
    let (order, hold_id) = held_order(&s, "S-4").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (moved, effects, _) = shipping(&order, &hold_id, &format!("RACE-{i}"), 3, OrderStatus::Shipped);
        let orders = s.orders.clone();
        tasks.push(tokio::spawn(async move { orders.update_order_with(&moved, &effects).await }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("the task ran").expect("update failed") {
            UpdateOutcome::Updated { .. } => won += 1,
            UpdateOutcome::VersionConflict => {}
        }
    }
    assert_eq!(won, 1, "the held units ship once");
    assert_eq!(counts(&s).await, (7, 0));
    assert_eq!(s.shipments.shipments_of(&order.order_id).await.expect("shipments_of failed").len(), 1);
    let shipped = crate::ledger::entries(&s, "SKU-1").await.into_iter().filter(|e| e.kind == LedgerKind::Ship).count();
    assert_eq!(shipped, 1, "one ship entry, from the one write that won");
    crate::ledger::assert_no_drift(&s).await;
}

fn event(number: &str, id: &str, status: ShipmentStatus, hours: i64) -> TrackingEvent {
    TrackingEvent {
        event_id: oms_domain::TrackingEventId::parse(id).expect("an event id"),
        tracking_number: tracking(number),
        carrier: CarrierId::parse("sf").expect("a carrier"),
        status,
        at: noon() + Duration::hours(hours),
        location: Some("Hangzhou".into()),
        description: None,
        promised: Some(noon() + Duration::hours(48)),
        received_at: noon(),
    }
}

pub async fn a_carrier_event_is_stored_once_and_events_read_back_by_time(s: Subject) {
    let late = event("EV1", "e-2", ShipmentStatus::Delivered, 30);
    let early = event("EV1", "e-1", ShipmentStatus::InTransit, 2);
    assert_eq!(s.shipments.add_event(&late).await.expect("add_event failed"), AddEventOutcome::Added);
    assert_eq!(s.shipments.add_event(&early).await.expect("add_event failed"), AddEventOutcome::Added);
    let changed = TrackingEvent { description: Some("again".into()), ..late.clone() };
    assert_eq!(s.shipments.add_event(&changed).await.expect("add_event failed"), AddEventOutcome::Duplicate);
    assert_eq!(s.shipments.events_of(&tracking("EV1")).await.expect("events_of failed"), vec![early, late]);
    assert!(s.shipments.events_of(&tracking("EV2")).await.expect("events_of failed").is_empty());
    assert_eq!(
        s.shipments.shipments_with(&tracking("EV1")).await.expect("shipments_with failed"),
        vec![],
        "kept with no shipment"
    );
}

pub async fn a_shipment_update_is_conditional_on_its_version(s: Subject) {
    let (order, hold_id) = held_order(&s, "S-5").await;
    let (moved, effects, _) = shipping(&order, &hold_id, "SF5", 3, OrderStatus::Shipped);
    assert!(matches!(s.orders.update_order_with(&moved, &effects).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    let mut read = only(s.shipments.shipments_with(&tracking("SF5")).await.expect("shipments_with failed"));
    read.refresh(&[event("SF5", "e-1", ShipmentStatus::OutForDelivery, 5)], None);
    assert_eq!(s.shipments.update_shipment(&read).await.expect("update failed"), UpdateOutcome::Updated { version: 2 });
    assert_eq!(s.shipments.update_shipment(&read).await.expect("update failed"), UpdateOutcome::VersionConflict);
    let now = only(s.shipments.shipments_with(&tracking("SF5")).await.expect("shipments_with failed"));
    assert_eq!(now, Shipment { version: 2, ..read });
    assert_eq!(now.status, ShipmentStatus::OutForDelivery);
}

pub async fn transit_times_are_kept_per_carrier_and_lane_newest_first_once_per_shipment(s: Subject) {
    let carrier = CarrierId::parse("sf").expect("a carrier");
    let lane = Lane { origin: "Zhejiang".into(), destination: "Beijing".into() };
    let other = Lane { origin: "Zhejiang".into(), destination: "Sichuan".into() };
    for (i, hours) in [30u32, 50, 40].into_iter().enumerate() {
        let sample = TransitSample {
            carrier: carrier.clone(),
            lane: lane.clone(),
            shipment_id: ShipmentId::parse(format!("shp_{i}")).expect("an id"),
            delivered_at: noon() + Duration::hours(i64::try_from(i).expect("small")),
            hours,
        };
        s.shipments.record_transit(&sample).await.expect("record_transit failed");
        s.shipments.record_transit(&sample).await.expect("record_transit failed");
    }
    assert_eq!(s.shipments.transit_hours(&carrier, &lane, 10).await.expect("transit_hours failed"), vec![40, 50, 30]);
    assert_eq!(s.shipments.transit_hours(&carrier, &lane, 2).await.expect("transit_hours failed"), vec![40, 50]);
    assert!(s.shipments.transit_hours(&carrier, &other, 10).await.expect("transit_hours failed").is_empty());
    let zto = CarrierId::parse("zto").expect("a carrier");
    assert!(s.shipments.transit_hours(&zto, &lane, 10).await.expect("transit_hours failed").is_empty());
}

/// `order` as merged into the group of `first` when planned.
fn merged_into(order: &Order, first: &Order) -> Order {
    let mut merged = order.clone();
    let allocation = merged.allocation.get_or_insert_with(|| oms_domain::order::Allocation {
        lines: vec![line("WH-A", "SKU-1", 3)],
        explanation: "WH-A".into(),
        costing: None,
        planned_at: noon(),
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
    allocation.merge = Some(oms_domain::allocation::merge::Merge {
        group: first.order_id.clone(),
        with: vec![first.order_id.clone()],
        warehouses: vec![warehouse_id("WH-A")],
        saving: rust_decimal::Decimal::ONE,
    });
    merged
}

pub async fn orders_of_one_merge_group_share_a_tracking_number_and_no_other_order_may(s: Subject) {
    let (first, first_hold) = held_order(&s, "M-1").await;
    let (second, second_hold) = held_order(&s, "M-2").await;
    let (stranger, stranger_hold) = held_order(&s, "M-3").await;
    // The second was merged into the first's group when planned (stored so).
    let second = merged_into(&second, &first);
    assert!(matches!(s.orders.update_order(&second).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    let second = Order { version: second.version + 1, ..second };

    let (moved, effects, first_part) = shipping(&first, &first_hold, "PARCEL-1", 3, OrderStatus::Shipped);
    assert!(matches!(s.orders.update_order_with(&moved, &effects).await.expect("update failed"), UpdateOutcome::Updated { .. }));
    let (moved, effects, second_part) = shipping(&second, &second_hold, "PARCEL-1", 3, OrderStatus::Shipped);
    assert_eq!(second_part.group(), &first.order_id, "the shipment carries its order's group");
    assert!(
        matches!(s.orders.update_order_with(&moved, &effects).await.expect("update failed"), UpdateOutcome::Updated { .. }),
        "an order of the group adds its part of the parcel"
    );
    let (moved, effects, _) = shipping(&stranger, &stranger_hold, "PARCEL-1", 3, OrderStatus::Shipped);
    assert_eq!(
        s.orders.update_order_with(&moved, &effects).await.expect("update failed"),
        UpdateOutcome::VersionConflict,
        "an order of another group never shares the number"
    );
    let second_now = Order { version: second.version + 1, ..second.clone() };
    let (again, effects, _) = shipping(&second_now, &second_hold, "PARCEL-1", 1, OrderStatus::Shipped);
    assert_eq!(
        s.orders.update_order_with(&again, &effects).await.expect("update failed"),
        UpdateOutcome::VersionConflict,
        "an order has one shipment under a number"
    );
    let mut expected = vec![Shipment { version: 1, ..first_part }, Shipment { version: 1, ..second_part }];
    expected.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    assert_eq!(s.shipments.shipments_with(&tracking("PARCEL-1")).await.expect("shipments_with failed"), expected);
    assert_eq!(counts(&s).await, (4, 3), "two orders' units shipped, the stranger's still held");
    assert!(s.shipments.shipments_of(&stranger.order_id).await.expect("shipments_of failed").is_empty());
    // Each part updates on its own version.
    let mut part = s.shipments.shipments_of(&second.order_id).await.expect("shipments_of failed").remove(0);
    part.refresh(&[event("PARCEL-1", "e-1", ShipmentStatus::OutForDelivery, 5)], None);
    assert_eq!(s.shipments.update_shipment(&part).await.expect("update failed"), UpdateOutcome::Updated { version: 2 });
    let read = s.shipments.shipments_with(&tracking("PARCEL-1")).await.expect("shipments_with failed");
    let statuses: Vec<_> = read.iter().map(|p| (p.order_id.clone(), p.status)).collect();
    let mut want =
        vec![(first.order_id.clone(), ShipmentStatus::InTransit), (second.order_id.clone(), ShipmentStatus::OutForDelivery)];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(statuses, want);
    crate::ledger::assert_no_drift(&s).await;
}
