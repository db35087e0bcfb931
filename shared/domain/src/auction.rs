//! Auctions: a merchant lists one unit of a SKU with a start price, an increment, an
//! optional reserve price and an end time; customers bid, each bid at least the best so far
//! plus the increment; an optional anti-sniping rule extends the end when a bid lands in
//! its last minutes; at the end the winner gets an order, or nobody does when the reserve
//! was not met.
//!
//! The unit is not set aside from stock while the auction runs: the winner's order is an
//! ordinary order of one unit (channel `auction`, external id the auction id, unpaid) that
//! is allocated, reserved and shipped through the normal flow. An auction may run for days
//! and end with no winner; a unit set aside for all that time would be kept from every
//! other channel, and the ledger would need a hold kind that is given back far more often
//! than it is taken. The cost: stock sold elsewhere meanwhile backorders the winner's order
//! (as any order finding no stock), which the merchant avoids by listing stock it keeps.
//!
//! The auction is one record in the store, its mutable part (best bid, bid count, current
//! end, version, and the outcome once closed) beside its terms. A bid is one conditional
//! write on the version the bid was decided against ([`ports::AuctionStore::place_bid`]),
//! so two bids decided on the same state cannot both land: the second is decided again on
//! the state the first left, where it is too low.
//!
//! [`ports::AuctionStore::place_bid`]: crate::ports::AuctionStore::place_bid

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::flash_sale::{minted_id, IdempotencyKey};
use crate::order::Address;
use crate::{Currency, CustomerId, MerchantId, OrderId, Sku, ValidationError};

/// Longest an auction may run (before anti-sniping extensions).
pub const MAX_DURATION_DAYS: i64 = 31;
/// Longest the anti-sniping window and each extension may be, in minutes.
pub const MAX_SNIPING_MINUTES: u32 = 60;
/// Most minutes anti-sniping may add to an auction's end in all.
pub const MAX_EXTENSION_MINUTES: u32 = 24 * 60;

minted_id!(
    /// An auction: `auc_` and a ULID. Its winner's order has it as external id (channel
    /// `auction`).
    AuctionId,
    "auc_"
);
minted_id!(
    /// One accepted bid: `bid_` and a ULID.
    BidId,
    "bid_"
);

/// Anti-sniping: a bid accepted within the last `window_minutes` before the end moves the
/// end to `extension_minutes` after the bid, never past the original end plus
/// `max_extension_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AntiSniping {
    pub window_minutes: u32,
    pub extension_minutes: u32,
    pub max_extension_minutes: u32,
}

/// What a merchant asks for when it lists an auction, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionTerms {
    pub sku: Sku,
    pub currency: Currency,
    /// The least the first bid may be.
    pub start_price: Decimal,
    /// How much each bid must beat the best one by.
    pub increment: Decimal,
    /// The least the best bid must reach for a sale; never shown to bidders.
    pub reserve_price: Option<Decimal>,
    pub starts_at: DateTime<Utc>,
    /// The end as listed; anti-sniping may move the auction's end ([`Auction::ends_at`]).
    pub ends_at: DateTime<Utc>,
    pub anti_sniping: Option<AntiSniping>,
}

fn check_amount(field: &str, amount: Decimal, currency: Currency, positive: bool) -> Result<Decimal, ValidationError> {
    let amount = crate::money::check_price(amount, currency).map_err(|e| e.within(field))?;
    if positive && amount.is_zero() {
        return Err(ValidationError::new(field, "must be more than 0"));
    }
    Ok(amount)
}

impl AuctionTerms {
    /// Checks the terms: a start price from 0, an increment above 0 (both prices of the
    /// currency, at most the largest amount), a reserve price (if any) at least the start
    /// price, a window that ends after it starts and lasts at most [`MAX_DURATION_DAYS`],
    /// and anti-sniping minutes of 1 to [`MAX_SNIPING_MINUTES`] with a cap of 1 to
    /// [`MAX_EXTENSION_MINUTES`].
    pub fn check(self) -> Result<Self, ValidationError> {
        let start_price = check_amount("start_price", self.start_price, self.currency, false)?;
        let increment = check_amount("increment", self.increment, self.currency, true)?;
        let reserve_price = match self.reserve_price {
            Some(reserve) => {
                let reserve = check_amount("reserve_price", reserve, self.currency, false)?;
                if reserve < start_price {
                    return Err(ValidationError::new("reserve_price", "must not be below start_price"));
                }
                Some(reserve)
            }
            None => None,
        };
        if self.ends_at <= self.starts_at {
            return Err(ValidationError::new("ends_at", "must be after starts_at"));
        }
        if self.ends_at - self.starts_at > Duration::days(MAX_DURATION_DAYS) {
            return Err(ValidationError::new("ends_at", format!("an auction lasts at most {MAX_DURATION_DAYS} days")));
        }
        if let Some(rule) = self.anti_sniping {
            for (field, minutes) in
                [("anti_sniping.window_minutes", rule.window_minutes), ("anti_sniping.extension_minutes", rule.extension_minutes)]
            {
                if !(1..=MAX_SNIPING_MINUTES).contains(&minutes) {
                    return Err(ValidationError::new(field, format!("must be 1 to {MAX_SNIPING_MINUTES}")));
                }
            }
            if !(1..=MAX_EXTENSION_MINUTES).contains(&rule.max_extension_minutes) {
                return Err(ValidationError::new(
                    "anti_sniping.max_extension_minutes",
                    format!("must be 1 to {MAX_EXTENSION_MINUTES}"),
                ));
            }
        }
        Ok(Self { start_price, increment, reserve_price, ..self })
    }

    /// The latest the auction may end, with every extension.
    pub fn latest_end(&self) -> DateTime<Utc> {
        let cap = self.anti_sniping.map_or(0, |rule| rule.max_extension_minutes);
        self.ends_at + Duration::minutes(i64::from(cap))
    }
}

/// The best bid of an auction so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestBid {
    pub bid_id: BidId,
    pub customer_id: CustomerId,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
    /// Where the winner's order ships, if the bidder gave it.
    pub shipping_address: Option<Address>,
}

/// How an auction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuctionOutcome {
    /// The best bid met the reserve: its bidder's order was made.
    Won { bid_id: BidId, customer_id: CustomerId, amount: Decimal, order_id: OrderId },
    /// The best bid was below the reserve price: no order.
    ReserveNotMet { best: Decimal },
    /// Nobody bid: no order.
    NoBids,
}

impl AuctionOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuctionOutcome::Won { .. } => "won",
            AuctionOutcome::ReserveNotMet { .. } => "reserve_not_met",
            AuctionOutcome::NoBids => "no_bids",
        }
    }
}

/// Where an auction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuctionState {
    /// Before `starts_at`.
    Scheduled,
    /// Taking bids.
    Open,
    /// Past its end, not closed yet (the sweeper closes it).
    Ending,
    /// Closed, with its outcome.
    Ended,
}

impl AuctionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuctionState::Scheduled => "scheduled",
            AuctionState::Open => "open",
            AuctionState::Ending => "ending",
            AuctionState::Ended => "ended",
        }
    }
}

/// An auction as stored: its terms, and its state now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auction {
    pub auction_id: AuctionId,
    pub merchant_id: MerchantId,
    pub terms: AuctionTerms,
    pub created_at: DateTime<Utc>,
    /// The end now: the listed end, moved by anti-sniping.
    pub ends_at: DateTime<Utc>,
    pub best: Option<BestBid>,
    /// Bids accepted.
    pub bids: u32,
    /// Grows by one with every write of the auction; the condition of every write.
    pub version: u64,
    /// Set once, when the auction is closed.
    pub closed: Option<Closed>,
}

/// How and when an auction was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub at: DateTime<Utc>,
    pub outcome: AuctionOutcome,
}

/// One accepted bid, as the store keeps it under its (auction, idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    pub bid_id: BidId,
    /// Its number among the auction's accepted bids, from 1, in the order they landed (the
    /// auction's bid count with it).
    pub seq: u32,
    pub auction_id: AuctionId,
    pub idempotency_key: IdempotencyKey,
    pub customer_id: CustomerId,
    pub amount: Decimal,
    pub placed_at: DateTime<Utc>,
    pub shipping_address: Option<Address>,
}

/// Why a bid is refused. Nothing is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BidRefusal {
    #[error("the auction is {}: bids are taken from {starts_at} until {ends_at}", state.as_str())]
    NotOpen { state: AuctionState, starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    #[error("too low: the least bid now is {least} (best bid {best:?})")]
    TooLow { least: Decimal, best: Option<Decimal> },
}

impl Auction {
    /// A new auction of `merchant`: no bids, version 1, ending as listed.
    pub fn new(auction_id: AuctionId, merchant_id: MerchantId, terms: AuctionTerms, now: DateTime<Utc>) -> Self {
        let ends_at = terms.ends_at;
        Self { auction_id, merchant_id, terms, created_at: now, ends_at, best: None, bids: 0, version: 1, closed: None }
    }

    /// The state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> AuctionState {
        if self.closed.is_some() {
            AuctionState::Ended
        } else if now < self.terms.starts_at {
            AuctionState::Scheduled
        } else if now >= self.ends_at {
            AuctionState::Ending
        } else {
            AuctionState::Open
        }
    }

    /// The least a bid may be now: the start price for the first bid, the best bid plus the
    /// increment after.
    pub fn least_bid(&self) -> Decimal {
        match &self.best {
            None => self.terms.start_price,
            Some(best) => best.amount + self.terms.increment,
        }
    }

    /// The end after a bid accepted at `at`: moved by anti-sniping when the bid lands
    /// within its window before the end (to `extension_minutes` after the bid, capped at
    /// [`AuctionTerms::latest_end`]); never earlier than it was.
    pub fn end_after_bid(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let Some(rule) = self.terms.anti_sniping else { return self.ends_at };
        if at < self.ends_at - Duration::minutes(i64::from(rule.window_minutes)) {
            return self.ends_at;
        }
        let extended = (at + Duration::minutes(i64::from(rule.extension_minutes))).min(self.terms.latest_end());
        extended.max(self.ends_at)
    }

    /// The auction with `bid` as its best, or why the bid is refused: the auction must be
    /// open at the bid's time and the amount at least [`least_bid`](Self::least_bid). The
    /// bid count and version grow by one and the end moves as
    /// [`end_after_bid`](Self::end_after_bid) says.
    pub fn accept(&self, bid: &Bid) -> Result<Auction, BidRefusal> {
        let state = self.state(bid.placed_at);
        if state != AuctionState::Open {
            return Err(BidRefusal::NotOpen { state, starts_at: self.terms.starts_at, ends_at: self.ends_at });
        }
        let least = self.least_bid();
        if bid.amount < least {
            return Err(BidRefusal::TooLow { least, best: self.best.as_ref().map(|b| b.amount) });
        }
        let mut next = self.clone();
        next.ends_at = self.end_after_bid(bid.placed_at);
        next.best = Some(BestBid {
            bid_id: bid.bid_id.clone(),
            customer_id: bid.customer_id.clone(),
            amount: bid.amount,
            at: bid.placed_at,
            shipping_address: bid.shipping_address.clone(),
        });
        next.bids = self.bids.saturating_add(1);
        next.version = self.version + 1;
        Ok(next)
    }

    /// How the auction ends, if it has ended at `now` and is not closed yet (`None`
    /// otherwise): won by the best bid when it meets the reserve (the order named
    /// `order_id`), reserve not met, or no bids.
    pub fn outcome_at(&self, now: DateTime<Utc>, order_id: OrderId) -> Option<AuctionOutcome> {
        if self.state(now) != AuctionState::Ending {
            return None;
        }
        Some(match &self.best {
            None => AuctionOutcome::NoBids,
            Some(best) if self.terms.reserve_price.is_some_and(|reserve| best.amount < reserve) => {
                AuctionOutcome::ReserveNotMet { best: best.amount }
            }
            Some(best) => AuctionOutcome::Won {
                bid_id: best.bid_id.clone(),
                customer_id: best.customer_id.clone(),
                amount: best.amount,
                order_id,
            },
        })
    }

    /// The auction closed at `now` with `outcome`, at the next version.
    pub fn close(&self, outcome: AuctionOutcome, now: DateTime<Utc>) -> Auction {
        Auction { closed: Some(Closed { at: now, outcome }), version: self.version + 1, ..self.clone() }
    }

    /// Whether the reserve was met by the best bid (true with no reserve and a bid).
    pub fn reserve_met(&self) -> bool {
        match (&self.best, self.terms.reserve_price) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(best), Some(reserve)) => best.amount >= reserve,
        }
    }
}

impl fmt::Display for AuctionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn terms() -> AuctionTerms {
        AuctionTerms {
            sku: Sku::parse("SKU-1").unwrap(),
            currency: Currency::parse("CNY").unwrap(),
            start_price: Decimal::new(100, 0),
            increment: Decimal::new(10, 0),
            reserve_price: Some(Decimal::new(150, 0)),
            starts_at: t0(),
            ends_at: t0() + Duration::hours(1),
            anti_sniping: Some(AntiSniping { window_minutes: 5, extension_minutes: 5, max_extension_minutes: 15 }),
        }
    }

    fn auction() -> Auction {
        Auction::new(AuctionId::generate(), MerchantId::parse("m-1").unwrap(), terms(), t0())
    }

    fn bid(customer: &str, amount: i64, at: DateTime<Utc>) -> Bid {
        Bid {
            bid_id: BidId::generate(),
            seq: 1,
            auction_id: AuctionId::generate(),
            idempotency_key: IdempotencyKey::parse(format!("{customer}-{amount}")).unwrap(),
            customer_id: CustomerId::parse(customer).unwrap(),
            amount: Decimal::new(amount, 0),
            placed_at: at,
            shipping_address: None,
        }
    }

    #[test]
    fn terms_are_refused_naming_the_field() {
        let field = |t: AuctionTerms| t.check().unwrap_err().field;
        assert_eq!(field(AuctionTerms { start_price: Decimal::new(-1, 0), ..terms() }), "start_price");
        assert_eq!(field(AuctionTerms { increment: Decimal::ZERO, ..terms() }), "increment");
        assert_eq!(field(AuctionTerms { increment: Decimal::new(1, 6), ..terms() }), "increment");
        assert_eq!(field(AuctionTerms { reserve_price: Some(Decimal::new(99, 0)), ..terms() }), "reserve_price");
        assert_eq!(field(AuctionTerms { ends_at: t0(), ..terms() }), "ends_at");
        assert_eq!(field(AuctionTerms { ends_at: t0() + Duration::days(32), ..terms() }), "ends_at");
        let rule = AntiSniping { window_minutes: 0, extension_minutes: 5, max_extension_minutes: 5 };
        assert_eq!(field(AuctionTerms { anti_sniping: Some(rule), ..terms() }), "anti_sniping.window_minutes");
        let rule = AntiSniping { window_minutes: 5, extension_minutes: 5, max_extension_minutes: 0 };
        assert_eq!(field(AuctionTerms { anti_sniping: Some(rule), ..terms() }), "anti_sniping.max_extension_minutes");
        assert!(terms().check().is_ok());
        assert!(AuctionTerms { reserve_price: None, anti_sniping: None, ..terms() }.check().is_ok());
    }

    #[test]
    fn the_first_bid_needs_the_start_price_and_later_ones_the_best_plus_the_increment() {
        let a = auction();
        let at = t0() + Duration::minutes(1);
        assert!(
            matches!(a.accept(&bid("c-1", 99, at)), Err(BidRefusal::TooLow { least, best: None }) if least == Decimal::new(100, 0))
        );
        let a = a.accept(&bid("c-1", 100, at)).unwrap();
        assert_eq!((a.bids, a.version, a.least_bid()), (1, 2, Decimal::new(110, 0)));
        let refused = a.accept(&bid("c-2", 109, at)).unwrap_err();
        assert_eq!(refused, BidRefusal::TooLow { least: Decimal::new(110, 0), best: Some(Decimal::new(100, 0)) });
        // An equal bid to the best is too low: two equal bids, one wins.
        assert!(a.accept(&bid("c-2", 100, at)).is_err());
        let a = a.accept(&bid("c-2", 110, at)).unwrap();
        assert_eq!(a.best.as_ref().map(|b| b.customer_id.as_str()), Some("c-2"));
    }

    #[test]
    fn bids_are_taken_only_while_the_auction_is_open() {
        let a = auction();
        let early = a.accept(&bid("c-1", 100, t0() - Duration::seconds(1))).unwrap_err();
        assert!(matches!(early, BidRefusal::NotOpen { state: AuctionState::Scheduled, .. }));
        let late = a.accept(&bid("c-1", 100, a.ends_at)).unwrap_err();
        assert!(matches!(late, BidRefusal::NotOpen { state: AuctionState::Ending, .. }));
        let closed = a.close(AuctionOutcome::NoBids, a.ends_at);
        assert_eq!(closed.state(t0()), AuctionState::Ended);
        assert!(matches!(closed.accept(&bid("c-1", 100, t0())), Err(BidRefusal::NotOpen { state: AuctionState::Ended, .. })));
    }

    #[test]
    fn a_bid_in_the_last_minutes_extends_the_end_up_to_the_cap() {
        let a = auction();
        let end = a.ends_at;
        // Outside the window: no change.
        let a = a.accept(&bid("c-1", 100, end - Duration::minutes(6))).unwrap();
        assert_eq!(a.ends_at, end);
        // Within it: five minutes after the bid.
        let a = a.accept(&bid("c-2", 110, end - Duration::minutes(1))).unwrap();
        assert_eq!(a.ends_at, end + Duration::minutes(4));
        // Extended again and again, never past the listed end plus 15 minutes.
        let a = a.accept(&bid("c-1", 120, end + Duration::minutes(3))).unwrap();
        let a = a.accept(&bid("c-2", 130, end + Duration::minutes(7))).unwrap();
        let a = a.accept(&bid("c-1", 140, end + Duration::minutes(11))).unwrap();
        assert_eq!(a.ends_at, end + Duration::minutes(15));
        assert_eq!(a.state(end + Duration::minutes(15)), AuctionState::Ending);
        let none = Auction { terms: AuctionTerms { anti_sniping: None, ..terms() }, ..auction() };
        assert_eq!(none.end_after_bid(end - Duration::seconds(1)), end);
    }

    #[test]
    fn an_ended_auction_is_won_only_when_the_reserve_is_met() {
        let order = OrderId::generate();
        let a = auction();
        assert_eq!(a.outcome_at(a.ends_at - Duration::seconds(1), order.clone()), None, "not ended yet");
        assert_eq!(a.outcome_at(a.ends_at, order.clone()), Some(AuctionOutcome::NoBids));
        let low = a.accept(&bid("c-1", 140, t0())).unwrap();
        assert!(!low.reserve_met());
        assert_eq!(
            low.outcome_at(low.ends_at, order.clone()),
            Some(AuctionOutcome::ReserveNotMet { best: Decimal::new(140, 0) })
        );
        let met = low.accept(&bid("c-2", 150, t0())).unwrap();
        let Some(AuctionOutcome::Won { customer_id, amount, order_id, .. }) = met.outcome_at(met.ends_at, order.clone()) else {
            panic!("won")
        };
        assert_eq!((customer_id.as_str(), amount, order_id), ("c-2", Decimal::new(150, 0), order.clone()));
        let closed = met.close(AuctionOutcome::NoBids, met.ends_at);
        assert_eq!(closed.outcome_at(closed.ends_at, order), None, "closed once");
        assert_eq!(closed.version, met.version + 1);
        let no_reserve = Auction { terms: AuctionTerms { reserve_price: None, ..terms() }, ..auction() };
        assert!(no_reserve.accept(&bid("c-1", 100, t0())).unwrap().reserve_met());
    }

    #[test]
    fn ids_carry_their_prefix() {
        assert!(AuctionId::parse(AuctionId::generate().to_string()).is_ok());
        assert!(AuctionId::parse("fs_01ARZ3NDEKTSV4RRFFQ69G5FAV").is_err());
        assert!(BidId::parse(BidId::generate().to_string()).is_ok());
    }
}
