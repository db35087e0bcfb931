//! The sweeper: finds orders waiting in a status longer than they should and moves them on
//! again, a bounded number of times.
//!
//! Every step of the flow is one atomic write with the message that carries it on (the
//! outbox), so an order only stalls when that message was given up on (dead-lettered after
//! repeated failures) or when a re-queue that follows a write was lost to a crash (the
//! backorders of a SKU whose stock came back). The sweeper heals both without knowing
//! which: it queues again the step the order waits for, in one write with a note on the
//! order's timeline (harmless when the step is already under way: every consumer is
//! idempotent). It reads the stores' index by status and age
//! (`OrderStore::orders_in_status_since`), a page at a time, never a scan.
//!
//! It never loops: an order is queued again at most [`MAX_SWEEPS`] times in one status
//! (the notes count them); after that it raises one `order_stuck` alert for staff and is
//! left alone. A backorder is planned again only when a plan for it exists in current
//! stock, and an order on hold only when all its SKUs are known: otherwise they are
//! waiting as they should, and nothing is sent.
//!
//! It also closes the flash sales that have ended (`usecases::flash_sales::close_ended_sales`,
//! at most `SweepLimits::most_sale_closes` a sweep), so their unclaimed units go back to
//! available stock, and the auctions that have ended
//! (`usecases::auctions::close_ended_auctions`): the winner's order is made then. Last, it
//! settles the group buys past their deadline (`usecases::group_buys::settle_due_group_buys`):
//! a filled offer's joins all made orders and the capacity nobody joined back to stock, an
//! unfilled one's every unit back and no order.
//!
//! Once a day it writes off what remains of lots past their last day
//! (`usecases::lots::write_off_expired`), so expired stock is not sold.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::alert::{Alert, AlertKind};
use crate::messages::{AllocateOrder, Outgoing, ReserveOrder};
use crate::order::{Order, OrderStatus};
use crate::ports::{Effects, Ports, StatusEntry, StoreError};
use crate::usecases::fulfilment::plan_against_current_stock;
use crate::usecases::tracking::{check_order_shipments, TrackingChecks};
use crate::usecases::{update_with_retry, Change};
use crate::OrderId;

/// How many times the sweeper queues an order's step again in one status before it raises
/// an `order_stuck` alert and leaves the order to staff.
pub const MAX_SWEEPS: usize = 3;

/// How the sweeper's notes on an order's timeline begin (they are counted).
const NOTE: &str = "sweeper: ";

/// How long an order may wait in each status the sweeper repairs before it counts as stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepLimits {
    /// Received but not planned: allocation takes milliseconds, so minutes mean a lost step.
    pub received: Duration,
    /// Planned but not reserved.
    pub allocated: Duration,
    /// Backordered (or on hold): these wait for stock or for staff by design, so the limit
    /// is longer; the repair is one more plan once the cause looks fixed.
    pub waiting: Duration,
    /// Index entries read per page.
    pub page: usize,
    /// Orders queued again (or given up on) per sweep at most; the next sweep goes on.
    pub most_repairs: usize,
    /// How long a parcel in transit may go without a carrier scan before a
    /// `shipment_no_scan` alert.
    pub no_scan: Duration,
    /// How long an unpaid order may hold stock: past it, the sweeper cancels the order
    /// with reason `payment_expired` (its stock returns, ledger kind `expire`, and the
    /// backorders waiting for its SKUs are planned again, as any cancel does).
    pub unpaid_hold: Duration,
    /// Ended flash sales closed per sweep at most (their unclaimed units back to stock);
    /// the next sweep goes on.
    pub most_sale_closes: usize,
    /// Ended auctions closed per sweep at most (the winner's order made, or none); the
    /// next sweep goes on.
    pub most_auction_closes: usize,
    /// Group buys past their deadline settled per sweep at most; the next sweep goes on.
    pub most_group_buy_settles: usize,
}

/// How long an unpaid order holds its stock by default (`OMS_UNPAID_HOLD_MINUTES`).
pub const DEFAULT_UNPAID_HOLD_MINUTES: i64 = 30;

impl Default for SweepLimits {
    fn default() -> Self {
        Self {
            received: Duration::minutes(10),
            allocated: Duration::minutes(10),
            waiting: Duration::hours(1),
            page: 100,
            most_repairs: 500,
            no_scan: Duration::hours(crate::usecases::tracking::DEFAULT_NO_SCAN_HOURS),
            unpaid_hold: Duration::minutes(DEFAULT_UNPAID_HOLD_MINUTES),
            most_sale_closes: 50,
            most_auction_closes: 50,
            most_group_buy_settles: 50,
        }
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
    /// Queued [`MAX_SWEEPS`] times already and still there: an `order_stuck` alert raised.
    GaveUp,
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
    /// Orders past their limit that are waiting as they should (a backorder its merchant
    /// still has no stock for, an order on hold for a SKU still unknown, one given up on).
    pub waiting: usize,
    /// The tracking checks of shipped orders' parcels: no scan for too long, past the ETA.
    pub tracking: TrackingChecks,
    /// Unpaid orders whose hold ran past `SweepLimits::unpaid_hold`: cancelled for
    /// `payment_expired`, their stock given back.
    pub expired: Vec<OrderId>,
    /// Flash sales that had ended, closed: their unclaimed units back to available stock.
    pub sales_closed: Vec<crate::usecases::flash_sales::ClosedSale>,
    /// Auctions that had ended, closed: the winner's order made, or none.
    pub auctions_closed: Vec<crate::usecases::auctions::ClosedAuction>,
    /// Group buys past their deadline, settled: closed (filled) or expired.
    pub group_buys_settled: Vec<crate::usecases::group_buys::SettledGroupBuy>,
    /// Expired lots written off (the day's first sweep only), or left held by orders.
    pub expired_lots: Vec<crate::usecases::lots::ExpiredLot>,
}

impl SweepReport {
    /// How many orders of `status` were queued again.
    pub fn count(&self, status: OrderStatus) -> usize {
        self.repaired.iter().filter(|r| r.status == status && r.repair != Repair::GaveUp).count()
    }
}

/// Cancels, for `payment_expired`, every unpaid order reserved since before
/// `now - limits.unpaid_hold` (at most `most_repairs` a sweep): `orders::cancel_order`
/// gives its stock back in the order's own write (ledger kind `expire`) and plans the
/// backorders waiting for its SKUs again. An order paid meanwhile is left as it is (the
/// cancel is decided on the order as read, and a payment recorded in between makes the
/// write a lost race that reads it paid).
async fn expire_unpaid_holds(
    ports: &Ports,
    limits: &SweepLimits,
    now: DateTime<Utc>,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    let mut after: Option<StatusEntry> = None;
    loop {
        let page = ports
            .orders
            .orders_in_status_since(OrderStatus::Reserved, now - limits.unpaid_hold, after.as_ref(), limits.page)
            .await?;
        let full = page.len() >= limits.page;
        for entry in &page {
            if report.expired.len() >= limits.most_repairs {
                return Ok(());
            }
            match crate::usecases::orders::expire_unpaid(ports, &entry.order_id).await {
                Ok(true) => {
                    tracing::info!(order_id = %entry.order_id, "unpaid hold expired: order cancelled");
                    report.expired.push(entry.order_id.clone());
                }
                Ok(false) => {}
                Err(crate::usecases::orders::CancelError::Unexpected(e)) => return Err(e),
                // Shipped or gone meanwhile: nothing to expire.
                Err(_) => {}
            }
        }
        after = page.last().cloned();
        if !full {
            return Ok(());
        }
    }
}

/// Looks for orders stuck past `limits` and queues again the step each waits for (see the
/// module's doc for which, and how often).
pub async fn sweep(ports: &Ports, limits: &SweepLimits) -> Result<SweepReport, StoreError> {
    let now = ports.clock.now();
    let mut report = SweepReport {
        swept_at: now,
        repaired: Vec::new(),
        waiting: 0,
        tracking: TrackingChecks::default(),
        expired: Vec::new(),
        sales_closed: Vec::new(),
        auctions_closed: Vec::new(),
        group_buys_settled: Vec::new(),
        expired_lots: Vec::new(),
    };
    // Ended flash sales first: their unclaimed units are back in stock before the
    // backorders are looked at. A claim's order that expires after its sale closed gives
    // its units to stock as any expired hold does (never to the sale's shards).
    report.sales_closed = crate::usecases::flash_sales::close_ended_sales(ports, limits.most_sale_closes).await?;
    report.auctions_closed = crate::usecases::auctions::close_ended_auctions(ports, limits.most_auction_closes).await?;
    report.group_buys_settled = crate::usecases::group_buys::settle_due_group_buys(ports, limits.most_group_buy_settles).await?;
    expire_unpaid_holds(ports, limits, now, &mut report).await?;
    report.expired_lots = crate::usecases::lots::write_off_expired(ports).await?;
    sweep_tracking(ports, limits, &mut report.tracking).await?;
    let plan = [
        (OrderStatus::Received, limits.received),
        (OrderStatus::Allocated, limits.allocated),
        (OrderStatus::Backordered, limits.waiting),
        (OrderStatus::OnHold, limits.waiting),
    ];
    for (status, limit) in plan {
        let mut after: Option<StatusEntry> = None;
        loop {
            if report.repaired.len() >= limits.most_repairs {
                return Ok(report);
            }
            let page = ports.orders.orders_in_status_since(status, now - limit, after.as_ref(), limits.page).await?;
            let full = page.len() >= limits.page;
            for entry in &page {
                match sweep_one(ports, status, &entry.order_id).await? {
                    Some(repair) => {
                        let repaired = Repaired { order_id: entry.order_id.clone(), status, since: entry.since, repair };
                        tracing::info!(order_id = %entry.order_id, status = %status, repair = ?repair, "stuck order swept");
                        report.repaired.push(repaired);
                    }
                    None => report.waiting += 1,
                }
            }
            after = page.last().cloned();
            if !full {
                break;
            }
        }
    }
    Ok(report)
}

/// The tracking checks: every order with parcels on their way (shipped, partially shipped,
/// in transit, or in exception with other parcels moving), read through the same index by
/// status, a page at a time; each parcel raises at most one `shipment_no_scan` and one
/// `shipment_late` alert (`tracking::check_order_shipments`).
async fn sweep_tracking(ports: &Ports, limits: &SweepLimits, checks: &mut TrackingChecks) -> Result<(), StoreError> {
    let now = ports.clock.now();
    for status in [OrderStatus::Shipped, OrderStatus::PartiallyShipped, OrderStatus::InTransit, OrderStatus::Exception] {
        let mut after: Option<StatusEntry> = None;
        loop {
            let page = ports.orders.orders_in_status_since(status, now, after.as_ref(), limits.page).await?;
            for entry in &page {
                check_order_shipments(ports, &entry.order_id, limits.no_scan, checks).await?;
            }
            if page.len() < limits.page {
                break;
            }
            after = page.last().cloned();
        }
    }
    Ok(())
}

/// What the sweeper does for one order found in `status` past its limit; `None` when it
/// is waiting as it should (or moved on meanwhile).
async fn sweep_one(ports: &Ports, status: OrderStatus, order_id: &OrderId) -> Result<Option<Repair>, StoreError> {
    let now = ports.clock.now();
    let Some(order) = ports.orders.get_order(order_id).await? else { return Ok(None) };
    if order.status != status || !worth_another_try(ports, &order).await? {
        return Ok(None);
    }
    if sweeps_in_status(&order) >= MAX_SWEEPS {
        let message = format!(
            "order {} ({} {}) has been {} since {} and was queued again {MAX_SWEEPS} times without moving: its messages keep failing",
            order.order_id,
            order.channel,
            order.external_id,
            order.status,
            order.status_since()
        );
        let alert = Alert::about_order(AlertKind::OrderStuck, &order.order_id, &order.merchant_id, message, now);
        // One alert per order, however many sweeps find it (a raise is idempotent).
        if let crate::ports::RaiseOutcome::Raised = ports.alerts.raise(&alert).await? {
            return Ok(Some(Repair::GaveUp));
        }
        return Ok(None);
    }
    let (message, repair) = match status {
        OrderStatus::Allocated => (Outgoing::of(&ReserveOrder { order_id: order_id.clone() }), Repair::Reserve),
        _ => (Outgoing::of(&AllocateOrder::new(order_id.clone())), Repair::Allocate),
    };
    // The note and the message in one write; an order that moved on meanwhile is left.
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        let message = message.clone();
        Box::pin(async move {
            if order.status != status {
                return Ok::<_, StoreError>(Change::Keep(order, false));
            }
            order.note(now, format!("{NOTE}queued for its next step again ({status} since {})", order.status_since()));
            Ok(Change::WriteWith(order, Effects::send(message), true))
        })
    })
    .await?;
    Ok(changed.filter(|changed| changed.value).map(|_| repair))
}

/// How many times the sweeper queued the order again in its current status.
fn sweeps_in_status(order: &Order) -> usize {
    let run = order.timeline.iter().rev().take_while(|event| event.status == order.status);
    run.filter(|event| event.detail.starts_with(NOTE)).count()
}

/// Whether queuing the order's step again can move it: always for received and allocated
/// orders (their step was lost); for a backorder, when the planner finds a plan for it in
/// current stock (the one rule of what stock it may use); for an order on hold, when every
/// SKU it names is known now (or, held for its merchant's approval, when it is approved).
async fn worth_another_try(ports: &Ports, order: &Order) -> Result<bool, StoreError> {
    match order.status {
        OrderStatus::Backordered => Ok(plan_against_current_stock(ports, order, crate::allocation::plan).await?.is_ok()),
        // Held for fraud review: only staff move it.
        OrderStatus::OnHold if matches!(order.hold(), Some(crate::order::HoldReason::FraudReview(_))) => Ok(false),
        OrderStatus::OnHold if order.hold().is_some_and(|h| h.is_review()) => {
            Ok(crate::usecases::intake::review_hold(ports, order).await?.is_none())
        }
        OrderStatus::OnHold if order.hold() == Some(crate::order::HoldReason::AddressMissing) => {
            Ok(crate::usecases::flash_sales::has_address(order))
        }
        OrderStatus::OnHold => {
            let mut lines = order.lines.clone();
            let unknown =
                crate::usecases::intake::apply_sku_mappings(ports, order.channel, &order.merchant_id, &mut lines).await?;
            Ok(unknown.is_none())
        }
        _ => Ok(true),
    }
}
