//! Taking an order in: store it once per (channel, external id), then queue it for allocation.

use crate::messages::Message;
use crate::order::{NewOrder, Order, OrderLine, OrderPart, OrderStatus};
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
    pub updated: Vec<OrderPart>,
    /// Parts a later delivery would have changed but the order's stage no longer allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_updated: Vec<OrderPart>,
}

/// A line names a SKU that no warehouse has ever counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lines[{line}].sku: unknown SKU {sku}; no warehouse has ever stocked it")]
pub struct UnknownSku {
    pub line: usize,
    pub sku: Sku,
}

/// Why an order was refused at intake.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    UnknownSku(#[from] UnknownSku),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// The first line naming a SKU that no warehouse has ever counted.
pub(crate) async fn first_unknown_sku(
    inventory: &dyn InventoryStore,
    lines: &[OrderLine],
) -> Result<Option<UnknownSku>, StoreError> {
    let mut checked: Vec<&Sku> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if checked.contains(&&line.sku) {
            continue;
        }
        if inventory.stock_of(&line.sku).await?.is_empty() {
            return Ok(Some(UnknownSku { line: index, sku: line.sku.clone() }));
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
    if let Some(unknown) = first_unknown_sku(inventory, &new.lines).await? {
        return Err(unknown.into());
    }
    let order = Order::receive(new, OrderId::generate(), clock.now());
    match orders.insert_order(&order).await? {
        InsertOutcome::Duplicate(existing) if existing.order_id != order.order_id => {
            redelivered(orders, queue, clock, *existing, &order).await
        }
        // Inserted; or our own insert answered as a duplicate because a retried write had
        // landed already (no message was sent for it yet, so it is still received).
        InsertOutcome::Inserted | InsertOutcome::Duplicate(_) => {
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
    }
}

/// A channel delivered an order we hold: a retry (same content) changes nothing; an update
/// changes what the order's stage allows (`Order::apply_update`). What the stage refuses
/// is reported, not written, so repeated updates do not grow the order.
async fn redelivered(
    orders: &dyn OrderStore,
    queue: &dyn Queue,
    clock: &dyn Clock,
    mut existing: Order,
    delivered: &Order,
) -> Result<Receipt, IntakeError> {
    for _ in 0..CONFLICT_RETRIES {
        let update = existing.compare_update(delivered);
        if !update.applied.is_empty() {
            existing.apply_update(delivered, clock.now(), delivered.channel.as_str());
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
        // Heal a lost enqueue (a crash between insert and send), and give a backorder another
        // try against current stock: a spare allocation message is harmless.
        if matches!(existing.status, OrderStatus::Received | OrderStatus::Backordered) {
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
