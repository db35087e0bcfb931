//! Shipments and their tracking: what a warehouse handed to a carrier, the carrier's events
//! on its timeline, the status those events give it, its ETA, and what the order's status
//! becomes from all of its shipments.
//!
//! A shipment's state is a fold over its events, ordered by the carrier's time (then event
//! id): the latest event by time gives the status, so an event that arrives late but
//! happened earlier is placed in the timeline and never moves the status back. Events are
//! stored first (idempotently, by tracking number and event id) and the shipment is
//! refreshed from all of them, so a repeated or reordered delivery always ends in the same
//! state.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::AlertKind;
use crate::order::{Order, OrderStatus};
use crate::{CarrierId, MerchantId, OrderId, ShipmentId, Sku, TrackingEventId, TrackingNumber, ValidationError, WarehouseId};

/// A shipment's own status, as its carrier reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    InTransit,
    OutForDelivery,
    Delivered,
    FailedAttempt,
    Returned,
    Lost,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 6] = [
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::FailedAttempt,
        ShipmentStatus::Returned,
        ShipmentStatus::Lost,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::OutForDelivery => "out_for_delivery",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::FailedAttempt => "failed_attempt",
            ShipmentStatus::Returned => "returned",
            ShipmentStatus::Lost => "lost",
        }
    }

    /// The status spelled `raw`, as `as_str` spells it.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            ValidationError::new(
                "status",
                format!("{raw:?} is not a shipment status: one of in_transit, out_for_delivery, delivered, failed_attempt, returned, lost"),
            )
        })
    }

    /// The parcel's journey is over: nothing more is expected of the carrier.
    pub fn is_done(self) -> bool {
        matches!(self, ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Lost)
    }

    /// The alert an event of this status raises for staff, if any.
    pub fn alert(self) -> Option<AlertKind> {
        match self {
            ShipmentStatus::FailedAttempt => Some(AlertKind::DeliveryFailed),
            ShipmentStatus::Returned => Some(AlertKind::ShipmentReturned),
            ShipmentStatus::Lost => Some(AlertKind::ShipmentLost),
            _ => None,
        }
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One carrier event, normalised from whichever format it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub event_id: TrackingEventId,
    pub tracking_number: TrackingNumber,
    /// The carrier (or tracking provider) that reported it.
    pub carrier: CarrierId,
    pub status: ShipmentStatus,
    /// When it happened, in the carrier's words.
    pub at: DateTime<Utc>,
    pub location: Option<String>,
    pub description: Option<String>,
    /// The delivery date the carrier promises with this event, if it gives one.
    pub promised: Option<DateTime<Utc>>,
    /// When we received it.
    pub received_at: DateTime<Utc>,
}

impl TrackingEvent {
    /// A stable id for a provider that gives its events none: the status and the time,
    /// which with the tracking number (the key events are stored under) name the scan.
    pub fn derived_id(status: ShipmentStatus, at: DateTime<Utc>) -> TrackingEventId {
        // Short and printable, so it always parses.
        TrackingEventId::parse(format!("{}@{}", status.as_str(), at.timestamp())).expect("a derived event id is a valid id")
    }
}

/// Sorts events by the carrier's time, then id: the order the timeline shows and the
/// status is folded in.
pub fn sort_events(events: &mut [TrackingEvent]) {
    events.sort_by(|a, b| (a.at, &a.event_id).cmp(&(b.at, &b.event_id)));
}

/// Units of one SKU a shipment carries, and the stock (warehouse, owner) they left from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedLine {
    pub sku: Sku,
    pub quantity: u32,
    pub warehouse: WarehouseId,
    /// Whose units they were.
    pub owner: MerchantId,
}

/// From where to where a parcel travels, by province: what transit times are learned per
/// (carrier, lane).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lane {
    /// The shipping warehouse's province.
    pub origin: String,
    /// The order's shipping address's province.
    pub destination: String,
}

/// One parcel handed to a carrier for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub shipment_id: ShipmentId,
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    /// The carrier actually used, as the warehouse reported it.
    pub carrier: CarrierId,
    pub tracking_number: TrackingNumber,
    pub lines: Vec<ShippedLine>,
    pub shipped_at: DateTime<Utc>,
    /// Where it travels, when both provinces are known.
    pub lane: Option<Lane>,
    pub status: ShipmentStatus,
    /// The carrier time of the latest event applied.
    pub last_event_at: Option<DateTime<Utc>>,
    /// The latest delivery date a carrier event promised.
    pub promised: Option<DateTime<Utc>>,
    /// When it is expected (see [`estimate_eta`]); for a delivered one, when it was delivered.
    pub eta: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// How many events were applied (the shipment changes only when this or the status does).
    pub events: u32,
    /// The merge group of its order, when the order was merged with others of its
    /// customer (`Order::merge_group`): their shipments may share the tracking number.
    /// Absent when the order ships alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_group: Option<OrderId>,
    /// Bumped by the store on every write; updates are conditional on it.
    pub version: u64,
}

impl Shipment {
    /// The merge group whose orders may share its tracking number: its order's group.
    pub fn group(&self) -> &OrderId {
        self.merge_group.as_ref().unwrap_or(&self.order_id)
    }

    /// A shipment handed over now, with no carrier event yet: in transit.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        order: &Order,
        carrier: CarrierId,
        tracking_number: TrackingNumber,
        lines: Vec<ShippedLine>,
        lane: Option<Lane>,
        learned: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut shipment = Shipment {
            shipment_id: ShipmentId::generate(),
            order_id: order.order_id.clone(),
            merchant_id: order.merchant_id.clone(),
            carrier,
            tracking_number,
            lines,
            shipped_at: now,
            lane,
            status: ShipmentStatus::InTransit,
            last_event_at: None,
            promised: None,
            eta: None,
            delivered_at: None,
            events: 0,
            merge_group: (order.merge_group() != &order.order_id).then(|| order.merge_group().clone()),
            version: 0,
        };
        shipment.refresh(&[], learned);
        shipment
    }

    /// Recomputes the status, promise, delivery and ETA from every event of the tracking
    /// number (in any order) and the lane's learned transit time; true if anything changed.
    /// The status is the latest event's by the carrier's time, so an older event that
    /// arrives late never moves it back.
    pub fn refresh(&mut self, events: &[TrackingEvent], learned: Option<Duration>) -> bool {
        let before = self.clone();
        let mut sorted = events.to_vec();
        sort_events(&mut sorted);
        let latest = sorted.last();
        self.status = latest.map_or(ShipmentStatus::InTransit, |e| e.status);
        self.last_event_at = latest.map(|e| e.at);
        self.promised = sorted.iter().rev().find_map(|e| e.promised);
        self.delivered_at = (self.status == ShipmentStatus::Delivered).then(|| latest.map(|e| e.at)).flatten();
        self.events = u32::try_from(sorted.len()).unwrap_or(u32::MAX);
        self.eta = estimate_eta(self, learned);
        *self != before
    }

    /// Units per SKU this shipment carries.
    pub fn units_by_sku(&self) -> BTreeMap<Sku, u32> {
        let mut units = BTreeMap::new();
        for line in &self.lines {
            *units.entry(line.sku.clone()).or_insert(0) += line.quantity;
        }
        units
    }

    /// The last time the carrier was heard of for it: its latest scan, or its hand-over.
    pub fn last_heard(&self) -> DateTime<Utc> {
        self.last_event_at.map_or(self.shipped_at, |at| at.max(self.shipped_at))
    }
}

/// How long before the promised or learned time a parcel out for delivery is expected at
/// the latest: it is on the van.
pub const OUT_FOR_DELIVERY_WITHIN: Duration = Duration::hours(12);

/// A shipment's ETA: delivered, when it was; returned or lost, none; otherwise the
/// carrier's latest promise, else the hand-over plus the median transit time learned for
/// its carrier and lane. The last scan corrects it: out for delivery, it is expected
/// within [`OUT_FOR_DELIVERY_WITHIN`] of that scan (never later than the estimate).
pub fn estimate_eta(shipment: &Shipment, learned: Option<Duration>) -> Option<DateTime<Utc>> {
    match shipment.status {
        ShipmentStatus::Delivered => return shipment.delivered_at,
        ShipmentStatus::Returned | ShipmentStatus::Lost => return None,
        _ => {}
    }
    let base = shipment.promised.or_else(|| learned.map(|transit| shipment.shipped_at + transit));
    match (shipment.status, shipment.last_event_at) {
        (ShipmentStatus::OutForDelivery, Some(scan)) => {
            let on_the_van = scan + OUT_FOR_DELIVERY_WITHIN;
            Some(base.map_or(on_the_van, |eta| eta.min(on_the_van)))
        }
        _ => base,
    }
}

/// The median of transit times in hours (the lower middle of an even count), as a duration.
pub fn median_transit(hours: &[u32]) -> Option<Duration> {
    if hours.is_empty() {
        return None;
    }
    let mut sorted = hours.to_vec();
    sorted.sort_unstable();
    Some(Duration::hours(i64::from(sorted[(sorted.len() - 1) / 2])))
}

/// One delivered shipment's transit time on its lane: what ETAs are learned from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitSample {
    pub carrier: CarrierId,
    pub lane: Lane,
    pub shipment_id: ShipmentId,
    pub delivered_at: DateTime<Utc>,
    /// Hand-over to delivery, whole hours (at least 1).
    pub hours: u32,
}

impl TransitSample {
    /// The sample of a delivered shipment with a known lane.
    pub fn of(shipment: &Shipment) -> Option<Self> {
        let delivered_at = shipment.delivered_at?;
        let lane = shipment.lane.clone()?;
        let hours = (delivered_at - shipment.shipped_at).num_hours().max(1);
        Some(TransitSample {
            carrier: shipment.carrier.clone(),
            lane,
            shipment_id: shipment.shipment_id.clone(),
            delivered_at,
            hours: u32::try_from(hours).unwrap_or(u32::MAX),
        })
    }
}

/// Units per SKU the shipments carry together.
pub fn shipped_units(shipments: &[Shipment]) -> BTreeMap<Sku, u32> {
    let mut units = BTreeMap::new();
    for shipment in shipments {
        for (sku, quantity) in shipment.units_by_sku() {
            *units.entry(sku).or_insert(0) += quantity;
        }
    }
    units
}

/// True when the shipments carry every unit of the order's lines.
pub fn covers_all_lines(order: &Order, shipments: &[Shipment]) -> bool {
    let shipped = shipped_units(shipments);
    order.units_by_sku().iter().all(|(sku, wanted)| shipped.get(sku).copied().unwrap_or(0) >= *wanted)
}

/// The order status its shipments give it (DESIGN.md's mapping): a returned or lost parcel
/// makes it `exception`; with units not shipped yet it is `partially_shipped`; with all
/// shipped, `delivered` when every shipment is, `in_transit` once any carrier event moved a
/// parcel on (out for delivery included), else `shipped`. An order in `exception` stays
/// there until staff act; a final order never moves. `None` when there are no shipments.
pub fn order_status_from(order: &Order, shipments: &[Shipment]) -> Option<OrderStatus> {
    if shipments.is_empty() || order.status.is_final() || order.status == OrderStatus::Exception {
        return None;
    }
    if shipments.iter().any(|s| matches!(s.status, ShipmentStatus::Returned | ShipmentStatus::Lost)) {
        return Some(OrderStatus::Exception);
    }
    if !covers_all_lines(order, shipments) {
        return Some(OrderStatus::PartiallyShipped);
    }
    if shipments.iter().all(|s| s.status == ShipmentStatus::Delivered) {
        return Some(OrderStatus::Delivered);
    }
    if shipments.iter().any(|s| s.events > 0) {
        return Some(OrderStatus::InTransit);
    }
    Some(OrderStatus::Shipped)
}

/// The order's ETA: the latest of its parcels' that are still on their way (or, when all
/// arrived, the last delivery); `None` when one on its way has no ETA.
pub fn order_eta(shipments: &[Shipment]) -> Option<DateTime<Utc>> {
    let moving: Vec<&Shipment> = shipments.iter().filter(|s| !s.status.is_done()).collect();
    if moving.is_empty() {
        return shipments.iter().filter_map(|s| s.delivered_at).max();
    }
    moving.iter().map(|s| s.eta).collect::<Option<Vec<_>>>()?.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;

    fn at(hour: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap().with_timezone(&Utc) + Duration::hours(hour)
    }

    fn order() -> Order {
        Order::receive(sample_new_order("SKU-1", 2), OrderId::parse("ord_1").unwrap(), at(0))
    }

    fn shipment(quantity: u32) -> Shipment {
        let line = ShippedLine {
            sku: Sku::parse("SKU-1").unwrap(),
            quantity,
            warehouse: WarehouseId::parse("wh-1").unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
        };
        let lane = Lane { origin: "Zhejiang".into(), destination: "Beijing".into() };
        Shipment::new(
            &order(),
            CarrierId::parse("sf").unwrap(),
            TrackingNumber::parse("SF1").unwrap(),
            vec![line],
            Some(lane),
            Some(Duration::hours(48)),
            at(1),
        )
    }

    fn event(status: ShipmentStatus, hour: i64) -> TrackingEvent {
        TrackingEvent {
            event_id: TrackingEvent::derived_id(status, at(hour)),
            tracking_number: TrackingNumber::parse("SF1").unwrap(),
            carrier: CarrierId::parse("sf").unwrap(),
            status,
            at: at(hour),
            location: None,
            description: None,
            promised: None,
            received_at: at(hour),
        }
    }

    #[test]
    fn an_older_event_arriving_late_never_moves_the_status_back() {
        let mut s = shipment(2);
        let delivered = event(ShipmentStatus::Delivered, 30);
        let earlier = event(ShipmentStatus::OutForDelivery, 20);
        assert!(s.refresh(std::slice::from_ref(&delivered), None));
        assert_eq!(s.status, ShipmentStatus::Delivered);
        s.refresh(&[delivered, earlier], None);
        assert_eq!(s.status, ShipmentStatus::Delivered);
        assert_eq!((s.delivered_at, s.events), (Some(at(30)), 2));
    }

    #[test]
    fn the_eta_is_the_promise_else_the_learned_transit_corrected_by_out_for_delivery() {
        let mut s = shipment(2);
        assert_eq!(s.eta, Some(at(49)), "hand-over plus the learned 48 h");
        let mut promised = event(ShipmentStatus::InTransit, 5);
        promised.promised = Some(at(72));
        s.refresh(&[promised.clone()], Some(Duration::hours(48)));
        assert_eq!(s.eta, Some(at(72)), "the carrier's promise wins");
        s.refresh(&[promised, event(ShipmentStatus::OutForDelivery, 30)], Some(Duration::hours(48)));
        assert_eq!(s.eta, Some(at(42)), "on the van: within 12 h of the scan");
        s.refresh(&[], None);
        assert_eq!(s.eta, None, "nothing promised and nothing learned: no ETA");
    }

    #[test]
    fn the_median_transit_is_the_middle_sample() {
        assert_eq!(median_transit(&[]), None);
        assert_eq!(median_transit(&[50, 10, 30]), Some(Duration::hours(30)));
        assert_eq!(median_transit(&[40, 10, 30, 20]), Some(Duration::hours(20)));
    }

    #[test]
    fn the_order_status_follows_its_shipments_as_the_contract_maps_it() {
        let mut o = order();
        o.status = OrderStatus::Shipped;
        let half = shipment(1);
        assert_eq!(order_status_from(&o, std::slice::from_ref(&half)), Some(OrderStatus::PartiallyShipped));
        let mut all = shipment(2);
        assert_eq!(order_status_from(&o, std::slice::from_ref(&all)), Some(OrderStatus::Shipped));
        all.refresh(&[event(ShipmentStatus::OutForDelivery, 3)], None);
        assert_eq!(order_status_from(&o, std::slice::from_ref(&all)), Some(OrderStatus::InTransit));
        let mut second = shipment(1);
        second.refresh(&[event(ShipmentStatus::Delivered, 3)], None);
        let mut first = shipment(1);
        first.refresh(&[event(ShipmentStatus::InTransit, 3)], None);
        assert_eq!(order_status_from(&o, &[first.clone(), second.clone()]), Some(OrderStatus::InTransit));
        first.refresh(&[event(ShipmentStatus::Delivered, 4)], None);
        assert_eq!(order_status_from(&o, &[first.clone(), second.clone()]), Some(OrderStatus::Delivered));
        first.refresh(&[event(ShipmentStatus::Lost, 5)], None);
        assert_eq!(order_status_from(&o, &[first, second]), Some(OrderStatus::Exception));
    }

    #[test]
    fn derived_event_ids_are_stable() {
        assert_eq!(
            TrackingEvent::derived_id(ShipmentStatus::Delivered, at(1)),
            TrackingEvent::derived_id(ShipmentStatus::Delivered, at(1))
        );
        assert_ne!(
            TrackingEvent::derived_id(ShipmentStatus::Delivered, at(1)),
            TrackingEvent::derived_id(ShipmentStatus::InTransit, at(1))
        );
    }
}
