//! Flash sales: a few hundred units of one SKU, set aside from stock, claimed by thousands
//! of buyers in seconds. Nobody gets more than the per-customer limit and not one unit is
//! oversold.
//!
//! The units are split over shards (`Shard`), each its own record in the store, so that
//! claims spread over many records instead of queuing on one counter. Each shard's units
//! come from one (warehouse, owner) stock, so a claim's order knows where its units are.
//! A claim is one atomic write (`ports::FlashSaleStore::claim`): the claim record under
//! its idempotency key, the customer's running total (conditional on the limit), the
//! decrement of one shard (conditional on its units) and the claim's order with its
//! allocation message.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::allocation::AllocatedLine;
use crate::stock::StockLevel;
use crate::{Currency, CustomerId, MerchantId, OrderId, Sku, ValidationError, WarehouseId};

/// Most shards a sale may have: enough for 50,000 claims/s on DynamoDB (see
/// `docs/dynamodb.md`, "Flash sales"), few enough that a sold-out check stays one read.
pub const MAX_SHARDS: u32 = 200;
/// Most units one sale may offer.
pub const MAX_UNITS: u32 = 1_000_000;
/// Most units one customer may be allowed, and one claim may ask for.
pub const MAX_PER_CUSTOMER: u32 = 100;
/// Longest a sale may run.
pub const MAX_DURATION_DAYS: i64 = 31;
/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

macro_rules! minted_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh id: the prefix and a ULID (so ids sort by creation time).
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::new()))
            }

            /// An id as a client or a store gives it: the prefix and a ULID.
            pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
                let raw: String = raw.into();
                let valid = raw.strip_prefix($prefix).is_some_and(|rest| rest.parse::<ulid::Ulid>().is_ok());
                if !valid {
                    return Err(ValidationError::new("", format!("{raw:?} is not a {} id ({}<ULID>)", stringify!($name), $prefix)));
                }
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use minted_id;

minted_id!(
    /// A flash sale: `fs_` and a ULID.
    SaleId,
    "fs_"
);
minted_id!(
    /// One claim of a flash sale: `clm_` and a ULID. The claim's order has it as its
    /// external id (channel `flash_sale`).
    ClaimId,
    "clm_"
);

/// The client's key for one claim: the same key again answers the first claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 128 printable characters, no spaces around.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw: String = raw.into();
        if raw.is_empty() || raw.chars().count() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(ValidationError::new("", format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters")));
        }
        if raw.trim() != raw || raw.chars().any(char::is_control) {
            return Err(ValidationError::new("", "must not hold control characters or spaces around it"));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> String {
        key.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a merchant asks for when it creates a sale, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleTerms {
    pub sku: Sku,
    pub units: u32,
    pub per_customer_limit: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub shards: u32,
    /// The unit price the claims' orders carry.
    pub price: Decimal,
    pub currency: Currency,
}

impl SaleTerms {
    /// Checks the terms: units 1 to `MAX_UNITS`, a limit 1 to `MAX_PER_CUSTOMER`, shards 1 to
    /// `MAX_SHARDS` and no more than the units, a window that ends after it starts and lasts
    /// at most `MAX_DURATION_DAYS`.
    pub fn check(self) -> Result<Self, ValidationError> {
        if !(1..=MAX_UNITS).contains(&self.units) {
            return Err(ValidationError::new("units", format!("must be 1 to {MAX_UNITS}")));
        }
        if !(1..=MAX_PER_CUSTOMER).contains(&self.per_customer_limit) {
            return Err(ValidationError::new("per_customer_limit", format!("must be 1 to {MAX_PER_CUSTOMER}")));
        }
        if !(1..=MAX_SHARDS).contains(&self.shards) {
            return Err(ValidationError::new("shards", format!("must be 1 to {MAX_SHARDS}")));
        }
        if self.shards > self.units {
            return Err(ValidationError::new("shards", format!("must not exceed the units ({})", self.units)));
        }
        if self.ends_at <= self.starts_at {
            return Err(ValidationError::new("ends_at", "must be after starts_at"));
        }
        if self.ends_at - self.starts_at > chrono::Duration::days(MAX_DURATION_DAYS) {
            return Err(ValidationError::new("ends_at", format!("a sale lasts at most {MAX_DURATION_DAYS} days")));
        }
        Ok(self)
    }
}

/// One shard: so many of the sale's units, all from one (warehouse, owner) stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub warehouse: WarehouseId,
    pub owner: MerchantId,
    pub units: u32,
}

/// A flash sale as stored: its terms, the merchant selling, and its shards (whose units
/// sum to `terms.units` and are what the sale set aside from stock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashSale {
    pub sale_id: SaleId,
    pub merchant_id: MerchantId,
    pub terms: SaleTerms,
    pub shards: Vec<Shard>,
    pub created_at: DateTime<Utc>,
}

/// A sale closed after its end: the units its shards still held when it closed went back
/// to available stock (out of the set-aside, `release` ledger entries of the sale's hold),
/// once (`ports::FlashSaleStore::close_sale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleClosing {
    pub closed_at: DateTime<Utc>,
    /// Units given back to stock when it closed (unclaimed units).
    pub units_returned: u64,
}

/// Where a sale is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// Before `starts_at`.
    Scheduled,
    Active,
    /// Within its window, every unit claimed.
    SoldOut,
    /// At or after `ends_at`.
    Ended,
}

impl SaleState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SaleState::Scheduled => "scheduled",
            SaleState::Active => "active",
            SaleState::SoldOut => "sold_out",
            SaleState::Ended => "ended",
        }
    }
}

/// A sale has too few of the merchant's units available to set aside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sku}: {wanted} units wanted for the sale, {available} of merchant {merchant}'s available in all warehouses")]
pub struct NotEnoughStock {
    pub merchant: MerchantId,
    pub sku: Sku,
    pub wanted: u32,
    pub available: u64,
}

impl FlashSale {
    /// Plans a new sale: takes the units from the merchant's own available stock of the SKU,
    /// the warehouses with the most available first (then by id), and splits them into
    /// shards. Errs when the merchant's available units fall short.
    pub fn plan(
        sale_id: SaleId,
        merchant_id: MerchantId,
        terms: SaleTerms,
        stock: &[StockLevel],
        now: DateTime<Utc>,
    ) -> Result<Self, NotEnoughStock> {
        let mut own: Vec<&StockLevel> =
            stock.iter().filter(|l| l.owner == merchant_id && l.sku == terms.sku && l.available > 0).collect();
        own.sort_by(|a, b| b.available.cmp(&a.available).then(a.warehouse.cmp(&b.warehouse)));
        let available: u64 = own.iter().map(|l| u64::from(l.available)).sum();
        if available < u64::from(terms.units) {
            return Err(NotEnoughStock { merchant: merchant_id, sku: terms.sku.clone(), wanted: terms.units, available });
        }
        let mut wanted = terms.units;
        let mut taken = Vec::new();
        for level in own {
            if wanted == 0 {
                break;
            }
            let take = level.available.min(wanted);
            taken.push((level.warehouse.clone(), level.owner.clone(), take));
            wanted -= take;
        }
        let shards = split_into_shards(&taken, terms.shards);
        // A stock too small for its share of shards gets fewer; the sale has what it got.
        let terms = SaleTerms { shards: u32::try_from(shards.len()).unwrap_or(u32::MAX), ..terms };
        Ok(Self { sale_id, merchant_id, terms, shards, created_at: now })
    }

    /// What the sale sets aside from stock: its units per (warehouse, owner).
    pub fn set_aside(&self) -> crate::reservation::Reservation {
        crate::reservation::Reservation::new(self.shards.iter().map(|shard| AllocatedLine {
            warehouse: shard.warehouse.clone(),
            owner: shard.owner.clone(),
            sku: self.terms.sku.clone(),
            quantity: shard.units,
            transfer_price: None,
        }))
    }

    /// The sale's state at `now`, given the units left over its shards.
    pub fn state(&self, now: DateTime<Utc>, units_left: u64) -> SaleState {
        if now < self.terms.starts_at {
            SaleState::Scheduled
        } else if now >= self.terms.ends_at {
            SaleState::Ended
        } else if units_left == 0 {
            SaleState::SoldOut
        } else {
            SaleState::Active
        }
    }

    /// Whether claims are taken at `now`: from `starts_at` until before `ends_at`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.terms.starts_at <= now && now < self.terms.ends_at
    }
}

/// Splits the units taken from each stock into `count` shards as even as the stocks allow:
/// every stock gets at least one shard, the rest go by its share of the units, and each
/// stock's units are spread evenly over its shards. Never returns an empty shard.
pub fn split_into_shards(taken: &[(WarehouseId, MerchantId, u32)], count: u32) -> Vec<Shard> {
    let total: u64 = taken.iter().map(|(_, _, units)| u64::from(*units)).sum();
    let count = u64::from(count).max(taken.len() as u64);
    let mut shards = Vec::new();
    let mut given = 0u64;
    for (index, (warehouse, owner, units)) in taken.iter().enumerate() {
        let left_stocks = (taken.len() - index - 1) as u64;
        let share = if index + 1 == taken.len() {
            count - given
        } else {
            (count * u64::from(*units) / total.max(1)).max(1).min(count - given - left_stocks)
        };
        let share = share.clamp(1, u64::from(*units).max(1));
        given += share;
        let share = u32::try_from(share).unwrap_or(u32::MAX);
        let (base, extra) = (units / share, units % share);
        for i in 0..share {
            let units = base + u32::from(i < extra);
            if units > 0 {
                shards.push(Shard { warehouse: warehouse.clone(), owner: owner.clone(), units });
            }
        }
    }
    shards
}

/// One claim, as the store keeps it under its (sale, idempotency key), and as its order's
/// message carries it ([`crate::messages::ClaimOrder`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub claim_id: ClaimId,
    pub sale_id: SaleId,
    pub idempotency_key: IdempotencyKey,
    pub customer_id: CustomerId,
    pub quantity: u32,
    /// The order the claim made (channel `flash_sale`, external id the claim id).
    pub order_id: OrderId,
    /// The shard whose units it took.
    pub shard: u32,
    pub claimed_at: DateTime<Utc>,
}

/// Where a claim's units came from: its sale and the shard it took them from. A claim's
/// order keeps it in its plan (`Allocation::claimed_from`), so a cancel before the order
/// held the units can give them back (`ports::HoldEffect::ReturnClaim`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedFrom {
    pub sale_id: SaleId,
    pub shard: u32,
}

/// Units left and claims made on one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShardLevel {
    pub units_left: u32,
    pub claims: u32,
}

/// The shards a claim tries, in order: all of them, starting at one picked from `seed` and
/// walking on. A seed per claim (random) spreads claims evenly; walking on from it means
/// an empty shard sends the claim to the next one.
pub fn shard_order(shards: u32, seed: u64) -> impl Iterator<Item = u32> {
    let start = if shards == 0 { 0 } else { u32::try_from(seed % u64::from(shards)).unwrap_or(0) };
    (0..shards).map(move |i| (start + i) % shards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::StockCounts;

    fn wh(id: &str) -> WarehouseId {
        WarehouseId::parse(id).unwrap()
    }

    fn m(id: &str) -> MerchantId {
        MerchantId::parse(id).unwrap()
    }

    fn terms(units: u32, shards: u32) -> SaleTerms {
        let starts_at = Utc::now();
        SaleTerms {
            sku: Sku::parse("SKU-1").unwrap(),
            units,
            per_customer_limit: 1,
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(1),
            shards,
            price: Decimal::ONE,
            currency: Currency::parse("CNY").unwrap(),
        }
    }

    fn level(warehouse: &str, owner: &str, on_hand: u32, reserved: u32) -> StockLevel {
        StockLevel::new(wh(warehouse), m(owner), Sku::parse("SKU-1").unwrap(), StockCounts::new(on_hand, reserved).unwrap())
    }

    #[test]
    fn shards_hold_every_unit_once_and_none_is_empty() {
        for (stocks, count) in [(vec![100], 7), (vec![3], 3), (vec![60, 40], 10), (vec![1, 99], 4), (vec![5, 5, 5], 3)] {
            let taken: Vec<_> = stocks.iter().enumerate().map(|(i, u)| (wh(&format!("wh-{i}")), m("m-1"), *u)).collect();
            let shards = split_into_shards(&taken, count);
            let total: u32 = shards.iter().map(|s| s.units).sum();
            assert_eq!(total, stocks.iter().sum::<u32>(), "{stocks:?} over {count}");
            assert!(shards.iter().all(|s| s.units > 0));
            assert!(shards.len() as u32 >= count.min(total), "{stocks:?} over {count}: {shards:?}");
        }
    }

    #[test]
    fn a_sale_takes_the_merchants_own_available_units_largest_stock_first() {
        let stock = [level("wh-1", "m-1", 10, 8), level("wh-2", "m-1", 50, 0), level("wh-3", "m-2", 500, 0)];
        let sale = FlashSale::plan(SaleId::generate(), m("m-1"), terms(51, 4), &stock, Utc::now()).unwrap();
        let set_aside = sale.set_aside();
        let lines: Vec<_> = set_aside.lines().iter().map(|l| (l.warehouse.as_str(), l.quantity)).collect();
        assert_eq!(lines, [("wh-1", 1), ("wh-2", 50)]);
        let err = FlashSale::plan(SaleId::generate(), m("m-1"), terms(53, 4), &stock, Utc::now()).unwrap_err();
        assert_eq!((err.wanted, err.available), (53, 52), "another merchant's units never count");
    }

    #[test]
    fn terms_are_refused_naming_the_field() {
        let field = |t: SaleTerms| t.check().unwrap_err().field;
        assert_eq!(field(terms(0, 1)), "units");
        assert_eq!(field(terms(MAX_UNITS + 1, 1)), "units");
        assert_eq!(field(terms(10, 0)), "shards");
        assert_eq!(field(terms(10, MAX_SHARDS + 1)), "shards");
        assert_eq!(field(terms(3, 4)), "shards");
        assert_eq!(field(SaleTerms { per_customer_limit: 0, ..terms(10, 1) }), "per_customer_limit");
        let t = terms(10, 1);
        assert_eq!(field(SaleTerms { ends_at: t.starts_at, ..t.clone() }), "ends_at");
        assert!(terms(10, 10).check().is_ok());
    }

    #[test]
    fn a_sale_is_scheduled_then_active_then_sold_out_or_ended() {
        let sale = FlashSale::plan(SaleId::generate(), m("m-1"), terms(5, 1), &[level("wh-1", "m-1", 5, 0)], Utc::now()).unwrap();
        let start = sale.terms.starts_at;
        assert_eq!(sale.state(start - chrono::Duration::seconds(1), 5), SaleState::Scheduled);
        assert_eq!(sale.state(start, 5), SaleState::Active);
        assert_eq!(sale.state(start, 0), SaleState::SoldOut);
        assert_eq!(sale.state(sale.terms.ends_at, 5), SaleState::Ended);
        assert!(sale.is_open(start) && !sale.is_open(sale.terms.ends_at));
    }

    #[test]
    fn a_claim_tries_every_shard_once_from_its_seed() {
        let order: Vec<u32> = shard_order(4, 6).collect();
        assert_eq!(order, [2, 3, 0, 1]);
    }

    #[test]
    fn ids_carry_their_prefix() {
        assert!(SaleId::parse(SaleId::generate().to_string()).is_ok());
        assert!(SaleId::parse("fs_nope").is_err());
        assert!(ClaimId::parse("fs_01ARZ3NDEKTSV4RRFFQ69G5FAV").is_err());
        assert!(IdempotencyKey::parse(" k").is_err());
        assert!(IdempotencyKey::parse("k-1").is_ok());
    }
}
