//! Group buys: an offer is stored once with the units of its whole capacity set aside; a
//! join is one conditional write (the same customer or key again is the first join; none
//! past the capacity or the deadline); the joins of a filled offer become one unpaid order
//! each at the group price, taking the set-aside units; the deadline settles an offer once
//! (expired: every unit back; closed: the capacity nobody joined back); and buyers joining
//! at once never pass the capacity, fill the group once and get one order each.

use chrono::{DateTime, Duration, Utc};
use oms_domain::flash_sale::IdempotencyKey;
use oms_domain::group_buy::{GroupBuy, GroupBuyState, GroupBuyTerms};
use oms_domain::messages::{AllocateOrder, Outgoing};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Clock, JoinOutcome, Ports};
use oms_domain::usecases::group_buys::{self, JoinError, NewJoin};
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_domain::usecases::{fulfilment, reconcile};
use oms_domain::{Currency, CustomerId};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::fixtures::{merchant, sku};
use crate::flash_sales::{address, ports};
use crate::inventory::{level, set, stock};
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

/// An offer of SKU-1 at 9.90 EUR, 2 units a buyer, for `min_group` to `capacity` buyers,
/// open for an hour.
fn terms(min_group: u32, capacity: u32) -> GroupBuyTerms {
    GroupBuyTerms {
        sku: sku("SKU-1"),
        price: Decimal::new(990, 2),
        currency: Currency::parse("EUR").expect("a currency"),
        min_group,
        capacity,
        units_per_buyer: 2,
        deadline: Utc::now() + Duration::hours(1),
    }
}

/// The offer created through the use case by m-1, with `on_hand` of SKU-1 in WH-1.
async fn offered(s: &Subject, on_hand: u32, terms: GroupBuyTerms) -> GroupBuy {
    set(s, "WH-1", "SKU-1", on_hand).await;
    let terms = terms.check(Utc::now()).expect("valid terms");
    group_buys::create_group_buy(&ports(s), &merchant("m-1"), terms).await.expect("create failed")
}

fn new_join(customer: &str, key: &str) -> NewJoin {
    NewJoin {
        customer_id: CustomerId::parse(customer).expect("a customer"),
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
        shipping_address: Some(address()),
    }
}

async fn no_drift(s: &Subject) {
    let report = reconcile::reconcile(&ports(s)).await.expect("reconcile failed");
    assert!(report.drifts.is_empty(), "the ledger drifts: {:?}", report.drifts);
}

pub async fn a_group_buy_is_stored_with_its_capacity_set_aside_and_reads_back_whole(s: Subject) {
    let g = s.group_buys.clone();
    let offer = offered(&s, 25, terms(2, 10)).await;
    let (stored, status) = g.get_group_buy(&offer.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!(stored, offer);
    assert_eq!((status.state, status.joined, status.converted, status.settled), (GroupBuyState::Open, 0, 0, None));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 25, 20)], "the capacity's 20 units are held");
    no_drift(&s).await;
    let unknown = oms_domain::group_buy::GroupBuyId::generate();
    assert!(g.get_group_buy(&unknown).await.expect("get failed").is_none());
}

pub async fn a_group_buy_short_of_stock_is_refused_and_sets_nothing_aside(s: Subject) {
    let g = s.group_buys.clone();
    set(&s, "WH-1", "SKU-1", 19).await;
    let err = group_buys::create_group_buy(&ports(&s), &merchant("m-1"), terms(2, 10))
        .await
        .expect_err("19 units cannot hold 10 buyers of 2");
    assert!(matches!(err, group_buys::CreateGroupBuyError::NotEnoughStock(_)), "{err:?}");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 19, 0)]);
    // The store's own condition: an offer planned on stock taken since.
    let planned = GroupBuy::plan(
        oms_domain::group_buy::GroupBuyId::generate(),
        merchant("m-1"),
        GroupBuyTerms { capacity: 9, ..terms(2, 10) },
        &stock(&s, "SKU-1").await,
        Utc::now(),
    )
    .expect("18 of 19 fit");
    set(&s, "WH-1", "SKU-1", 17).await;
    let outcome = g.create_group_buy(&planned).await.expect("create failed");
    assert_eq!(outcome, oms_domain::ports::CreateGroupBuyOutcome::Insufficient { available: 17 });
    assert!(g.get_group_buy(&planned.group_buy_id).await.expect("get failed").is_none());
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 17, 0)]);
    no_drift(&s).await;
}

pub async fn the_same_customer_or_key_again_is_the_first_join_and_writes_nothing(s: Subject) {
    let g = s.group_buys.clone();
    let offer = offered(&s, 20, terms(3, 10)).await;
    let p = ports(&s);
    let first = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-1", "k-1")).await.expect("join failed");
    assert!(!first.repeated);
    let again = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-1", "k-1")).await.expect("join failed");
    assert!(again.repeated);
    assert_eq!(again.join, first.join);
    let other_key = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-1", "k-2")).await.expect("join failed");
    assert_eq!((other_key.join.join_id, other_key.repeated), (first.join.join_id.clone(), true), "one join per customer");
    let err =
        group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-2", "k-1")).await.expect_err("another customer's key");
    assert!(matches!(err, JoinError::KeyReused(_)), "{err:?}");
    // The store's own condition, past the use case's lookup.
    let mut twin = first.join.clone();
    twin.join_id = oms_domain::group_buy::JoinId::generate();
    let outcome = g.join(&twin, Utc::now()).await.expect("join failed");
    assert_eq!(outcome, JoinOutcome::Duplicate(Box::new(first.join.clone())));
    let (_, status) = g.get_group_buy(&offer.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!((status.state, status.joined), (GroupBuyState::Open, 1));
}

pub async fn joins_past_the_capacity_or_the_deadline_write_nothing(s: Subject) {
    let g = s.group_buys.clone();
    let offer = offered(&s, 20, terms(1, 2)).await;
    let p = ports(&s);
    for c in ["c-1", "c-2"] {
        group_buys::join_group_buy(&p, &offer.group_buy_id, new_join(c, c)).await.expect("join failed");
    }
    let err = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-3", "c-3")).await.expect_err("full");
    assert!(matches!(err, JoinError::Full { capacity: 2 }), "{err:?}");
    let late = offered(&s, 40, terms(1, 2)).await;
    let after = at(&p, late.terms.deadline);
    let err = group_buys::join_group_buy(&after, &late.group_buy_id, new_join("c-1", "c-1")).await.expect_err("late");
    assert!(matches!(err, JoinError::NotOpen { state: GroupBuyState::Open, .. }), "{err:?}");
    let unknown = oms_domain::group_buy::GroupBuyId::generate();
    let err = group_buys::join_group_buy(&p, &unknown, new_join("c-1", "c-1")).await.expect_err("unknown");
    assert!(matches!(err, JoinError::NotFound(_)), "{err:?}");
    let (_, status) = g.get_group_buy(&late.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!(status.joined, 0);
    let (_, status) = g.get_group_buy(&offer.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!((status.state, status.joined, status.converted), (GroupBuyState::Filled, 2, 2));
}

pub async fn a_filled_group_makes_one_unpaid_order_per_join_at_the_group_price_from_the_set_aside(s: Subject) {
    let offer = offered(&s, 10, terms(2, 3)).await;
    let p = ports(&s);
    let a = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-1", "k-1")).await.expect("join failed");
    assert!(s.orders.get_order(&a.join.order_id).await.expect("get failed").is_none(), "no order before the group fills");
    let b = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-2", "k-2")).await.expect("join failed");
    let c = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-3", "k-3")).await.expect("join failed");
    let mut sent = Vec::new();
    for joined in [&a, &b, &c] {
        let order = s.orders.get_order(&joined.join.order_id).await.expect("get failed").expect("the join's order");
        assert_eq!((order.channel, order.external_id.as_str()), (Channel::GroupBuy, joined.join.join_id.as_str()));
        assert_eq!((order.status, order.paid, order.merchant_id.as_str()), (OrderStatus::Received, false, "m-1"));
        assert_eq!((order.lines[0].quantity, order.lines[0].unit_price), (2, Decimal::new(990, 2)));
        sent.push(Outgoing::of(&AllocateOrder::new(order.order_id.clone())));
    }
    let mut queued = s.outbox.sent().await;
    queued.sort_by(|x, y| x.body.cmp(&y.body));
    sent.sort_by(|x, y| x.body.cmp(&y.body));
    assert_eq!(queued, sent, "each order's allocation message, queued with it");
    assert_eq!(group_buys::convert_pending(&p, &offer).await.expect("convert failed"), 0, "converted once");
    // Each order holds its units from the start (out of the offer's set-aside): a cancel
    // before it is allocated gives them back to available stock as any hold's.
    let held = crate::inventory::held(&s, &b.join.order_id).await.expect("the order holds its units");
    assert_eq!(held.lines().iter().map(|l| l.quantity).sum::<u32>(), 2);
    oms_domain::usecases::orders::cancel_order(&p, &b.join.order_id, "buyer changed their mind").await.expect("cancel failed");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 4)], "the cancelled order's 2 units back");
    no_drift(&s).await;
    // Allocated and reserved through the normal flow, on the hold it has: held stays 4.
    fulfilment::allocate_order(&p, &a.join.order_id).await.expect("allocate failed");
    fulfilment::reserve_order(&p, &a.join.order_id).await.expect("reserve failed");
    let order = s.orders.get_order(&a.join.order_id).await.expect("get failed").expect("stored");
    assert_eq!(order.status, OrderStatus::Reserved);
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 4)]);
    no_drift(&s).await;
    let settled = group_buys::settle_due_group_buys(&at(&p, offer.terms.deadline), 10).await.expect("settle failed");
    assert_eq!(settled.len(), 1);
    assert_eq!((settled[0].state, settled[0].units_returned), (GroupBuyState::Closed, 0), "every place was taken");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 4)]);
    no_drift(&s).await;
}

pub async fn an_unfilled_group_buy_expires_at_its_deadline_giving_every_unit_back_once(s: Subject) {
    let g = s.group_buys.clone();
    let offer = offered(&s, 10, terms(3, 4)).await;
    let p = ports(&s);
    let a = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-1", "k-1")).await.expect("join failed");
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 8)]);
    let before = at(&p, offer.terms.deadline - Duration::seconds(1));
    assert!(g.due_group_buys(before.clock.now(), 10).await.expect("due failed").is_empty());
    let deadline = at(&p, offer.terms.deadline);
    assert_eq!(g.due_group_buys(offer.terms.deadline, 10).await.expect("due failed"), vec![offer.group_buy_id.clone()]);
    // The sweep settles it (its limits: most settles a run).
    let report = sweep(&deadline, &SweepLimits::default()).await.expect("sweep failed");
    let settled = report.group_buys_settled;
    assert_eq!(settled.len(), 1);
    assert_eq!((settled[0].state, settled[0].units_returned), (GroupBuyState::Expired, 8));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)], "every unit back");
    assert!(s.orders.get_order(&a.join.order_id).await.expect("get failed").is_none(), "nobody charged");
    assert!(s.outbox.sent().await.is_empty());
    // Once, whatever retries.
    assert!(group_buys::settle_group_buy(&deadline, &offer.group_buy_id).await.expect("settle failed").is_none());
    assert!(g.due_group_buys(offer.terms.deadline, 10).await.expect("due failed").is_empty());
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 10, 0)]);
    let (_, status) = g.get_group_buy(&offer.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!(status.state, GroupBuyState::Expired);
    assert_eq!(status.settled.map(|x| x.units_returned), Some(8));
    let err = group_buys::join_group_buy(&p, &offer.group_buy_id, new_join("c-2", "k-2")).await.expect_err("expired");
    assert!(matches!(err, JoinError::NotOpen { state: GroupBuyState::Expired, .. }), "{err:?}");
    no_drift(&s).await;
}

/// Buyers joining at once, each twice (two keys), for 10 places with 5 needed.
pub async fn many_buyers_joining_at_once_never_pass_the_capacity_and_fill_the_group_once(s: Subject) {
    let g = s.group_buys.clone();
    const CAPACITY: u32 = 10;
    let offer = offered(&s, 25, terms(5, CAPACITY)).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (g, id) = (g.clone(), offer.group_buy_id.clone());
        let customer = format!("c-{}", i % 30);
        let join = oms_domain::group_buy::Join {
            join_id: oms_domain::group_buy::JoinId::generate(),
            group_buy_id: id,
            customer_id: CustomerId::parse(customer).expect("a customer"),
            idempotency_key: IdempotencyKey::parse(format!("k-{i}")).expect("a key"),
            order_id: oms_domain::OrderId::generate(),
            shipping_address: Some(address()),
            joined_at: Utc::now(),
        };
        tasks.push(tokio::spawn(async move { g.join(&join, Utc::now()).await.expect("join failed") }));
    }
    let mut joined = Vec::new();
    let mut fills = 0;
    for task in tasks {
        match task.await.expect("a join task") {
            JoinOutcome::Joined { state, joined: count } => {
                if state == GroupBuyState::Filled && count == 5 {
                    fills += 1;
                }
                joined.push(count);
            }
            JoinOutcome::Full | JoinOutcome::Duplicate(_) => {}
            JoinOutcome::NotOpen(state) => panic!("an open offer answered {state:?}"),
        }
    }
    joined.sort_unstable();
    assert_eq!(joined, (1..=CAPACITY).collect::<Vec<_>>(), "each place taken once");
    assert_eq!(fills, 1, "the group fills exactly once");
    // Converters racing (the joins' callers, the sweep) make one order per join.
    let p = ports(&s);
    let converters: Vec<_> = (0..4)
        .map(|_| {
            let (p, offer) = (p.clone(), offer.clone());
            tokio::spawn(async move { group_buys::convert_pending(&p, &offer).await.expect("convert failed") })
        })
        .collect();
    let mut made = 0;
    for task in converters {
        made += task.await.expect("a converter");
    }
    assert_eq!(made, CAPACITY, "one order per join");
    assert_eq!(s.outbox.sent().await.len(), CAPACITY as usize);
    let (_, status) = g.get_group_buy(&offer.group_buy_id).await.expect("get failed").expect("stored");
    assert_eq!((status.state, status.joined, status.converted), (GroupBuyState::Filled, CAPACITY, CAPACITY));
    assert_eq!(stock(&s, "SKU-1").await, vec![level("WH-1", "SKU-1", 25, 20)], "never more than the capacity held");
    no_drift(&s).await;
}
