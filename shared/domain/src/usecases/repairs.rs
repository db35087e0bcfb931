//! Repairs: a storefront books one for its customer (idempotent per customer and key),
//! staff quote, start, complete, ship back and close it, and the customer accepts,
//! declines or cancels. Every step is one conditional write of the repair from the state
//! it was read in ([`RepairStore::move_repair`]) with what the step does besides: the
//! acceptance inserts the repair's service order, the start takes its parts out of stock,
//! the close delivers the order and a cancel after acceptance cancels it.
//!
//! A merchant sees only its own repairs, a customer only its own: another's reads as
//! unknown.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::order::AllocatedLine;
use crate::order::Channel;
use crate::ports::{CreateRepairOutcome, MoveRepairOutcome, Ports, ServiceOrderWrite, StoreError};
use crate::repair::{
    InvalidRepairTransition, PartLine, Quote, Repair, RepairError, RepairEvent, RepairId, RepairRequest, RepairState,
};
use crate::service_order::{follow, service_order, ServiceCharge, ServiceEnd};
use crate::{Currency, CustomerId, MerchantId, OrderId, Sku, ValidationError, WarehouseId};

use super::CONFLICT_RETRIES;

/// Why a repair action did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum RepairActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no repair {0}")]
    UnknownRepair(RepairId),
    #[error("no warehouse {0} of this merchant")]
    UnknownWorkshop(WarehouseId),
    #[error("part {0} has no price: give one, or list it in the catalogue for this merchant")]
    UnpricedPart(Sku),
    #[error(transparent)]
    Transition(#[from] InvalidRepairTransition),
    #[error("the quote expired at {0}; ask for a new one")]
    QuoteExpired(DateTime<Utc>),
    #[error("only {available} of part {sku} available in the workshop")]
    PartsShort { sku: Sku, available: u32 },
    #[error("the repair's order kept changing; try again")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<RepairError> for RepairActionError {
    fn from(e: RepairError) -> Self {
        match e {
            RepairError::Transition(t) => Self::Transition(t),
            RepairError::Invalid(v) => Self::Invalid(v),
            RepairError::QuoteExpired(at) => Self::QuoteExpired(at),
        }
    }
}

/// A repair booked (or booked before under this customer and key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub repair: Repair,
    pub repeated: bool,
}

/// Books `request` (checked) with `merchant`: its workshop must be one of the merchant's
/// warehouses. The same customer and key again answers the first repair.
pub async fn book(
    ports: &Ports,
    merchant: &MerchantId,
    request: RepairRequest,
    now: DateTime<Utc>,
) -> Result<Booked, RepairActionError> {
    let request = request.check()?;
    match ports.warehouses.get_warehouse(&request.workshop).await? {
        Some(w) if &w.merchant_id == merchant => {}
        _ => return Err(RepairActionError::UnknownWorkshop(request.workshop)),
    }
    let repair = Repair::book(merchant.clone(), request, now);
    match ports.repairs.create_repair(&repair).await? {
        CreateRepairOutcome::Created => {
            tracing::info!(repair_id = %repair.repair_id, customer_id = %repair.customer_id, "repair booked");
            Ok(Booked { repair, repeated: false })
        }
        CreateRepairOutcome::Duplicate(first) => Ok(Booked { repair: *first, repeated: true }),
    }
}

/// The repair, when it is `merchant`'s (and `customer`'s, when given).
pub async fn repair_of(
    ports: &Ports,
    merchant: &MerchantId,
    customer: Option<&CustomerId>,
    id: &RepairId,
) -> Result<Repair, RepairActionError> {
    match ports.repairs.get_repair(id).await? {
        Some(r) if &r.merchant_id == merchant && customer.is_none_or(|c| c == &r.customer_id) => Ok(r),
        _ => Err(RepairActionError::UnknownRepair(id.clone())),
    }
}

/// A part as staff list it: a price of their own, or none to take the catalogue's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRequest {
    pub sku: Sku,
    pub quantity: i64,
    pub unit_price: Option<Decimal>,
}

/// A quote as staff ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    pub currency: Currency,
    pub labour_minor: i64,
    pub parts: Vec<PartRequest>,
    pub valid_until: DateTime<Utc>,
}

/// Quotes `merchant`'s repair: each part priced as given, or at the catalogue's list price
/// of the merchant's own SKU.
pub async fn quote(
    ports: &Ports,
    merchant: &MerchantId,
    id: &RepairId,
    request: QuoteRequest,
    now: DateTime<Utc>,
) -> Result<Repair, RepairActionError> {
    let mut parts = Vec::with_capacity(request.parts.len());
    for (i, part) in request.parts.into_iter().enumerate() {
        let within = |e: ValidationError| e.within(&format!("parts[{i}]"));
        // The quantity is checked before the catalogue is asked for a price.
        crate::repair::check_part_quantity(part.quantity).map_err(within)?;
        let price = match part.unit_price {
            Some(price) => price,
            None => match ports.catalogue.get_sku(&part.sku).await? {
                Some(facts) if &facts.merchant_id == merchant => facts.list_price,
                _ => return Err(RepairActionError::UnpricedPart(part.sku)),
            },
        };
        let line = PartLine::new(part.sku, part.quantity, price, request.currency).map_err(within)?;
        parts.push(line);
    }
    let quote = Quote::new(request.currency, request.labour_minor, parts, request.valid_until, now)?;
    let current = repair_of(ports, merchant, None, id).await?;
    advance(ports, current, RepairEvent::Quote(quote), now).await
}

/// Moves `merchant`'s repair (the customer's, when `customer` is given) by `event` at
/// `now`.
pub async fn step(
    ports: &Ports,
    merchant: &MerchantId,
    customer: Option<&CustomerId>,
    id: &RepairId,
    event: RepairEvent,
    now: DateTime<Utc>,
) -> Result<Repair, RepairActionError> {
    let current = repair_of(ports, merchant, customer, id).await?;
    advance(ports, current, event, now).await
}

/// The customer accepts the quote of their repair: the repair's order is made with it.
pub async fn accept(
    ports: &Ports,
    merchant: &MerchantId,
    customer: &CustomerId,
    id: &RepairId,
    now: DateTime<Utc>,
) -> Result<Repair, RepairActionError> {
    step(ports, merchant, Some(customer), id, RepairEvent::Accept { at: now, order_id: OrderId::generate() }, now).await
}

/// Writes `current` moved by `event`, with its order and parts, as one conditional write;
/// an order that changed in between is read again (a bounded number of times).
async fn advance(ports: &Ports, current: Repair, event: RepairEvent, now: DateTime<Utc>) -> Result<Repair, RepairActionError> {
    let name = event.name();
    let next = current.apply(event, now)?;
    let parts = if next.state == RepairState::InRepair { parts_used(&next) } else { Vec::new() };
    for _ in 0..CONFLICT_RETRIES {
        let order = order_write(ports, &current, &next, now).await?;
        match ports.repairs.move_repair(&next, current.state, &order, &parts).await? {
            MoveRepairOutcome::Moved => {
                tracing::info!(repair_id = %next.repair_id, from = %current.state, to = %next.state, "repair moved");
                return Ok(next);
            }
            MoveRepairOutcome::Conflict(state) => return Err(InvalidRepairTransition { from: state, event: name }.into()),
            MoveRepairOutcome::NotFound => return Err(RepairActionError::UnknownRepair(next.repair_id)),
            MoveRepairOutcome::PartsShort { sku, available } => return Err(RepairActionError::PartsShort { sku, available }),
            MoveRepairOutcome::OrderChanged => continue,
        }
    }
    Err(RepairActionError::Busy)
}

/// The stock each part of the repair comes out of: the workshop's, of the merchant.
pub fn parts_used(repair: &Repair) -> Vec<AllocatedLine> {
    repair
        .parts()
        .iter()
        .map(|p| AllocatedLine {
            warehouse: repair.workshop.clone(),
            owner: repair.merchant_id.clone(),
            sku: p.sku.clone(),
            quantity: p.quantity,
            transfer_price: None,
        })
        .collect()
}

/// What the move from `current` to `next` does to the repair's order: made on acceptance,
/// delivered on the close, cancelled with an accepted repair.
async fn order_write(
    ports: &Ports,
    current: &Repair,
    next: &Repair,
    now: DateTime<Utc>,
) -> Result<ServiceOrderWrite, RepairActionError> {
    let end = match next.state {
        RepairState::Accepted => return Ok(ServiceOrderWrite::Insert(Box::new(repair_order(next, now)?))),
        RepairState::Completed => ServiceEnd::Done,
        RepairState::Cancelled => ServiceEnd::Cancelled,
        _ => return Ok(ServiceOrderWrite::Untouched),
    };
    let Some(order_id) = &current.order_id else { return Ok(ServiceOrderWrite::Untouched) };
    let order = ports
        .orders
        .get_order(order_id)
        .await?
        .ok_or_else(|| StoreError::msg(format!("the order {order_id} of repair {} is missing", current.repair_id)))?;
    let detail = format!("repair {} {}", next.repair_id, next.state);
    Ok(follow(&order, end, now, &detail)?.map_or(ServiceOrderWrite::Untouched, |o| ServiceOrderWrite::Update(Box::new(o))))
}

/// The order of an accepted repair: its quote's labour and parts, unpaid.
pub fn repair_order(repair: &Repair, now: DateTime<Utc>) -> Result<crate::Order, RepairActionError> {
    let (Some(quote), Some(order_id)) = (&repair.quote, &repair.order_id) else {
        return Err(StoreError::msg(format!("repair {} is accepted without a quote or order id", repair.repair_id)).into());
    };
    let address = match &repair.handover {
        crate::repair::Handover::Pickup { address } => Some(address.clone()),
        crate::repair::Handover::DropOff => None,
    };
    let charge = ServiceCharge {
        channel: Channel::Repair,
        source_id: repair.repair_id.to_string(),
        merchant_id: repair.merchant_id.clone(),
        customer_id: repair.customer_id.clone(),
        currency: quote.currency,
        address,
        lines: quote.order_lines()?,
    };
    Ok(service_order(charge, order_id.clone(), now)?)
}
