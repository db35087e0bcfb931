//! Auctions: an auction is stored once and reads back whole; a bid is one conditional
//! write on the auction's version (the same key again is the first bid, a stale version
//! writes nothing); an anti-sniping extension moves the auction in the index of ended ones;
//! the close writes the outcome and the winner's order with its message once; and bids
//! racing through the one bid use case: equal bids at the same instant, exactly one wins;
//! different amounts never leave the best below an accepted bid.

use chrono::{DateTime, Duration, Utc};
use oms_domain::auction::{AntiSniping, Auction, AuctionId, AuctionOutcome, AuctionTerms, Bid, BidId, BidRefusal};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::messages::{AllocateOrder, Outgoing};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Clock, CreateAuctionOutcome, PlaceBidOutcome, Ports};
use oms_domain::usecases::auctions::{self, BidError, Closing, NewBid};
use oms_domain::{Currency, CustomerId};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::fixtures::{merchant, sku};
use crate::flash_sales::{address, ports};
use crate::Subject;

/// A clock held at one instant.
struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn at(ports: &Ports, now: DateTime<Utc>) -> Ports {
    Ports { clock: Arc::new(At(now)), ..ports.clone() }
}

/// An auction of one SKU-1 from 100 by 10, reserve 150, open from a minute ago for an
/// hour; bids in its last 5 minutes extend it by 5, at most 15 in all.
fn terms(now: DateTime<Utc>) -> AuctionTerms {
    AuctionTerms {
        sku: sku("SKU-1"),
        currency: Currency::parse("CNY").expect("a currency"),
        start_price: Decimal::new(100, 0),
        increment: Decimal::new(10, 0),
        reserve_price: Some(Decimal::new(150, 0)),
        starts_at: now - Duration::minutes(1),
        ends_at: now + Duration::hours(1),
        anti_sniping: Some(AntiSniping { window_minutes: 5, extension_minutes: 5, max_extension_minutes: 15 }),
    }
}

/// The auction listed through the use case, m-1 having counted SKU-1 in WH-1.
async fn listed(s: &Subject, terms: AuctionTerms) -> Auction {
    crate::inventory::set(s, "WH-1", "SKU-1", 10).await;
    auctions::create_auction(&ports(s), &merchant("m-1"), terms.check().expect("valid terms")).await.expect("create failed")
}

fn new_bid(customer: &str, key: &str, amount: i64) -> NewBid {
    NewBid {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        amount: Decimal::new(amount, 0),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        shipping_address: Some(address()),
    }
}

fn bid_on(auction: &Auction, customer: &str, key: &str, amount: i64, now: DateTime<Utc>) -> Bid {
    Bid {
        bid_id: BidId::generate(),
        seq: auction.bids + 1,
        auction_id: auction.auction_id.clone(),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        customer_id: CustomerId::parse(customer).expect("a customer"),
        amount: Decimal::new(amount, 0),
        placed_at: now,
        shipping_address: None,
    }
}

async fn stored(s: &Subject, id: &AuctionId) -> Auction {
    s.auctions.get_auction(id).await.expect("get_auction failed").expect("the auction")
}

pub async fn an_auction_reads_back_whole_and_is_stored_once(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    assert_eq!(stored(&s, &auction.auction_id).await, auction);
    assert_eq!(s.auctions.create_auction(&auction).await.expect("create failed"), CreateAuctionOutcome::Exists);
    assert_eq!(s.auctions.get_auction(&AuctionId::generate()).await.expect("get_auction failed"), None);
    assert!(s.auctions.ended_open_auctions(now, 10).await.expect("ended_open_auctions failed").is_empty());
}

pub async fn a_bid_is_written_on_the_version_read_and_its_key_again_is_the_first_bid(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let first = bid_on(&auction, "c-1", "k-1", 100, now);
    let after = auction.accept(&first).expect("accepted");
    assert_eq!(s.auctions.place_bid(&auction, &after, &first).await.expect("place_bid failed"), PlaceBidOutcome::Placed);
    assert_eq!(stored(&s, &auction.auction_id).await, after);
    // The same key again, whatever it bids: the first bid, nothing written.
    let again = Bid { amount: Decimal::new(500, 0), bid_id: BidId::generate(), ..first.clone() };
    let next = after.accept(&again).expect("accepted");
    let outcome = s.auctions.place_bid(&after, &next, &again).await.expect("place_bid failed");
    assert_eq!(outcome, PlaceBidOutcome::Duplicate(Box::new(first.clone())));
    // A bid decided on the version before: stale, nothing written.
    let late = bid_on(&auction, "c-2", "k-2", 100, now);
    let stale = auction.accept(&late).expect("accepted on the old version");
    assert_eq!(s.auctions.place_bid(&auction, &stale, &late).await.expect("place_bid failed"), PlaceBidOutcome::Stale);
    assert_eq!(stored(&s, &auction.auction_id).await, after);
    let key = IdempotencyKey::parse("k-2").expect("a key");
    assert_eq!(s.auctions.bid_by_key(&auction.auction_id, &key).await.expect("bid_by_key failed"), None);
    let listed = s.auctions.bids(&auction.auction_id, None, 10).await.expect("bids failed");
    assert_eq!(listed, [first]);
}

pub async fn bids_are_listed_oldest_first_a_page_at_a_time(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let ports = ports(&s);
    let mut placed = Vec::new();
    for i in 0..5 {
        let made = auctions::place_bid(&ports, &auction.auction_id, new_bid("c-1", &format!("k-{i}"), 100 + 10 * i))
            .await
            .expect("a bid");
        placed.push(made.bid);
    }
    let mut seen = Vec::new();
    let mut after: Option<u32> = None;
    loop {
        let page = auctions::bids_page(&ports, &auction.auction_id, after, 2).await.expect("bids_page failed");
        assert!(page.bids.len() <= 2);
        seen.extend(page.bids);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, placed);
    let auction = stored(&s, &auction.auction_id).await;
    assert_eq!((auction.bids, auction.best.map(|b| b.amount)), (5, Some(Decimal::new(140, 0))));
}

pub async fn a_bid_in_the_last_minutes_moves_the_auction_in_the_index_of_ended_ones(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let end = auction.ends_at;
    let late = at(&ports(&s), end - Duration::minutes(1));
    let made = auctions::place_bid(&late, &auction.auction_id, new_bid("c-1", "k-1", 100)).await.expect("a bid");
    assert_eq!(made.auction.ends_at, end + Duration::minutes(4));
    assert_eq!(stored(&s, &auction.auction_id).await.ends_at, end + Duration::minutes(4));
    let ended = s.auctions.ended_open_auctions(end, 10).await.expect("ended_open_auctions failed");
    assert!(ended.is_empty(), "the listed end has passed, the moved one has not");
    let moved = s.auctions.ended_open_auctions(end + Duration::minutes(4), 10).await.expect("ended_open_auctions failed");
    assert_eq!(moved, std::slice::from_ref(&auction.auction_id));
}

pub async fn an_ended_auction_closes_once_with_the_winners_order_and_its_message(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let ports = ports(&s);
    auctions::place_bid(&ports, &auction.auction_id, new_bid("c-1", "k-1", 100)).await.expect("a bid");
    let best = auctions::place_bid(&ports, &auction.auction_id, new_bid("c-2", "k-2", 160)).await.expect("a bid");
    let early = auctions::close_auction(&ports, &auction.auction_id).await.expect("close failed");
    assert!(matches!(early, Some(Closing::NotEnded(_))), "not ended: {early:?}");
    assert!(s.outbox.sent().await.is_empty(), "nothing queued before the close");
    let after_end = at(&ports, auction.ends_at);
    let Some(Closing::Closed(closed)) = auctions::close_auction(&after_end, &auction.auction_id).await.expect("close failed")
    else {
        panic!("closed")
    };
    let Some(AuctionOutcome::Won { order_id, customer_id, amount, bid_id }) = closed.closed.as_ref().map(|c| c.outcome.clone())
    else {
        panic!("won: {closed:?}")
    };
    assert_eq!((customer_id.as_str(), amount, bid_id), ("c-2", Decimal::new(160, 0), best.bid.bid_id));
    assert_eq!(stored(&s, &auction.auction_id).await, closed);
    let order = s.orders.get_order(&order_id).await.expect("get_order failed").expect("the winner's order");
    assert_eq!((order.channel, order.external_id.as_str()), (Channel::Auction, auction.auction_id.as_str()));
    assert_eq!((order.status, order.paid, order.version), (OrderStatus::Received, false, 1));
    assert_eq!(order.lines.len(), 1);
    assert_eq!((order.lines[0].quantity, order.lines[0].unit_price), (1, Decimal::new(160, 0)));
    assert_eq!(s.outbox.sent().await, [Outgoing::of(&AllocateOrder::new(order_id.clone()))]);
    // Once: closing again changes nothing and makes no second order.
    let again = auctions::close_auction(&after_end, &auction.auction_id).await.expect("close failed");
    assert!(matches!(again, Some(Closing::AlreadyClosed(a)) if a == closed));
    assert_eq!(s.outbox.sent().await.len(), 1);
    assert!(s.auctions.ended_open_auctions(auction.ends_at, 10).await.expect("ended_open_auctions failed").is_empty());
    // A bid decided before the close lands on the version it read: stale.
    let late = bid_on(&best.auction, "c-3", "k-3", 500, now);
    let decided = best.auction.accept(&late).expect("accepted as read");
    assert_eq!(s.auctions.place_bid(&best.auction, &decided, &late).await.expect("place_bid failed"), PlaceBidOutcome::Stale);
    let refused = auctions::place_bid(&ports, &auction.auction_id, new_bid("c-3", "k-3", 500)).await;
    assert!(matches!(refused, Err(BidError::Refused(BidRefusal::NotOpen { .. }))), "{refused:?}");
}

pub async fn the_sweep_closes_auctions_below_their_reserve_or_without_bids_with_no_order(s: Subject) {
    use oms_domain::usecases::sweep::{sweep, SweepLimits};
    let now = Utc::now();
    let low = listed(&s, terms(now)).await;
    let none = listed(&s, terms(now)).await;
    let ports = ports(&s);
    auctions::place_bid(&ports, &low.auction_id, new_bid("c-1", "k-1", 140)).await.expect("a bid");
    let report = sweep(&at(&ports, low.ends_at), &SweepLimits::default()).await.expect("sweep failed");
    let mut closed: Vec<_> =
        report.auctions_closed.iter().map(|c| (c.auction_id.clone(), c.outcome, c.order_id.clone())).collect();
    closed.sort();
    let mut expected = vec![(low.auction_id.clone(), "reserve_not_met", None), (none.auction_id.clone(), "no_bids", None)];
    expected.sort();
    assert_eq!(closed, expected);
    let low = stored(&s, &low.auction_id).await;
    assert_eq!(low.closed.map(|c| c.outcome), Some(AuctionOutcome::ReserveNotMet { best: Decimal::new(140, 0) }));
    assert!(s.outbox.sent().await.is_empty(), "no order, no message");
    let again = sweep(&at(&ports, none.ends_at), &SweepLimits::default()).await.expect("sweep failed");
    assert!(again.auctions_closed.is_empty());
}

pub async fn equal_bids_at_the_same_instant_exactly_one_wins(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let ports = ports(&s);
    for (round, amount) in [(0, 100), (1, 110), (2, 130)] {
        let answers = crate::concurrency::race(12, |i| {
            let ports = ports.clone();
            let id = auction.auction_id.clone();
            async move {
                let new = new_bid(&format!("c-{i}"), &format!("r{round}-k{i}"), amount);
                auctions::place_bid(&ports, &id, new).await
            }
        })
        .await;
        let mut won = Vec::new();
        for answer in answers {
            match answer {
                Ok(made) => won.push(made.bid),
                Err(BidError::Refused(BidRefusal::TooLow { best: Some(best), .. })) => {
                    assert_eq!(best, Decimal::new(amount, 0), "refused against the winning equal bid")
                }
                Err(other) => panic!("a bid failed: {other}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: exactly one of the equal bids wins: {won:?}");
        let now = stored(&s, &auction.auction_id).await;
        let best = now.best.expect("a best bid");
        assert_eq!((best.bid_id, best.amount), (won[0].bid_id.clone(), Decimal::new(amount, 0)));
        assert_eq!(now.bids as usize, round + 1);
    }
    assert_eq!(s.auctions.bids(&auction.auction_id, None, 100).await.expect("bids failed").len(), 3);
}

pub async fn racing_bids_of_different_amounts_never_leave_the_best_below_an_accepted_one(s: Subject) {
    let now = Utc::now();
    let auction = listed(&s, terms(now)).await;
    let ports = ports(&s);
    // 16 bidders, amounts 100 to 250 in a shuffled order, some only 5 apart (below the
    // increment of each other).
    let answers = crate::concurrency::race(16, |i| {
        let ports = ports.clone();
        let id = auction.auction_id.clone();
        let amount = 100 + 5 * ((i as i64 * 7) % 16) * 2;
        async move { auctions::place_bid(&ports, &id, new_bid(&format!("c-{i}"), &format!("k-{i}"), amount)).await }
    })
    .await;
    let mut accepted = Vec::new();
    for answer in answers {
        match answer {
            Ok(made) => accepted.push(made.bid),
            Err(BidError::Refused(BidRefusal::TooLow { .. })) => {}
            Err(other) => panic!("a bid failed: {other}"),
        }
    }
    assert!(!accepted.is_empty());
    let stored = stored(&s, &auction.auction_id).await;
    let best = stored.best.expect("a best bid");
    let highest = accepted.iter().map(|b| b.amount).max().expect("one accepted");
    assert_eq!(best.amount, highest, "the best is the highest accepted bid");
    assert_eq!(stored.bids as usize, accepted.len());
    // In the order they landed, each accepted bid beat the one before by the increment.
    let listed = s.auctions.bids(&auction.auction_id, None, 100).await.expect("bids failed");
    assert_eq!(listed.len(), accepted.len());
    for pair in listed.windows(2) {
        assert!(pair[1].amount >= pair[0].amount + Decimal::new(10, 0), "{:?} then {:?}", pair[0].amount, pair[1].amount);
    }
}
