//! Allocation and reservation: the two queue consumers of the order flow.
//!
//! Both are idempotent: they act only on an order in the status they expect and
//! otherwise finish quietly, so a redelivered message changes nothing. Every order write
//! is conditional on the version read; a lost race re-reads and tries again.

use std::collections::BTreeMap;

use crate::allocation::{self, Plan, Shortage};
use crate::messages::Message;
use crate::order::{AllocatedLine, Allocation, Order, OrderStatus};
use crate::ports::{Ports, ReleaseOutcome, ReserveOutcome, StoreError, UpdateOutcome};
use crate::reservation::Reservation;
use crate::usecases::CONFLICT_RETRIES;
use crate::OrderId;

/// How many times a reservation that lost a stock race is re-planned before the order is backordered.
pub const MAX_REPLANS: usize = 3;

/// What a consumer did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The order moved to this status.
    Moved(OrderStatus),
    /// Nothing to do (unknown order, or already past this step); the message is spent.
    Skipped(String),
}

/// Plans a received (or backordered) order against current stock, then queues it for
/// reservation, or backorders it when no warehouse combination holds enough.
pub async fn allocate_order(ports: &Ports, order_id: &OrderId) -> Result<Handled, StoreError> {
    for _ in 0..CONFLICT_RETRIES {
        let Some(mut order) = ports.orders.get_order(order_id).await? else {
            return Ok(Handled::Skipped(format!("no order {order_id}")));
        };
        match order.status {
            OrderStatus::Received | OrderStatus::Backordered => {}
            // Planned before but the reservation message may have been lost: send it again.
            OrderStatus::Allocated => {
                ports.queue.send(&Message::ReserveOrder { order_id: order_id.clone() }).await?;
                return Ok(Handled::Skipped("already allocated; reservation re-queued".into()));
            }
            other => return Ok(Handled::Skipped(format!("order is already {other}"))),
        }
        let now = ports.clock.now();
        let next = match plan_against_current_stock(ports, &order).await? {
            Ok(plan) => {
                order.transition(OrderStatus::Allocated, now, plan.explanation.clone()).map_err(invariant)?;
                order.allocation = Some(Allocation { lines: plan.lines, explanation: plan.explanation, planned_at: now });
                OrderStatus::Allocated
            }
            Err(shortage) if order.status == OrderStatus::Backordered => {
                return Ok(Handled::Skipped(format!("still short: {shortage}")));
            }
            Err(shortage) => {
                order.transition(OrderStatus::Backordered, now, format!("not enough stock: {shortage}")).map_err(invariant)?;
                OrderStatus::Backordered
            }
        };
        if let UpdateOutcome::Updated { .. } = ports.orders.update_order(&order).await? {
            if next == OrderStatus::Allocated {
                ports.queue.send(&Message::ReserveOrder { order_id: order_id.clone() }).await?;
            }
            tracing::info!(order_id = %order_id, status = %next, "allocation decided");
            return Ok(Handled::Moved(next));
        }
    }
    Err(StoreError::msg(format!("order {order_id} kept changing while it was being allocated")))
}

/// Holds the stock of an allocated order's plan in one atomic write. If another order took
/// the stock first, re-plans against fresh stock up to `MAX_REPLANS` times, then backorders.
pub async fn reserve_order(ports: &Ports, order_id: &OrderId) -> Result<Handled, StoreError> {
    let mut replans = 0;
    for _ in 0..CONFLICT_RETRIES + MAX_REPLANS {
        let Some(mut order) = ports.orders.get_order(order_id).await? else {
            return Ok(Handled::Skipped(format!("no order {order_id}")));
        };
        match order.status {
            OrderStatus::Allocated => {}
            // Such an order holds no stock; a reservation that landed anyway (after a cancel,
            // or from a second worker racing a backorder) is given back.
            OrderStatus::Cancelled | OrderStatus::Backordered => {
                release_leftover(ports, &order).await?;
                return Ok(Handled::Skipped(format!("order is {}", order.status)));
            }
            other => return Ok(Handled::Skipped(format!("order is already {other}"))),
        }
        let Some(allocation) = order.allocation.clone() else {
            return Err(StoreError::msg(format!("order {order_id} is allocated but has no plan")));
        };
        let now = ports.clock.now();
        match ports.inventory.reserve(order_id, &Reservation::new(allocation.lines.clone())).await? {
            ReserveOutcome::AlreadyReserved if !holds_plan(ports, order_id, &allocation.lines).await? => {
                // Held for an earlier plan (the order was planned again since): start over.
                release_leftover(ports, &order).await?;
                continue;
            }
            ReserveOutcome::Reserved | ReserveOutcome::AlreadyReserved => {
                let units: u32 = allocation.lines.iter().map(|l| l.quantity).sum();
                order.transition(OrderStatus::Reserved, now, format!("{units} units held")).map_err(invariant)?;
            }
            ReserveOutcome::Insufficient { warehouse, sku, available } => {
                let lost = format!("{warehouse} has only {available} of {sku} left");
                if replans >= MAX_REPLANS {
                    order.transition(OrderStatus::Backordered, now, format!("stock ran out: {lost}")).map_err(invariant)?;
                } else {
                    replans += 1;
                    match plan_against_current_stock(ports, &order).await? {
                        Ok(plan) => {
                            order.note(now, format!("re-planned ({lost}): {}", plan.explanation));
                            order.allocation =
                                Some(Allocation { lines: plan.lines, explanation: plan.explanation, planned_at: now });
                        }
                        Err(shortage) => {
                            order
                                .transition(OrderStatus::Backordered, now, format!("stock ran out: {shortage}"))
                                .map_err(invariant)?;
                        }
                    }
                }
            }
        }
        if let UpdateOutcome::Updated { .. } = ports.orders.update_order(&order).await? {
            if order.status != OrderStatus::Allocated {
                tracing::info!(order_id = %order_id, status = %order.status, "reservation decided");
                return Ok(Handled::Moved(order.status));
            }
        }
        // Lost a race on the order (a cancel, or a redelivered message) or re-planned: look again.
    }
    Err(StoreError::msg(format!("order {order_id} could not be reserved after repeated races")))
}

/// Whether the order's held lines are exactly `plan`.
async fn holds_plan(ports: &Ports, order_id: &OrderId, plan: &[AllocatedLine]) -> Result<bool, StoreError> {
    let held = ports.inventory.reservation(order_id).await?.unwrap_or_default();
    Ok(held == Reservation::new(plan.to_vec()))
}

async fn release_leftover(ports: &Ports, order: &Order) -> Result<(), StoreError> {
    if let ReleaseOutcome::Released(lines) = ports.inventory.release(&order.order_id).await? {
        tracing::warn!(order_id = %order.order_id, lines = lines.lines().len(), "released a reservation made after the order was cancelled");
    }
    Ok(())
}

/// Reads the stock of every SKU of the order and the warehouses, and plans.
pub async fn plan_against_current_stock(ports: &Ports, order: &Order) -> Result<Result<Plan, Shortage>, StoreError> {
    let mut stock = BTreeMap::new();
    for sku in order.units_by_sku().into_keys() {
        let levels = ports.inventory.stock_of(&sku).await?;
        stock.insert(sku, levels);
    }
    let warehouses = ports.warehouses.list_warehouses().await?;
    Ok(allocation::plan(order, &stock, &warehouses))
}

/// A transition the code just checked for cannot fail; if it does, the stored order is corrupt.
fn invariant(err: crate::order::InvalidTransition) -> StoreError {
    StoreError::new("unexpected order state", err)
}
