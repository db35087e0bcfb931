//! Reading, finding, cancelling and modifying orders.

use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{Customer, InvalidTransition, Order, OrderPart, OrderPatch, OrderStatus};
use crate::ports::{Effects, HoldEffect, Ports, StoreError};
pub use crate::ports::{OrderQuery, OrdersPage, Page};
use crate::usecases::{update_with_retry, Change};
use crate::{money, OrderId, ValidationError};

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("give at least one of customer, phone, channel, external_id, order_number")]
    NoFilter,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// One page of the merchant's orders matching every filter given, newest first; the
/// filters are applied before the page is cut.
pub async fn find_orders(ports: &Ports, query: &OrderQuery, page: &Page) -> Result<OrdersPage, FindError> {
    if !query.is_narrowed() {
        return Err(FindError::NoFilter);
    }
    Ok(ports.orders.find_orders(query, page).await?)
}

/// Why an order could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// One order by our id.
pub async fn get_order(ports: &Ports, order_id: &OrderId) -> Result<Order, GetError> {
    ports.orders.get_order(order_id).await?.ok_or_else(|| GetError::NotFound(order_id.clone()))
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    NotCancellable(#[from] InvalidTransition),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Cancels an order that has not shipped and gives back the stock it holds, in one atomic
/// write (`Effects::release`): no crash leaves a cancelled order holding stock. The
/// backorders waiting for the SKUs given back are then queued for planning again
/// (`requeue_backorders`; a crash before that is healed by the sweeper, which plans old
/// backorders again). Cancelling a cancelled order answers it as it is, and gives back
/// what it may hold still (a reservation that landed after the cancel), so a retry is
/// always safe.
pub async fn cancel_order(ports: &Ports, order_id: &OrderId, reason: &str) -> Result<Order, CancelError> {
    Ok(cancel_when(ports, order_id, reason, |_| true).await?.0)
}

/// Cancels, for [`PAYMENT_EXPIRED`](crate::ledger::PAYMENT_EXPIRED), an order that is still
/// reserved and unpaid when the write decides (a payment recorded meanwhile wins the race
/// and the order stays), giving its stock back as `cancel_order` does: the ledger records
/// the release as an `expire`. True if it was cancelled now.
pub async fn expire_unpaid(ports: &Ports, order_id: &OrderId) -> Result<bool, CancelError> {
    let still_unpaid = |order: &Order| !order.paid && order.status == OrderStatus::Reserved;
    Ok(cancel_when(ports, order_id, crate::ledger::PAYMENT_EXPIRED, still_unpaid).await?.1)
}

/// What the cancel's write decided.
enum Cancelled {
    /// Written now, giving back this hold (if the order had one), or the units of a
    /// flash-sale claim its order never held (their SKU).
    Now(Option<crate::reservation::Reservation>, Option<crate::Sku>),
    /// It was cancelled before.
    Already,
    /// `applies` said no: left as it is.
    NotApplicable,
}

async fn cancel_when(
    ports: &Ports,
    order_id: &OrderId,
    reason: &str,
    applies: fn(&Order) -> bool,
) -> Result<(Order, bool), CancelError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if order.status == OrderStatus::Cancelled {
                return Ok(Change::Keep(order, Cancelled::Already));
            }
            if !applies(&order) {
                return Ok(Change::Keep(order, Cancelled::NotApplicable));
            }
            // Warehouses asked to ship the order are told to stop, with the write.
            let told = crate::outbound::warehouses_told(order.status);
            // A claim's order that never held its units gives them back to the sale.
            let unheld = crate::usecases::flash_sales::unheld_claim(&order);
            order.transition(OrderStatus::Cancelled, now, reason)?;
            let send = if told { vec![crate::outbound::OutboundNotice::fulfilment_cancellations(&order)] } else { vec![] };
            // The hold read here is released with the write, conditional on it still
            // being the order's: a hold placed in between makes the write a lost race.
            let held = ports.inventory.reservation(order_id).await?;
            let (hold, returned) = match (&held, unheld) {
                (Some(hold), _) => (HoldEffect::Release(hold.hold_id.clone()), None),
                (None, Some(claim)) => {
                    let sku = claim.line.sku.clone();
                    (HoldEffect::ReturnClaim(Box::new(claim)), Some(sku))
                }
                (None, None) => (HoldEffect::NoneHeld, None),
            };
            let effects = Effects { send, hold, sale: None };
            let value = Cancelled::Now(held.map(|hold| hold.reservation), returned);
            Ok::<_, CancelError>(Change::WriteWith(order, effects, value))
        })
    })
    .await?
    .ok_or_else(|| CancelError::NotFound(order_id.clone()))?;
    let (held, returned) = match changed.value {
        Cancelled::NotApplicable => return Ok((changed.order, false)),
        Cancelled::Now(held, returned) => (held, returned),
        Cancelled::Already => (None, None),
    };
    let released = match held {
        Some(held) => Some(held),
        None if !changed.written => crate::usecases::fulfilment::release_current_hold(ports, order_id).await?,
        None => None,
    };
    // The units it held may serve orders waiting for them. A repeated cancel releases
    // nothing, but an earlier try may have released and stopped before re-queueing: it
    // re-queues for every SKU of the order (planning a backorder again is harmless).
    let skus = match (&released, changed.written) {
        (Some(held), _) => crate::usecases::fulfilment::released_skus(held),
        (None, false) => changed.order.units_by_sku().into_keys().collect(),
        // A claim's units went back to the sale, or to stock if its close had begun.
        (None, true) => returned.into_iter().collect(),
    };
    crate::usecases::fulfilment::requeue_backorders(ports, skus).await?;
    // An order cancelled while on hold needs no more of staff: its alert is resolved
    // (again, harmlessly, on a repeated cancel).
    if changed.order.was_held_for_staff() {
        crate::usecases::intake::resolve_on_hold(ports, &changed.order).await?;
    }
    if changed.written {
        tracing::info!(order_id = %order_id, reason, "order cancelled");
    }
    Ok((changed.order, changed.written))
}

/// A payment as an operator or a payment provider reports it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub amount: rust_decimal::Decimal,
    pub currency: crate::Currency,
    pub reference: String,
}

/// Longest payment reference accepted.
pub const MAX_PAYMENT_REFERENCE: usize = 128;

impl NewPayment {
    /// Checks a payment: an amount above zero with at most the currency's minor digits, a
    /// currency, a reference of 1 to 128 characters. Errors name the field.
    pub fn parse(amount: &str, currency: &str, reference: &str) -> Result<Self, ValidationError> {
        let currency = crate::Currency::parse(currency).map_err(|e| e.within("currency"))?;
        let amount = money::parse_price(amount, currency).map_err(|e| e.within("amount"))?;
        if amount <= rust_decimal::Decimal::ZERO {
            return Err(ValidationError::new("amount", "must be above zero"));
        }
        if amount.normalize().scale() > currency.minor_digits() {
            return Err(ValidationError::new(
                "amount",
                format!("has more decimals than {currency} has ({})", currency.minor_digits()),
            ));
        }
        let reference = crate::validation::clean_text(reference);
        if reference.is_empty() || reference.chars().count() > MAX_PAYMENT_REFERENCE {
            return Err(ValidationError::new("reference", format!("must be 1 to {MAX_PAYMENT_REFERENCE} characters")));
        }
        Ok(Self { amount, currency, reference })
    }
}

/// Why a payment was refused.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error("the order is in {expected}, not {given}")]
    WrongCurrency { expected: crate::Currency, given: crate::Currency },
    #[error("the order is cancelled; a payment for it cannot be recorded")]
    Cancelled,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Records a payment for an order and marks it paid (so its hold no longer expires), in
/// the order's own write. Idempotent by reference: a payment whose reference the order has
/// already answers the order as it is, with `false`.
pub async fn record_payment(ports: &Ports, order_id: &OrderId, payment: &NewPayment) -> Result<(Order, bool), PaymentError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if order.payments.iter().any(|p| p.reference == payment.reference) {
                return Ok(Change::Keep(order, ()));
            }
            if order.currency != payment.currency {
                return Err(PaymentError::WrongCurrency { expected: order.currency, given: payment.currency });
            }
            if order.status == OrderStatus::Cancelled {
                return Err(PaymentError::Cancelled);
            }
            order.payments.push(crate::order::Payment {
                amount: payment.amount,
                currency: payment.currency,
                reference: payment.reference.clone(),
                at: now,
            });
            order.paid = true;
            order
                .note(now, format!("payment {} {} recorded (reference {})", payment.amount, payment.currency, payment.reference));
            Ok(Change::Write(order, ()))
        })
    })
    .await?
    .ok_or_else(|| PaymentError::NotFound(order_id.clone()))?;
    if changed.written {
        tracing::info!(order_id = %order_id, reference = %payment.reference, "payment recorded");
    }
    Ok((changed.order, changed.written))
}

/// Why a modification was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModifyError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    UnknownSku(#[from] crate::usecases::intake::UnknownSku),
    /// A free-text field over [`crate::order::MAX_TEXT_CHARS`]; nothing is changed.
    #[error("{} is {} characters; at most {} are allowed", .0.field, .0.chars, crate::order::MAX_TEXT_CHARS)]
    TooLong(crate::order::Overlong),
    #[error("{} cannot change: the order is {status}", OrderPart::join(parts))]
    NotModifiable { parts: Vec<OrderPart>, status: OrderStatus },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// `PATCH /orders/{id}`: replaces the customer, shipping address or lines, all or nothing:
/// if the order's stage does not allow one of the parts asked for, nothing changes.
/// A backordered order whose lines changed is planned again; so is an order on hold, which
/// proceeds once its lines name only SKUs we stock.
pub async fn modify_order(ports: &Ports, order_id: &OrderId, patch: OrderPatch) -> Result<Order, ModifyError> {
    if patch.is_empty() {
        return Err(ValidationError::new("", "give at least one of customer, shipping_address, lines").into());
    }
    if let Some(overlong) = patch.first_overlong() {
        return Err(ModifyError::TooLong(overlong));
    }
    if let Some(lines) = &patch.lines {
        // Known means stocked for the order's merchant, which never changes: read it once.
        let Some(order) = ports.orders.get_order(order_id).await? else {
            return Err(ModifyError::NotFound(order_id.clone()));
        };
        if let Some(unknown) = crate::usecases::intake::first_unknown_sku(ports, &order.merchant_id, lines).await? {
            return Err(unknown.into());
        }
    }
    let now = ports.clock.now();
    let patch = &patch;
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            for (i, line) in patch.lines.iter().flatten().enumerate() {
                money::check_price(line.unit_price, order.currency).map_err(|e| e.within(&format!("lines[{i}].unit_price")))?;
            }
            // A flash-sale order's lines are what its claim took from the sale: never changed.
            if order.channel == crate::order::Channel::FlashSale && patch.lines.is_some() {
                return Err(ModifyError::NotModifiable { parts: vec![OrderPart::Lines], status: order.status });
            }
            let mut wanted = order.clone();
            // A patch edits contact details: the card paid with and the invoice details stay
            // unless it names them.
            wanted.customer = match patch.customer.clone() {
                Some(customer) => Customer {
                    card: customer.card.or(wanted.customer.card),
                    billing: customer.billing.or(wanted.customer.billing),
                    ..customer
                },
                None => wanted.customer,
            };
            wanted.shipping_address = patch.shipping_address.clone().unwrap_or(wanted.shipping_address);
            wanted.lines = patch.lines.clone().unwrap_or(wanted.lines);
            let update = order.compare_update(&wanted);
            if !update.refused.is_empty() {
                return Err(ModifyError::NotModifiable { parts: update.refused, status: order.status });
            }
            if update.applied.is_empty() {
                return Ok(Change::Keep(order, update));
            }
            order.apply_update(&wanted, now, "request");
            // A backorder is planned again, and an order on hold is planned (allocation
            // releases it once its SKUs are all known): queued with the change.
            if matches!(order.status, OrderStatus::Backordered | OrderStatus::OnHold) {
                let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
                return Ok(Change::WriteWith(order, Effects::send(allocate), update));
            }
            // Warehouses working on it get the request again, with the new address.
            if crate::outbound::warehouses_told(order.status) {
                let again = crate::outbound::OutboundNotice::fulfilment_requests(&order);
                return Ok(Change::WriteWith(order, Effects::send(again), update));
            }
            Ok(Change::Write(order, update))
        })
    })
    .await?
    .ok_or_else(|| ModifyError::NotFound(order_id.clone()))?;
    if changed.written {
        tracing::info!(order_id = %order_id, parts = ?changed.value.applied, "order modified");
    }
    Ok(changed.order)
}
