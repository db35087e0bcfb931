//! Allocation and reservation: the two queue consumers of the order flow.
//!
//! Both are idempotent: they act only on an order in the status they expect and
//! otherwise finish quietly, so a redelivered message changes nothing. Every order write
//! goes through [`update_with_retry`], conditional on the version read.

use async_trait::async_trait;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::allocation::merge::{self, Merge, MergePolicy, MERGE_CANDIDATES};
use crate::allocation::{self, CostModel, Plan, Shortage};
use crate::consignment::Consignment;
use crate::messages::{AllocateOrder, Consumer, Handled, Outgoing, ReserveOrder};
use crate::order::{Allocation, HoldReason, InvalidTransition, Order, OrderStatus};
use crate::ports::{Effects, OrderQuery, Page, Ports, ReleaseOutcome, ReserveOutcome, StoreError};
use crate::reservation::{HoldId, Reservation};

/// The timeline's note of an order released from a hold of the review.
pub(crate) const REVIEW_RELEASE: &str = "released from hold: the merchant is approved and its products are on sale";
use crate::sales::Sale;
use crate::usecases::flash_sales::has_address;
use crate::usecases::intake::{apply_sku_mappings, resolve_on_hold};
use crate::usecases::{update_with_retry, Change, CONFLICT_RETRIES};
use crate::OrderId;

/// How many races for stock one delivery of a reserve message may lose (re-planning after
/// each) before it fails and is delivered again later. An order is backordered only when
/// the stock it may use cannot cover it, never for losing races.
pub const MAX_REPLANS: usize = 3;

/// Most backorders of one SKU that one event (a release, a stock count) queues for
/// planning again. The rest stay in the index and wait for the next event of that SKU:
/// each event frees a bounded amount of stock, and a burst of messages for orders that
/// stay short would only crowd the allocate queue.
pub const MAX_REQUEUED_PER_SKU: usize = 50;

/// The allocate queue's consumer: plans each order it is handed ([`allocate_order_with`]),
/// merging it with its customer's orders under `merge`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocate {
    pub merge: MergePolicy,
}

#[async_trait]
impl Consumer for Allocate {
    type Message = AllocateOrder;
    async fn consume(&self, ports: &Ports, message: AllocateOrder) -> Result<Handled, StoreError> {
        if let Some(claim) = &message.claim {
            // A flash-sale claim's message: its order is made here, then planned.
            if !crate::usecases::flash_sales::make_claim_order(ports, claim).await? {
                return Ok(Handled::Skipped(format!("flash sale {} is gone", claim.claim.sale_id)));
            }
        }
        allocate_order_with(ports, &message.order_id, &self.merge).await
    }
}

/// The reserve queue's consumer: holds the stock of each order it is handed ([`reserve_order`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reserve;

#[async_trait]
impl Consumer for Reserve {
    type Message = ReserveOrder;
    async fn consume(&self, ports: &Ports, message: ReserveOrder) -> Result<Handled, StoreError> {
        reserve_order(ports, &message.order_id).await
    }
}

/// What allocation decided for an order.
enum Planned {
    Allocated,
    Backordered,
    /// Planned before, but its reservation message may have been lost.
    AlreadyAllocated,
    Nothing(String),
}

/// [`allocate_order_with`] the default merge policy.
pub async fn allocate_order(ports: &Ports, order_id: &OrderId) -> Result<Handled, StoreError> {
    allocate_order_with(ports, order_id, &MergePolicy::default()).await
}

/// Plans a received (or backordered) order against current stock, then queues it for
/// reservation, or backorders it when no warehouse combination holds enough. A plan that
/// can share parcels with the customer's other orders under `merge` joins their group
/// ([`crate::allocation::merge`]), and both timelines say so.
pub async fn allocate_order_with(ports: &Ports, order_id: &OrderId, merge: &MergePolicy) -> Result<Handled, StoreError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if order.channel.is_service() {
                // A service order charges for a service; it takes no stock (`crate::service_order`).
                return Ok(Change::Keep(order, Planned::Nothing("a service order is never allocated".into())));
            }
            match order.status {
                OrderStatus::Received | OrderStatus::Backordered => {}
                OrderStatus::OnHold if matches!(order.hold(), Some(HoldReason::FraudReview(_))) => {
                    // Only staff release it (`usecases::fraud::release`), whatever stock arrives.
                    return Ok(Change::Keep(order, Planned::Nothing("still on hold for fraud review".into())));
                }
                OrderStatus::OnHold if order.hold().is_some_and(|h| h.is_review()) => {
                    // Released by the merchant's approval or the product's listing; one
                    // interrupted before its release lets allocation release it here.
                    if let Some(hold) = crate::usecases::intake::review_hold(ports, &order).await? {
                        return Ok(Change::Keep(order, Planned::Nothing(format!("still on hold: {hold}"))));
                    }
                    order.transition(OrderStatus::Received, now, REVIEW_RELEASE).map_err(invariant)?;
                }
                OrderStatus::OnHold if order.hold() == Some(HoldReason::AddressMissing) => {
                    if !has_address(&order) {
                        return Ok(Change::Keep(order, Planned::Nothing("still on hold: no shipping address".into())));
                    }
                    order
                        .transition(OrderStatus::Received, now, "released from hold: the address is given")
                        .map_err(invariant)?;
                }
                OrderStatus::OnHold => {
                    match apply_sku_mappings(ports, order.channel, &order.merchant_id.clone(), &mut order.lines).await? {
                        Some(unknown) => {
                            return Ok(Change::Keep(order, Planned::Nothing(format!("still on hold: {unknown}"))));
                        }
                        None => {
                            order
                                .transition(OrderStatus::Received, now, "released from hold: every SKU is stocked or mapped now")
                                .map_err(invariant)?;
                        }
                    }
                }
                OrderStatus::Allocated => return Ok(Change::Keep(order, Planned::AlreadyAllocated)),
                other => return Ok(Change::Keep(order, Planned::Nothing(format!("order is already {other}")))),
            }
            if order.channel.takes_set_aside() {
                // A claim's (or a group-buy join's) units are set aside already: its plan was made with the claim.
                let Some(plan) = order.allocation.clone() else {
                    return Err(StoreError::msg(format!("flash-sale order {} has no plan from its claim", order.order_id)));
                };
                order.transition(OrderStatus::Allocated, now, plan.explanation.clone()).map_err(invariant)?;
                order.allocation = Some(Allocation { planned_at: now, ..plan });
                let reserve = Outgoing::of(&ReserveOrder { order_id: order.order_id.clone() });
                return Ok(Change::WriteWith(order, Effects::send(reserve), Planned::Allocated));
            }
            match plan_against_current_stock(ports, &order, allocation::plan).await? {
                Ok(plan) => {
                    order.transition(OrderStatus::Allocated, now, plan.explanation.clone()).map_err(invariant)?;
                    let joined = merge_with_customers_orders(ports, merge, &order, &plan.lines).await?;
                    let mut allocation = plan.into_allocation(now);
                    if let Some(joined) = &joined {
                        order.note(now, merge_note(joined));
                    }
                    allocation.merge = joined;
                    order.allocation = Some(allocation);
                    let reserve = Outgoing::of(&ReserveOrder { order_id: order.order_id.clone() });
                    Ok(Change::WriteWith(order, Effects::send(reserve), Planned::Allocated))
                }
                Err(shortage) if order.status == OrderStatus::Backordered => {
                    Ok(Change::Keep(order, Planned::Nothing(format!("still short: {shortage}"))))
                }
                Err(shortage) => {
                    let why = crate::usecases::supply::backorder_note(ports, &order, &shortage, "not enough stock").await?;
                    order.transition(OrderStatus::Backordered, now, why).map_err(invariant)?;
                    Ok(Change::Write(order, Planned::Backordered))
                }
            }
        })
    })
    .await?;
    let Some(changed) = changed else {
        return Ok(Handled::Skipped(format!("no order {order_id}")));
    };
    // A write of an order that was ever on hold follows its release: resolve its alert
    // (resolving an alert already resolved changes nothing).
    if changed.written && changed.order.was_held_for_staff() {
        resolve_on_hold(ports, &changed.order).await?;
    }
    if let Some(joined) = changed.order.allocation.as_ref().and_then(|a| a.merge.as_ref()).filter(|_| changed.written) {
        // A note only: the merge stands on the order's own plan whether or not it lands.
        if let Err(err) = note_merge_on_group(ports, &changed.order, joined, now).await {
            tracing::warn!(order_id = %order_id, error = %err, "the merge could not be noted on the group's other orders");
        }
    }
    let handled = match changed.value {
        // Its reservation message went with the write.
        Planned::Allocated => Handled::Moved(OrderStatus::Allocated),
        Planned::AlreadyAllocated => {
            ports.queue.send(&Outgoing::of(&ReserveOrder { order_id: order_id.clone() })).await?;
            Handled::Skipped("already allocated; reservation re-queued".into())
        }
        Planned::Backordered => Handled::Moved(OrderStatus::Backordered),
        Planned::Nothing(why) => Handled::Skipped(why),
    };
    tracing::info!(order_id = %order_id, outcome = ?handled, "allocation decided");
    Ok(handled)
}

/// What one reservation attempt decided for an order.
enum Held {
    /// The order reached this status (reserved or backordered).
    Decided(OrderStatus),
    /// Stock ran short; the order was planned again and is tried again.
    Replanned,
    /// The order at `version` holds `hold_id`, stock for an earlier plan (it was planned
    /// again since): give that hold back, try again.
    StalePlan {
        version: u64,
        hold_id: HoldId,
    },
    /// The order's hold went away between the reserve and the read: try again.
    HoldMoved,
    /// A cancelled or backordered order (at `version`) holds no stock: give back what a
    /// late reservation took.
    ReleaseLeftover {
        status: OrderStatus,
        version: u64,
    },
    Nothing(String),
}

/// Holds the stock of an allocated order's plan, all or nothing (`InventoryStore::reserve`). If another order took
/// the stock first, re-plans against fresh stock: backorders when that stock cannot cover
/// the order; after `MAX_REPLANS` lost races fails, so the queue delivers it again later.
pub async fn reserve_order(ports: &Ports, order_id: &OrderId) -> Result<Handled, StoreError> {
    let mut replans = 0;
    for _ in 0..CONFLICT_RETRIES + MAX_REPLANS {
        let now = ports.clock.now();
        let changed = update_with_retry(&*ports.orders, order_id, |order| Box::pin(reserve_once(ports, order, now))).await?;
        let Some(changed) = changed else {
            return Ok(Handled::Skipped(format!("no order {order_id}")));
        };
        match changed.value {
            Held::Decided(status) => {
                tracing::info!(order_id = %order_id, status = %status, "reservation decided");
                return Ok(Handled::Moved(status));
            }
            Held::Replanned => {
                replans += 1;
                if replans >= MAX_REPLANS {
                    // Stock is still there but other orders keep taking it first: stay
                    // allocated with the latest plan; the queue delivers this again later.
                    return Err(StoreError::msg(format!(
                        "order {order_id} lost {replans} races for stock in a row; it stays allocated and is tried again"
                    )));
                }
            }
            Held::StalePlan { version, hold_id } => release_judged(ports, order_id, version, &hold_id).await?,
            Held::HoldMoved => {}
            Held::ReleaseLeftover { status, version } => {
                if let Some(hold) = ports.inventory.reservation(order_id).await? {
                    release_judged(ports, order_id, version, &hold.hold_id).await?;
                }
                return Ok(Handled::Skipped(format!("order is {status}")));
            }
            Held::Nothing(why) => return Ok(Handled::Skipped(why)),
        }
    }
    Err(StoreError::msg(format!("order {order_id} could not be reserved after repeated races")))
}

/// One try at holding the order's planned stock, and the order as that leaves it.
async fn reserve_once(ports: &Ports, mut order: Order, now: chrono::DateTime<chrono::Utc>) -> Result<Change<Held>, StoreError> {
    match order.status {
        OrderStatus::Allocated => {}
        status @ (OrderStatus::Cancelled | OrderStatus::Backordered) => {
            let version = order.version;
            return Ok(Change::Keep(order, Held::ReleaseLeftover { status, version }));
        }
        OrderStatus::Received => return Ok(Change::Keep(order, Held::Nothing("order is not allocated yet".into()))),
        other => return Ok(Change::Keep(order, Held::Nothing(format!("order is already {other}")))),
    }
    let Some(allocation) = &order.allocation else {
        return Err(StoreError::msg(format!("order {} is allocated but has no plan", order.order_id)));
    };
    let plan = Reservation::new(allocation.lines.clone());
    // A plan that takes another merchant's units needs its grant still active: a grant
    // revoked since the plan was made sends the order back to planning, so a seller takes
    // no owner's units that the owner no longer lets it sell. (A revoke landing between
    // this read and the reserve below is not seen: that hold stays, as holds placed before
    // a revoke do.)
    if !order.channel.takes_set_aside() {
        if let Some(lost) = revoked_consignment(ports, &order, &allocation.lines).await? {
            let outcome = plan_again(ports, &mut order, now, &lost).await?;
            return Ok(Change::Write(order, outcome));
        }
    }
    // A flash-sale claim's units were set aside with the sale: its hold takes those.
    let placed = if order.channel.takes_set_aside() {
        ports.inventory.hold_set_aside(&order.order_id, &plan).await?
    } else {
        ports.inventory.reserve(&order.order_id, &plan).await?
    };
    let outcome = match placed {
        ReserveOutcome::AlreadyReserved => match ports.inventory.reservation(&order.order_id).await? {
            Some(held) if held.reservation == plan => reserved(&mut order, &plan, now)?,
            Some(held) => {
                let version = order.version;
                return Ok(Change::Keep(order, Held::StalePlan { version, hold_id: held.hold_id }));
            }
            None => return Ok(Change::Keep(order, Held::HoldMoved)),
        },
        ReserveOutcome::Reserved { .. } => reserved(&mut order, &plan, now)?,
        ReserveOutcome::Insufficient { warehouse, owner, sku, available } => {
            let whose = if owner == order.merchant_id { String::new() } else { format!(" of {owner}'s") };
            let lost = format!("{warehouse} has only {available}{whose} of {sku} left");
            plan_again(ports, &mut order, now, &lost).await?
        }
    };
    if let Held::Decided(OrderStatus::Reserved) = outcome {
        // The reservation is recorded: the order enters its merchant's sales history, and
        // each warehouse of its plan is asked to ship its lines, in the same write.
        let effects = Effects {
            send: vec![crate::outbound::OutboundNotice::fulfilment_requests(&order)],
            ..Effects::record_sale(Sale::of(&order))
        };
        return Ok(Change::WriteWith(order, effects, outcome));
    }
    Ok(Change::Write(order, outcome))
}

/// The order lost its planned stock (`lost` says how): planned again against fresh stock,
/// its ties broken its own way so racing losers spread out; backordered only when the stock
/// the order may use cannot cover it.
async fn plan_again(
    ports: &Ports,
    order: &mut Order,
    now: chrono::DateTime<chrono::Utc>,
    lost: &str,
) -> Result<Held, StoreError> {
    match plan_against_current_stock(ports, order, allocation::replan).await? {
        Ok(plan) => {
            order.note(now, format!("re-planned ({lost}): {}", plan.explanation));
            order.allocation = Some(plan.into_allocation(now));
            Ok(Held::Replanned)
        }
        Err(shortage) => {
            let why = crate::usecases::supply::backorder_note(ports, order, &shortage, "stock ran out").await?;
            order.transition(OrderStatus::Backordered, now, why).map_err(invariant)?;
            order.allocation = None;
            Ok(Held::Decided(OrderStatus::Backordered))
        }
    }
}

/// Why a planned line of another merchant's units may not be held any more (no grant to
/// the order's merchant active now covers it), if one may not; reads the grants only for a
/// plan that takes another merchant's units.
async fn revoked_consignment(
    ports: &Ports,
    order: &Order,
    lines: &[crate::order::AllocatedLine],
) -> Result<Option<String>, StoreError> {
    if lines.iter().all(|l| l.owner == order.merchant_id) {
        return Ok(None);
    }
    let grants = ports.consignments.consignments_received(&order.merchant_id).await?;
    Ok(lines.iter().filter(|l| l.owner != order.merchant_id).find_map(|l| {
        Consignment::best(&grants, &l.owner, &order.merchant_id, &l.warehouse, &l.sku)
            .is_none()
            .then(|| format!("{}'s grant of {} in {} is revoked", l.owner, l.sku, l.warehouse))
    }))
}

/// The order holds its plan: it is reserved.
fn reserved(order: &mut Order, plan: &Reservation, now: chrono::DateTime<chrono::Utc>) -> Result<Held, StoreError> {
    order.transition(OrderStatus::Reserved, now, format!("{} units held", plan.units())).map_err(invariant)?;
    Ok(Held::Decided(OrderStatus::Reserved))
}

/// Gives back the hold `hold_id` that a decision over the order at `version` judged stale
/// or left over, if the order is still at that version. A newer version of the order may
/// have placed a hold of its own (another worker, after a re-plan), which is not ours to
/// free; and the release names the hold judged, so a hold placed after it was read is
/// never the one freed.
async fn release_judged(ports: &Ports, order_id: &OrderId, version: u64, hold_id: &HoldId) -> Result<(), StoreError> {
    let now = ports.orders.get_order(order_id).await?.map(|order| order.version);
    if now != Some(version) {
        tracing::debug!(order_id = %order_id, version, "the order changed since its hold was judged; left as it is");
        return Ok(());
    }
    match ports.inventory.release(order_id, hold_id).await? {
        ReleaseOutcome::Released(held) => {
            tracing::warn!(order_id = %order_id, hold_id = %hold_id, lines = held.lines().len(), "released stock held for a plan the order no longer has");
            requeue_backorders(ports, released_skus(&held)).await?;
        }
        ReleaseOutcome::NothingHeld | ReleaseOutcome::NotThatHold => {
            tracing::debug!(order_id = %order_id, hold_id = %hold_id, "the hold judged was already gone");
        }
    }
    Ok(())
}

/// Gives back whatever the order holds now: reads its hold and releases that one by id,
/// reading again if it was replaced in between. Only for an order that must hold nothing
/// (a cancelled one): for any other, a hold placed after the read is legitimate.
/// Answers the lines given back, if any.
pub async fn release_current_hold(ports: &Ports, order_id: &OrderId) -> Result<Option<Reservation>, StoreError> {
    for _ in 0..CONFLICT_RETRIES {
        let Some(hold) = ports.inventory.reservation(order_id).await? else {
            return Ok(None);
        };
        match ports.inventory.release(order_id, &hold.hold_id).await? {
            ReleaseOutcome::Released(held) => return Ok(Some(held)),
            ReleaseOutcome::NothingHeld => return Ok(None),
            ReleaseOutcome::NotThatHold => continue,
        }
    }
    Err(StoreError::msg(format!("the hold of order {order_id} kept changing: gave up after {CONFLICT_RETRIES} releases")))
}

/// The SKUs whose units a release gave back, each once.
pub fn released_skus(held: &Reservation) -> Vec<crate::Sku> {
    let skus: std::collections::BTreeSet<_> = held.lines().iter().map(|line| line.sku.clone()).collect();
    skus.into_iter().collect()
}

/// Queues `AllocateOrder` for the backorders waiting for each of `skus`, oldest first, at
/// most [`MAX_REQUEUED_PER_SKU`] per SKU (an order waiting for several is sent once).
/// Called after stock of those SKUs came back (a release) or was counted in. Planning a
/// backorder again is harmless when it is still short: `allocate_order` leaves it
/// backordered. Answers how many orders were queued.
pub async fn requeue_backorders(ports: &Ports, skus: impl IntoIterator<Item = crate::Sku>) -> Result<usize, StoreError> {
    let mut sent = std::collections::BTreeSet::new();
    for sku in skus {
        let waiting = ports.orders.backorders_waiting_for(&sku, MAX_REQUEUED_PER_SKU).await?;
        for order_id in waiting {
            if sent.contains(&order_id) {
                continue;
            }
            ports.queue.send(&Outgoing::of(&AllocateOrder::new(order_id.clone()))).await?;
            tracing::info!(order_id = %order_id, sku = %sku, "backorder queued for planning again");
            sent.insert(order_id);
        }
    }
    Ok(sent.len())
}

/// A planner: `allocation::plan` for a first plan, `allocation::replan` after a lost race.
pub type Planner = fn(
    &Order,
    &BTreeMap<crate::Sku, Vec<crate::stock::StockLevel>>,
    &[crate::stock::Warehouse],
    &CostModel,
    &[Consignment],
) -> Result<Plan, Shortage>;

/// Reads the stock of every SKU of the order, the warehouses, the carriers' rate tables,
/// the catalogue's facts of the order's SKUs and the consignment grants the order's
/// merchant received (active ones only), plans with `planner`, and chooses a carrier and
/// service for each shipment of the plan from the same rate tables
/// ([`crate::carrier_choice`]).
pub async fn plan_against_current_stock(
    ports: &Ports,
    order: &Order,
    planner: Planner,
) -> Result<Result<Plan, Shortage>, StoreError> {
    let mut stock = BTreeMap::new();
    let mut weights = std::collections::HashMap::new();
    let mut facts = std::collections::HashMap::new();
    for sku in order.units_by_sku().into_keys() {
        let levels = ports.inventory.stock_of(&sku).await?;
        if let Some(known) = ports.catalogue.get_sku(&sku).await? {
            weights.insert(sku.clone(), known.weight_g);
            facts.insert(sku.clone(), known);
        }
        stock.insert(sku, levels);
    }
    let warehouses = ports.warehouses.list_warehouses().await?;
    let tables = ports.rates.list_rates().await?;
    let model = CostModel::new(tables.clone(), weights);
    let mut grants = ports.consignments.consignments_received(&order.merchant_id).await?;
    grants.retain(Consignment::is_active);
    Ok(planner(order, &stock, &warehouses, &model, &grants).map(|mut plan| {
        let now = ports.clock.now();
        plan.shipments = crate::carrier_choice::choose_for_plan(order, &plan.lines, &warehouses, &tables, &facts, now);
        plan
    }))
}

/// The merge group `order` (just planned to ship `lines`) joins, if one of its customer's
/// recent orders can share a parcel with it at a saving.
async fn merge_with_customers_orders(
    ports: &Ports,
    policy: &MergePolicy,
    order: &Order,
    lines: &[crate::order::AllocatedLine],
) -> Result<Option<Merge>, StoreError> {
    if policy.window.is_zero() {
        return Ok(None);
    }
    let query = OrderQuery::of(order.merchant_id.clone()).customer(order.customer.id.clone());
    let recent = ports.orders.find_orders(&query, &Page::first(MERGE_CANDIDATES)).await?.orders;
    if !recent.iter().any(|other| policy.may_merge(order, other)) {
        return Ok(None);
    }
    let mut weights = std::collections::HashMap::new();
    let skus: std::collections::BTreeSet<_> = lines
        .iter()
        .chain(recent.iter().filter_map(|o| o.allocation.as_ref()).flat_map(|a| &a.lines))
        .map(|l| l.sku.clone())
        .collect();
    for sku in skus {
        if let Some(facts) = ports.catalogue.get_sku(&sku).await? {
            weights.insert(sku, facts.weight_g);
        }
    }
    let model = CostModel::new(ports.rates.list_rates().await?, weights);
    let warehouses = ports.warehouses.list_warehouses().await?;
    Ok(merge::choose(policy, &model, &warehouses, order, lines, &recent))
}

/// The merged order's timeline note: with whom, from where, and what it saves.
fn merge_note(merge: &Merge) -> String {
    format!("ships in one parcel with order {} {}", list(&merge.with), merge_terms(merge))
}

/// "from <warehouses> (merge group <id>; saves <amount> against separate parcels)".
fn merge_terms(merge: &Merge) -> String {
    format!("from {} (merge group {}; saves {} against separate parcels)", list(&merge.warehouses), merge.group, merge.saving)
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Notes on each other order of the group that `order` now shares its parcels, once
/// (a repeat of the same note is not written again).
async fn note_merge_on_group(ports: &Ports, order: &Order, merge: &Merge, now: DateTime<Utc>) -> Result<(), StoreError> {
    let note = format!("order {} joins its parcel {}", order.order_id, merge_terms(merge));
    for other in &merge.with {
        let note = note.clone();
        update_with_retry(&*ports.orders, other, |mut other| {
            let note = note.clone();
            Box::pin(async move {
                if other.timeline.iter().any(|e| e.detail == note) {
                    return Ok(Change::Keep(other, ()));
                }
                other.note(now, note);
                Ok::<_, StoreError>(Change::Write(other, ()))
            })
        })
        .await?;
    }
    Ok(())
}

/// A transition the code just checked for cannot fail; if it does, the stored order is corrupt.
fn invariant(err: InvalidTransition) -> StoreError {
    StoreError::new("unexpected order state", err)
}
