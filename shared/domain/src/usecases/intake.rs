//! Taking an order in: store it once per (channel, external id), then queue it for allocation.

use crate::messages::Message;
use crate::order::{NewOrder, Order, OrderStatus};
use crate::ports::{Clock, InsertOutcome, OrderStore, Queue, StoreError};
use crate::OrderId;

/// What intake answers the channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// True when the channel had delivered this order before; `order_id` is the first one's.
    pub duplicate: bool,
}

/// Stores a new order and queues it for allocation. A second delivery of the same channel
/// order stores nothing and answers with the first order. If the first delivery's enqueue
/// was lost (a crash between the two writes), the redelivery queues it again; allocation
/// is idempotent, so a spare message does no harm.
pub async fn receive_order(
    orders: &dyn OrderStore,
    queue: &dyn Queue,
    clock: &dyn Clock,
    new: NewOrder,
) -> Result<Receipt, StoreError> {
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
