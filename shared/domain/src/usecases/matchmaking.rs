//! Buyer requests (`crate::matchmaking`): posted once per request id and matched at once
//! against every merchant's listed products; accepted once, as an order through intake.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::intake::{receive_order, IntakeError};
use crate::allocation::CostModel;
use crate::ledger::LedgerKind;
use crate::matchmaking::ranking::StockAge;
use crate::matchmaking::shipping::parcel_to_region;
use crate::matchmaking::text_match::{listing_text, TextMatchError, TextMatcher};
use crate::matchmaking::{rank, BuyerRequest, Candidate, Offer, Proposal, RequestDetails, RequestStatus, StepError};
use crate::order::{Address, Channel, Charges, Customer, NewOrder};
use crate::ports::{CreateBuyerRequestOutcome, Ports, StoreError, UpdateBuyerRequestOutcome};
use crate::product::{sellable, Product, ProductStatus};
use crate::stock::Warehouse;
use crate::{BuyerRequestId, Currency, CustomerId, ExternalId, MerchantId, OrderNumber, Sku};

/// Listings read per page while matching.
const LISTINGS_PAGE: usize = 200;
/// Ledger entries read while looking for a stock's oldest receipt.
const LEDGER_PAGE: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum MatchmakingError {
    #[error("no buyer request {0}")]
    UnknownRequest(BuyerRequestId),
    #[error("buyer request {id} is {status} and cannot be accepted")]
    NotAcceptable { id: BuyerRequestId, status: RequestStatus },
    #[error("buyer request {0} is past its deadline")]
    PastDeadline(BuyerRequestId),
    #[error("buyer request {0} kept changing: try again")]
    Busy(BuyerRequestId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<TextMatchError> for MatchmakingError {
    fn from(e: TextMatchError) -> Self {
        Self::Unexpected(StoreError::new("matching the catalogue failed", e))
    }
}

impl From<IntakeError> for MatchmakingError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// A new request as posted.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub request_id: BuyerRequestId,
    pub customer_id: CustomerId,
    pub details: RequestDetails,
    pub shipping_address: Option<Address>,
    /// Who entered it: `storefront`, or the staff member.
    pub entered_by: String,
}

/// A request as stored, and whether it was stored before this post.
#[derive(Debug, Clone)]
pub struct Posted {
    pub request: BuyerRequest,
    pub repeated: bool,
}

/// Matches `new` against the catalogue and stores it with its proposal. The same request
/// id again answers the stored request (and matches nothing again).
pub async fn submit(ports: &Ports, new: NewRequest) -> Result<Posted, MatchmakingError> {
    if let Some(stored) = ports.buyer_requests.get_buyer_request(&new.request_id).await? {
        return Ok(Posted { request: stored, repeated: true });
    }
    let now = ports.clock.now();
    let mut request =
        BuyerRequest::open(new.request_id, new.customer_id, new.details, new.shipping_address, &new.entered_by, now);
    let proposal = propose(ports, &request.details).await?;
    request.propose(proposal, now).map_err(|e| StoreError::new("a new request could not be proposed", e))?;
    match ports.buyer_requests.create_buyer_request(&request).await? {
        CreateBuyerRequestOutcome::Created => {
            tracing::info!(request_id = %request.request_id, status = %request.status, "buyer request matched");
            Ok(Posted { request, repeated: false })
        }
        CreateBuyerRequestOutcome::Existing(stored) => Ok(Posted { request: *stored, repeated: true }),
    }
}

/// The request, if stored.
pub async fn request(ports: &Ports, id: &BuyerRequestId) -> Result<BuyerRequest, MatchmakingError> {
    ports.buyer_requests.get_buyer_request(id).await?.ok_or_else(|| MatchmakingError::UnknownRequest(id.clone()))
}

/// Every listed product of every merchant.
async fn listed_products(ports: &Ports) -> Result<Vec<Product>, StoreError> {
    let (mut products, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = ports.products.products_in_status(ProductStatus::Listed, after.as_deref(), LISTINGS_PAGE).await?;
        products.extend(page.products);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(products),
        }
    }
}

/// The proposal for `details`: the listed products whose text matches, each of their
/// merchant's stocks a candidate, ranked.
pub async fn propose(ports: &Ports, details: &RequestDetails) -> Result<Proposal, MatchmakingError> {
    let products = listed_products(ports).await?;
    let texts: Vec<String> = products.iter().map(|p| listing_text(&p.content)).collect();
    let matches = TextMatcher::default().matches(&details.text(), &texts)?;
    if matches.is_empty() {
        return Ok(rank(details, Vec::new()));
    }
    let warehouses: HashMap<_, _> =
        ports.warehouses.list_warehouses().await?.into_iter().map(|w| (w.warehouse_id.clone(), w)).collect();
    let mut weights = HashMap::new();
    for m in &matches {
        let sku = &products[m.candidate].sku;
        if let Some(facts) = ports.catalogue.get_sku(sku).await? {
            weights.insert(sku.clone(), facts.weight_g);
        }
    }
    let model = CostModel::new(ports.rates.list_rates().await?, weights);
    let mut candidates = Vec::new();
    for m in matches {
        let listing = Listing { product: &products[m.candidate], text_score: m.score };
        candidates.extend(candidates_of(ports, &listing, details, &warehouses, &model).await?);
    }
    Ok(rank(details, candidates))
}

/// A listed product whose text matched, and how well.
struct Listing<'a> {
    product: &'a Product,
    text_score: f32,
}

/// One candidate per stock the listing's merchant holds of its SKU (one with no warehouse
/// when it holds none).
async fn candidates_of(
    ports: &Ports,
    listing: &Listing<'_>,
    details: &RequestDetails,
    warehouses: &HashMap<crate::WarehouseId, Warehouse>,
    model: &CostModel,
) -> Result<Vec<Candidate>, StoreError> {
    let product = listing.product;
    let levels: Vec<_> =
        ports.inventory.stock_of(&product.sku).await?.into_iter().filter(|l| l.owner == product.merchant_id).collect();
    let on_hand = levels.iter().map(|l| u64::from(l.on_hand)).sum();
    let base = Candidate {
        sku: product.sku.clone(),
        merchant_id: product.merchant_id.clone(),
        warehouse_id: None,
        name: product.content.name.clone(),
        text_score: listing.text_score,
        sellable: sellable(Some(product), on_hand),
        unit_price: product.content.wholesale_price(details.quantity),
        available: 0,
        ages: Vec::new(),
        shipping: rust_decimal::Decimal::ZERO,
    };
    if levels.is_empty() {
        return Ok(vec![base]);
    }
    let lots = ports.inventory.lots_of(&product.sku).await?;
    let weight_g = model.unit_weight_g(&product.sku).saturating_mul(details.quantity);
    let mut candidates = Vec::new();
    for level in levels {
        let mut ages: Vec<StockAge> = lots
            .iter()
            .filter(|l| l.warehouse == level.warehouse && l.owner == level.owner && l.remaining > 0)
            .map(|l| StockAge { received_at: l.received_at, expires_on: l.expires_on, units: l.remaining })
            .collect();
        if ages.is_empty() {
            ages.extend(oldest_receipt(ports, &product.sku, &level.owner, &level.warehouse, level.available).await?);
        }
        let shipping = warehouses
            .get(&level.warehouse)
            .map_or(rust_decimal::Decimal::ZERO, |w| parcel_to_region(model, w, &details.region, weight_g));
        candidates.push(Candidate {
            warehouse_id: Some(level.warehouse),
            available: u64::from(level.available),
            ages,
            shipping,
            ..base.clone()
        });
    }
    Ok(candidates)
}

/// The stock's first receipt on its ledger (within the first page), as the age of all its
/// units: what ranks a stock with no lots recorded.
async fn oldest_receipt(
    ports: &Ports,
    sku: &Sku,
    owner: &MerchantId,
    warehouse: &crate::WarehouseId,
    units: u32,
) -> Result<Option<StockAge>, StoreError> {
    let page = ports.inventory.ledger(sku, Some(owner), None, LEDGER_PAGE).await?;
    Ok(page.entries.iter().find(|e| &e.warehouse == warehouse && e.kind == LedgerKind::Receive).map(|e| StockAge {
        received_at: e.at,
        expires_on: None,
        units,
    }))
}

/// The order of an accepted offer: channel `marketplace`, the request id as external id,
/// the offer's merchant, SKU, quantity and unit price, its shipping as the shipping
/// charge; unpaid. Placed when the request was matched, so a retried accept delivers the
/// very same order to intake (a duplicate, never an update).
fn marketplace_order(request: &BuyerRequest, offer: &Offer) -> Result<NewOrder, StoreError> {
    let placed_at = request.created_at;
    let id = request.request_id.as_str();
    let invalid = |what: &str| StoreError::msg(format!("buyer request id {id} is not a valid {what}"));
    Ok(NewOrder {
        channel: Channel::Marketplace,
        external_id: ExternalId::parse(id).map_err(|_| invalid("external id"))?,
        order_number: OrderNumber::parse(id).map_err(|_| invalid("order number"))?,
        merchant_id: offer.merchant_id.clone(),
        placed_at,
        currency: Currency::parse(crate::allocation::cost::PLANNING_CURRENCY)
            .map_err(|e| StoreError::new("the planning currency", e))?,
        customer: Customer::known(request.customer_id.clone()),
        shipping_address: request.shipping_address.clone().unwrap_or_else(super::flash_sales::no_address),
        lines: vec![crate::order::OrderLine { sku: offer.sku.clone(), quantity: offer.quantity, unit_price: offer.unit_price }],
        charges: Charges { shipping: offer.shipping, ..Charges::default() },
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: false,
        deliver_by: Some(request.details.deadline.date_naive()),
    })
}

/// The buyer accepts the best offer: it becomes an order through intake, once. Accepting
/// an accepted request answers it (with its order); intake's idempotency on (channel,
/// merchant, request id) makes a retry after a lost write find the same order.
pub async fn accept(ports: &Ports, id: &BuyerRequestId) -> Result<Posted, MatchmakingError> {
    for _ in 0..super::CONFLICT_RETRIES {
        let current = request(ports, id).await?;
        if current.status == RequestStatus::Accepted {
            return Ok(Posted { request: current, repeated: true });
        }
        let now = ports.clock.now();
        match current.check_acceptable(now) {
            Err(StepError::PastDeadline) => {
                expire(ports, current, now).await?;
                return Err(MatchmakingError::PastDeadline(id.clone()));
            }
            Err(StepError::WrongState(RequestStatus::Expired)) => return Err(MatchmakingError::PastDeadline(id.clone())),
            Err(StepError::WrongState(status)) => return Err(MatchmakingError::NotAcceptable { id: id.clone(), status }),
            Ok(()) => {}
        }
        let Some(offer) = current.best_offer() else {
            return Err(MatchmakingError::NotAcceptable { id: id.clone(), status: current.status });
        };
        let receipt = receive_order(ports, marketplace_order(&current, offer)?).await?;
        let mut next = current.clone();
        next.accept(receipt.order_id, now).map_err(|e| StoreError::new("an acceptable request refused", e))?;
        match ports.buyer_requests.update_buyer_request(&next).await? {
            UpdateBuyerRequestOutcome::Updated => {
                next.version += 1;
                tracing::info!(request_id = %id, order_id = ?next.order_id, "buyer request accepted");
                return Ok(Posted { request: next, repeated: false });
            }
            UpdateBuyerRequestOutcome::Conflict(Some(_)) => continue,
            UpdateBuyerRequestOutcome::Conflict(None) => return Err(MatchmakingError::UnknownRequest(id.clone())),
        }
    }
    Err(MatchmakingError::Busy(id.clone()))
}

/// Records that a proposed request's deadline passed; a lost race leaves it to the writer
/// that won.
async fn expire(ports: &Ports, mut request: BuyerRequest, now: DateTime<Utc>) -> Result<(), StoreError> {
    if request.expire(now) {
        let _ = ports.buyer_requests.update_buyer_request(&request).await?;
    }
    Ok(())
}
