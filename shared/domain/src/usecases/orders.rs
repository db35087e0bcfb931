//! Reading, finding, cancelling and modifying orders.

use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{Channel, InvalidTransition, Order, OrderPart, OrderPatch, OrderStatus};
use crate::ports::{OrderLookup, Ports, StoreError};
use crate::usecases::{update_with_retry, Change};
use crate::{money, CustomerId, ExternalId, OrderId, ValidationError};

/// Most orders one lookup answers.
pub const FIND_LIMIT: usize = 100;

/// What `GET /orders` looks for: every filter given must match; at least one is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    pub customer: Option<CustomerId>,
    /// A normalised phone number (`order::normalise_phone`).
    pub phone: Option<String>,
    pub channel: Option<Channel>,
    pub external_id: Option<ExternalId>,
}

impl OrderQuery {
    /// The most selective index for this query; `None` when no filter is given.
    fn lookup(&self) -> Option<OrderLookup> {
        Some(match self {
            Self { external_id: Some(e), .. } => OrderLookup::ExternalId(e.clone()),
            Self { customer: Some(c), .. } => OrderLookup::Customer(c.clone()),
            Self { phone: Some(p), .. } => OrderLookup::Phone(p.clone()),
            Self { channel: Some(c), .. } => OrderLookup::Channel(*c),
            _ => return None,
        })
    }

    fn matches(&self, order: &Order) -> bool {
        self.customer.as_ref().is_none_or(|c| &order.customer.id == c)
            && self.phone.as_ref().is_none_or(|p| order.customer.phone.as_ref() == Some(p))
            && self.channel.is_none_or(|c| order.channel == c)
            && self.external_id.as_ref().is_none_or(|e| &order.external_id == e)
    }
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("give at least one of customer, phone, channel, external_id")]
    NoFilter,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Orders matching every filter given, newest first.
pub async fn find_orders(ports: &Ports, query: &OrderQuery) -> Result<Vec<Order>, FindError> {
    let lookup = query.lookup().ok_or(FindError::NoFilter)?;
    let found = ports.orders.find_orders(&lookup, FIND_LIMIT).await?;
    Ok(found.into_iter().filter(|o| query.matches(o)).collect())
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

/// Cancels an order that has not shipped and gives back any stock it held.
/// Cancelling a cancelled order answers it as it is, and releases again (idempotent), so a
/// retry after a failure between the two writes still frees the stock.
pub async fn cancel_order(ports: &Ports, order_id: &OrderId, reason: &str) -> Result<Order, CancelError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if order.status == OrderStatus::Cancelled {
                return Ok(Change::Keep(order, ()));
            }
            order.transition(OrderStatus::Cancelled, now, reason)?;
            Ok::<_, CancelError>(Change::Write(order, ()))
        })
    })
    .await?
    .ok_or_else(|| CancelError::NotFound(order_id.clone()))?;
    let _ = ports.inventory.release(order_id).await?;
    if changed.written {
        tracing::info!(order_id = %order_id, "order cancelled");
    }
    Ok(changed.order)
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
    #[error("{} cannot change: the order is {status}", OrderPart::join(parts))]
    NotModifiable { parts: Vec<OrderPart>, status: OrderStatus },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// `PATCH /orders/{id}`: replaces the customer, shipping address or lines, all or nothing:
/// if the order's stage does not allow one of the parts asked for, nothing changes.
/// A backordered order whose lines changed is planned again.
pub async fn modify_order(ports: &Ports, order_id: &OrderId, patch: OrderPatch) -> Result<Order, ModifyError> {
    if patch.is_empty() {
        return Err(ValidationError::new("", "give at least one of customer, shipping_address, lines").into());
    }
    if let Some(lines) = &patch.lines {
        if let Some(unknown) = crate::usecases::intake::first_unknown_sku(&*ports.inventory, lines).await? {
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
            let mut wanted = order.clone();
            wanted.customer = patch.customer.clone().unwrap_or(wanted.customer);
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
            Ok(Change::Write(order, update))
        })
    })
    .await?
    .ok_or_else(|| ModifyError::NotFound(order_id.clone()))?;
    // A backorder is planned again; also when this is a retry of a change that was written
    // but whose re-plan message was lost.
    if changed.order.status == OrderStatus::Backordered {
        ports.queue.send(&Outgoing::of(&AllocateOrder { order_id: order_id.clone() })).await?;
    }
    if changed.written {
        tracing::info!(order_id = %order_id, parts = ?changed.value.applied, "order modified");
    }
    Ok(changed.order)
}
