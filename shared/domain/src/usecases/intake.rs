//! Taking an order in: store it once per (channel, external id), then queue it for
//! allocation; apply a later version only when it is newer than the one applied; route a
//! channel's cancel to the cancel use case.

use crate::alert::{Alert, AlertKind, AlertStatus};
use crate::consignment::Consignment;
use crate::fraud::FraudRules;
use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{Channel, HoldReason, NewOrder, Order, OrderLine, OrderPart, OrderStatus, OrderUpdate};
use crate::ports::{Effects, InsertOutcome, Ports, RaiseOutcome, StoreError};
use crate::usecases::orders::{cancel_order, CancelError};
use crate::usecases::{update_with_retry, Change};
use crate::{MerchantId, OrderId, Sku};

/// Why a delivery of an order we hold changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotApplied {
    /// The delivery is not newer than the version the order holds (a retry, or an older
    /// version arriving late): applying it could undo a later change.
    Stale,
    /// The channel cancelled an order whose stage no longer allows it (it shipped): an
    /// alert was raised for staff.
    CancelRefused,
}

impl NotApplied {
    pub fn as_str(&self) -> &'static str {
        match self {
            NotApplied::Stale => "stale",
            NotApplied::CancelRefused => "cancel_refused",
        }
    }
}

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
    /// Why the delivery changed nothing, when that is so for a reason of its own.
    #[serde(skip_serializing_if = "Option::is_none", rename = "not_applied_reason")]
    pub not_applied: Option<NotApplied>,
}

/// A line names a SKU that no warehouse has ever counted for the order's merchant (another
/// merchant's stock of it does not count: the order may not be planned from it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lines[{line}].sku: unknown SKU {sku}; no warehouse has ever stocked it for merchant {merchant}")]
pub struct UnknownSku {
    pub line: usize,
    pub sku: Sku,
    pub merchant: MerchantId,
}

/// Why intake failed. A business problem never refuses a paid order (it is stored on
/// hold instead), so only the unexpected is left.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Whether some warehouse has ever counted `sku` for `merchant`, or for another merchant
/// whose active consignment grant lets `merchant` sell it there (any other merchant's stock
/// does not make it known: the order could not be planned from it). `known` remembers the
/// SKUs already found, so a SKU on several lines is looked up once; the grants are read
/// only when the merchant's own stock does not answer, and once (`grants`).
async fn is_known(
    ports: &Ports,
    merchant: &MerchantId,
    known: &mut Vec<Sku>,
    grants: &mut Option<Vec<Consignment>>,
    sku: &Sku,
) -> Result<bool, StoreError> {
    if known.contains(sku) {
        return Ok(true);
    }
    let levels = ports.inventory.stock_of(sku).await?;
    let mut counted = levels.iter().any(|level| &level.owner == merchant);
    if !counted && !levels.is_empty() {
        if grants.is_none() {
            *grants = Some(ports.consignments.consignments_received(merchant).await?);
        }
        let grants = grants.as_deref().unwrap_or_default();
        counted = levels.iter().any(|l| Consignment::best(grants, &l.owner, merchant, &l.warehouse, &l.sku).is_some());
    }
    if counted {
        known.push(sku.clone());
    }
    Ok(counted)
}

/// The first line naming a SKU that no warehouse has ever counted for `merchant` (or for an
/// owner that lets it sell the SKU there on consignment).
pub(crate) async fn first_unknown_sku(
    ports: &Ports,
    merchant: &MerchantId,
    lines: &[OrderLine],
) -> Result<Option<UnknownSku>, StoreError> {
    let (mut known, mut grants) = (Vec::new(), None);
    for (index, line) in lines.iter().enumerate() {
        if !is_known(ports, merchant, &mut known, &mut grants, &line.sku).await? {
            return Ok(Some(UnknownSku { line: index, sku: line.sku.clone(), merchant: merchant.clone() }));
        }
    }
    Ok(None)
}

/// Puts our SKUs on the lines: a line whose SKU no warehouse has counted for `merchant`
/// takes the SKU the channel's is mapped to for `channel` and `merchant`, if one is.
/// Answers the first line whose SKU is still unknown to the merchant. A SKU the merchant
/// stocks somewhere is never looked up, so the usual order costs no extra read.
pub(crate) async fn apply_sku_mappings(
    ports: &Ports,
    channel: Channel,
    merchant: &MerchantId,
    lines: &mut [OrderLine],
) -> Result<Option<UnknownSku>, StoreError> {
    let (mut known, mut grants) = (Vec::new(), None);
    let mut first_unknown = None;
    for (index, line) in lines.iter_mut().enumerate() {
        if is_known(ports, merchant, &mut known, &mut grants, &line.sku).await? {
            continue;
        }
        if let Some(ours) = ports.sku_mappings.mapped_sku(channel, merchant, &line.sku).await? {
            line.sku = ours;
            if is_known(ports, merchant, &mut known, &mut grants, &line.sku).await? {
                continue;
            }
        }
        first_unknown.get_or_insert(UnknownSku { line: index, sku: line.sku.clone(), merchant: merchant.clone() });
    }
    Ok(first_unknown)
}

/// Stores a new order and queues it for allocation, in one atomic write. A second delivery
/// of the same channel order stores nothing and answers with the first order (and queues
/// it for planning again while it waits; allocation is idempotent, so a spare message
/// does no harm).
///
/// A line's SKU that no warehouse has counted but the channel's mapping names becomes
/// ours ([`apply_sku_mappings`]). A paid order is never refused for a business reason:
/// one naming a SKU that no warehouse has ever counted for its merchant (and no mapping) is
/// stored `on_hold` with the reason (`Order::hold`), an
/// alert `order_on_hold` is raised once per order, and nothing is queued. Stock of that
/// SKU counted in queues it again (it waits in the index of backorders), and allocation
/// releases it once every SKU is known.
///
/// A merchant whose onboarding is not approved (`crate::onboarding::may_sell`: one with
/// no onboarding record at all predates onboarding and sells) has its order stored
/// `on_hold` for that reason first; its approval releases it. Then a line whose SKU's
/// listing is not approved or is unlisted holds it as `product_not_sellable`; the
/// listing's approval and listing release it ([`review_hold`]).
///
/// A delivery saying the channel cancelled the order (`NewOrder::cancelled_at`) goes to
/// [`receive_cancel`].
pub async fn receive_order(ports: &Ports, new: NewOrder) -> Result<Receipt, IntakeError> {
    if new.cancelled_at.is_some() {
        return receive_cancel(ports, new).await;
    }
    let now = ports.clock.now();
    let mut new = new;
    let unknown = apply_sku_mappings(ports, new.channel, &new.merchant_id, &mut new.lines).await?;
    let mut order = Order::receive(new, OrderId::generate(), now);
    let hold = match review_hold(ports, &order).await? {
        Some(hold) => Some(hold),
        None => match &unknown {
            Some(unknown) => Some(HoldReason::UnknownSku(unknown.sku.clone())),
            None => fraud_hold(ports, &order).await?,
        },
    };
    if let Some(hold) = &hold {
        order
            .transition(OrderStatus::OnHold, now, hold.to_string())
            .map_err(|e| StoreError::msg(format!("a received order could not be held: {e}")))?;
    }
    // The allocation message is queued in the insert's own atomic write (the outbox), so
    // no crash leaves a received order that nothing will plan.
    let send = match hold {
        None => vec![Outgoing::of(&AllocateOrder::new(order.order_id.clone()))],
        Some(_) => vec![],
    };
    match ports.orders.insert_order_sending(&order, &send).await? {
        InsertOutcome::Duplicate(existing) if existing.order_id != order.order_id => redelivered(ports, &existing, &order).await,
        // Inserted; or our own insert answered as a duplicate because a retried write had
        // landed already (with its message: it is still as stored).
        InsertOutcome::Inserted | InsertOutcome::Duplicate(_) => {
            if order.status == OrderStatus::OnHold {
                raise_on_hold(ports, &order).await?;
            } else {
                tracing::info!(order_id = %order.order_id, channel = %order.channel, external_id = %order.external_id, "order received");
            }
            Ok(Receipt {
                order_id: order.order_id,
                status: order.status,
                duplicate: false,
                updated: vec![],
                not_updated: vec![],
                not_applied: None,
            })
        }
    }
}

/// The review's hold of an order, if any: its merchant's onboarding not approved
/// (`crate::onboarding::may_sell`), else a line's SKU whose listing in the reviewed
/// catalogue is not on sale (`crate::product::listed_for_sale`; a SKU with no listing
/// passes). `None` once both are settled: what releases an order held for either.
pub(crate) async fn review_hold(ports: &Ports, order: &Order) -> Result<Option<HoldReason>, StoreError> {
    if !crate::usecases::onboarding::may_sell(&*ports.merchants, &order.merchant_id).await? {
        return Ok(Some(HoldReason::MerchantNotApproved));
    }
    // Collected before the awaits: a closure held across them would tie the future to
    // one lifetime, and the order update loops need it for any.
    let skus: Vec<&Sku> = order.lines.iter().map(|line| &line.sku).collect();
    let not_listed = crate::usecases::products::first_not_listed(&*ports.products, skus).await?;
    Ok(not_listed.map(|(sku, why)| HoldReason::ProductNotSellable { sku, why }))
}

/// Waiting to be planned: received, backordered, or on hold (allocation releases an order
/// on hold once its SKUs are known).
fn is_waiting(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Received | OrderStatus::Backordered | OrderStatus::OnHold)
}

/// The hold of a webhook order the fraud rules score at or above their mark
/// ([`crate::fraud`]); `None` for one they pass, and for orders the platform makes or
/// imports (their own limits apply).
async fn fraud_hold(ports: &Ports, order: &Order) -> Result<Option<HoldReason>, StoreError> {
    if !Channel::WEBHOOK.contains(&order.channel) {
        return Ok(None);
    }
    let rules = FraudRules::default();
    let assessment = crate::usecases::fraud::screen(ports, order, &rules).await?;
    Ok(assessment.holds(&rules).then_some(HoldReason::FraudReview(assessment)))
}

/// Raises the alert `order_on_hold` of an order stored on hold for staff (an unknown SKU,
/// a fraud review), once per order; an order held for its address (the buyer's to give)
/// raises none.
pub(crate) async fn raise_on_hold(ports: &Ports, order: &Order) -> Result<(), StoreError> {
    let held = format!("{} order {} ({}) is on hold", order.channel, order.external_id, order.order_id);
    let message = match order.hold() {
        Some(HoldReason::UnknownSku(sku)) => format!(
            "{held}: it names SKU {sku}, which no warehouse has counted for merchant {}; stock it for the merchant or map the channel's SKU to one of ours",
            order.merchant_id
        ),
        Some(HoldReason::FraudReview(assessment)) => format!(
            "{held} for fraud review, score {}: {}; release it (POST /orders/{}/release) or cancel it",
            assessment.score,
            assessment.reasons.join("; "),
            order.order_id
        ),
        Some(HoldReason::MerchantNotApproved) => format!(
            "{held}: merchant {} is not approved to sell yet; its approval (POST /merchants/{}/application/approve) releases it",
            order.merchant_id, order.merchant_id
        ),
        Some(HoldReason::ProductNotSellable { sku, why }) => format!(
            "{held}: product {sku} is {why} in the reviewed catalogue; its approval and listing (POST /products/{sku}/approve, .../list) release it"
        ),
        Some(HoldReason::AddressMissing) | None => return Ok(()),
    };
    let alert = Alert::about_order(AlertKind::OrderOnHold, &order.order_id, &order.merchant_id, message, ports.clock.now());
    if let RaiseOutcome::Raised = ports.alerts.raise(&alert).await? {
        tracing::info!(order_id = %order.order_id, alert_id = %alert.alert_id, "order stored on hold: alert raised");
    }
    Ok(())
}

/// Resolves the alert `order_on_hold` of an order that proceeded. The store finds the
/// order's alert by (kind, order): raising it again answers the one raised at intake.
pub(crate) async fn resolve_on_hold(ports: &Ports, order: &Order) -> Result<(), StoreError> {
    let now = ports.clock.now();
    let probe = Alert::about_order(AlertKind::OrderOnHold, &order.order_id, &order.merchant_id, "released", now);
    let alert_id = match ports.alerts.raise(&probe).await? {
        RaiseOutcome::AlreadyRaised(existing) => existing.alert_id,
        // Its alert was lost (a crash after the insert): the one just raised is resolved.
        RaiseOutcome::Raised => probe.alert_id,
    };
    // Already resolved (a repeated release) is `Unchanged`: nothing more to do.
    let outcome = ports.alerts.move_alert(&alert_id, AlertStatus::Resolved, now).await?;
    tracing::info!(order_id = %order.order_id, alert_id = %alert_id, outcome = ?outcome, "order on hold released: alert resolved");
    Ok(())
}

/// The channel cancelled the order. One we hold is cancelled as its stage allows, through
/// [`cancel_order`] (which releases its stock; cancelling again is a no-op). One whose
/// stage refuses (it shipped) stays as it is and an alert `channel_cancel_refused` is raised
/// once per order, however often the cancel is delivered. One we never saw is stored
/// already cancelled (nothing is queued, and its SKUs are not checked), so a late create
/// for it finds it and cannot bring it back.
pub async fn receive_cancel(ports: &Ports, new: NewOrder) -> Result<Receipt, IntakeError> {
    let now = ports.clock.now();
    let channel = new.channel;
    let mut order = Order::receive(new, OrderId::generate(), now);
    order
        .transition(OrderStatus::Cancelled, now, format!("cancelled by {channel} before the order was taken in"))
        .map_err(|e| StoreError::msg(format!("a received order could not be cancelled: {e}")))?;
    match ports.orders.insert_order(&order).await? {
        InsertOutcome::Duplicate(existing) if existing.order_id != order.order_id => cancel_held(ports, &existing, channel).await,
        InsertOutcome::Inserted | InsertOutcome::Duplicate(_) => {
            tracing::info!(order_id = %order.order_id, channel = %channel, external_id = %order.external_id, "cancel of an unseen order stored as cancelled");
            Ok(Receipt {
                order_id: order.order_id,
                status: OrderStatus::Cancelled,
                duplicate: false,
                updated: vec![],
                not_updated: vec![],
                not_applied: None,
            })
        }
    }
}

async fn cancel_held(ports: &Ports, existing: &Order, channel: Channel) -> Result<Receipt, IntakeError> {
    let receipt = |order: &Order, not_applied| Receipt {
        order_id: order.order_id.clone(),
        status: order.status,
        duplicate: true,
        updated: vec![],
        not_updated: vec![],
        not_applied,
    };
    let refused = match cancel_order(ports, &existing.order_id, &format!("cancelled by {channel}")).await {
        Ok(order) => return Ok(receipt(&order, None)),
        Err(CancelError::NotCancellable(refused)) => refused,
        Err(CancelError::NotFound(id)) => {
            return Err(StoreError::msg(format!("order {id} vanished while the channel cancelled it")).into())
        }
        Err(CancelError::Unexpected(e)) => return Err(e.into()),
    };
    let message = format!(
        "{channel} cancelled order {} ({}), but it is {}: stop the shipment or refund the buyer",
        existing.external_id, existing.order_id, refused.from
    );
    let alert = Alert::about_order(
        AlertKind::ChannelCancelRefused,
        &existing.order_id,
        &existing.merchant_id,
        message,
        ports.clock.now(),
    );
    if let RaiseOutcome::Raised = ports.alerts.raise(&alert).await? {
        tracing::warn!(order_id = %existing.order_id, alert_id = %alert.alert_id, status = %refused.from, "channel cancel refused: alert raised");
    }
    let order = ports.orders.get_order(&existing.order_id).await?.unwrap_or_else(|| existing.clone());
    Ok(receipt(&order, Some(NotApplied::CancelRefused)))
}

/// A channel delivered an order we hold. A delivery not newer than the version the order
/// holds (`channel_updated_at`: a retry, or an older version arriving late) changes
/// nothing, so it can never undo an operator's change or a newer version. A newer one
/// changes what the order's stage allows (`Order::apply_update`) and becomes the version
/// held. What the stage refuses is reported, not written, so repeated updates do not grow
/// the order.
async fn redelivered(ports: &Ports, existing: &Order, delivered: &Order) -> Result<Receipt, IntakeError> {
    let now = ports.clock.now();
    let source = delivered.channel.as_str();
    let changed = update_with_retry(&*ports.orders, &existing.order_id, |mut order| {
        Box::pin(async move {
            if delivered.channel_updated_at <= order.channel_updated_at {
                return Ok::<_, IntakeError>(Change::Keep(order, (OrderUpdate::default(), Some(NotApplied::Stale))));
            }
            let update = order.compare_update(delivered);
            // The channel saying it is paid now (Shopify's orders/updated) marks it paid.
            let newly_paid = delivered.paid && !order.paid;
            if update.applied.is_empty() && !newly_paid {
                return Ok(Change::Keep(order, (update, None)));
            }
            if newly_paid {
                order.paid = true;
                order.note(now, format!("paid, as {source} says"));
            }
            if !update.applied.is_empty() {
                order.apply_update(delivered, now, source);
            }
            order.channel_updated_at = delivered.channel_updated_at;
            // A waiting order is planned again with the change that may let it proceed.
            if is_waiting(order.status) {
                let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
                return Ok(Change::WriteWith(order, Effects::send(allocate), (update, None)));
            }
            // Warehouses working on it get the request again, with the new address.
            if !update.applied.is_empty() && crate::outbound::warehouses_told(order.status) {
                let again = crate::outbound::OutboundNotice::fulfilment_requests(&order);
                return Ok(Change::WriteWith(order, Effects::send(again), (update, None)));
            }
            Ok(Change::Write(order, (update, None)))
        })
    })
    .await?
    .ok_or_else(|| StoreError::msg(format!("order {} vanished while a channel update was applied", existing.order_id)))?;
    let written = changed.written;
    let (order, (update, not_applied)) = (changed.order, changed.value);
    // Heal a lost alert (a crash between the insert and the raise): raising is idempotent.
    raise_on_hold(ports, &order).await?;
    // A delivery that changed nothing still gives a waiting order another try against
    // current stock (a spare allocation message is harmless); a change took its message
    // with it.
    if !written && is_waiting(order.status) {
        ports.queue.send(&Outgoing::of(&AllocateOrder::new(order.order_id.clone()))).await?;
    }
    tracing::info!(order_id = %order.order_id, channel = %order.channel, updated = ?update.applied, refused = ?update.refused, "order delivered again");
    Ok(Receipt {
        order_id: order.order_id,
        status: order.status,
        duplicate: true,
        updated: update.applied,
        not_updated: update.refused,
        not_applied,
    })
}
