//! Shipments and tracking: a warehouse reports a shipment (it consumes the units the order
//! holds), carriers post events (they move the shipment and the order, refresh the ETA
//! and raise alerts), and anyone allowed reads an order's tracking view.
//!
//! A shipment's write is one atomic write of the order, the shipment and the consumed
//! hold ([`HoldEffect::Ship`]). An event is stored first, idempotently, even for a tracking
//! number no shipment has yet; then the shipment is refreshed from all its events and the
//! order's status from all its shipments ([`apply_tracking`]). Every step reads what it
//! decides on afresh, so a repeated, reordered or early event ends in the same state, and
//! a crash between steps is healed by the next event of the parcel (or a repeat of this one).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::alert::{Alert, AlertKind};
use crate::order::{AllocatedLine, Order, OrderStatus, MAX_LINE_QUANTITY};
use crate::ports::{AddEventOutcome, Effects, HoldEffect, Ports, RaiseOutcome, ShipEffect, StoreError, UpdateOutcome};
use crate::reservation::Hold;
use crate::shipment::{
    median_transit, order_eta, order_status_from, shipped_units, Lane, Shipment, ShipmentStatus, ShippedLine, TrackingEvent,
    TransitSample,
};
use crate::usecases::{update_with_retry, Change, CONFLICT_RETRIES};
use crate::{CarrierId, OrderId, ShipmentId, Sku, TrackingNumber, ValidationError, WarehouseId};

/// How many of a lane's latest deliveries its ETA is learned from.
pub const LANE_SAMPLES: usize = 50;

/// One line of a reported shipment: units of a SKU, the warehouse they left from (needed
/// only when the order's hold has that SKU in several), and the order they are for when
/// it is another order of the reported one's merge group sharing the parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLine {
    pub sku: Sku,
    pub quantity: u32,
    pub warehouse: Option<WarehouseId>,
    /// `None`: the order the shipment is reported for.
    pub order_id: Option<OrderId>,
}

/// `POST /orders/{id}/shipments`, parsed.
/// Lines one shipment takes at most: its write is one atomic write (in DynamoDB one
/// transaction of at most 100 items: the order, the tracking marker, the shipment, the
/// hold and the shop's write-back notice, then two per line, its stock and its `ship`
/// ledger entry: 95 at most, beside a few of the order's index changes).
pub const MAX_SHIPMENT_LINES: usize = 45;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipRequest {
    pub carrier: CarrierId,
    pub tracking_number: TrackingNumber,
    pub lines: Vec<ShipLine>,
}

impl ShipRequest {
    /// Checks what needs no store: 1 to [`MAX_SHIPMENT_LINES`] lines, each of 1 to
    /// `MAX_LINE_QUANTITY` units.
    pub fn check(&self) -> Result<(), ValidationError> {
        if self.lines.is_empty() {
            return Err(ValidationError::new("lines", "give at least one line"));
        }
        if self.lines.len() > MAX_SHIPMENT_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("a parcel has at most {MAX_SHIPMENT_LINES} lines, not {}; report it as several", self.lines.len()),
            ));
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.quantity == 0 || line.quantity > MAX_LINE_QUANTITY {
                return Err(ValidationError::new(
                    format!("lines[{i}].quantity"),
                    format!("must be 1 to {MAX_LINE_QUANTITY}, not {}", line.quantity),
                ));
            }
        }
        Ok(())
    }
}

/// Why a shipment was refused; nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the order is {0}: only a reserved or partially shipped order ships")]
    NotReserved(OrderStatus),
    #[error("lines[{line}]: the order has no line of {sku}")]
    UnknownSku { line: usize, sku: Sku },
    #[error("lines[{line}]: the order holds {sku} in several warehouses ({}); name the warehouse", .warehouses.join(", "))]
    WarehouseNeeded { line: usize, sku: Sku, warehouses: Vec<String> },
    #[error("lines[{line}]: {asked} of {sku} asked to ship{}, but the order holds only {held} there", .warehouse.as_ref().map(|w| format!(" from {w}")).unwrap_or_default())]
    MoreThanHeld { line: usize, sku: Sku, warehouse: Option<WarehouseId>, asked: u32, held: u32 },
    #[error("tracking number {0} is another order's shipment")]
    TrackingNumberTaken(TrackingNumber),
    #[error("lines[{line}]: order {order} is not merged with this order, so it cannot share the parcel")]
    NotMerged { line: usize, order: OrderId },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl ShipError {
    /// The error with its line numbers those of the whole request, for an error about the
    /// lines of one order (`index[i]`: the request's line of that order's `i`th).
    fn renumbered(self, index: &[usize]) -> Self {
        let at = |line: usize| index.get(line).copied().unwrap_or(line);
        match self {
            ShipError::UnknownSku { line, sku } => ShipError::UnknownSku { line: at(line), sku },
            ShipError::WarehouseNeeded { line, sku, warehouses } => {
                ShipError::WarehouseNeeded { line: at(line), sku, warehouses }
            }
            ShipError::MoreThanHeld { line, sku, warehouse, asked, held } => {
                ShipError::MoreThanHeld { line: at(line), sku, warehouse, asked, held }
            }
            other => other,
        }
    }
}

/// What recording a shipment answered: for the order it was reported for, and for each
/// other order of its merge group whose lines the parcel carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub shipment_id: ShipmentId,
    /// The same tracking number was reported for this order before: its shipment.
    pub duplicate: bool,
    pub order_status: OrderStatus,
    /// The other orders the parcel carries lines of, each with its own shipment.
    pub merged: Vec<MergedPart>,
}

/// The part of a shared parcel that is another order's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPart {
    pub order_id: OrderId,
    pub shipment_id: ShipmentId,
    pub duplicate: bool,
    pub order_status: OrderStatus,
}

/// The request's lines per order: the reported order's first, then each other order in
/// the order the request names them, each line with its index in the request.
fn lines_per_order(order_id: &OrderId, lines: &[ShipLine]) -> Vec<(OrderId, Vec<usize>)> {
    let mut parts: Vec<(OrderId, Vec<usize>)> = vec![(order_id.clone(), Vec::new())];
    for (i, line) in lines.iter().enumerate() {
        let id = line.order_id.as_ref().unwrap_or(order_id);
        match parts.iter_mut().find(|(o, _)| o == id) {
            Some((_, index)) => index.push(i),
            None => parts.push((id.clone(), vec![i])),
        }
    }
    parts.retain(|(_, index)| !index.is_empty());
    parts
}

/// The units to take from the hold for the request: per requested line, from the held
/// stock of its SKU (in its warehouse when named), in the hold's order. Refuses a SKU the
/// order has no line of, an ambiguous warehouse, and more than is held.
pub fn units_to_take(order: &Order, hold: &Hold, lines: &[ShipLine]) -> Result<Vec<AllocatedLine>, ShipError> {
    let ordered = order.units_by_sku();
    // What is left of each held line as the request's lines take from it.
    let mut left: Vec<AllocatedLine> = hold.reservation.lines().to_vec();
    let mut taken: BTreeMap<(WarehouseId, crate::MerchantId, Sku), u32> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        if !ordered.contains_key(&line.sku) {
            return Err(ShipError::UnknownSku { line: i, sku: line.sku.clone() });
        }
        let of_sku: Vec<usize> = (0..left.len()).filter(|&j| left[j].sku == line.sku).collect();
        let candidates: Vec<usize> = match &line.warehouse {
            Some(w) => of_sku.iter().copied().filter(|&j| &left[j].warehouse == w).collect(),
            None => {
                let mut warehouses: Vec<String> = of_sku.iter().map(|&j| left[j].warehouse.to_string()).collect();
                warehouses.sort();
                warehouses.dedup();
                if warehouses.len() > 1 {
                    return Err(ShipError::WarehouseNeeded { line: i, sku: line.sku.clone(), warehouses });
                }
                of_sku
            }
        };
        let held: u32 = candidates.iter().map(|&j| left[j].quantity).sum();
        if held < line.quantity {
            return Err(ShipError::MoreThanHeld {
                line: i,
                sku: line.sku.clone(),
                warehouse: line.warehouse.clone(),
                asked: line.quantity,
                held,
            });
        }
        let mut need = line.quantity;
        for j in candidates {
            let take = need.min(left[j].quantity);
            if take == 0 {
                continue;
            }
            left[j].quantity -= take;
            need -= take;
            let stock = &left[j];
            *taken.entry((stock.warehouse.clone(), stock.owner.clone(), stock.sku.clone())).or_insert(0) += take;
        }
    }
    Ok(taken
        .into_iter()
        .map(|((warehouse, owner, sku), quantity)| AllocatedLine { warehouse, owner, sku, quantity, transfer_price: None })
        .collect())
}

/// The lane of a shipment from `warehouse` to the order's address, when both provinces are known.
async fn lane_of(ports: &Ports, order: &Order, warehouse: &WarehouseId) -> Result<Option<Lane>, StoreError> {
    let Some(destination) = order.shipping_address.province.clone() else { return Ok(None) };
    let origin = ports.warehouses.get_warehouse(warehouse).await?.map(|w| w.province);
    Ok(origin.map(|origin| Lane { origin, destination }))
}

/// The median transit time learned for the carrier on the lane, if any delivery taught one.
async fn learned_transit(
    ports: &Ports,
    carrier: &CarrierId,
    lane: Option<&Lane>,
) -> Result<Option<chrono::Duration>, StoreError> {
    let Some(lane) = lane else { return Ok(None) };
    Ok(median_transit(&ports.shipments.transit_hours(carrier, lane, LANE_SAMPLES).await?))
}

/// `POST /orders/{id}/shipments`: records the shipment, consumes the units it carries from
/// the order's hold and moves the order to `shipped` (or `partially_shipped` while units
/// remain), all in one atomic write. The same tracking number reported again for the same
/// order answers its first shipment. Events that arrived for the tracking number before
/// the shipment are applied now.
///
/// A parcel shared by the orders of a merge group names the other orders on their lines:
/// each order gets its own shipment under the one tracking number, written with that
/// order. Every part is checked before any is written (an order outside the group, a SKU
/// it lacks, more than it holds: nothing is stored); should a part still lose a race
/// after others were written, reporting the parcel again finishes it (the parts written
/// answer as duplicates).
pub async fn record_shipment(ports: &Ports, order_id: &OrderId, request: &ShipRequest) -> Result<Shipped, ShipError> {
    request.check()?;
    let parts: Vec<(OrderId, Vec<usize>, ShipRequest)> = lines_per_order(order_id, &request.lines)
        .into_iter()
        .map(|(id, index)| {
            let lines = index.iter().map(|&i| request.lines[i].clone()).collect();
            (id, index, ShipRequest { lines, ..request.clone() })
        })
        .collect();
    // A parcel of this order alone is checked by its one atomic write; a shared one part
    // by part before any is written.
    if parts.iter().any(|(id, ..)| id != order_id) {
        check_parts(ports, order_id, &request.tracking_number, &parts).await?;
    }
    let mut answers = Vec::with_capacity(parts.len());
    for (id, index, part) in &parts {
        answers.push(record_part(ports, id, part).await.map_err(|e| e.renumbered(index))?);
    }
    // Events kept for this tracking number before the shipment was reported (or a repeat
    // finishing what a crash stopped).
    if !ports.shipments.events_of(&request.tracking_number).await?.is_empty() {
        apply_tracking(ports, &request.tracking_number).await?;
    }
    let mut merged = Vec::with_capacity(answers.len());
    for ((id, ..), answer) in parts.iter().zip(answers) {
        let order_status = ports.orders.get_order(id).await?.map_or(answer.order_status, |o| o.status);
        merged.push(MergedPart {
            order_id: id.clone(),
            shipment_id: answer.shipment_id,
            duplicate: answer.duplicate,
            order_status,
        });
    }
    let mine = merged.remove(0);
    Ok(Shipped { shipment_id: mine.shipment_id, duplicate: mine.duplicate, order_status: mine.order_status, merged })
}

/// Checks every part of a shared parcel before any is written: each order is of the
/// reported order's merge group, the number is not another group's, and each order not
/// shipped under it yet is reserved and holds its part's units.
async fn check_parts(
    ports: &Ports,
    order_id: &OrderId,
    tracking: &TrackingNumber,
    parts: &[(OrderId, Vec<usize>, ShipRequest)],
) -> Result<(), ShipError> {
    let Some(order) = ports.orders.get_order(order_id).await? else { return Err(ShipError::NotFound(order_id.clone())) };
    let existing = ports.shipments.shipments_with(tracking).await?;
    duplicate_of(order_id, &existing, &order)?;
    for (other, index, part) in parts {
        let merged = if other == order_id { Some(order.clone()) } else { ports.orders.get_order(other).await? };
        let Some(merged) = merged.filter(|o| o.merge_group() == order.merge_group()) else {
            return Err(ShipError::NotMerged { line: index[0], order: other.clone() });
        };
        if existing.iter().any(|s| &s.order_id == other) {
            continue;
        }
        if !matches!(merged.status, OrderStatus::Reserved | OrderStatus::PartiallyShipped) {
            return Err(ShipError::NotReserved(merged.status));
        }
        let Some(hold) = ports.inventory.reservation(other).await? else { return Err(ShipError::NotReserved(merged.status)) };
        units_to_take(&merged, &hold, &part.lines).map_err(|e| e.renumbered(index))?;
    }
    Ok(())
}

/// Records one order's part of a parcel (all of it, for an order shipping alone).
async fn record_part(ports: &Ports, order_id: &OrderId, request: &ShipRequest) -> Result<Shipped, ShipError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            let existing = ports.shipments.shipments_with(&request.tracking_number).await?;
            if let Some(answer) = duplicate_of(order_id, &existing, &order)? {
                return Ok(Change::Keep(order, answer));
            }
            if !matches!(order.status, OrderStatus::Reserved | OrderStatus::PartiallyShipped) {
                return Err(ShipError::NotReserved(order.status));
            }
            let Some(hold) = ports.inventory.reservation(order_id).await? else {
                return Err(ShipError::NotReserved(order.status));
            };
            let taken = units_to_take(&order, &hold, &request.lines)?;
            let lines: Vec<ShippedLine> = taken
                .iter()
                .map(|l| ShippedLine {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    warehouse: l.warehouse.clone(),
                    owner: l.owner.clone(),
                })
                .collect();
            let lane = lane_of(ports, &order, &taken[0].warehouse).await?;
            let learned = learned_transit(ports, &request.carrier, lane.as_ref()).await?;
            let shipment =
                Shipment::new(&order, request.carrier.clone(), request.tracking_number.clone(), lines, lane, learned, now);
            let mut all = ports.shipments.shipments_of(order_id).await?;
            all.push(shipment.clone());
            let shipped = shipped_units(&all);
            let complete = order.units_by_sku().iter().all(|(sku, wanted)| shipped.get(sku).copied().unwrap_or(0) >= *wanted);
            let next = if complete { OrderStatus::Shipped } else { OrderStatus::PartiallyShipped };
            let shared = existing.iter().map(|s| s.order_id.to_string()).collect::<Vec<_>>();
            let mut detail = format!("shipment {} by {} ({})", shipment.shipment_id, shipment.carrier, shipment.tracking_number);
            if !shared.is_empty() {
                detail = format!("{detail}, in one parcel with order {}", shared.join(", "));
            }
            // Beside the carrier used, the one the plan chose for the warehouse.
            let planned = order
                .allocation
                .as_ref()
                .and_then(|a| crate::carrier_choice::planned_versus_used(&a.shipments, &taken[0].warehouse, &shipment.carrier));
            if let Some(planned) = planned {
                detail = format!("{detail}: {planned}");
            }
            if next == order.status {
                order.note(now, detail);
            } else {
                order.transition(next, now, detail).map_err(|_| ShipError::NotReserved(order.status))?;
            }
            let answer =
                Shipped { shipment_id: shipment.shipment_id.clone(), duplicate: false, order_status: next, merged: vec![] };
            let effect = ShipEffect { hold_id: hold.hold_id, taken, shipment };
            // The order's shop learns the parcel left, with the write.
            let send = crate::outbound::OutboundNotice::shipped(&order, &request.tracking_number);
            let effects = Effects { send, hold: HoldEffect::Ship(Box::new(effect)), sale: None };
            Ok::<_, ShipError>(Change::WriteWith(order, effects, answer))
        })
    })
    .await?
    .ok_or_else(|| ShipError::NotFound(order_id.clone()))?;
    if changed.written {
        tracing::info!(order_id = %order_id, shipment_id = %changed.value.shipment_id, "shipment recorded");
    }
    Ok(changed.value)
}

/// The answer to a tracking number reported before: this order's shipment when it has
/// one, a refusal when the number is another group's, else `None` (the order's part of a
/// parcel its group shares is still to write).
fn duplicate_of(order_id: &OrderId, existing: &[Shipment], order: &Order) -> Result<Option<Shipped>, ShipError> {
    if let Some(mine) = existing.iter().find(|s| &s.order_id == order_id) {
        let answer =
            Shipped { shipment_id: mine.shipment_id.clone(), duplicate: true, order_status: order.status, merged: vec![] };
        return Ok(Some(answer));
    }
    if let Some(other) = existing.iter().find(|s| s.group() != order.merge_group()) {
        return Err(ShipError::TrackingNumberTaken(other.tracking_number.clone()));
    }
    Ok(None)
}

/// What a carrier webhook did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsReceipt {
    /// Events stored now.
    pub accepted: usize,
    /// Events stored before (the same id for the same tracking number).
    pub duplicates: usize,
    /// Tracking numbers with no shipment (nor return parcel) yet: their events wait for it.
    pub unmatched: Vec<TrackingNumber>,
}

/// `POST /carriers/{carrier}/events`: stores each event once and applies each tracking
/// number's events to its shipment and order.
pub async fn receive_events(ports: &Ports, events: &[TrackingEvent]) -> Result<EventsReceipt, StoreError> {
    let mut receipt = EventsReceipt::default();
    let mut numbers: Vec<TrackingNumber> = Vec::new();
    for event in events {
        match ports.shipments.add_event(event).await? {
            AddEventOutcome::Added => receipt.accepted += 1,
            AddEventOutcome::Duplicate => receipt.duplicates += 1,
        }
        if !numbers.contains(&event.tracking_number) {
            numbers.push(event.tracking_number.clone());
        }
    }
    for number in numbers {
        if !apply_tracking(ports, &number).await?.is_empty() {
            continue;
        }
        // A buyer's parcel coming back: its `delivered` event receives the return.
        if ports.returns.return_by_tracking(&number).await?.is_some() {
            crate::usecases::returns::receive_on_delivery(ports, &number).await?;
            continue;
        }
        tracing::info!(tracking_number = %number, "carrier event kept for a tracking number with no shipment yet");
        receipt.unmatched.push(number);
    }
    Ok(receipt)
}

/// Refreshes every shipment of `tracking` (one, or one per order of a merge group sharing
/// the parcel) from all its events ([`apply_to_shipment`]). Empty when no shipment has
/// the tracking number.
pub async fn apply_tracking(ports: &Ports, tracking: &TrackingNumber) -> Result<Vec<Shipment>, StoreError> {
    let mut applied = Vec::new();
    for shipment in ports.shipments.shipments_with(tracking).await? {
        applied.push(apply_to_shipment(ports, shipment).await?);
    }
    Ok(applied)
}

/// Refreshes one shipment from all the events of its tracking number, records its transit
/// time when it is newly delivered, raises the alerts its events call for, and moves its
/// order's status as its shipments map it.
async fn apply_to_shipment(ports: &Ports, first: Shipment) -> Result<Shipment, StoreError> {
    let now = ports.clock.now();
    let tracking = first.tracking_number.clone();
    let order_id = first.order_id.clone();
    let mut read = Some(first);
    let mut refreshed = None;
    for _ in 0..CONFLICT_RETRIES {
        let mut shipment = match read.take() {
            Some(shipment) => shipment,
            None => {
                let all = ports.shipments.shipments_with(&tracking).await?;
                let Some(shipment) = all.into_iter().find(|s| s.order_id == order_id) else {
                    return Err(StoreError::msg(format!("shipment {tracking} of order {order_id} vanished")));
                };
                shipment
            }
        };
        let events = ports.shipments.events_of(&tracking).await?;
        let learned = learned_transit(ports, &shipment.carrier, shipment.lane.as_ref()).await?;
        let was_delivered = shipment.status == ShipmentStatus::Delivered;
        if !shipment.refresh(&events, learned) {
            refreshed = Some((shipment, events, false));
            break;
        }
        if let UpdateOutcome::Updated { version } = ports.shipments.update_shipment(&shipment).await? {
            shipment.version = version;
            let newly_delivered = !was_delivered && shipment.status == ShipmentStatus::Delivered;
            refreshed = Some((shipment, events, newly_delivered));
            break;
        }
    }
    let Some((shipment, events, newly_delivered)) = refreshed else {
        return Err(StoreError::msg(format!("shipment {tracking} kept changing: gave up after {CONFLICT_RETRIES} lost races")));
    };
    // Recorded again for a delivered parcel whose sample a crash may have lost (the same
    // shipment writes the same sample).
    if newly_delivered || shipment.status == ShipmentStatus::Delivered {
        if let Some(sample) = TransitSample::of(&shipment) {
            ports.shipments.record_transit(&sample).await?;
        }
    }
    for event in &events {
        if let Some(kind) = event.status.alert() {
            raise_for_shipment(ports, kind, &shipment, event_alert_message(kind, &shipment, event), now).await?;
        }
    }
    move_order(ports, &shipment.order_id, now).await?;
    Ok(shipment)
}

fn event_alert_message(kind: AlertKind, shipment: &Shipment, event: &TrackingEvent) -> String {
    let what = match kind {
        AlertKind::ShipmentReturned => "was returned to the sender",
        AlertKind::ShipmentLost => "is lost",
        _ => "could not be delivered",
    };
    let place = event.location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default();
    format!(
        "shipment {} of order {} ({} {}) {what}{place} on {}",
        shipment.shipment_id, shipment.order_id, shipment.carrier, shipment.tracking_number, event.at
    )
}

/// Raises one alert of `kind` for the shipment (once, however often it is found) and, when
/// it is new, notes it on the order's timeline. True if it was raised now.
async fn raise_for_shipment(
    ports: &Ports,
    kind: AlertKind,
    shipment: &Shipment,
    message: String,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let alert = Alert::about_shipment(kind, shipment, message.clone(), now);
    if let RaiseOutcome::AlreadyRaised(_) = ports.alerts.raise(&alert).await? {
        return Ok(false);
    }
    tracing::info!(order_id = %shipment.order_id, shipment_id = %shipment.shipment_id, kind = %kind, "shipment alert raised");
    update_with_retry(&*ports.orders, &shipment.order_id, |mut order| {
        let note = format!("alert {kind}: {message}");
        Box::pin(async move {
            order.note(now, note);
            Ok::<_, StoreError>(Change::Write(order, ()))
        })
    })
    .await?;
    Ok(true)
}

/// Moves the order to the status its shipments give it, if that is a move it may make.
async fn move_order(ports: &Ports, order_id: &OrderId, now: DateTime<Utc>) -> Result<(), StoreError> {
    update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            let shipments = ports.shipments.shipments_of(&order.order_id).await?;
            let Some(next) = order_status_from(&order, &shipments) else { return Ok(Change::Keep(order, ())) };
            if next == order.status || !order.status.can_become(next) {
                return Ok(Change::Keep(order, ()));
            }
            let detail = match next {
                OrderStatus::Delivered => "carrier: every shipment delivered".to_owned(),
                OrderStatus::Exception => "carrier: a shipment was returned or lost; staff to act".to_owned(),
                other => format!("carrier: {other}"),
            };
            order.transition(next, now, detail).map_err(|e| StoreError::msg(e.to_string()))?;
            Ok::<_, StoreError>(Change::Write(order, ()))
        })
    })
    .await?;
    Ok(())
}

/// One shipment as the tracking view shows it, with its events in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentView {
    pub shipment: Shipment,
    pub events: Vec<TrackingEvent>,
}

/// An order's tracking: its status, its ETA and each shipment's timeline. What
/// `GET /orders/{id}/tracking` answers, and what a customer-facing page can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingView {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub eta: Option<DateTime<Utc>>,
    pub shipments: Vec<ShipmentView>,
}

/// The tracking view of `order` (the caller has checked who may see it).
pub async fn tracking_view(ports: &Ports, order: &Order) -> Result<TrackingView, StoreError> {
    let shipments = ports.shipments.shipments_of(&order.order_id).await?;
    let eta = if order.status == OrderStatus::Delivered || !shipments.is_empty() { order_eta(&shipments) } else { None };
    let mut views = Vec::with_capacity(shipments.len());
    for shipment in shipments {
        let events = ports.shipments.events_of(&shipment.tracking_number).await?;
        views.push(ShipmentView { shipment, events });
    }
    Ok(TrackingView { order_id: order.order_id.clone(), status: order.status, eta, shipments: views })
}

/// How long the sweeper lets a parcel in transit go without a scan before it raises a
/// `shipment_no_scan` alert.
pub const DEFAULT_NO_SCAN_HOURS: i64 = 48;

/// What the tracking checks of one sweep found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrackingChecks {
    /// Shipments looked at.
    pub checked: usize,
    /// Alerts raised now (each one once per shipment, whatever the number of sweeps).
    pub no_scan: usize,
    pub late: usize,
}

/// The sweeper's tracking checks for one order: each parcel's events are applied again
/// (healing a crash between an event and its effects), then each parcel still on its way
/// raises `shipment_no_scan` when not heard of for `no_scan`, and `shipment_late` when
/// past its ETA; one alert each per shipment, noted on the order.
pub async fn check_order_shipments(
    ports: &Ports,
    order_id: &OrderId,
    no_scan: chrono::Duration,
    checks: &mut TrackingChecks,
) -> Result<(), StoreError> {
    let now = ports.clock.now();
    for shipment in ports.shipments.shipments_of(order_id).await? {
        // Heals what a crash after an event's store left undone (the shipment's state, the
        // order's status, the transit sample, an alert): all of it is refolded from the
        // stored events, and writes only what differs.
        let shipment = apply_to_shipment(ports, shipment).await?;
        if shipment.status.is_done() {
            continue;
        }
        checks.checked += 1;
        let heard = shipment.last_heard();
        if now - heard > no_scan {
            let message = format!(
                "shipment {} of order {} ({} {}) has had no carrier scan since {heard}",
                shipment.shipment_id, shipment.order_id, shipment.carrier, shipment.tracking_number
            );
            if raise_for_shipment(ports, AlertKind::ShipmentNoScan, &shipment, message, now).await? {
                checks.no_scan += 1;
            }
        }
        if let Some(eta) = shipment.eta.filter(|eta| now > *eta) {
            let promise = if shipment.promised.is_some() { "the carrier's promise" } else { "its ETA" };
            let message = format!(
                "shipment {} of order {} ({} {}) is past {promise} of {eta} and not delivered",
                shipment.shipment_id, shipment.order_id, shipment.carrier, shipment.tracking_number
            );
            if raise_for_shipment(ports, AlertKind::ShipmentLate, &shipment, message, now).await? {
                checks.late += 1;
            }
        }
    }
    Ok(())
}
