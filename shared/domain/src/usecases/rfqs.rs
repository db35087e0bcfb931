//! Requests for quotes: a buyer opens one (the merchants are weighed and their listings
//! quote at once, [`super::rfq_candidates`]), merchants quote lines themselves until
//! quotes close, the buyer reads the cheapest cover and accepts it. Accepting records the
//! parent with its planned sub-orders first, then makes each sub-order through intake
//! (channel `rfq`, external id `<rfq id>-<merchant>`): intake is idempotent per external
//! id, so accepting again after a failure completes the parent and never doubles a child.
//! The parent's status is derived from its children's whenever it is read.

use chrono::{DateTime, Utc};

use super::intake::{self, IntakeError};
use super::rfq_candidates::{self, Weighing};
use crate::order::{Channel, Charges, Customer, NewOrder, OrderLine};
use crate::ports::{CreateRfqOutcome, OrderQuery, Page, Ports, StoreError, UpdateRfqOutcome};
use crate::rfq::request::{Accepted, Candidate, PlannedChild, QuoteRefused, Rfq, RfqRequest};
use crate::rfq::{parent_status, Uncovered};
use crate::{Currency, MerchantId, Order, OrderNumber, OrderStatus, RfqId, Sku, ValidationError};

/// How often a change lost to another change is taken again from the fresh record.
const ATTEMPTS: usize = 5;

/// Why a request-for-quotes action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RfqActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no request for quotes {0}")]
    NotFound(RfqId),
    #[error("request for quotes {0} exists with other terms")]
    Exists(RfqId),
    #[error(transparent)]
    Quote(#[from] QuoteRefused),
    #[error("merchant {merchant} may not quote {sku}: {reason}")]
    NotStocked { merchant: MerchantId, sku: Sku, reason: String },
    #[error(transparent)]
    Uncovered(#[from] Uncovered),
    #[error("request for quotes {0} kept changing; try again")]
    Busy(RfqId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<IntakeError> for RfqActionError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// Opens a request: checked, the merchants weighed, the listings' quotes taken, stored
/// once per id. `true` when stored now; the same id again with the same customer, region
/// and lines answers the stored one (`false`), with other terms `Exists`.
pub async fn open(ports: &Ports, request: RfqRequest) -> Result<(Rfq, bool), RfqActionError> {
    let now = ports.clock.now();
    let request = request.check(now)?;
    let weighing = rfq_candidates::weigh(ports, &request.lines, &request.region, &request.shipping_address, None).await?;
    let quotes = rfq_candidates::listing_quotes(ports, &request.lines, &weighing, now).await?;
    let Weighing { candidates, left_out, .. } = weighing;
    let rfq = Rfq::open(request, candidates, left_out, quotes, now);
    match ports.rfqs.create_rfq(&rfq).await? {
        CreateRfqOutcome::Created => {
            tracing::info!(rfq_id = %rfq.rfq_id, candidates = rfq.candidates.len(), quotes = rfq.quotes.len(), "request for quotes opened");
            Ok((rfq, true))
        }
        CreateRfqOutcome::Exists(stored) => {
            let same = stored.customer_id == rfq.customer_id && stored.region == rfq.region && stored.lines == rfq.lines;
            if same {
                Ok((*stored, false))
            } else {
                Err(RfqActionError::Exists(rfq.rfq_id))
            }
        }
    }
}

/// The request `id`.
pub async fn rfq_of(ports: &Ports, id: &RfqId) -> Result<Rfq, RfqActionError> {
    ports.rfqs.get_rfq(id).await?.ok_or_else(|| RfqActionError::NotFound(id.clone()))
}

/// `merchant`'s own unit price for the line of `sku`, replacing its quote of that line.
/// The merchant must be approved and stock the SKU in a warehouse that ships to the
/// buyer's region; quotes close at `quotes_until` and with the acceptance.
pub async fn quote(
    ports: &Ports,
    id: &RfqId,
    merchant: &MerchantId,
    sku: &Sku,
    unit_price: rust_decimal::Decimal,
) -> Result<Rfq, RfqActionError> {
    for _ in 0..ATTEMPTS {
        let now = ports.clock.now();
        let rfq = rfq_of(ports, id).await?;
        rfq.check_open(now)?;
        let line = rfq.line_of(sku).ok_or_else(|| QuoteRefused::NotAsked(sku.clone()))?;
        let candidate = quoting_merchant(ports, &rfq, merchant, line).await?;
        let mut next = rfq.next_version();
        next.quote(candidate, sku, unit_price, now)?;
        match ports.rfqs.update_rfq(&next).await? {
            UpdateRfqOutcome::Updated => {
                tracing::info!(rfq_id = %id, merchant = %merchant, sku = %sku, "quote recorded");
                return Ok(next);
            }
            UpdateRfqOutcome::Conflict(_) => continue,
            UpdateRfqOutcome::NotFound => return Err(RfqActionError::NotFound(id.clone())),
        }
    }
    Err(RfqActionError::Busy(id.clone()))
}

/// `merchant` weighed for `rfq`, when it may quote the line `line`.
async fn quoting_merchant(ports: &Ports, rfq: &Rfq, merchant: &MerchantId, line: usize) -> Result<Candidate, RfqActionError> {
    let sku = &rfq.lines[line].sku;
    let refused = |reason: String| RfqActionError::NotStocked { merchant: merchant.clone(), sku: sku.clone(), reason };
    let weighing = rfq_candidates::weigh(ports, &rfq.lines, &rfq.region, &rfq.shipping_address, Some(merchant)).await?;
    if let Some(left) = weighing.left_out.into_iter().next() {
        return Err(refused(left.reason));
    }
    let stocked = weighing.available.get(merchant).is_some_and(|a| a.contains_key(sku));
    match weighing.candidates.into_iter().next() {
        Some(candidate) if stocked => Ok(candidate),
        _ => Err(refused(format!("it holds no stock of it in a warehouse that ships to {}", rfq.region.as_str()))),
    }
}

/// One sub-order of a parent, as made (or not yet).
#[derive(Debug, Clone)]
pub struct Child {
    pub planned: PlannedChild,
    pub order: Option<Order>,
}

/// A parent order: its children and its status derived from theirs (`None` before any
/// child is made).
#[derive(Debug, Clone)]
pub struct Parent {
    pub children: Vec<Child>,
    pub status: Option<OrderStatus>,
}

impl Parent {
    /// Whether every planned sub-order was made.
    pub fn complete(&self) -> bool {
        self.children.iter().all(|c| c.order.is_some())
    }
}

/// Accepts the cheapest cover of request `id` and makes its sub-orders. Accepting again
/// answers the same parent, making any sub-order a failure left unmade.
pub async fn accept(ports: &Ports, id: &RfqId) -> Result<(Rfq, Parent), RfqActionError> {
    let rfq = record_acceptance(ports, id).await?;
    let accepted = rfq.accepted.as_ref().expect("an accepted request");
    for child in &accepted.children {
        let receipt = intake::receive_order(ports, sub_order(&rfq, child, accepted.accepted_at)?).await?;
        tracing::info!(rfq_id = %id, merchant = %child.merchant, order_id = %receipt.order_id, duplicate = receipt.duplicate, "sub-order made");
    }
    let parent = parent_of(ports, &rfq).await?;
    Ok((rfq, parent))
}

/// The request with its acceptance stored (now, or before).
async fn record_acceptance(ports: &Ports, id: &RfqId) -> Result<Rfq, RfqActionError> {
    for _ in 0..ATTEMPTS {
        let rfq = rfq_of(ports, id).await?;
        let mut next = rfq.next_version();
        match next.accept(ports.clock.now())? {
            Accepted::Already => return Ok(rfq),
            Accepted::Now => {}
        }
        match ports.rfqs.update_rfq(&next).await? {
            UpdateRfqOutcome::Updated => {
                tracing::info!(rfq_id = %id, "request for quotes accepted");
                return Ok(next);
            }
            UpdateRfqOutcome::Conflict(_) => continue,
            UpdateRfqOutcome::NotFound => return Err(RfqActionError::NotFound(id.clone())),
        }
    }
    Err(RfqActionError::Busy(id.clone()))
}

/// `child`'s order: its merchant's lines at the quoted prices, to the buyer's address,
/// unpaid (as every order the platform makes) and placed when the request was accepted.
fn sub_order(rfq: &Rfq, child: &PlannedChild, placed_at: DateTime<Utc>) -> Result<NewOrder, StoreError> {
    let number = OrderNumber::parse(child.external_id.as_str()).map_err(|e| StoreError::msg(format!("sub-order number: {e}")))?;
    let currency = Currency::parse("CNY").map_err(|e| StoreError::msg(e.to_string()))?;
    let priced = |mut unit_price: rust_decimal::Decimal| {
        unit_price.rescale(currency.minor_digits());
        unit_price
    };
    Ok(NewOrder {
        channel: Channel::Rfq,
        external_id: child.external_id.clone(),
        order_number: number,
        merchant_id: child.merchant.clone(),
        placed_at,
        currency,
        customer: Customer::known(rfq.customer_id.clone()),
        shipping_address: rfq.shipping_address.clone(),
        lines: child
            .lines
            .iter()
            .map(|(line, unit_price)| OrderLine {
                sku: rfq.lines[*line].sku.clone(),
                quantity: rfq.lines[*line].quantity,
                unit_price: priced(*unit_price),
            })
            .collect(),
        charges: Charges::default(),
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: false,
        deliver_by: None,
    })
}

/// The parent of an accepted request: each planned sub-order found by its channel,
/// merchant and external id, and the status derived from theirs.
pub async fn parent_of(ports: &Ports, rfq: &Rfq) -> Result<Parent, StoreError> {
    let mut children = Vec::new();
    for planned in rfq.accepted.iter().flat_map(|a| &a.children) {
        let query = OrderQuery::of(planned.merchant.clone()).channel(Channel::Rfq).external_id(planned.external_id.clone());
        let order = ports.orders.find_orders(&query, &Page::first(1)).await?.orders.into_iter().next();
        children.push(Child { planned: planned.clone(), order });
    }
    let made: Vec<OrderStatus> = children.iter().filter_map(|c| c.order.as_ref().map(|o| o.status)).collect();
    let status = (!made.is_empty()).then(|| parent_status(&made));
    Ok(Parent { children, status })
}
