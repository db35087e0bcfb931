//! Group buys: a merchant offers a SKU at a group price to buyers who join before a
//! deadline; when enough have joined (the minimum group size) every join becomes an order
//! at the group price; when the deadline passes unfilled, nobody is charged and every unit
//! goes back to stock.
//!
//! The units for the whole capacity (most buyers times units per buyer) are set aside from
//! the merchant's own available stock when the offer is created, as a flash sale sets its
//! units aside (a ledger hold of kind `group_buy`, `set_aside` entries). Holding per join
//! instead would make a join two conditional writes on different records (the offer's
//! count and a stock), and a join could find the stock gone after the group had promised
//! it a place. Set aside at creation, a join is one conditional write on the offer alone
//! (its joined count below capacity, the offer open) beside the join record, and it can
//! never oversell: the units it will take are already kept from every other order.
//!
//! All the units come from one (warehouse, owner) stock, so each join's order knows where
//! its units are, as a flash-sale shard's claim does; an offer larger than any one stock of
//! the merchant is refused (`NotEnoughStock`).
//!
//! The offer's life ([`GroupBuyState`]): `open` while it waits for its minimum; `filled`
//! once a join brings it there (every join made so far, and every join after, becomes an
//! order, each conversion its own idempotent write); at the deadline a filled offer is
//! `closed` (the units of capacity nobody joined go back) and an open one `expired` (every
//! unit goes back, no order is made).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::allocation::AllocatedLine;
use crate::flash_sale::{minted_id, IdempotencyKey};
use crate::order::Address;
use crate::stock::StockLevel;
use crate::{Currency, CustomerId, MerchantId, OrderId, Sku, ValidationError, WarehouseId};

/// Most buyers an offer may take.
pub const MAX_CAPACITY: u32 = 10_000;
/// Most units one buyer's join may take.
pub const MAX_UNITS_PER_BUYER: u32 = 10;
/// Longest an offer may stay open.
pub const MAX_DURATION_DAYS: i64 = 31;
/// Highest group price accepted.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

minted_id!(
    /// A group-buy offer: `gb_` and a ULID.
    GroupBuyId,
    "gb_"
);
minted_id!(
    /// One buyer's join of an offer: `gbj_` and a ULID. The join's order has it as its
    /// external id (channel `group_buy`).
    JoinId,
    "gbj_"
);

/// What a merchant asks for when it creates an offer, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBuyTerms {
    pub sku: Sku,
    /// The unit price every join's order carries.
    pub price: Decimal,
    pub currency: Currency,
    /// Buyers needed for the group to fill.
    pub min_group: u32,
    /// Most buyers the offer takes.
    pub capacity: u32,
    /// Units each buyer's join takes.
    pub units_per_buyer: u32,
    /// Joins are taken until before this moment.
    pub deadline: DateTime<Utc>,
}

impl GroupBuyTerms {
    /// Checks the terms at `now`: a price above 0 and at most `MAX_PRICE` with at most the
    /// currency's minor digits; a minimum group 1 to the capacity; a capacity 1 to
    /// `MAX_CAPACITY`; units per buyer 1 to `MAX_UNITS_PER_BUYER`; a deadline after `now`
    /// and within `MAX_DURATION_DAYS`.
    pub fn check(self, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        if self.price <= Decimal::ZERO || self.price > MAX_PRICE {
            return Err(ValidationError::new("price", format!("must be above 0 and at most {MAX_PRICE}")));
        }
        if self.price.scale() > self.currency.minor_digits() {
            return Err(ValidationError::new(
                "price",
                format!("{} has at most {} decimal places", self.currency, self.currency.minor_digits()),
            ));
        }
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(ValidationError::new("capacity", format!("must be 1 to {MAX_CAPACITY}")));
        }
        if !(1..=self.capacity).contains(&self.min_group) {
            return Err(ValidationError::new("min_group", format!("must be 1 to the capacity ({})", self.capacity)));
        }
        if !(1..=MAX_UNITS_PER_BUYER).contains(&self.units_per_buyer) {
            return Err(ValidationError::new("units_per_buyer", format!("must be 1 to {MAX_UNITS_PER_BUYER}")));
        }
        if self.deadline <= now {
            return Err(ValidationError::new("deadline", "must be in the future"));
        }
        if self.deadline - now > chrono::Duration::days(MAX_DURATION_DAYS) {
            return Err(ValidationError::new("deadline", format!("an offer stays open at most {MAX_DURATION_DAYS} days")));
        }
        Ok(self)
    }

    /// Units the whole capacity takes: what the offer sets aside.
    pub fn units(&self) -> u32 {
        self.capacity * self.units_per_buyer
    }
}

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBuyState {
    /// Taking joins, fewer than the minimum so far.
    Open,
    /// The minimum joined: every join is (or becomes) an order; still taking joins until
    /// the capacity or the deadline.
    Filled,
    /// Filled and past its deadline: the units nobody joined went back to stock.
    Closed,
    /// Past its deadline without filling: every unit went back to stock, no order made.
    Expired,
}

/// What happens to an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBuyEvent {
    /// A buyer joined; `joined` counts the buyers with this one.
    Joined { joined: u32 },
    /// The deadline passed.
    DeadlinePassed,
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a group buy that is {} cannot take {event:?}", from.as_str())]
pub struct InvalidGroupBuyTransition {
    pub from: GroupBuyState,
    pub event: GroupBuyEvent,
}

impl GroupBuyState {
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupBuyState::Open => "open",
            GroupBuyState::Filled => "filled",
            GroupBuyState::Closed => "closed",
            GroupBuyState::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        [GroupBuyState::Open, GroupBuyState::Filled, GroupBuyState::Closed, GroupBuyState::Expired]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationError::new("state", format!("{raw:?} is not a group-buy state")))
    }

    /// Whether joins are taken (before the deadline): open or filled.
    pub fn takes_joins(self) -> bool {
        matches!(self, GroupBuyState::Open | GroupBuyState::Filled)
    }

    /// Whether the offer is past its deadline and its units settled.
    pub fn is_final(self) -> bool {
        matches!(self, GroupBuyState::Closed | GroupBuyState::Expired)
    }

    /// The state after `event`, for an offer of `terms`: a join within the capacity keeps an
    /// open offer open until the minimum joined, then it is filled (a filled one stays
    /// filled); the deadline closes a filled offer and expires an open one. A join past the
    /// capacity, or anything after the deadline, is refused.
    pub fn on(self, event: GroupBuyEvent, terms: &GroupBuyTerms) -> Result<Self, InvalidGroupBuyTransition> {
        let refused = Err(InvalidGroupBuyTransition { from: self, event });
        match (self, event) {
            (GroupBuyState::Open | GroupBuyState::Filled, GroupBuyEvent::Joined { joined }) => {
                if joined == 0 || joined > terms.capacity {
                    return refused;
                }
                Ok(if joined >= terms.min_group { GroupBuyState::Filled } else { self })
            }
            (GroupBuyState::Open, GroupBuyEvent::DeadlinePassed) => Ok(GroupBuyState::Expired),
            (GroupBuyState::Filled, GroupBuyEvent::DeadlinePassed) => Ok(GroupBuyState::Closed),
            (GroupBuyState::Closed | GroupBuyState::Expired, _) => refused,
        }
    }
}

/// A group-buy offer as stored: its terms, the merchant selling and the one stock its
/// units were set aside from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBuy {
    pub group_buy_id: GroupBuyId,
    pub merchant_id: MerchantId,
    pub terms: GroupBuyTerms,
    /// The warehouse whose stock (of the merchant's own) holds the set-aside units.
    pub warehouse: WarehouseId,
    pub created_at: DateTime<Utc>,
}

/// An offer has too few of the merchant's units available in any one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{sku}: {wanted} units wanted for the group buy, at most {available} of merchant {merchant}'s available in one warehouse"
)]
pub struct NotEnoughStock {
    pub merchant: MerchantId,
    pub sku: Sku,
    pub wanted: u32,
    pub available: u32,
}

impl GroupBuy {
    /// Plans a new offer: its units from the merchant's own stock of the SKU in the
    /// warehouse with the most available (then by id), which must hold them all.
    pub fn plan(
        group_buy_id: GroupBuyId,
        merchant_id: MerchantId,
        terms: GroupBuyTerms,
        stock: &[StockLevel],
        now: DateTime<Utc>,
    ) -> Result<Self, NotEnoughStock> {
        let best = stock
            .iter()
            .filter(|l| l.owner == merchant_id && l.sku == terms.sku)
            .max_by(|a, b| a.available.cmp(&b.available).then(b.warehouse.cmp(&a.warehouse)));
        let available = best.map_or(0, |l| l.available);
        match best {
            Some(level) if available >= terms.units() => {
                Ok(Self { group_buy_id, merchant_id, warehouse: level.warehouse.clone(), terms, created_at: now })
            }
            _ => Err(NotEnoughStock { merchant: merchant_id, sku: terms.sku.clone(), wanted: terms.units(), available }),
        }
    }

    /// `units` of the offer's stock, as a line of a hold.
    pub fn line(&self, units: u32) -> AllocatedLine {
        AllocatedLine {
            warehouse: self.warehouse.clone(),
            owner: self.merchant_id.clone(),
            sku: self.terms.sku.clone(),
            quantity: units,
            transfer_price: None,
        }
    }

    /// What the offer sets aside from stock: the units of its whole capacity.
    pub fn set_aside(&self) -> AllocatedLine {
        self.line(self.terms.units())
    }

    /// Units the offer gives back at its deadline with `joined` buyers, and its state then:
    /// all of them when it never filled, the capacity nobody joined when it did.
    pub fn settle(&self, state: GroupBuyState, joined: u32) -> Result<(GroupBuyState, u32), InvalidGroupBuyTransition> {
        let after = state.on(GroupBuyEvent::DeadlinePassed, &self.terms)?;
        let units = match after {
            GroupBuyState::Expired => self.terms.units(),
            _ => self.terms.capacity.saturating_sub(joined) * self.terms.units_per_buyer,
        };
        Ok((after, units))
    }
}

/// The offer's changing part, as stored beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupBuyStatus {
    pub state: GroupBuyState,
    /// Buyers joined.
    pub joined: u32,
    /// Joins whose orders are made.
    pub converted: u32,
    /// Once settled at the deadline: when, and the units given back to stock.
    pub settled: Option<Settlement>,
}

/// How an offer was settled at its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub at: DateTime<Utc>,
    pub units_returned: u32,
}

/// One buyer's join, stored under (offer, customer) and (offer, idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    pub join_id: JoinId,
    pub group_buy_id: GroupBuyId,
    pub customer_id: CustomerId,
    pub idempotency_key: IdempotencyKey,
    /// The order the join becomes once the group fills (channel `group_buy`, external id
    /// the join id); chosen when the join is made so that converting it is idempotent.
    pub order_id: OrderId,
    /// Where its order ships; without it the order waits on hold (`address_missing`).
    pub shipping_address: Option<Address>,
    pub joined_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::StockCounts;

    fn terms(min_group: u32, capacity: u32) -> GroupBuyTerms {
        GroupBuyTerms {
            sku: Sku::parse("SKU-1").unwrap(),
            price: Decimal::new(990, 2),
            currency: Currency::parse("EUR").unwrap(),
            min_group,
            capacity,
            units_per_buyer: 2,
            deadline: Utc::now() + chrono::Duration::hours(1),
        }
    }

    fn level(warehouse: &str, owner: &str, on_hand: u32) -> StockLevel {
        StockLevel::new(
            WarehouseId::parse(warehouse).unwrap(),
            MerchantId::parse(owner).unwrap(),
            Sku::parse("SKU-1").unwrap(),
            StockCounts::new(on_hand, 0).unwrap(),
        )
    }

    #[test]
    fn joins_keep_an_offer_open_until_the_minimum_then_it_is_filled() {
        let t = terms(3, 5);
        let open = GroupBuyState::Open;
        assert_eq!(open.on(GroupBuyEvent::Joined { joined: 1 }, &t), Ok(GroupBuyState::Open));
        assert_eq!(open.on(GroupBuyEvent::Joined { joined: 2 }, &t), Ok(GroupBuyState::Open));
        assert_eq!(open.on(GroupBuyEvent::Joined { joined: 3 }, &t), Ok(GroupBuyState::Filled));
        assert_eq!(GroupBuyState::Filled.on(GroupBuyEvent::Joined { joined: 5 }, &t), Ok(GroupBuyState::Filled));
    }

    #[test]
    fn a_join_past_the_capacity_is_refused() {
        let t = terms(3, 5);
        assert!(GroupBuyState::Filled.on(GroupBuyEvent::Joined { joined: 6 }, &t).is_err());
        assert!(GroupBuyState::Open.on(GroupBuyEvent::Joined { joined: 0 }, &t).is_err());
    }

    #[test]
    fn the_deadline_expires_an_open_offer_and_closes_a_filled_one() {
        let t = terms(3, 5);
        assert_eq!(GroupBuyState::Open.on(GroupBuyEvent::DeadlinePassed, &t), Ok(GroupBuyState::Expired));
        assert_eq!(GroupBuyState::Filled.on(GroupBuyEvent::DeadlinePassed, &t), Ok(GroupBuyState::Closed));
    }

    #[test]
    fn nothing_moves_a_closed_or_expired_offer() {
        let t = terms(3, 5);
        for state in [GroupBuyState::Closed, GroupBuyState::Expired] {
            assert!(state.on(GroupBuyEvent::DeadlinePassed, &t).is_err());
            assert!(state.on(GroupBuyEvent::Joined { joined: 1 }, &t).is_err());
            assert!(!state.takes_joins() && state.is_final());
        }
    }

    #[test]
    fn settling_gives_back_every_unit_unfilled_and_the_unjoined_capacity_filled() {
        let offer = GroupBuy::plan(
            GroupBuyId::generate(),
            MerchantId::parse("m-1").unwrap(),
            terms(3, 5),
            &[level("wh-1", "m-1", 10)],
            Utc::now(),
        )
        .unwrap();
        assert_eq!(offer.settle(GroupBuyState::Open, 2), Ok((GroupBuyState::Expired, 10)));
        assert_eq!(offer.settle(GroupBuyState::Filled, 4), Ok((GroupBuyState::Closed, 2)));
        assert!(offer.settle(GroupBuyState::Closed, 4).is_err());
    }

    #[test]
    fn an_offer_takes_its_units_from_the_merchants_largest_own_stock() {
        let stock = [level("wh-1", "m-1", 4), level("wh-2", "m-1", 12), level("wh-3", "m-2", 100)];
        let m = MerchantId::parse("m-1").unwrap();
        let offer = GroupBuy::plan(GroupBuyId::generate(), m.clone(), terms(2, 6), &stock, Utc::now()).unwrap();
        assert_eq!((offer.warehouse.as_str(), offer.set_aside().quantity), ("wh-2", 12));
        let err = GroupBuy::plan(GroupBuyId::generate(), m, terms(2, 7), &stock, Utc::now()).unwrap_err();
        assert_eq!((err.wanted, err.available), (14, 12), "another merchant's units never count");
    }

    #[test]
    fn terms_are_refused_naming_the_field() {
        let now = Utc::now();
        let field = |t: GroupBuyTerms| t.check(now).unwrap_err().field;
        assert_eq!(field(GroupBuyTerms { price: Decimal::ZERO, ..terms(1, 1) }), "price");
        assert_eq!(field(GroupBuyTerms { price: Decimal::new(-1, 0), ..terms(1, 1) }), "price");
        assert_eq!(field(GroupBuyTerms { price: Decimal::new(1001, 3), ..terms(1, 1) }), "price");
        assert_eq!(field(terms(1, 0)), "capacity");
        assert_eq!(field(terms(1, MAX_CAPACITY + 1)), "capacity");
        assert_eq!(field(terms(0, 3)), "min_group");
        assert_eq!(field(terms(4, 3)), "min_group");
        assert_eq!(field(GroupBuyTerms { units_per_buyer: 0, ..terms(1, 1) }), "units_per_buyer");
        assert_eq!(field(GroupBuyTerms { units_per_buyer: MAX_UNITS_PER_BUYER + 1, ..terms(1, 1) }), "units_per_buyer");
        assert_eq!(field(GroupBuyTerms { deadline: now, ..terms(1, 1) }), "deadline");
        assert_eq!(field(GroupBuyTerms { deadline: now + chrono::Duration::days(32), ..terms(1, 1) }), "deadline");
        assert!(terms(3, 5).check(now).is_ok());
    }

    #[test]
    fn ids_carry_their_prefix() {
        assert!(GroupBuyId::parse(GroupBuyId::generate().to_string()).is_ok());
        assert!(JoinId::parse(GroupBuyId::generate().to_string()).is_err());
        assert_eq!(GroupBuyState::parse("filled"), Ok(GroupBuyState::Filled));
    }
}
