//! Screening webhook orders against the fraud rules at intake (`crate::fraud`), and staff
//! releasing an order held for review.

use crate::fraud::{assess, Assessment, FraudRules, Signals};
use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{HoldReason, OrderStatus};
use crate::ports::{Effects, OrderQuery, Page, Ports, StoreError};
use crate::usecases::{update_with_retry, Change};
use crate::{Order, OrderId};

/// Orders read per signal: velocity needs to see just past its threshold.
const ORDERS_READ: usize = 50;

/// Scores an order about to be stored (not in the store yet) by `rules`: its customer's
/// and its phone's other orders placed within the window (the order indexes by customer
/// and by phone, newest first, one page each).
pub async fn screen(ports: &Ports, order: &Order, rules: &FraudRules) -> Result<Assessment, StoreError> {
    let near =
        |other: &Order| other.external_id != order.external_id && (other.placed_at - order.placed_at).abs() <= rules.window;
    let count = |orders: &[Order]| u32::try_from(orders.iter().filter(|o| near(o)).count()).unwrap_or(u32::MAX);
    let query = OrderQuery::of(order.merchant_id.clone()).customer(order.customer.id.clone());
    let customer_orders = count(&ports.orders.find_orders(&query, &Page::first(ORDERS_READ)).await?.orders);
    let phone_orders = match &order.customer.phone {
        Some(phone) => {
            let query = OrderQuery::of(order.merchant_id.clone()).phone(phone.clone());
            count(&ports.orders.find_orders(&query, &Page::first(ORDERS_READ)).await?.orders)
        }
        None => 0,
    };
    Ok(assess(order, &Signals { customer_orders, phone_orders }, rules))
}

/// Why an order was not released.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("no order {0}")]
    NotFound(OrderId),
    /// Only an order held for fraud review is released by staff: one held for an unknown
    /// SKU or a missing address is released by what it waits for.
    #[error("order {order_id} is {status}, not on hold for fraud review")]
    NotHeldForReview { order_id: OrderId, status: &'static str },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Releases an order held for fraud review: it goes back to `received` with `note` on its
/// timeline and is queued for allocation in the same write; its `order_on_hold` alert is
/// resolved. Releasing an order released already (it left the hold) is refused as any
/// order not held for review is, so a repeated call changes nothing.
pub async fn release(ports: &Ports, order_id: &OrderId, note: &str) -> Result<Order, ReleaseError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if !matches!(order.hold(), Some(HoldReason::FraudReview(_))) {
                let status = order.status.as_str();
                return Err(ReleaseError::NotHeldForReview { order_id: order.order_id.clone(), status });
            }
            order
                .transition(OrderStatus::Received, now, format!("released after fraud review: {note}"))
                .map_err(|e| StoreError::new("an order held for review could not be released", e))?;
            let allocate = Outgoing::of(&AllocateOrder { order_id: order.order_id.clone() });
            Ok(Change::WriteWith(order, Effects::send(allocate), ()))
        })
    })
    .await?
    .ok_or_else(|| ReleaseError::NotFound(order_id.clone()))?;
    crate::usecases::intake::resolve_on_hold(ports, &changed.order).await?;
    tracing::info!(order_id = %order_id, "order released after fraud review: queued for allocation");
    Ok(changed.order)
}
