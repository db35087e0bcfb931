//! The sweeper: finds orders waiting in a status longer than they should and moves them on
//! again.
//!
//! Every step of the flow is one atomic write with the message that carries it on (the
//! outbox), so an order only stalls when that message was given up on (dead-lettered after
//! repeated failures) or when a re-queue that follows a write was lost to a crash (the
//! backorders of a SKU whose stock came back). The sweeper heals both without knowing
//! which: it queues the step the order waits for again, which is harmless when the step
//! is already under way, because every consumer is idempotent. It reads the stores' index
//! by status and age (`OrderStore::orders_in_status_since`), never a scan.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::messages::{AllocateOrder, Outgoing, ReserveOrder};
use crate::order::{HoldReason, OrderStatus};
use crate::ports::{Ports, StoreError};
use crate::OrderId;

/// How long an order may wait in each status the sweeper repairs before it counts as stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepLimits {
    /// Received but not planned: allocation takes milliseconds, so minutes mean a lost step.
    pub received: Duration,
    /// Planned but not reserved.
    pub allocated: Duration,
    /// Backordered (or on hold): these wait for stock or for staff by design, so the limit
    /// is longer; the repair is one more plan against current stock.
    pub waiting: Duration,
    /// Orders looked at per status in one sweep, oldest first; the next sweep takes the rest.
    pub batch: usize,
}

impl Default for SweepLimits {
    fn default() -> Self {
        Self { received: Duration::minutes(10), allocated: Duration::minutes(10), waiting: Duration::hours(1), batch: 500 }
    }
}

/// What the sweeper did for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// Queued for allocation again (received, backordered or on hold).
    Allocate,
    /// Queued for reservation again (allocated).
    Reserve,
}

/// One order the sweeper found stuck, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repaired {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// When the order came to that status.
    pub since: DateTime<Utc>,
    pub repair: Repair,
}

/// What one sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub swept_at: DateTime<Utc>,
    pub repaired: Vec<Repaired>,
}

impl SweepReport {
    /// How many orders of `status` were repaired.
    pub fn count(&self, status: OrderStatus) -> usize {
        self.repaired.iter().filter(|r| r.status == status).count()
    }
}

/// Looks for orders stuck past `limits` and queues again the step each waits for: received,
/// backordered and on-hold orders are planned again (an order on hold proceeds if its SKUs
/// are known now, and its alert is raised again if it was lost), allocated ones reserved
/// again. An order that moved on since the index was read is skipped.
pub async fn sweep(ports: &Ports, limits: &SweepLimits) -> Result<SweepReport, StoreError> {
    let now = ports.clock.now();
    let plan = [
        (OrderStatus::Received, limits.received, Repair::Allocate),
        (OrderStatus::Allocated, limits.allocated, Repair::Reserve),
        (OrderStatus::Backordered, limits.waiting, Repair::Allocate),
        (OrderStatus::OnHold, limits.waiting, Repair::Allocate),
    ];
    let mut repaired = Vec::new();
    for (status, limit, repair) in plan {
        for order_id in ports.orders.orders_in_status_since(status, now - limit, limits.batch).await? {
            let Some(order) = ports.orders.get_order(&order_id).await? else { continue };
            if order.status != status {
                continue;
            }
            if let Some(HoldReason::UnknownSku(sku)) = order.hold() {
                crate::usecases::intake::raise_on_hold(ports, &order, &sku).await?;
            }
            let message = match repair {
                Repair::Allocate => Outgoing::of(&AllocateOrder { order_id: order_id.clone() }),
                Repair::Reserve => Outgoing::of(&ReserveOrder { order_id: order_id.clone() }),
            };
            ports.queue.send(&message).await?;
            tracing::info!(order_id = %order_id, status = %status, since = %order.status_since(), repair = ?repair, "stuck order queued again");
            repaired.push(Repaired { order_id, status, since: order.status_since(), repair });
        }
    }
    Ok(SweepReport { swept_at: now, repaired })
}
