//! Taking an order in: store it once per (channel, external id), then queue it for allocation.

use crate::messages::Message;
use crate::order::{NewOrder, Order, OrderLine, OrderStatus};
use crate::ports::{Clock, InsertOutcome, InventoryStore, OrderStore, Queue, StoreError, UpdateOutcome};
use crate::usecases::CONFLICT_RETRIES;
use crate::{OrderId, Sku};

/// What intake answers the channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// True when the channel had delivered this order before; `order_id` is the first one's.
    pub duplicate: bool,
    /// Parts of the order a later delivery changed (`customer`, `shipping_address`, `lines`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub updated: Vec<&'static str>,
    /// Parts a later delivery would have changed but the order's stage no longer allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_updated: Vec<&'static str>,
}

/// Why an order was refused at intake.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("lines[{line}].sku: unknown SKU {sku}; no warehouse has ever stocked it")]
    UnknownSku { line: usize, sku: Sku },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// The first line naming a SKU that no warehouse has ever counted, as (line index, SKU).
pub(crate) async fn first_unknown_sku(
    inventory: &dyn InventoryStore,
    lines: &[OrderLine],
) -> Result<Option<(usize, Sku)>, StoreError> {
    let mut checked: Vec<&Sku> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if checked.contains(&&line.sku) {
            continue;
        }
        if inventory.stock_of(&line.sku).await?.is_empty() {
            return Ok(Some((index, line.sku.clone())));
        }
        checked.push(&line.sku);
    }
    Ok(None)
}

/// Stores a new order and queues it for allocation. A second delivery of the same channel
/// order stores nothing and answers with the first order. If the first delivery's enqueue
/// was lost (a crash between the two writes), the redelivery queues it again; allocation
/// is idempotent, so a spare message does no harm.
///
/// An order naming a SKU that no warehouse stocks is refused and nothing is stored.
pub async fn receive_order(
    orders: &dyn OrderStore,
    inventory: &dyn InventoryStore,
    queue: &dyn Queue,
    clock: &dyn Clock,
    new: NewOrder,
) -> Result<Receipt, IntakeError> {
    if let Some((line, sku)) = first_unknown_sku(inventory, &new.lines).await? {
        return Err(IntakeError::UnknownSku { line, sku });
    }
    let order = Order::receive(new, OrderId::generate(), clock.now());
    match orders.insert_order(&order).await? {
        InsertOutcome::Inserted => {
            queue.send(&Message::AllocateOrder { order_id: order.order_id.clone() }).await?;
            tracing::info!(order_id = %order.order_id, channel = %order.channel, external_id = %order.external_id, "order received");
            Ok(Receipt {
                order_id: order.order_id,
                status: OrderStatus::Received,
                duplicate: false,
                updated: vec![],
                not_updated: vec![],
            })
        }
        InsertOutcome::Duplicate(existing) => redelivered(orders, queue, clock, *existing, &order).await,
    }
}

/// A channel delivered an order we hold: a retry (same content) changes nothing; an update
/// changes what the order's stage allows (`Order::apply_update`).
async fn redelivered(
    orders: &dyn OrderStore,
    queue: &dyn Queue,
    clock: &dyn Clock,
    mut existing: Order,
    delivered: &Order,
) -> Result<Receipt, IntakeError> {
    for _ in 0..CONFLICT_RETRIES {
        let update = existing.apply_update(delivered, clock.now(), delivered.channel.as_str());
        if !update.is_empty() {
            match orders.update_order(&existing).await? {
                UpdateOutcome::Updated { .. } => {}
                UpdateOutcome::VersionConflict => {
                    existing = orders
                        .get_order(&existing.order_id)
                        .await?
                        .ok_or_else(|| StoreError::msg("an order vanished while being updated"))?;
                    continue;
                }
            }
        }
        // Heal a lost enqueue (a crash between insert and send), and re-plan a backorder whose lines changed.
        let lines_changed = update.applied.contains(&"lines");
        if existing.status == OrderStatus::Received || (existing.status == OrderStatus::Backordered && lines_changed) {
            queue.send(&Message::AllocateOrder { order_id: existing.order_id.clone() }).await?;
        }
        tracing::info!(order_id = %existing.order_id, channel = %existing.channel, updated = ?update.applied, refused = ?update.refused, "order delivered again");
        return Ok(Receipt {
            order_id: existing.order_id,
            status: existing.status,
            duplicate: true,
            updated: update.applied,
            not_updated: update.refused,
        });
    }
    Err(StoreError::msg(format!("order {} kept changing while a channel update was applied", existing.order_id)).into())
}
