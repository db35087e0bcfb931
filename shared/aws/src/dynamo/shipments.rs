//! `ShipmentStore` on DynamoDB (`docs/dynamodb.md`, "Shipments and tracking"):
//!
//! - a shipment: `ORDER#<order id>` / `SHIPMENT#<tracking number>`, in its order's partition
//!   so one `Query` lists an order's shipments; its tracking number's marker
//!   `TRACKING#<tracking number>` / `SHIPMENT` (`order_ids`, `merge_group`) keeps the number
//!   to the orders of one merge group and finds their shipments from an event;
//! - a carrier event: `TRACKING#<tracking number>` / `EVENT#<event id>`, put on
//!   `attribute_not_exists(pk)`, whether or not the shipment exists yet;
//! - a transit sample: `LANE#<carrier>#<origin>#<destination>` / `<delivered at>#<shipment id>`.
//!
//! A shipment is written in its order's transaction (`update_order_with` with
//! `HoldEffect::Ship`): the marker, the shipment, the hold's shrunk lines and each consumed
//! stock item, see [`DynamoStore::ship_items`].

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use oms_domain::ledger::LedgerLine;
use oms_domain::order::AllocatedLine;
use oms_domain::ports::{AddEventOutcome, ShipEffect, ShipmentStore, StoreError, UpdateOutcome};
use oms_domain::shipment::{sort_events, Lane, Shipment, TrackingEvent, TransitSample};
use oms_domain::{CarrierId, OrderId, TrackingNumber};

use super::items::StoredLine;
use super::{from_item, index_time, n, s, to_item, DynamoStore, Item, Key};
use crate::error::{build_error, sdk_error};

/// The sort key prefix of an order's shipments, in the order's partition.
const SHIPMENT_PREFIX: &str = "SHIPMENT#";
/// The sort key prefix of a tracking number's events.
const TRACKING_EVENT_PREFIX: &str = "EVENT#";

impl Key {
    /// A shipment: `ORDER#<order id>` / `SHIPMENT#<tracking number>`.
    pub fn shipment(order_id: &OrderId, tracking: &TrackingNumber) -> Self {
        Self { pk: Key::order(order_id).pk, sk: format!("{SHIPMENT_PREFIX}{tracking}") }
    }

    /// The partition of a tracking number: its marker and its carrier events.
    pub fn tracking_partition(tracking: &TrackingNumber) -> String {
        format!("TRACKING#{tracking}")
    }

    /// A tracking number's marker: `TRACKING#<tracking number>` / `SHIPMENT`.
    pub fn tracking_marker(tracking: &TrackingNumber) -> Self {
        Self { pk: Self::tracking_partition(tracking), sk: "SHIPMENT".to_owned() }
    }

    /// A carrier event: `TRACKING#<tracking number>` / `EVENT#<event id>`.
    pub fn tracking_event(event: &TrackingEvent) -> Self {
        Self { pk: Self::tracking_partition(&event.tracking_number), sk: format!("{TRACKING_EVENT_PREFIX}{}", event.event_id) }
    }

    /// The partition of a carrier's transit samples on a lane.
    pub fn lane_partition(carrier: &CarrierId, lane: &Lane) -> String {
        format!("LANE#{carrier}#{}#{}", lane.origin, lane.destination)
    }
}

/// The shipment item: its key beside the shipment's fields (`version` the condition of
/// every update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ShipmentItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub shipment: Shipment,
}

/// A tracking number's marker: which orders' shipments have it (one, or the orders of one
/// merge group sharing the parcel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrackingMarkerItem {
    pub pk: String,
    pub sk: String,
    /// The first order shipped under the number.
    pub order_id: String,
    pub shipment_id: String,
    /// Every order shipped under it, in the order they were; absent on markers written
    /// before parcels were shared (then `order_id` alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ids: Option<Vec<String>>,
    /// The merge group of those orders; absent on markers written before (then the group
    /// of `order_id` alone, which no other order joins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_group: Option<String>,
}

impl TrackingMarkerItem {
    /// The orders with a shipment under the number.
    fn orders(&self) -> Vec<&str> {
        self.order_ids.as_ref().map_or_else(|| vec![self.order_id.as_str()], |ids| ids.iter().map(String::as_str).collect())
    }

    /// Whether `order` of merge `group` may add its shipment under the number: it has none
    /// under it yet, and the number is its group's.
    fn admits(&self, order: &OrderId, group: &OrderId) -> bool {
        self.merge_group.as_deref() == Some(group.as_str()) && !self.orders().contains(&order.as_str())
    }
}

/// A carrier event item: its key beside the event's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrackingEventItem {
    pub pk: String,
    pub sk: String,
    #[serde(flatten)]
    pub event: TrackingEvent,
}

/// A transit sample item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TransitItem {
    pub pk: String,
    pub sk: String,
    pub shipment_id: String,
    pub hours: u32,
}

impl DynamoStore {
    fn shipment_item(shipment: &Shipment, version: u64) -> Result<Item, StoreError> {
        let key = Key::shipment(&shipment.order_id, &shipment.tracking_number);
        let mut shipment = shipment.clone();
        shipment.version = version;
        to_item(&ShipmentItem { pk: key.pk, sk: key.sk, shipment }, "a shipment")
    }

    /// The items a shipment's write adds to its order's transaction, the marker first (its
    /// failed condition, the tracking number taken meanwhile, reads as a lost race): the
    /// marker's update adding the order (created with the shipment's merge group, or on
    /// `merge_group = :group AND NOT contains(order_ids, :order)`), the shipment
    /// (`attribute_not_exists(pk)`), the hold's first item with the
    /// lines left (`hold_id = :hold`, a hold of one part; deleted when nothing is left), and
    /// per consumed line the stock update `on_hand - :q, reserved - :q` on
    /// `reserved >= :q AND on_hand >= :q` (`available` unchanged) and its `ship` ledger entry.
    pub(super) async fn ship_items(
        &self,
        order_id: &OrderId,
        ship: &ShipEffect,
    ) -> Result<Option<Vec<TransactWriteItem>>, StoreError> {
        let tracking = &ship.shipment.tracking_number;
        let group = ship.shipment.group();
        if let Some(marker) = self.get(Key::tracking_marker(tracking), "a tracking number's marker").await? {
            let marker: TrackingMarkerItem = from_item(marker, "a tracking number's marker")?;
            if !marker.admits(order_id, group) {
                return Ok(None);
            }
        }
        let Some(stored) = self.hold_to_release(order_id, &ship.hold_id).await? else { return Ok(None) };
        if !stored.parts.is_empty() {
            return Err(StoreError::msg(format!(
                "Failed to ship from the hold of order {order_id}: it is written in {} parts, and a shipment takes from a hold of one",
                stored.parts.len() + 1
            )));
        }
        let mut left = stored.lines.clone();
        for taken in &ship.taken {
            let Some(line) = left.iter_mut().find(|l| {
                l.warehouse == taken.warehouse && l.owner == taken.owner && l.sku == taken.sku && l.quantity >= taken.quantity
            }) else {
                return Ok(None);
            };
            line.quantity -= taken.quantity;
        }
        left.retain(|l| l.quantity > 0);
        let failed = |e| build_error(format!("Failed to build the shipment of order {order_id}"), e);
        let marker = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::tracking_marker(tracking).into_map()))
            .update_expression(
                "SET #order_id = if_not_exists(#order_id, :order), #shipment_id = if_not_exists(#shipment_id, :shipment), \
                 #merge_group = if_not_exists(#merge_group, :group), \
                 #order_ids = list_append(if_not_exists(#order_ids, :none), :orders)",
            )
            .condition_expression("attribute_not_exists(pk) OR (#merge_group = :group AND NOT contains(#order_ids, :order))")
            .expression_attribute_names("#order_id", "order_id")
            .expression_attribute_names("#shipment_id", "shipment_id")
            .expression_attribute_names("#merge_group", "merge_group")
            .expression_attribute_names("#order_ids", "order_ids")
            .expression_attribute_values(":order", s(order_id.as_str()))
            .expression_attribute_values(":shipment", s(ship.shipment.shipment_id.as_str()))
            .expression_attribute_values(":group", s(group.as_str()))
            .expression_attribute_values(":none", AttributeValue::L(vec![]))
            .expression_attribute_values(":orders", AttributeValue::L(vec![s(order_id.as_str())]))
            .build()
            .map_err(failed)?;
        let mut items = vec![
            TransactWriteItem::builder().update(marker).build(),
            self.put_new(Self::shipment_item(&ship.shipment, 1)?, "a shipment")?,
        ];
        let hold_key = Some(Key::reservation(order_id).into_map());
        let condition = "#hold_id = :hold AND attribute_not_exists(#parts_held)";
        if left.is_empty() {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(hold_key)
                .condition_expression(condition)
                .expression_attribute_names("#hold_id", "hold_id")
                .expression_attribute_names("#parts_held", "parts_held")
                .expression_attribute_values(":hold", s(ship.hold_id.as_str()))
                .build()
                .map_err(failed)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        } else {
            let lines: Vec<StoredLine> = left.iter().map(StoredLine::from).collect();
            let lines = serde_dynamo::to_attribute_value(&lines)
                .map_err(|e| crate::error::item_error(format!("Failed to write the hold of order {order_id}"), e))?;
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(hold_key)
                .update_expression("SET #lines = :lines")
                .condition_expression(condition)
                .expression_attribute_names("#lines", "lines")
                .expression_attribute_names("#hold_id", "hold_id")
                .expression_attribute_names("#parts_held", "parts_held")
                .expression_attribute_values(":hold", s(ship.hold_id.as_str()))
                .expression_attribute_values(":lines", lines)
                .build()
                .map_err(failed)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let reason = format!("shipped with {} {}", ship.shipment.carrier, tracking);
        for line in &ship.taken {
            items.push(self.consume(line, order_id)?);
            items.push(self.ledger_item(&LedgerLine::ship(order_id, line, reason.clone()))?);
        }
        Ok(Some(items))
    }

    /// The stock update that ships one line's held units: on hand and reserved both drop.
    fn consume(&self, line: &AllocatedLine, order_id: &OrderId) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Key::stock(&line.warehouse, &line.owner, &line.sku).into_map()))
            .update_expression("SET #on_hand = #on_hand - :q, #reserved = #reserved - :q")
            .condition_expression("#reserved >= :q AND #on_hand >= :q")
            .expression_attribute_names("#on_hand", "on_hand")
            .expression_attribute_names("#reserved", "reserved")
            .expression_attribute_values(":q", n(line.quantity))
            .build()
            .map_err(|e| build_error(format!("Failed to build the stock update of order {order_id}'s shipment"), e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl ShipmentStore for DynamoStore {
    /// `GetItem` of the marker, then of each shipment it names, all consistent.
    async fn shipments_with(&self, tracking: &TrackingNumber) -> Result<Vec<Shipment>, StoreError> {
        let what = format!("the shipments of {tracking}");
        let Some(marker) = self.get(Key::tracking_marker(tracking), &what).await? else { return Ok(Vec::new()) };
        let marker: TrackingMarkerItem = from_item(marker, &what)?;
        let mut shipments = Vec::new();
        for order in marker.orders() {
            let order_id = OrderId::parse(order).map_err(|e| StoreError::new(format!("Failed to read {what}"), e))?;
            if let Some(item) = self.get(Key::shipment(&order_id, tracking), &what).await? {
                shipments.push(from_item::<ShipmentItem>(item, &what)?.shipment);
            }
        }
        shipments.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        Ok(shipments)
    }

    /// `Query pk = ORDER#<order id> AND begins_with(sk, "SHIPMENT#")`, consistent.
    async fn shipments_of(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
        let what = format!("the shipments of order {order}");
        let items = self.query_partition_from(Key::order(order).pk, Some(SHIPMENT_PREFIX), &what).await?;
        let mut shipments: Vec<Shipment> =
            items.into_iter().map(|item| from_item::<ShipmentItem>(item, &what).map(|i| i.shipment)).collect::<Result<_, _>>()?;
        shipments.sort_by(|a, b| a.shipment_id.cmp(&b.shipment_id));
        Ok(shipments)
    }

    /// `PutItem` of the shipment at `version + 1` on `version = :expected`.
    async fn update_shipment(&self, shipment: &Shipment) -> Result<UpdateOutcome, StoreError> {
        let what = format!("shipment {}", shipment.shipment_id);
        let next = shipment.version + 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::shipment_item(shipment, next)?))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(shipment.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(UpdateOutcome::Updated { version: next }),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(UpdateOutcome::VersionConflict)
            }
            Err(err) => Err(sdk_error(format!("Failed to write {what}"), err)),
        }
    }

    /// `PutItem` of the event on `attribute_not_exists(pk)`.
    async fn add_event(&self, event: &TrackingEvent) -> Result<AddEventOutcome, StoreError> {
        let what = format!("event {} of {}", event.event_id, event.tracking_number);
        let key = Key::tracking_event(event);
        let item = to_item(&TrackingEventItem { pk: key.pk, sk: key.sk, event: event.clone() }, &what)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(AddEventOutcome::Added),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(AddEventOutcome::Duplicate)
            }
            Err(err) => Err(sdk_error(format!("Failed to write {what}"), err)),
        }
    }

    /// `Query pk = TRACKING#<tracking number> AND begins_with(sk, "EVENT#")`, consistent,
    /// sorted by time here.
    async fn events_of(&self, tracking: &TrackingNumber) -> Result<Vec<TrackingEvent>, StoreError> {
        let what = format!("the events of {tracking}");
        let items = self.query_partition_from(Key::tracking_partition(tracking), Some(TRACKING_EVENT_PREFIX), &what).await?;
        let mut events: Vec<TrackingEvent> = items
            .into_iter()
            .map(|item| from_item::<TrackingEventItem>(item, &what).map(|i| i.event))
            .collect::<Result<_, _>>()?;
        sort_events(&mut events);
        Ok(events)
    }

    /// `PutItem` of the sample, unconditional (the same shipment writes the same key).
    async fn record_transit(&self, sample: &TransitSample) -> Result<(), StoreError> {
        let item = TransitItem {
            pk: Key::lane_partition(&sample.carrier, &sample.lane),
            sk: format!("{}#{}", index_time(sample.delivered_at), sample.shipment_id),
            shipment_id: sample.shipment_id.to_string(),
            hours: sample.hours,
        };
        let what = format!("the transit time of shipment {}", sample.shipment_id);
        self.put(to_item(&item, &what)?, &what).await
    }

    /// `Query pk = LANE#...`, newest first, `Limit`.
    async fn transit_hours(&self, carrier: &CarrierId, lane: &Lane, limit: usize) -> Result<Vec<u32>, StoreError> {
        let what = format!("the transit times of {carrier} from {} to {}", lane.origin, lane.destination);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(Key::lane_partition(carrier, lane)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to read {what}"), e))?;
        output.items.unwrap_or_default().into_iter().map(|item| from_item::<TransitItem>(item, &what).map(|i| i.hours)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipment_keys_are_spelled_as_the_table_design_says() {
        let order = OrderId::parse("ord_1").unwrap();
        let tracking = TrackingNumber::parse("1Z999").unwrap();
        assert_eq!(Key::shipment(&order, &tracking), Key { pk: "ORDER#ord_1".into(), sk: "SHIPMENT#1Z999".into() });
        assert_eq!(Key::tracking_marker(&tracking), Key { pk: "TRACKING#1Z999".into(), sk: "SHIPMENT".into() });
        let lane = Lane { origin: "Zhejiang".into(), destination: "Beijing".into() };
        assert_eq!(Key::lane_partition(&CarrierId::parse("sf").unwrap(), &lane), "LANE#sf#Zhejiang#Beijing");
    }
}
