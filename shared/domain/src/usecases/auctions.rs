//! Auctions: list one, bid on it, show it, and close it after its end (the sweeper's job).
//! A bid is decided here on the auction as read ([`Auction::accept`]) and written as one
//! conditional write of the store on the version read ([`AuctionStore::place_bid`]); a bid
//! that loses the race to another is decided again on the state that one left, where an
//! equal or lower amount is too low. Closing writes the outcome and the winner's order in
//! one atomic write, once.
//!
//! Every use case takes the merchant (or customer) as an argument, so a caller derived
//! from credentials can be passed in place of one named in a body.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::auction::{Auction, AuctionId, AuctionOutcome, AuctionTerms, BestBid, Bid, BidId, BidRefusal};
use crate::flash_sale::IdempotencyKey;
use crate::messages::{AllocateOrder, Outgoing};
use crate::order::{Address, Channel, Charges, Customer, HoldReason, NewOrder, Order, OrderLine, OrderStatus};
use crate::ports::{CloseAuctionOutcome, CreateAuctionOutcome, PlaceBidOutcome, Ports, StoreError};
use crate::usecases::flash_sales::has_address;
use crate::usecases::intake::{first_unknown_sku, UnknownSku};
use crate::usecases::products::{ensure_sellable, SellableError};
use crate::{CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, ValidationError};

/// How many times a bid is decided again after another write landed first. Each lost race
/// means another bid (or the close) landed, so the auction moved on; an equal bid is too
/// low on the next decision. Bids racing on one auction are few at a time.
pub const BID_ATTEMPTS: usize = 32;

/// Why an auction was not listed. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateAuctionError {
    /// The SKU's listing in the reviewed catalogue is not on sale (not approved, unlisted)
    /// or has no unit on hand: the platform sells it no other way either.
    #[error(transparent)]
    NotSellable(#[from] SellableError),
    /// No warehouse has ever counted the SKU for the merchant (or for an owner that lets
    /// it sell the SKU on consignment): the winner's order could never be allocated.
    #[error(transparent)]
    UnknownSku(#[from] UnknownSku),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Lists an auction of `merchant`'s SKU (terms checked by the caller), once a warehouse has
/// counted the SKU for the merchant, as intake asks of an order's lines. Stored once.
pub async fn create_auction(ports: &Ports, merchant: &MerchantId, terms: AuctionTerms) -> Result<Auction, CreateAuctionError> {
    ensure_sellable(ports, &terms.sku).await?;
    let line = OrderLine { sku: terms.sku.clone(), quantity: 1, unit_price: terms.start_price };
    if let Some(unknown) = first_unknown_sku(ports, merchant, std::slice::from_ref(&line)).await? {
        return Err(unknown.into());
    }
    let auction = Auction::new(AuctionId::generate(), merchant.clone(), terms, ports.clock.now());
    match ports.auctions.create_auction(&auction).await? {
        CreateAuctionOutcome::Created => {
            tracing::info!(auction_id = %auction.auction_id, sku = %auction.terms.sku, ends_at = %auction.ends_at, "auction listed");
            Ok(auction)
        }
        CreateAuctionOutcome::Exists => {
            Err(StoreError::msg(format!("a fresh auction id {} was taken", auction.auction_id)).into())
        }
    }
}

/// A bid as the bidder asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBid {
    pub customer_id: CustomerId,
    pub amount: Decimal,
    pub idempotency_key: IdempotencyKey,
    /// Where the winner's order ships; without it the order waits on hold
    /// (`address_missing`).
    pub shipping_address: Option<Address>,
}

/// A bid accepted (or accepted before under the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidPlaced {
    pub bid: Bid,
    /// The auction as the bid left it (for a repeated bid: as it is now).
    pub auction: Auction,
    /// True when this answer is the first bid's, made under the same key before.
    pub repeated: bool,
}

/// Why a bid was not taken. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum BidError {
    #[error("no auction {0}")]
    NotFound(AuctionId),
    #[error(transparent)]
    Refused(#[from] BidRefusal),
    /// The idempotency key was used by another customer's bid.
    #[error(transparent)]
    KeyReused(ValidationError),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Places a bid: accepted only while the auction is open and when at least the least bid
/// now ([`Auction::least_bid`]); one conditional write of the bid and the auction with it
/// as best (and the end moved by anti-sniping). The same idempotency key again answers the
/// first bid. A refused bid stores nothing, so the same bid again is decided again: the
/// best only grows and the end passes, so it is refused again.
pub async fn place_bid(ports: &Ports, auction_id: &AuctionId, new: NewBid) -> Result<BidPlaced, BidError> {
    let store = &*ports.auctions;
    let bid_id = BidId::generate();
    for _ in 0..BID_ATTEMPTS {
        if let Some(first) = store.bid_by_key(auction_id, &new.idempotency_key).await? {
            return repeated(ports, first, &new).await;
        }
        let auction = store.get_auction(auction_id).await?.ok_or_else(|| BidError::NotFound(auction_id.clone()))?;
        let bid = Bid {
            bid_id: bid_id.clone(),
            seq: auction.bids + 1,
            auction_id: auction_id.clone(),
            idempotency_key: new.idempotency_key.clone(),
            customer_id: new.customer_id.clone(),
            amount: new.amount,
            placed_at: ports.clock.now(),
            shipping_address: new.shipping_address.clone(),
        };
        let after = auction.accept(&bid)?;
        match store.place_bid(&auction, &after, &bid).await? {
            PlaceBidOutcome::Placed => {
                tracing::info!(auction_id = %auction_id, bid_id = %bid.bid_id, amount = %bid.amount, ends_at = %after.ends_at, "bid accepted");
                return Ok(BidPlaced { bid, auction: after, repeated: false });
            }
            PlaceBidOutcome::Duplicate(first) => return repeated(ports, *first, &new).await,
            // Another bid or the close landed first: decide again on what it left.
            PlaceBidOutcome::Stale => {}
        }
    }
    Err(StoreError::msg(format!("auction {auction_id} kept changing while a bid was placed")).into())
}

/// The first bid under the key, if it is this customer's; another customer's is refused.
async fn repeated(ports: &Ports, first: Bid, new: &NewBid) -> Result<BidPlaced, BidError> {
    if first.customer_id != new.customer_id {
        return Err(BidError::KeyReused(ValidationError::new(
            "idempotency_key",
            "was used by another customer's bid; use a key of your own",
        )));
    }
    let auction =
        ports.auctions.get_auction(&first.auction_id).await?.ok_or_else(|| BidError::NotFound(first.auction_id.clone()))?;
    Ok(BidPlaced { bid: first, auction, repeated: true })
}

/// One page of an auction's bids, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidsPage {
    pub bids: Vec<Bid>,
    /// The last bid of this page, when more follow it.
    pub next: Option<u32>,
}

/// Up to `limit` bids of the auction after `after`.
pub async fn bids_page(ports: &Ports, auction_id: &AuctionId, after: Option<u32>, limit: usize) -> Result<BidsPage, StoreError> {
    let mut bids = ports.auctions.bids(auction_id, after, limit + 1).await?;
    let more = bids.len() > limit;
    bids.truncate(limit);
    let next = if more { bids.last().map(|b| b.seq) } else { None };
    Ok(BidsPage { bids, next })
}

/// What closing an auction found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// Closed now, with this outcome.
    Closed(Auction),
    /// Closed before: as it is.
    AlreadyClosed(Auction),
    /// Its end (as moved by anti-sniping) has not come.
    NotEnded(Auction),
}

/// An auction the sweeper closed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClosedAuction {
    pub auction_id: AuctionId,
    /// `won`, `reserve_not_met` or `no_bids`.
    pub outcome: &'static str,
    /// The winner's order.
    pub order_id: Option<OrderId>,
}

/// Closes the auction if it has ended: the outcome and, when the best bid met the reserve,
/// the winner's order (with its allocation message) in one atomic write, once. A bid
/// landing in between makes the write a lost race, and the auction is read again (a bid
/// decided before the end may still land; after it the end may have moved).
pub async fn close_auction(ports: &Ports, auction_id: &AuctionId) -> Result<Option<Closing>, StoreError> {
    let order_id = OrderId::generate();
    for _ in 0..BID_ATTEMPTS {
        let Some(auction) = ports.auctions.get_auction(auction_id).await? else {
            return Ok(None);
        };
        if auction.closed.is_some() {
            return Ok(Some(Closing::AlreadyClosed(auction)));
        }
        let now = ports.clock.now();
        let Some(outcome) = auction.outcome_at(now, order_id.clone()) else {
            return Ok(Some(Closing::NotEnded(auction)));
        };
        let order = match (&outcome, &auction.best) {
            (AuctionOutcome::Won { .. }, Some(best)) => Some(winner_order(&auction, best, order_id.clone(), now)?),
            _ => None,
        };
        let after = auction.close(outcome, now);
        let written =
            ports.auctions.close_auction(&auction, &after, order.as_ref().map(|(order, send)| (order, send.as_slice()))).await?;
        match written {
            CloseAuctionOutcome::Closed => {
                let outcome = after.closed.as_ref().map_or("", |c| c.outcome.as_str());
                tracing::info!(auction_id = %auction_id, outcome, bids = after.bids, "auction closed");
                return Ok(Some(Closing::Closed(after)));
            }
            CloseAuctionOutcome::Stale => {}
        }
    }
    Err(StoreError::msg(format!("auction {auction_id} kept changing while it was closed")))
}

/// Closes every auction that has ended and is not closed yet, earliest end first, at most
/// `most` (the index of open auctions by end, never a scan; the next run goes on). One that
/// fails is logged and left to the next run.
pub async fn close_ended_auctions(ports: &Ports, most: usize) -> Result<Vec<ClosedAuction>, StoreError> {
    let now = ports.clock.now();
    let mut closed = Vec::new();
    for auction_id in ports.auctions.ended_open_auctions(now, most).await? {
        match close_auction(ports, &auction_id).await {
            Ok(Some(Closing::Closed(auction))) => {
                let outcome = auction.closed.as_ref().map(|c| &c.outcome);
                let order_id = match outcome {
                    Some(AuctionOutcome::Won { order_id, .. }) => Some(order_id.clone()),
                    _ => None,
                };
                closed.push(ClosedAuction { auction_id, outcome: outcome.map_or("", AuctionOutcome::as_str), order_id });
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(auction_id = %auction_id, error = %e, "an ended auction could not be closed; the next sweep tries again")
            }
        }
    }
    Ok(closed)
}

/// The winner's order: channel `auction`, external id the auction id, the selling
/// merchant, one unit of the SKU at the winning amount, unpaid. With an address it is
/// queued for allocation through the normal flow; without one it is stored on hold
/// (`address_missing`) and nothing is queued until an address is given.
pub fn winner_order(
    auction: &Auction,
    best: &BestBid,
    order_id: OrderId,
    now: DateTime<Utc>,
) -> Result<(Order, Vec<Outgoing>), StoreError> {
    let external = |what: &str| StoreError::msg(format!("auction id {} is not a valid {what}", auction.auction_id));
    let new = NewOrder {
        channel: Channel::Auction,
        external_id: ExternalId::parse(auction.auction_id.as_str()).map_err(|_| external("external id"))?,
        order_number: OrderNumber::parse(auction.auction_id.as_str()).map_err(|_| external("order number"))?,
        merchant_id: auction.merchant_id.clone(),
        placed_at: now,
        currency: auction.terms.currency,
        customer: Customer::known(best.customer_id.clone()),
        shipping_address: best.shipping_address.clone().unwrap_or_else(super::flash_sales::no_address),
        lines: vec![OrderLine { sku: auction.terms.sku.clone(), quantity: 1, unit_price: best.amount }],
        charges: Charges::default(),
        channel_updated_at: now,
        cancelled_at: None,
        // Created by the platform: unpaid until the winner pays.
        paid: false,
        deliver_by: None,
    };
    let mut order = Order::receive(new, order_id, now);
    if !has_address(&order) {
        order
            .transition(OrderStatus::OnHold, now, HoldReason::AddressMissing.to_string())
            .map_err(|e| StoreError::new("an auction's order could not be held", e))?;
        return Ok((order, vec![]));
    }
    let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
    Ok((order, vec![allocate]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::BestBid;
    use crate::{Currency, Sku};
    use chrono::Duration;
    use rust_decimal::Decimal;

    fn won(address: Option<Address>) -> (Auction, BestBid) {
        let now = Utc::now();
        let terms = AuctionTerms {
            sku: Sku::parse("SKU-1").unwrap(),
            currency: Currency::parse("CNY").unwrap(),
            start_price: Decimal::new(100, 0),
            increment: Decimal::new(10, 0),
            reserve_price: None,
            starts_at: now,
            ends_at: now + Duration::hours(1),
            anti_sniping: None,
        };
        let auction = Auction::new(AuctionId::generate(), MerchantId::parse("m-1").unwrap(), terms, now);
        let best = BestBid {
            bid_id: BidId::generate(),
            customer_id: CustomerId::parse("c-1").unwrap(),
            amount: Decimal::new(130, 0),
            at: now,
            shipping_address: address,
        };
        (auction, best)
    }

    #[test]
    fn the_winners_order_is_one_unpaid_unit_on_the_auction_channel_queued_for_allocation() {
        let address = Address {
            name: None,
            line1: "1 West Lake Rd".into(),
            line2: None,
            city: "Hangzhou".into(),
            province: None,
            postal_code: None,
            country: "CN".into(),
        };
        let (auction, best) = won(Some(address));
        let (order, send) = winner_order(&auction, &best, OrderId::generate(), Utc::now()).unwrap();
        assert_eq!((order.channel, order.external_id.as_str()), (Channel::Auction, auction.auction_id.as_str()));
        assert_eq!((order.status, order.paid, order.customer.id.as_str()), (OrderStatus::Received, false, "c-1"));
        assert_eq!((order.lines.len(), order.lines[0].quantity, order.lines[0].unit_price), (1, 1, Decimal::new(130, 0)));
        assert_eq!(send, [Outgoing::of(&AllocateOrder::new(order.order_id.clone()))]);
    }

    #[test]
    fn a_winner_without_an_address_gets_an_order_on_hold_and_nothing_queued() {
        let (auction, best) = won(None);
        let (order, send) = winner_order(&auction, &best, OrderId::generate(), Utc::now()).unwrap();
        assert_eq!(order.status, OrderStatus::OnHold);
        assert!(send.is_empty());
    }
}
