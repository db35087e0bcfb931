//! Taking an order in: store it once per (channel, external id), then queue it for allocation.

use crate::messages::Message;
use crate::order::{NewOrder, Order, OrderStatus};
use crate::ports::{Clock, InsertOutcome, InventoryStore, OrderStore, Queue, StoreError};
use crate::{OrderId, Sku};

/// What intake answers the channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// True when the channel had delivered this order before; `order_id` is the first one's.
    pub duplicate: bool,
}

/// Why an order was refused at intake.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("lines[{line}].sku: unknown SKU {sku}; no warehouse has ever stocked it")]
    UnknownSku { line: usize, sku: Sku },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Refuses an order naming a SKU that no warehouse has ever counted.
async fn check_skus_known(inventory: &dyn InventoryStore, new: &NewOrder) -> Result<(), IntakeError> {
    let mut checked: Vec<&Sku> = Vec::new();
    for (line, order_line) in new.lines.iter().enumerate() {
        if checked.contains(&&order_line.sku) {
            continue;
        }
        if inventory.stock_of(&order_line.sku).await?.is_empty() {
            return Err(IntakeError::UnknownSku { line, sku: order_line.sku.clone() });
        }
        checked.push(&order_line.sku);
    }
    Ok(())
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
    check_skus_known(inventory, &new).await?;
    let order = Order::receive(new, OrderId::generate(), clock.now());
    match orders.insert_order(&order).await? {
        InsertOutcome::Inserted => {
            queue.send(&Message::AllocateOrder { order_id: order.order_id.clone() }).await?;
            tracing::info!(order_id = %order.order_id, channel = %order.channel, external_id = %order.external_id, "order received");
            Ok(Receipt { order_id: order.order_id, status: OrderStatus::Received, duplicate: false })
        }
        InsertOutcome::Duplicate(existing) => {
            if existing.status == OrderStatus::Received {
                queue.send(&Message::AllocateOrder { order_id: existing.order_id.clone() }).await?;
            }
            tracing::info!(order_id = %existing.order_id, channel = %existing.channel, "duplicate delivery");
            Ok(Receipt { order_id: existing.order_id, status: existing.status, duplicate: true })
        }
    }
}
