//! Group buys: create an offer (the units of its whole capacity set aside from stock), join
//! it, turn the joins of a filled offer into orders, and settle offers at their deadline.
//!
//! A join is one atomic conditional write of the store ([`GroupBuyStore::join`](crate::ports::GroupBuyStore::join)). Turning
//! joins into orders is not part of it: the join that fills the group would otherwise
//! write one order per earlier join, more than one DynamoDB transaction holds. Each join's
//! order is its own idempotent write instead ([`GroupBuyStore::convert_join`](crate::ports::GroupBuyStore::convert_join), conditional
//! on the join not converted yet; its order id chosen with the join), made right after the
//! join that fills the group (for every join so far) and after every later join; whatever
//! a crash leaves unconverted, the settlement at the deadline converts first (it refuses
//! to close a filled offer with a join left unconverted).

use chrono::{DateTime, Utc};

use crate::flash_sale::IdempotencyKey;
use crate::group_buy::{GroupBuy, GroupBuyId, GroupBuyState, GroupBuyStatus, GroupBuyTerms, Join, JoinId, NotEnoughStock};
use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{Address, Allocation, Channel, Charges, Customer, HoldReason, NewOrder, Order, OrderLine, OrderStatus};
use crate::ports::{ConvertOutcome, CreateGroupBuyOutcome, JoinOutcome, Ports, SettleOutcome, StoreError};
use crate::usecases::products::{ensure_sellable, SellableError};
use crate::usecases::CONFLICT_RETRIES;
use crate::{CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, ValidationError};

/// Joins converted per read of the unconverted ones.
const CONVERT_PAGE: usize = 100;

/// Why an offer was not created. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateGroupBuyError {
    /// The SKU's listing in the reviewed catalogue is not on sale (not approved, unlisted)
    /// or has no unit on hand: the platform sells it no other way either.
    #[error(transparent)]
    NotSellable(#[from] SellableError),
    #[error(transparent)]
    NotEnoughStock(#[from] NotEnoughStock),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Creates an offer of `merchant`'s units: picks the merchant's own stock of the SKU that
/// holds the whole capacity, then stores the offer with those units set aside, atomically.
/// Another order taking the units in between makes the store refuse; the offer is planned
/// again against fresh stock, a few times.
pub async fn create_group_buy(
    ports: &Ports,
    merchant: &MerchantId,
    terms: GroupBuyTerms,
) -> Result<GroupBuy, CreateGroupBuyError> {
    ensure_sellable(ports, &terms.sku).await?;
    let store = &*ports.group_buys;
    let id = GroupBuyId::generate();
    for _ in 0..CONFLICT_RETRIES {
        let stock = ports.inventory.stock_of(&terms.sku).await?;
        let offer = GroupBuy::plan(id.clone(), merchant.clone(), terms.clone(), &stock, ports.clock.now())?;
        match store.create_group_buy(&offer).await? {
            CreateGroupBuyOutcome::Created => {
                tracing::info!(group_buy_id = %id, sku = %offer.terms.sku, units = offer.terms.units(), warehouse = %offer.warehouse, "group buy created");
                return Ok(offer);
            }
            CreateGroupBuyOutcome::Insufficient { available } => {
                tracing::debug!(group_buy_id = %id, available, "stock moved while the group buy was set aside; planning again");
            }
        }
    }
    Err(StoreError::msg(format!("the stock of {} kept changing while group buy {id} was set aside", terms.sku)).into())
}

/// A join as the buyer asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJoin {
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    pub shipping_address: Option<Address>,
}

/// A join made (or made before by this customer or under this key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub join: Join,
    /// True when this answer is the first join's.
    pub repeated: bool,
}

/// Why a join took no place. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("no group buy {0}")]
    NotFound(GroupBuyId),
    #[error("the group buy is {}: joins are taken until {deadline}", state.as_str())]
    NotOpen { state: GroupBuyState, deadline: DateTime<Utc> },
    #[error("the group buy is full: all {capacity} places are taken")]
    Full { capacity: u32 },
    /// The idempotency key was used by another customer's join.
    #[error(transparent)]
    KeyReused(ValidationError),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Joins an offer for a customer: one atomic conditional write of the join and the
/// offer's count ([`GroupBuyStore::join`](crate::ports::GroupBuyStore::join)). The same customer or the same key again
/// answers the first join, in any state of the offer. When the offer is filled (by this
/// join or before), the joins with no order yet become orders now.
pub async fn join_group_buy(ports: &Ports, id: &GroupBuyId, new: NewJoin) -> Result<Joined, JoinError> {
    let store = &*ports.group_buys;
    let (offer, _) = store.get_group_buy(id).await?.ok_or_else(|| JoinError::NotFound(id.clone()))?;
    if let Some(first) = store.find_join(id, &new.customer_id, &new.idempotency_key).await? {
        return repeated(first, &new);
    }
    let now = ports.clock.now();
    let join = Join {
        join_id: JoinId::generate(),
        group_buy_id: id.clone(),
        customer_id: new.customer_id.clone(),
        idempotency_key: new.idempotency_key.clone(),
        order_id: OrderId::generate(),
        shipping_address: new.shipping_address.clone(),
        joined_at: now,
    };
    match store.join(&join, now).await? {
        JoinOutcome::Joined { state, joined } => {
            tracing::info!(group_buy_id = %id, join_id = %join.join_id, joined, state = state.as_str(), "group buy joined");
            if state == GroupBuyState::Filled {
                convert_pending(ports, &offer).await?;
            }
            Ok(Joined { join, repeated: false })
        }
        JoinOutcome::Duplicate(first) => repeated(*first, &new),
        JoinOutcome::NotOpen(state) => Err(JoinError::NotOpen { state, deadline: offer.terms.deadline }),
        JoinOutcome::Full => Err(JoinError::Full { capacity: offer.terms.capacity }),
    }
}

/// The first join, if it is this customer's; another customer's key is refused.
fn repeated(first: Join, new: &NewJoin) -> Result<Joined, JoinError> {
    if first.customer_id != new.customer_id {
        return Err(JoinError::KeyReused(ValidationError::new(
            "idempotency_key",
            "was used by another customer's join; use a key of your own",
        )));
    }
    Ok(Joined { join: first, repeated: true })
}

/// Turns every join of a filled offer that has no order yet into its order, each its own
/// idempotent write; answers how many this call converted (a join another caller converted
/// meanwhile is not counted).
pub async fn convert_pending(ports: &Ports, offer: &GroupBuy) -> Result<u32, StoreError> {
    let store = &*ports.group_buys;
    let mut converted = 0;
    loop {
        let pending = store.unconverted_joins(&offer.group_buy_id, CONVERT_PAGE).await?;
        if pending.is_empty() {
            return Ok(converted);
        }
        let mut moved = false;
        for join in &pending {
            let (order, send) = join_order(offer, join, ports.clock.now())?;
            match store.convert_join(join, &order, &send).await? {
                ConvertOutcome::Converted => {
                    tracing::info!(group_buy_id = %offer.group_buy_id, join_id = %join.join_id, order_id = %order.order_id, "group buy join became an order");
                    converted += 1;
                    moved = true;
                }
                ConvertOutcome::AlreadyConverted => moved = true,
                ConvertOutcome::NotFilled => return Ok(converted),
            }
        }
        if !moved {
            return Ok(converted);
        }
    }
}

/// The order a join of a filled offer makes: channel `group_buy`, external id and order
/// number the join id, the offer's merchant, one line of the units per buyer at the group
/// price, unpaid, and its plan already made from the offer's set-aside stock. The store's
/// conversion holds the plan's units for the order in the same write (out of the
/// set-aside, as `InventoryStore::hold_set_aside` does), so a cancel at any point gives them
/// back as any hold's; its reservation later finds the hold in place. With an address it is queued for
/// allocation; without one it is stored on hold (`address_missing`), nothing queued.
pub fn join_order(offer: &GroupBuy, join: &Join, now: DateTime<Utc>) -> Result<(Order, Vec<Outgoing>), StoreError> {
    let external = |what: &str| StoreError::msg(format!("join id {} is not a valid {what}", join.join_id));
    let missing = join.shipping_address.is_none();
    let units = offer.terms.units_per_buyer;
    let new = NewOrder {
        channel: Channel::GroupBuy,
        external_id: ExternalId::parse(join.join_id.as_str()).map_err(|_| external("external id"))?,
        order_number: OrderNumber::parse(join.join_id.as_str()).map_err(|_| external("order number"))?,
        merchant_id: offer.merchant_id.clone(),
        placed_at: now,
        currency: offer.terms.currency,
        customer: Customer::known(join.customer_id.clone()),
        shipping_address: join.shipping_address.clone().unwrap_or_else(super::flash_sales::no_address),
        lines: vec![OrderLine { sku: offer.terms.sku.clone(), quantity: units, unit_price: offer.terms.price }],
        charges: Charges::default(),
        channel_updated_at: now,
        cancelled_at: None,
        // Made by the platform: unpaid until the buyer pays.
        paid: false,
        deliver_by: None,
    };
    let mut order = Order::receive(new, join.order_id.clone(), now);
    order.allocation = Some(Allocation {
        lines: vec![offer.line(units)],
        explanation: format!(
            "group buy {} join {}: {units} units set aside in {}",
            offer.group_buy_id, join.join_id, offer.warehouse
        ),
        // The offer chose the warehouse when it set the units aside: nothing was weighed.
        costing: None,
        planned_at: now,
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
    if missing {
        order
            .transition(OrderStatus::OnHold, now, HoldReason::AddressMissing.to_string())
            .map_err(|e| StoreError::new("a join's order could not be held", e))?;
        return Ok((order, vec![]));
    }
    let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
    Ok((order, vec![allocate]))
}

/// An offer as `GET /group-buys/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBuyView {
    pub offer: GroupBuy,
    pub status: GroupBuyStatus,
    /// Buyers still needed for the group to fill (0 once filled).
    pub needed: u32,
}

/// The offer now: its terms, state, joined and needed.
pub async fn view_group_buy(ports: &Ports, id: &GroupBuyId) -> Result<Option<GroupBuyView>, StoreError> {
    let store = &*ports.group_buys;
    let Some((offer, status)) = store.get_group_buy(id).await? else { return Ok(None) };
    let needed = offer.terms.min_group.saturating_sub(status.joined);
    Ok(Some(GroupBuyView { offer, status, needed }))
}

/// An offer the sweep settled, and the units it gave back to stock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SettledGroupBuy {
    pub group_buy_id: GroupBuyId,
    pub state: GroupBuyState,
    pub units_returned: u32,
}

/// Settles the offer if its deadline passed: a filled offer's unconverted joins become
/// orders first, then [`GroupBuyStore::settle`](crate::ports::GroupBuyStore::settle) gives back the units nobody takes, once,
/// and the backorders waiting for the SKU are planned again. `None` when there is no such
/// offer or nothing was settled now.
pub async fn settle_group_buy(ports: &Ports, id: &GroupBuyId) -> Result<Option<SettledGroupBuy>, StoreError> {
    let store = &*ports.group_buys;
    let Some((offer, status)) = store.get_group_buy(id).await? else { return Ok(None) };
    if status.state == GroupBuyState::Filled {
        convert_pending(ports, &offer).await?;
    }
    match store.settle(&offer, ports.clock.now()).await? {
        SettleOutcome::Settled { state, units_returned } => {
            tracing::info!(group_buy_id = %id, state = state.as_str(), units_returned, "group buy settled at its deadline");
            if units_returned > 0 {
                crate::usecases::fulfilment::requeue_backorders(ports, [offer.terms.sku.clone()]).await?;
            }
            Ok(Some(SettledGroupBuy { group_buy_id: id.clone(), state, units_returned }))
        }
        SettleOutcome::AlreadySettled | SettleOutcome::NotDue => Ok(None),
        SettleOutcome::Unconverted { joined, converted } => Err(StoreError::msg(format!(
            "group buy {id} has {joined} joins and {converted} orders: the rest are converted on the next run"
        ))),
    }
}

/// Settles every offer whose deadline passed and is not settled yet, earliest first, at
/// most `most` (the index of unsettled offers by deadline, never a scan). An offer that
/// fails to settle is logged and left to the next run.
pub async fn settle_due_group_buys(ports: &Ports, most: usize) -> Result<Vec<SettledGroupBuy>, StoreError> {
    let store = &*ports.group_buys;
    let mut settled = Vec::new();
    for id in store.due_group_buys(ports.clock.now(), most).await? {
        match settle_group_buy(ports, &id).await {
            Ok(Some(done)) => settled.push(done),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(group_buy_id = %id, error = %e, "a due group buy could not be settled; the next sweep tries again")
            }
        }
    }
    Ok(settled)
}
