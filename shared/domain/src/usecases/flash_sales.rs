//! Flash sales: create a sale (its units set aside from stock), claim units of it, and
//! show it. A claim is one atomic write of the store ([`FlashSaleStore::claim`]): the claim
//! and the message that makes its order ([`make_claim_order`], run by the allocate queue's
//! consumer), never the order itself, so a claim's write stays small; the walk over shards,
//! the window and the answers are decided here, once for every store.
//!
//! Every use case takes the merchant (or customer) as an argument, so a caller derived
//! from credentials can be passed in place of one named in a body.

use chrono::{DateTime, Utc};

use crate::flash_sale::{
    shard_order, Claim, ClaimId, ClaimedFrom, FlashSale, IdempotencyKey, NotEnoughStock, SaleClosing, SaleId, SaleState,
    SaleTerms, ShardLevel,
};
use crate::messages::{AllocateOrder, ClaimOrder, Outgoing};
use crate::order::{Address, Allocation, Channel, Charges, Customer, HoldReason, NewOrder, Order, OrderLine, OrderStatus};
use crate::ports::{ClaimOutcome, CloseSaleOutcome, CreateSaleOutcome, EndSaleOutcome, FlashSaleStore, Ports, StoreError};
use crate::usecases::products::{ensure_sellable, SellableError};
use crate::usecases::CONFLICT_RETRIES;
use crate::{CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, ValidationError};

/// Why a sale was not created. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateSaleError {
    /// The SKU's listing in the reviewed catalogue is not on sale (not approved, unlisted)
    /// or has no unit on hand: the platform sells it no other way either.
    #[error(transparent)]
    NotSellable(#[from] SellableError),
    #[error(transparent)]
    NotEnoughStock(#[from] NotEnoughStock),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Creates a sale of `merchant`'s units: plans which stock its units come from (the
/// merchant's own available units of the SKU) and how they split into shards, then stores
/// it with its units set aside, atomically. Another order taking the units in between
/// makes the store refuse; the sale is planned again against fresh stock, a few times.
pub async fn create_sale(ports: &Ports, merchant: &MerchantId, terms: SaleTerms) -> Result<FlashSale, CreateSaleError> {
    ensure_sellable(ports, &terms.sku).await?;
    let sale_id = SaleId::generate();
    for _ in 0..CONFLICT_RETRIES {
        let stock = ports.inventory.stock_of(&terms.sku).await?;
        let sale = FlashSale::plan(sale_id.clone(), merchant.clone(), terms.clone(), &stock, ports.clock.now())?;
        match ports.flash_sales.create_sale(&sale).await? {
            CreateSaleOutcome::Created => {
                tracing::info!(sale_id = %sale.sale_id, sku = %sale.terms.sku, units = sale.terms.units, shards = sale.shards.len(), "flash sale created");
                return Ok(sale);
            }
            CreateSaleOutcome::Insufficient { warehouse, sku, available, .. } => {
                tracing::debug!(sale_id = %sale_id, warehouse = %warehouse, sku = %sku, available, "stock moved while the sale was set aside; planning again");
            }
        }
    }
    Err(StoreError::msg(format!("the stock of {} kept changing while sale {sale_id} was set aside", terms.sku)).into())
}

/// A claim as the buyer asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub customer_id: CustomerId,
    pub quantity: u32,
    pub idempotency_key: IdempotencyKey,
    /// Where the order ships; without it the order waits on hold (`address_missing`).
    pub shipping_address: Option<Address>,
}

/// A claim made (or made before under the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub claim: Claim,
    /// True when this answer is the first claim's, made under the same key before.
    pub repeated: bool,
}

/// Why a claim took nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("no flash sale {0}")]
    NotFound(SaleId),
    #[error("the sale is {}: claims are taken from {starts_at} until {ends_at}", state.as_str())]
    NotActive { state: SaleState, starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    #[error("sold out: {units_left} units left, fewer than the {wanted} asked for in any one shard")]
    SoldOut { wanted: u32, units_left: u64 },
    #[error("the limit is {limit} units per customer; {claimed} claimed already, {wanted} more asked for")]
    LimitExceeded { limit: u32, claimed: u32, wanted: u32 },
    /// The idempotency key was used by another customer's claim.
    #[error(transparent)]
    KeyReused(ValidationError),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Shards a claim finds short, walking on from its random one, before it reads every
/// shard's level: a read of every shard costs each shard's partition a read, a probe only
/// the one probed, so a few probes first keep the reads for the end of a sale.
pub const SHORTS_BEFORE_READ: usize = 3;

/// Claims units of a sale for a customer: one atomic write of the claim, the customer's
/// total (never past the limit), one shard's units and the message that makes the claim's
/// order (the allocate queue's; its order exists once that message is consumed).
///
/// The claim starts at a random shard and walks on to the next while a shard has too few
/// units; once [`SHORTS_BEFORE_READ`] were found short it reads every shard's level and
/// tries only those that can still serve it, so a claim never answers sold out while some shard holds what it
/// asks for. The same idempotency key again answers the first claim (in any state of the
/// sale).
pub async fn claim(ports: &Ports, sale_id: &SaleId, new: NewClaim) -> Result<Claimed, ClaimError> {
    let store = &*ports.flash_sales;
    let sale = store.get_sale(sale_id).await?.ok_or_else(|| ClaimError::NotFound(sale_id.clone()))?;
    let now = ports.clock.now();
    if !sale.is_open(now) {
        if let Some(first) = store.claim_by_key(sale_id, &new.idempotency_key).await? {
            return repeated(first, &new);
        }
        let state = sale.state(now, 1);
        return Err(ClaimError::NotActive { state, starts_at: sale.terms.starts_at, ends_at: sale.terms.ends_at });
    }
    let limit = sale.terms.per_customer_limit;
    if new.quantity > limit {
        return Err(ClaimError::LimitExceeded { limit, claimed: 0, wanted: new.quantity });
    }
    let claim_id = ClaimId::generate();
    let order_id = OrderId::generate();
    let seed = u64::try_from(ulid::Ulid::new().random() & u128::from(u64::MAX)).unwrap_or(0);
    let shard_count = u32::try_from(sale.shards.len()).unwrap_or(u32::MAX);
    let mut candidates: Vec<u32> = shard_order(shard_count, seed).collect();
    let mut levels_read = false;
    let mut shorts = 0;
    loop {
        let mut short = false;
        for &shard in &candidates {
            let claim = Claim {
                claim_id: claim_id.clone(),
                sale_id: sale_id.clone(),
                idempotency_key: new.idempotency_key.clone(),
                customer_id: new.customer_id.clone(),
                quantity: new.quantity,
                order_id: order_id.clone(),
                shard,
                claimed_at: now,
            };
            let send = [Outgoing::of(&AllocateOrder {
                order_id: order_id.clone(),
                claim: Some(ClaimOrder { claim: claim.clone(), shipping_address: new.shipping_address.clone() }),
            })];
            match store.claim(&claim, limit, &send).await? {
                ClaimOutcome::Claimed => {
                    tracing::debug!(sale_id = %sale_id, claim_id = %claim.claim_id, order_id = %order_id, shard, quantity = claim.quantity, "flash sale claim made");
                    return Ok(Claimed { claim, repeated: false });
                }
                ClaimOutcome::Duplicate(first) => return repeated(*first, &new),
                ClaimOutcome::LimitExceeded { claimed } => {
                    return Err(ClaimError::LimitExceeded { limit, claimed, wanted: new.quantity })
                }
                ClaimOutcome::ShardShort { .. } => {
                    short = true;
                    shorts += 1;
                    if !levels_read && shorts >= SHORTS_BEFORE_READ {
                        break;
                    }
                }
            }
        }
        if !short {
            // Every candidate was tried; none was short and none answered: cannot happen.
            return Err(StoreError::msg(format!("sale {sale_id} has no shard to claim from")).into());
        }
        // A shard was short: read every level and try only the shards that can serve this
        // claim, in this claim's own order. Units only ever go down, so this ends.
        let levels = store.shard_levels(&sale).await?;
        levels_read = true;
        let serving = |shard: &u32| levels.get(*shard as usize).is_some_and(|l| l.units_left >= new.quantity);
        candidates = shard_order(shard_count, seed).filter(serving).collect();
        if candidates.is_empty() {
            // A repeated key gets its first answer, whatever a store answered before it.
            if let Some(first) = store.claim_by_key(sale_id, &new.idempotency_key).await? {
                return repeated(first, &new);
            }
            let units_left = levels.iter().map(|l| u64::from(l.units_left)).sum();
            return Err(ClaimError::SoldOut { wanted: new.quantity, units_left });
        }
    }
}

/// Makes a claim's order from its message ([`ClaimOrder`]), as [`claim_order`] builds it, at
/// the claim's time: stored with no message, since the consumer that makes it plans it
/// next. Idempotent: the order's external id is the claim id, so a message delivered again
/// finds the order made before (in whatever state it has reached since) and makes nothing.
/// `Ok(false)` when the claim's sale is gone (nothing can be made).
pub async fn make_claim_order(ports: &Ports, made: &ClaimOrder) -> Result<bool, StoreError> {
    let claim = &made.claim;
    let Some(sale) = ports.flash_sales.get_sale(&claim.sale_id).await? else {
        tracing::error!(sale_id = %claim.sale_id, claim_id = %claim.claim_id, "a claim's order cannot be made: its sale is gone");
        return Ok(false);
    };
    let order = claim_order(&sale, claim, made.shipping_address.clone(), claim.claimed_at)?;
    match ports.orders.insert_order(&order).await? {
        crate::ports::InsertOutcome::Inserted => {
            tracing::info!(sale_id = %claim.sale_id, claim_id = %claim.claim_id, order_id = %order.order_id, "flash sale claim's order made");
        }
        crate::ports::InsertOutcome::Duplicate(_) => {}
    }
    Ok(true)
}

/// The first claim under the key, if it is this customer's; another customer's is refused.
fn repeated(first: Claim, new: &NewClaim) -> Result<Claimed, ClaimError> {
    if first.customer_id != new.customer_id {
        return Err(ClaimError::KeyReused(ValidationError::new(
            "idempotency_key",
            "was used by another customer's claim; use a key of your own",
        )));
    }
    Ok(Claimed { claim: first, repeated: true })
}

/// The order a claim makes: channel `flash_sale`, external id the claim id, the selling
/// merchant, one line of the claimed units at the sale's price, and its plan already made
/// from the claim's shard (its units are set aside in that shard's warehouse). Unpaid: the
/// order has no payment field yet. With an address it is received, to be planned (which
/// takes the plan as it is); without one it is on hold (`address_missing`) until an
/// address is given.
pub fn claim_order(sale: &FlashSale, claim: &Claim, address: Option<Address>, now: DateTime<Utc>) -> Result<Order, StoreError> {
    let shard = sale
        .shards
        .get(claim.shard as usize)
        .ok_or_else(|| StoreError::msg(format!("sale {} has no shard {}", sale.sale_id, claim.shard)))?;
    let external = |what: &str| StoreError::msg(format!("claim id {} is not a valid {what}", claim.claim_id));
    let missing = address.is_none();
    let new = NewOrder {
        channel: Channel::FlashSale,
        external_id: ExternalId::parse(claim.claim_id.as_str()).map_err(|_| external("external id"))?,
        order_number: OrderNumber::parse(claim.claim_id.as_str()).map_err(|_| external("order number"))?,
        merchant_id: sale.merchant_id.clone(),
        placed_at: now,
        currency: sale.terms.currency,
        customer: Customer::known(claim.customer_id.clone()),
        shipping_address: address.unwrap_or_else(no_address),
        lines: vec![OrderLine { sku: sale.terms.sku.clone(), quantity: claim.quantity, unit_price: sale.terms.price }],
        charges: Charges::default(),
        channel_updated_at: now,
        cancelled_at: None,
        // Created by the platform: unpaid until the buyer pays.
        paid: false,
        deliver_by: None,
    };
    let mut order = Order::receive(new, claim.order_id.clone(), now);
    let line = crate::order::AllocatedLine {
        warehouse: shard.warehouse.clone(),
        owner: shard.owner.clone(),
        sku: sale.terms.sku.clone(),
        quantity: claim.quantity,
        transfer_price: None,
    };
    order.allocation = Some(Allocation {
        lines: vec![line],
        explanation: format!(
            "flash sale {} claim {}: {} units set aside in {} (shard {})",
            sale.sale_id, claim.claim_id, claim.quantity, shard.warehouse, claim.shard
        ),
        // The sale chose the warehouse when it set the units aside: nothing was weighed.
        costing: None,
        planned_at: now,
        merge: None,
        shipments: Vec::new(),
        claimed_from: Some(ClaimedFrom { sale_id: sale.sale_id.clone(), shard: claim.shard }),
    });
    if missing {
        order
            .transition(OrderStatus::OnHold, now, HoldReason::AddressMissing.to_string())
            .map_err(|e| StoreError::new("a claim's order could not be held", e))?;
    }
    Ok(order)
}

/// The units a claim's order gives back when it is cancelled now, if it never held them:
/// a flash-sale order on hold for its address or received, never allocated (nothing can
/// hold stock for it then: only an allocated order is reserved, and allocating it is a
/// write of the order, which the cancel's conditional write excludes). An order allocated
/// once may have its hold on the way, so it gives back only what it holds.
pub fn unheld_claim(order: &Order) -> Option<crate::ports::ClaimReturn> {
    if order.channel != Channel::FlashSale || !matches!(order.status, OrderStatus::OnHold | OrderStatus::Received) {
        return None;
    }
    if order.timeline.iter().any(|event| event.status == OrderStatus::Allocated) {
        return None;
    }
    let allocation = order.allocation.as_ref()?;
    let from = allocation.claimed_from.as_ref()?;
    let [line] = allocation.lines.as_slice() else { return None };
    Some(crate::ports::ClaimReturn {
        sale_id: from.sale_id.clone(),
        shard: from.shard,
        line: line.clone(),
        order_id: order.order_id.clone(),
    })
}

/// The empty address of an order waiting for one.
pub(crate) fn no_address() -> Address {
    Address {
        name: None,
        line1: String::new(),
        line2: None,
        city: String::new(),
        province: None,
        postal_code: None,
        country: String::new(),
    }
}

/// Whether an order has an address to ship to.
pub fn has_address(order: &Order) -> bool {
    !order.shipping_address.line1.is_empty() && !order.shipping_address.country.is_empty()
}

/// A sale as `GET /flash-sales/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleView {
    pub sale: FlashSale,
    pub state: SaleState,
    pub units_left: u64,
    pub units_claimed: u64,
    pub claims: u64,
    pub levels: Vec<ShardLevel>,
    /// Once the sale ended and was closed: when, and the units given back to stock.
    pub closing: Option<SaleClosing>,
}

/// The sale now: its terms, state, units left and claimed, and claims made.
pub async fn view_sale(ports: &Ports, sale_id: &SaleId) -> Result<Option<SaleView>, StoreError> {
    let store: &dyn FlashSaleStore = &*ports.flash_sales;
    // The closing first: a sale is closed only once it has ended, so a closed sale reads
    // as ended whatever end a cache of its terms still has.
    let closing = store.sale_closing(sale_id).await?;
    let Some(sale) = store.get_sale(sale_id).await? else {
        return Ok(None);
    };
    let levels = store.shard_levels(&sale).await?;
    let units_left: u64 = levels.iter().map(|l| u64::from(l.units_left)).sum();
    let claims = levels.iter().map(|l| u64::from(l.claims)).sum();
    let state = if closing.is_some() { SaleState::Ended } else { sale.state(ports.clock.now(), units_left) };
    let returned = closing.map_or(0, |c| c.units_returned);
    let units_claimed = u64::from(sale.terms.units).saturating_sub(units_left).saturating_sub(returned);
    Ok(Some(SaleView { sale, state, units_left, units_claimed, claims, levels, closing }))
}

/// A sale the sweeper closed, and the units it gave back to stock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClosedSale {
    pub sale_id: SaleId,
    pub units_returned: u64,
}

/// Closes the sale if it has ended (`FlashSaleStore::close_sale`): its unclaimed units go
/// back to available stock, once, and the backorders waiting for its SKU are planned
/// again. `None` when there is no such sale.
pub async fn close_sale(ports: &Ports, sale_id: &SaleId) -> Result<Option<CloseSaleOutcome>, StoreError> {
    let Some(sale) = ports.flash_sales.get_sale(sale_id).await? else {
        return Ok(None);
    };
    let outcome = ports.flash_sales.close_sale(&sale, ports.clock.now()).await?;
    if let CloseSaleOutcome::Closed(closing) = &outcome {
        tracing::info!(sale_id = %sale_id, sku = %sale.terms.sku, units_returned = closing.units_returned, "flash sale closed: unclaimed units back to stock");
        if closing.units_returned > 0 {
            // The units may serve orders waiting for the SKU (a crash before this is healed
            // by the sweeper's backorder repair).
            crate::usecases::fulfilment::requeue_backorders(ports, [sale.terms.sku.clone()]).await?;
        }
    }
    Ok(Some(outcome))
}

/// Closes every sale that has ended and is not closed yet, earliest end first, at most
/// `most` of them (the index of open sales by end time, never a scan; the next run goes
/// on). A sale that fails to close is logged and left to the next run, so it never holds
/// up the others.
pub async fn close_ended_sales(ports: &Ports, most: usize) -> Result<Vec<ClosedSale>, StoreError> {
    let now = ports.clock.now();
    let mut closed = Vec::new();
    for sale_id in ports.flash_sales.ended_open_sales(now, most).await? {
        match close_sale(ports, &sale_id).await {
            Ok(Some(CloseSaleOutcome::Closed(closing))) => {
                closed.push(ClosedSale { sale_id, units_returned: closing.units_returned });
            }
            // Closed by another run meanwhile, or gone: nothing to do.
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(sale_id = %sale_id, error = %e, "an ended flash sale could not be closed; the next sweep tries again")
            }
        }
    }
    Ok(closed)
}

/// Why a sale was not ended.
#[derive(Debug, thiserror::Error)]
pub enum EndSaleError {
    #[error("no flash sale {0}")]
    NotFound(SaleId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Ends a sale now (an operator ending it early): its end becomes now
/// ([`FlashSaleStore::end_sale`]), so it takes no claim from now on, and it is closed as the
/// sweeper closes a sale that ended ([`close_sale`]: its unclaimed units back to available
/// stock, once). A sale that has ended already is only closed, if it is not yet: ending it
/// again changes nothing. Answers the sale as [`view_sale`] shows it.
pub async fn end_sale(ports: &Ports, sale_id: &SaleId) -> Result<SaleView, EndSaleError> {
    let not_found = || EndSaleError::NotFound(sale_id.clone());
    let mut ended = false;
    for _ in 0..CONFLICT_RETRIES {
        let sale = ports.flash_sales.get_sale(sale_id).await?.ok_or_else(not_found)?;
        let now = ports.clock.now();
        if sale.terms.ends_at <= now {
            ended = true;
            break;
        }
        match ports.flash_sales.end_sale(&sale, now).await? {
            EndSaleOutcome::Ended(sale) => {
                tracing::info!(sale_id = %sale_id, ends_at = %sale.terms.ends_at, "flash sale ended early");
                ended = true;
                break;
            }
            // Another end landed first: read the sale again.
            EndSaleOutcome::AlreadyEnded => {}
        }
    }
    if !ended {
        return Err(StoreError::msg(format!("sale {sale_id} kept changing while it was ended")).into());
    }
    let _closed = close_sale(ports, sale_id).await?.ok_or_else(not_found)?;
    view_sale(ports, sale_id).await?.ok_or_else(not_found)
}
