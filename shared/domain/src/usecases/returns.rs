//! Returns and exchanges: a buyer's request for a delivered order's units (one atomic write
//! that claims them, [`ReturnStore::create_return`]), staff's approval or refusal, the
//! buyer's ship-back, the parcel's receipt (by staff, or by the carrier's `delivered` event
//! for its tracking number), the inspection that puts each unit back on sellable or damaged
//! stock in the write that records it, and the settlement: a refund recorded on the return
//! and queued for the payment system in the same write, or the replacement's order through
//! the normal intake (channel `exchange`, the return id its external id, unpaid).
//!
//! Every move is one write conditional on the version the return was read at: two staff
//! steps racing leave one, and the loser is told the state the winner left.

use std::collections::BTreeMap;

use crate::messages::Outgoing;
use crate::order::{Channel, Charges, NewOrder, OrderLine};
use crate::outbound::OutboundNotice;
use crate::ports::{CreateReturnOutcome, MoveReturnOutcome, Ports, ReturnEffects, StoreError};
use crate::returns::{
    delivered_units, Finding, InvalidReturnTransition, Return, ReturnError, ReturnEvent, ReturnId, ReturnKind, ReturnPolicy,
    ReturnRequest, ReturnRuleError, ReturnState, StockBack,
};
use crate::shipment::ShipmentStatus;
use crate::{CarrierId, ExternalId, Order, OrderId, OrderNumber, Sku, TrackingNumber, ValidationError};

/// Why a return action did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ReturnActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no order {0}")]
    UnknownOrder(OrderId),
    #[error("no return {0}")]
    UnknownReturn(ReturnId),
    #[error(transparent)]
    Rule(#[from] ReturnRuleError),
    #[error(
        "at most {returnable} more units of {sku} can be returned: the order's other returns claim the rest of what it delivered"
    )]
    TooMany { sku: Sku, returnable: u32 },
    #[error(transparent)]
    Transition(#[from] InvalidReturnTransition),
    #[error("tracking number {0} is another return's")]
    TrackingTaken(String),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<ReturnError> for ReturnActionError {
    fn from(e: ReturnError) -> Self {
        match e {
            ReturnError::Transition(t) => Self::Transition(t),
            ReturnError::Invalid(v) => Self::Invalid(v),
            ReturnError::Rule(r) => Self::Rule(r),
        }
    }
}

/// A return asked for (or asked for before under this customer and key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub ret: Return,
    /// True when this answer is the first request's.
    pub repeated: bool,
}

/// Asks for a return of `order`'s units as `request` says, under `policy`: checked by the
/// domain ([`Return::request`]), then stored with its claim on the units in one write. The
/// same customer and key again answers the first return.
pub async fn request_return(
    ports: &Ports,
    order: &Order,
    request: ReturnRequest,
    policy: &ReturnPolicy,
) -> Result<Requested, ReturnActionError> {
    let ret = Return::request(order, request, policy, ports.clock.now())?;
    let delivered: Vec<(Sku, u32)> = delivered_units(order).into_iter().collect();
    match ports.returns.create_return(&ret, &delivered).await? {
        CreateReturnOutcome::Created => {
            tracing::info!(return_id = %ret.return_id, order_id = %ret.order_id, kind = ret.kind.as_str(), "return requested");
            Ok(Requested { ret, repeated: false })
        }
        CreateReturnOutcome::Duplicate(first) => Ok(Requested { ret: *first, repeated: true }),
        CreateReturnOutcome::TooMany { sku, returnable } => Err(ReturnActionError::TooMany { sku, returnable }),
    }
}

/// The return under `id`.
pub async fn return_of(ports: &Ports, id: &ReturnId) -> Result<Return, ReturnActionError> {
    ports.returns.get_return(id).await?.ok_or_else(|| ReturnActionError::UnknownReturn(id.clone()))
}

/// What the move to `next` does besides writing it: an inspection puts its units back on
/// stock; a refund is queued for the payment system.
fn effects_of(next: &Return) -> ReturnEffects {
    match next.state {
        ReturnState::Inspected => ReturnEffects { stock: StockBack::of(next), ..ReturnEffects::default() },
        ReturnState::Refunded => ReturnEffects { send: vec![refund_notice(next)], ..ReturnEffects::default() },
        _ => ReturnEffects::default(),
    }
}

/// The refund notice of a refunded return: one per return (its id names the request), so
/// the payment system hears of it once however often it is delivered.
fn refund_notice(refunded: &Return) -> Outgoing {
    Outgoing::of(&OutboundNotice::refund_recorded(refunded))
}

/// Moves the return `id` by `event` under `policy`, as one write conditional on the version
/// it was read at, with the move's effects. A concurrent move in between answers the
/// transition refused from the state it left.
pub async fn advance(
    ports: &Ports,
    id: &ReturnId,
    event: ReturnEvent,
    policy: &ReturnPolicy,
) -> Result<Return, ReturnActionError> {
    let current = return_of(ports, id).await?;
    move_from(ports, &current, event, policy).await
}

async fn move_from(
    ports: &Ports,
    current: &Return,
    event: ReturnEvent,
    policy: &ReturnPolicy,
) -> Result<Return, ReturnActionError> {
    let name = event.name();
    let next = current.apply(event, policy, ports.clock.now())?;
    match ports.returns.move_return(current, &next, &effects_of(&next)).await? {
        MoveReturnOutcome::Moved => {
            tracing::info!(return_id = %next.return_id, from = %current.state, to = %next.state, "return moved");
            Ok(next)
        }
        MoveReturnOutcome::Conflict(now) => Err(InvalidReturnTransition { from: now, event: name }.into()),
        MoveReturnOutcome::NotFound => Err(ReturnActionError::UnknownReturn(current.return_id.clone())),
        MoveReturnOutcome::TrackingTaken => {
            Err(ReturnActionError::TrackingTaken(next.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default()))
        }
    }
}

/// The buyer shipped the return back with `carrier` and `tracking_number`. Events the
/// carrier sent for that number before are applied at once (a parcel already delivered is
/// received).
pub async fn ship_back(
    ports: &Ports,
    id: &ReturnId,
    carrier: CarrierId,
    tracking_number: TrackingNumber,
    policy: &ReturnPolicy,
) -> Result<Return, ReturnActionError> {
    let shipped = advance(ports, id, ReturnEvent::Ship { carrier, tracking_number: tracking_number.clone() }, policy).await?;
    match receive_on_delivery(ports, &tracking_number).await? {
        Some(received) => Ok(received),
        None => Ok(shipped),
    }
}

/// The carrier said `tracking` is delivered: the return shipped back under it is received,
/// once. `None` when no return has the number, or nothing moved (not delivered yet, or
/// received already).
pub async fn receive_on_delivery(ports: &Ports, tracking: &TrackingNumber) -> Result<Option<Return>, StoreError> {
    let Some(ret) = ports.returns.return_by_tracking(tracking).await? else {
        return Ok(None);
    };
    if ret.state != ReturnState::InTransit {
        return Ok(None);
    }
    let events = ports.shipments.events_of(tracking).await?;
    if !events.iter().any(|e| e.status == ShipmentStatus::Delivered) {
        return Ok(None);
    }
    // Receiving checks none of the policy's terms.
    match move_from(ports, &ret, ReturnEvent::Receive, &ReturnPolicy::default()).await {
        Ok(received) => Ok(Some(received)),
        // Received by staff (or another delivery of the event) in between: nothing to do.
        Err(ReturnActionError::Transition(_)) => Ok(None),
        Err(ReturnActionError::Unexpected(e)) => Err(e),
        Err(other) => Err(StoreError::msg(format!("return {} could not be received: {other}", ret.return_id))),
    }
}

/// Inspects the return: each line's units restocked or damaged (by SKU), in the write that
/// moves it; backorders waiting for a restocked SKU are queued for planning again (a crash
/// before that is healed by the sweeper, which plans old backorders again); then settles it
/// ([`settle`]). A settlement that fails leaves the return inspected, to settle again.
pub async fn inspect(
    ports: &Ports,
    id: &ReturnId,
    findings: BTreeMap<Sku, Finding>,
    note: String,
    policy: &ReturnPolicy,
) -> Result<Return, ReturnActionError> {
    let restocked: Vec<Sku> = findings.iter().filter(|(_, f)| f.restock > 0).map(|(sku, _)| sku.clone()).collect();
    let inspected = advance(ports, id, ReturnEvent::Inspect { findings, note }, policy).await?;
    if let Err(e) = crate::usecases::fulfilment::requeue_backorders(ports, restocked).await {
        // The inspection stands; the sweeper plans the backorders again.
        tracing::warn!(return_id = %id, error = %e, "backorders waiting for restocked units could not be queued");
    }
    match settle_inspected(ports, &inspected, policy).await {
        Ok(settled) => Ok(settled),
        Err(ReturnActionError::Transition(_)) => return_of(ports, id).await,
        Err(e) => {
            tracing::warn!(return_id = %id, error = %e, "an inspected return could not be settled yet; settle it again");
            Ok(inspected)
        }
    }
}

/// Settles an inspected return: a refund (its amount on the return, the notice queued for
/// the payment system in the same write) or the exchange's order.
pub async fn settle(ports: &Ports, id: &ReturnId, policy: &ReturnPolicy) -> Result<Return, ReturnActionError> {
    let current = return_of(ports, id).await?;
    settle_inspected(ports, &current, policy).await
}

async fn settle_inspected(ports: &Ports, current: &Return, policy: &ReturnPolicy) -> Result<Return, ReturnActionError> {
    let event = match current.kind {
        ReturnKind::Return => ReturnEvent::Refund(current.refund_due(policy)),
        ReturnKind::Exchange => {
            // Refuse before making an order when the return cannot take the step.
            current.state.on(current.kind, &ReturnEvent::Exchange { order_id: OrderId::generate() })?;
            ReturnEvent::Exchange { order_id: exchange_order(ports, current).await? }
        }
    };
    move_from(ports, current, event, policy).await
}

/// The exchange's order for `ret`, made through the normal intake (allocation, reservation)
/// once: channel `exchange`, the return id its external id and number, the original order's
/// customer and address, each line's replacement at the price paid, unpaid. A second call
/// finds the first order (the store's unique channel, merchant and external id) and, being
/// no newer, changes nothing of it.
pub async fn exchange_order(ports: &Ports, ret: &Return) -> Result<OrderId, ReturnActionError> {
    let original =
        ports.orders.get_order(&ret.order_id).await?.ok_or_else(|| ReturnActionError::UnknownOrder(ret.order_id.clone()))?;
    let id = ret.return_id.as_str();
    let invalid = |what: &str| StoreError::msg(format!("return id {id} is not a valid {what}"));
    // The inspection's time, the same on every try: a second intake is a stale redelivery
    // of the first order and changes nothing.
    let at = ret.updated_at;
    let new = NewOrder {
        channel: Channel::Exchange,
        external_id: ExternalId::parse(id).map_err(|_| invalid("external id"))?,
        order_number: OrderNumber::parse(id).map_err(|_| invalid("order number"))?,
        merchant_id: ret.merchant_id.clone(),
        placed_at: at,
        currency: ret.currency,
        customer: original.customer.clone(),
        shipping_address: original.shipping_address.clone(),
        lines: ret
            .lines
            .iter()
            .map(|l| OrderLine {
                sku: l.replacement.clone().unwrap_or_else(|| l.sku.clone()),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        charges: Charges::default(),
        channel_updated_at: at,
        cancelled_at: None,
        // Made by the platform: unpaid until the payment system settles the exchange.
        paid: false,
        deliver_by: None,
    };
    let receipt = crate::usecases::intake::receive_order(ports, new).await.map_err(|e| match e {
        crate::usecases::intake::IntakeError::Unexpected(e) => ReturnActionError::Unexpected(e),
    })?;
    tracing::info!(return_id = %ret.return_id, order_id = %receipt.order_id, duplicate = receipt.duplicate, "exchange order made");
    Ok(receipt.order_id)
}
