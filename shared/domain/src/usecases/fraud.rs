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

/// Scores an order about to be stored (not in the store yet) by `rules`: the other orders
/// placed within the window by its customer, and with its phone, its shipping address and
/// its card (the order indexes by each, newest first, one page each).
pub async fn screen(ports: &Ports, order: &Order, rules: &FraudRules) -> Result<Assessment, StoreError> {
    let merchant = || OrderQuery::of(order.merchant_id.clone());
    let customer = &order.customer;
    let signals = Signals {
        customer_orders: orders_near(ports, order, rules, Some(merchant().customer(customer.id.clone()))).await?,
        phone_orders: orders_near(ports, order, rules, customer.phone.clone().map(|p| merchant().phone(p))).await?,
        address_orders: orders_near(ports, order, rules, Some(merchant().address(order.shipping_address.fingerprint()))).await?,
        card_orders: orders_near(ports, order, rules, customer.card.clone().map(|c| merchant().card(c))).await?,
    };
    Ok(assess(order, &signals, rules))
}

/// How many orders of `query` (none when there is no query: the order has no such
/// signal) other than `order` itself were placed within the window of it, counting up to
/// one page.
async fn orders_near(ports: &Ports, order: &Order, rules: &FraudRules, query: Option<OrderQuery>) -> Result<u32, StoreError> {
    let Some(query) = query else { return Ok(0) };
    let found = ports.orders.find_orders(&query, &Page::first(ORDERS_READ)).await?.orders;
    let near = found
        .iter()
        .filter(|other| other.external_id != order.external_id && (other.placed_at - order.placed_at).abs() <= rules.window)
        .count();
    Ok(u32::try_from(near).unwrap_or(u32::MAX))
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
            let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
            Ok(Change::WriteWith(order, Effects::send(allocate), ()))
        })
    })
    .await?
    .ok_or_else(|| ReleaseError::NotFound(order_id.clone()))?;
    crate::usecases::intake::resolve_on_hold(ports, &changed.order).await?;
    tracing::info!(order_id = %order_id, "order released after fraud review: queued for allocation");
    Ok(changed.order)
}
