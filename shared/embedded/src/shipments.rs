//! `ShipmentStore`: shipments, carrier events and transit samples (tables of schema step
//! 13). A shipment is written with its order, in the order's savepoint (`orders::update`
//! with `HoldEffect::Ship`): the shipment row, the consumed stock and the shrunk hold land
//! together or not at all. Bodies are the domain's JSON, encoded on the caller's task.

use anyhow::{bail, Context};
use async_trait::async_trait;
use oms_domain::ledger::LedgerLine;
use oms_domain::ports::{AddEventOutcome, ShipEffect, ShipmentStore, StoreError, UpdateOutcome};
use oms_domain::shipment::{sort_events, Lane, Shipment, TrackingEvent, TransitSample};
use oms_domain::{CarrierId, OrderId, TrackingNumber};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{to_u32, CachedStatements};
use crate::Embedded;

#[async_trait]
impl ShipmentStore for Embedded {
    async fn shipments_with(&self, tracking: &TrackingNumber) -> Result<Vec<Shipment>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the shipments of {tracking}"), e);
        self.shipment_rows("tracking_number = ?1 ORDER BY order_id", tracking.to_string()).await.map_err(failed)
    }

    async fn shipments_of(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the shipments of order {order}"), e);
        self.shipment_rows("order_id = ?1 ORDER BY shipment_id", order.to_string()).await.map_err(failed)
    }

    async fn update_shipment(&self, shipment: &Shipment) -> Result<UpdateOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to update shipment {}", shipment.shipment_id), e);
        let next = shipment.version + 1;
        let read = i64::try_from(shipment.version).context("The shipment's version is out of range").map_err(failed)?;
        let body = serde_json::to_string(shipment).context("Failed to encode the shipment").map_err(failed)?;
        let key = (shipment.tracking_number.to_string(), shipment.order_id.to_string());
        let changed = self
            .db
            .call(move |conn| {
                conn.execute_cached(
                    "UPDATE shipments SET version = ?2 + 1, body = ?3 WHERE tracking_number = ?1 AND order_id = ?4 AND version = ?2",
                    params![key.0, read, body, key.1],
                )
                .context("Failed to write the shipment row")
            })
            .await
            .map_err(failed)?;
        Ok(if changed == 1 { UpdateOutcome::Updated { version: next } } else { UpdateOutcome::VersionConflict })
    }

    async fn add_event(&self, event: &TrackingEvent) -> Result<AddEventOutcome, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to store event {} of {}", event.event_id, event.tracking_number), e);
        let body = serde_json::to_string(event).context("Failed to encode the event").map_err(failed)?;
        let (key, id) = (event.tracking_number.to_string(), event.event_id.to_string());
        let added = self
            .db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO tracking_events (tracking_number, event_id, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tracking_number, event_id) DO NOTHING",
                    params![key, id, body],
                )
                .context("Failed to write the event row")
            })
            .await
            .map_err(failed)?;
        Ok(if added == 1 { AddEventOutcome::Added } else { AddEventOutcome::Duplicate })
    }

    async fn events_of(&self, tracking: &TrackingNumber) -> Result<Vec<TrackingEvent>, StoreError> {
        let key = tracking.to_string();
        let failed = |e| StoreError::new(format!("Failed to read the events of {tracking}"), e);
        let bodies: Vec<String> = self
            .db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM tracking_events WHERE tracking_number = ?1")
                    .context("Failed to prepare the events query")?;
                let rows = stmt
                    .query_map([key.as_str()], |row| row.get(0))
                    .context("Failed to query the events")?
                    .collect::<Result<Vec<String>, _>>()
                    .context("Failed to read the events")?;
                Ok(rows)
            })
            .await
            .map_err(failed)?;
        let mut events = bodies
            .iter()
            .map(|b| serde_json::from_str(b).context("A stored event is corrupt"))
            .collect::<anyhow::Result<Vec<TrackingEvent>>>()
            .map_err(failed)?;
        sort_events(&mut events);
        Ok(events)
    }

    async fn record_transit(&self, sample: &TransitSample) -> Result<(), StoreError> {
        let failed = |e| StoreError::new(format!("Failed to record the transit time of {}", sample.shipment_id), e);
        let values = (
            sample.carrier.to_string(),
            sample.lane.origin.clone(),
            sample.lane.destination.clone(),
            sample.shipment_id.to_string(),
            sample.delivered_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            sample.hours,
        );
        self.db
            .call(move |conn| {
                conn.execute_cached(
                    "INSERT INTO transit_samples (carrier, origin, destination, shipment_id, delivered_at, hours)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    params![values.0, values.1, values.2, values.3, values.4, values.5],
                )
                .context("Failed to write the transit sample")?;
                Ok(())
            })
            .await
            .map_err(failed)
    }

    async fn transit_hours(&self, carrier: &CarrierId, lane: &Lane, limit: usize) -> Result<Vec<u32>, StoreError> {
        let failed = |e| StoreError::new(format!("Failed to read the transit times of {carrier} on {lane:?}"), e);
        let key = (carrier.to_string(), lane.origin.clone(), lane.destination.clone());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT hours FROM transit_samples WHERE carrier = ?1 AND origin = ?2 AND destination = ?3
                         ORDER BY delivered_at DESC, shipment_id DESC LIMIT ?4",
                    )
                    .context("Failed to prepare the transit query")?;
                let rows = stmt
                    .query_map(params![key.0, key.1, key.2, limit], |row| row.get::<_, i64>(0))
                    .context("Failed to query the transit times")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the transit times")?;
                rows.into_iter().map(|h| to_u32(h, "transit time")).collect()
            })
            .await
            .map_err(failed)
    }
}

impl Embedded {
    /// The shipments of the rows `filter` (a `WHERE` clause on `?1`, with its `ORDER BY`) selects.
    async fn shipment_rows(&self, filter: &'static str, key: String) -> anyhow::Result<Vec<Shipment>> {
        let rows: Vec<(i64, String)> = self
            .db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!("SELECT version, body FROM shipments WHERE {filter}"))
                    .context("Failed to prepare the shipments query")?;
                let rows = stmt
                    .query_map([key.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
                    .context("Failed to query the shipments")?
                    .collect::<Result<Vec<_>, _>>()
                    .context("Failed to read the shipments")?;
                Ok(rows)
            })
            .await?;
        rows.into_iter().map(decode_shipment).collect()
    }
}

fn decode_shipment((version, body): (i64, String)) -> anyhow::Result<Shipment> {
    let mut shipment: Shipment = serde_json::from_str(&body).context("A stored shipment is corrupt")?;
    shipment.version = u64::try_from(version).context("A stored shipment's version is negative")?;
    Ok(shipment)
}

/// The condition of a shipment's write, checked in the order's savepoint before anything
/// is written: the hold is still `ship.hold_id` and holds every line taken, and every
/// shipment with the tracking number is of another order of the same merge group.
pub(crate) fn may_ship(conn: &Connection, order_id: &OrderId, ship: &ShipEffect) -> anyhow::Result<bool> {
    if !crate::inventory::holds(conn, order_id, &ship.hold_id)? {
        return Ok(false);
    }
    for line in &ship.taken {
        let held: Option<i64> = conn
            .query_row_cached(
                "SELECT quantity FROM reservations
                 WHERE order_id = ?1 AND hold_id = ?2 AND warehouse = ?3 AND merchant_id = ?4 AND sku = ?5",
                params![
                    order_id.as_str(),
                    ship.hold_id.as_str(),
                    line.warehouse.as_str(),
                    line.owner.as_str(),
                    line.sku.as_str()
                ],
                |row| row.get(0),
            )
            .optional()
            .context("Failed to read the reservation line")?;
        if held.unwrap_or(0) < i64::from(line.quantity) {
            return Ok(false);
        }
    }
    let taken: Option<String> = conn
        .query_row_cached(
            "SELECT order_id FROM shipments WHERE tracking_number = ?1 AND (order_id = ?2 OR merge_group != ?3) LIMIT 1",
            params![ship.shipment.tracking_number.as_str(), order_id.as_str(), ship.shipment.group().as_str()],
            |row| row.get(0),
        )
        .optional()
        .context("Failed to look up the tracking number")?;
    Ok(taken.is_none())
}

/// Writes the shipment and consumes its lines (after `may_ship` held): each stock's on hand
/// and reserved drop by the units, each with its `ship` ledger entry, the hold's lines
/// shrink, emptied lines go.
pub(crate) fn ship(conn: &mut Connection, order_id: &OrderId, ship: &ShipEffect) -> anyhow::Result<()> {
    for line in &ship.taken {
        let changed = conn
            .execute_cached(
                "UPDATE stock SET on_hand = on_hand - ?4, reserved = reserved - ?4
                 WHERE warehouse = ?1 AND merchant_id = ?2 AND sku = ?3 AND reserved >= ?4 AND on_hand >= ?4",
                params![line.warehouse.as_str(), line.owner.as_str(), line.sku.as_str(), line.quantity],
            )
            .with_context(|| {
                format!("Failed to ship {} of {}'s {} from {}", line.quantity, line.owner, line.sku, line.warehouse)
            })?;
        if changed != 1 {
            // An error, so everything written in the savepoint is rolled back.
            bail!("{}'s stock of {} in {} has fewer than {} units reserved", line.owner, line.sku, line.warehouse, line.quantity);
        }
        conn.execute_cached(
            "UPDATE reservations SET quantity = quantity - ?6
             WHERE order_id = ?1 AND hold_id = ?2 AND warehouse = ?3 AND merchant_id = ?4 AND sku = ?5",
            params![
                order_id.as_str(),
                ship.hold_id.as_str(),
                line.warehouse.as_str(),
                line.owner.as_str(),
                line.sku.as_str(),
                line.quantity
            ],
        )
        .context("Failed to shrink the hold")?;
        let reason = format!("shipped with {} {}", ship.shipment.carrier, ship.shipment.tracking_number);
        crate::inventory::append_ledger(conn, &LedgerLine::ship(order_id, line, reason))?;
    }
    conn.execute_cached("DELETE FROM reservations WHERE order_id = ?1 AND quantity = 0", [order_id.as_str()])
        .context("Failed to drop the shipped lines of the hold")?;
    let mut shipment = ship.shipment.clone();
    shipment.version = 1;
    let body = serde_json::to_string(&shipment).context("Failed to encode the shipment")?;
    conn.execute_cached(
        "INSERT INTO shipments (tracking_number, shipment_id, order_id, merge_group, version, body)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
        params![
            shipment.tracking_number.as_str(),
            shipment.shipment_id.as_str(),
            order_id.as_str(),
            shipment.group().as_str(),
            body
        ],
    )
    .context("Failed to write the shipment row")?;
    Ok(())
}
