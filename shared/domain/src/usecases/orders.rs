//! Reading, finding and cancelling orders.

use crate::messages::Message;
use crate::order::{normalise_phone, Channel, InvalidTransition, Order, OrderPart, OrderPatch, OrderStatus};
use crate::ports::{Clock, InventoryStore, OrderLookup, OrderStore, Queue, StoreError, UpdateOutcome};
use crate::usecases::CONFLICT_RETRIES;
use crate::{CustomerId, ExternalId, OrderId, ValidationError};

/// Most orders one lookup answers.
pub const FIND_LIMIT: usize = 100;

/// `GET /orders?customer=&phone=&channel=&external_id=`: every given filter must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct OrderFilter {
    pub customer: Option<String>,
    pub phone: Option<String>,
    pub channel: Option<String>,
    pub external_id: Option<String>,
}

/// A filter checked and ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CheckedFilter {
    customer: Option<CustomerId>,
    phone: Option<String>,
    channel: Option<Channel>,
    external_id: Option<ExternalId>,
}

impl OrderFilter {
    fn check(&self) -> Result<CheckedFilter, ValidationError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let filter = CheckedFilter {
            customer: given(&self.customer).map(CustomerId::parse).transpose().map_err(|e| e.within("customer"))?,
            phone: given(&self.phone)
                .map(|p| normalise_phone(&p).ok_or_else(|| ValidationError::new("phone", format!("{p:?} is not a phone number"))))
                .transpose()?,
            channel: given(&self.channel)
                .map(|c| Channel::parse(&c).ok_or_else(|| ValidationError::new("channel", format!("unknown channel {c:?}"))))
                .transpose()?,
            external_id: given(&self.external_id).map(ExternalId::parse).transpose().map_err(|e| e.within("external_id"))?,
        };
        if filter == (CheckedFilter { customer: None, phone: None, channel: None, external_id: None }) {
            return Err(ValidationError::new("", "give at least one of customer, phone, channel, external_id"));
        }
        Ok(filter)
    }
}

impl CheckedFilter {
    /// The most selective index for this filter.
    fn lookup(&self) -> OrderLookup {
        match self {
            Self { channel: Some(c), external_id: Some(e), .. } => OrderLookup::External(*c, e.clone()),
            Self { external_id: Some(e), .. } => OrderLookup::ExternalId(e.clone()),
            Self { customer: Some(c), .. } => OrderLookup::Customer(c.clone()),
            Self { phone: Some(p), .. } => OrderLookup::Phone(p.clone()),
            Self { channel: Some(c), .. } => OrderLookup::Channel(*c),
            _ => unreachable!("check() refuses an empty filter"),
        }
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
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Orders matching every filter given, newest first.
pub async fn find_orders(orders: &dyn OrderStore, filter: &OrderFilter) -> Result<Vec<Order>, FindError> {
    let filter = filter.check()?;
    let found = orders.find_orders(&filter.lookup(), FIND_LIMIT).await?;
    Ok(found.into_iter().filter(|o| filter.matches(o)).collect())
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
pub async fn cancel_order(
    orders: &dyn OrderStore,
    inventory: &dyn InventoryStore,
    clock: &dyn Clock,
    order_id: &OrderId,
    reason: &str,
) -> Result<Order, CancelError> {
    for _ in 0..CONFLICT_RETRIES {
        let mut order = orders.get_order(order_id).await?.ok_or_else(|| CancelError::NotFound(order_id.clone()))?;
        if order.status == OrderStatus::Cancelled {
            let _ = inventory.release(order_id).await?;
            return Ok(order);
        }
        order.transition(OrderStatus::Cancelled, clock.now(), reason)?;
        if let UpdateOutcome::Updated { version } = orders.update_order(&order).await? {
            let _ = inventory.release(order_id).await?;
            order.version = version;
            tracing::info!(order_id = %order_id, "order cancelled");
            return Ok(order);
        }
    }
    Err(StoreError::msg(format!("order {order_id} kept changing while it was being cancelled")).into())
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
pub async fn modify_order(
    orders: &dyn OrderStore,
    inventory: &dyn InventoryStore,
    queue: &dyn Queue,
    clock: &dyn Clock,
    order_id: &OrderId,
    body: &[u8],
) -> Result<Order, ModifyError> {
    for _ in 0..CONFLICT_RETRIES {
        let mut order = orders.get_order(order_id).await?.ok_or_else(|| ModifyError::NotFound(order_id.clone()))?;
        let patch = OrderPatch::parse(body, order.currency)?;
        if let Some(lines) = &patch.lines {
            if let Some(unknown) = crate::usecases::intake::first_unknown_sku(inventory, lines).await? {
                return Err(unknown.into());
            }
        }
        let mut wanted = order.clone();
        wanted.customer = patch.customer.unwrap_or(wanted.customer);
        wanted.shipping_address = patch.shipping_address.unwrap_or(wanted.shipping_address);
        wanted.lines = patch.lines.unwrap_or(wanted.lines);
        let update = order.compare_update(&wanted);
        if !update.refused.is_empty() {
            return Err(ModifyError::NotModifiable { parts: update.refused, status: order.status });
        }
        if update.applied.is_empty() {
            // A retry of a change that was written but whose re-plan message was lost.
            if order.status == OrderStatus::Backordered {
                queue.send(&Message::AllocateOrder { order_id: order_id.clone() }).await?;
            }
            return Ok(order);
        }
        order.apply_update(&wanted, clock.now(), "request");
        if let UpdateOutcome::Updated { version } = orders.update_order(&order).await? {
            if order.status == OrderStatus::Backordered {
                queue.send(&Message::AllocateOrder { order_id: order_id.clone() }).await?;
            }
            order.version = version;
            tracing::info!(order_id = %order_id, parts = ?update.applied, "order modified");
            return Ok(order);
        }
    }
    Err(StoreError::msg(format!("order {order_id} kept changing while it was being modified")).into())
}
