//! Taking an order in: store it once per (channel, external id), then queue it for allocation.

use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{NewOrder, Order, OrderLine, OrderPart, OrderStatus};
use crate::ports::{InsertOutcome, InventoryStore, Ports, StoreError};
use crate::usecases::{update_with_retry, Change};
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
pub async fn receive_order(ports: &Ports, new: NewOrder) -> Result<Receipt, IntakeError> {
    if let Some(unknown) = first_unknown_sku(&*ports.inventory, &new.lines).await? {
        return Err(unknown.into());
    }
    let order = Order::receive(new, OrderId::generate(), ports.clock.now());
    match ports.orders.insert_order(&order).await? {
        InsertOutcome::Duplicate(existing) if existing.order_id != order.order_id => redelivered(ports, &existing, &order).await,
        // Inserted; or our own insert answered as a duplicate because a retried write had
        // landed already (no message was sent for it yet, so it is still received).
        InsertOutcome::Inserted | InsertOutcome::Duplicate(_) => {
            ports.queue.send(&Outgoing::of(&AllocateOrder { order_id: order.order_id.clone() })).await?;
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
async fn redelivered(ports: &Ports, existing: &Order, delivered: &Order) -> Result<Receipt, IntakeError> {
    let now = ports.clock.now();
    let source = delivered.channel.as_str();
    let changed = update_with_retry(&*ports.orders, &existing.order_id, |mut order| {
        Box::pin(async move {
            let update = order.compare_update(delivered);
            if update.applied.is_empty() {
                return Ok::<_, IntakeError>(Change::Keep(order, update));
            }
            order.apply_update(delivered, now, source);
            Ok(Change::Write(order, update))
        })
    })
    .await?
    .ok_or_else(|| StoreError::msg(format!("order {} vanished while a channel update was applied", existing.order_id)))?;
    let (order, update) = (changed.order, changed.value);
    // Heal a lost enqueue (a crash between insert and send), and give a backorder another
    // try against current stock: a spare allocation message is harmless.
    if matches!(order.status, OrderStatus::Received | OrderStatus::Backordered) {
        ports.queue.send(&Outgoing::of(&AllocateOrder { order_id: order.order_id.clone() })).await?;
    }
    tracing::info!(order_id = %order.order_id, channel = %order.channel, updated = ?update.applied, refused = ?update.refused, "order delivered again");
    Ok(Receipt {
        order_id: order.order_id,
        status: order.status,
        duplicate: true,
        updated: update.applied,
        not_updated: update.refused,
    })
}
