//! `OrderStore`: idempotent insert by channel key, versioned updates, lookups newest first.

use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{InsertOutcome, OrderQuery, Page, UpdateOutcome};
use oms_domain::{CustomerId, ExternalId, MerchantId, Order};

use crate::fixtures::{self, newest_first, noon, order, order_for, stored};
use crate::Subject;

async fn insert(s: &Subject, order: &Order) {
    let outcome = s.orders.insert_order(order).await.expect("insert_order failed");
    assert_eq!(outcome, InsertOutcome::Inserted, "inserting {}", order.order_id);
}

/// The first page of at most `limit` orders.
async fn find(s: &Subject, query: OrderQuery, limit: usize) -> Vec<Order> {
    let page = Page::new(limit, None).expect("a valid page");
    s.orders.find_orders(&query, &page).await.expect("find_orders failed").orders
}

/// Merchant `m-1`'s orders, the fixtures' merchant.
fn m1() -> OrderQuery {
    OrderQuery::of(merchant("m-1"))
}

fn customer(raw: &str) -> CustomerId {
    CustomerId::parse(raw).expect("a valid customer id")
}

fn external(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("a valid external id")
}

fn merchant(raw: &str) -> MerchantId {
    MerchantId::parse(raw).expect("a valid merchant id")
}

/// `fixtures::order`, sold by `merchant` rather than `m-1`.
fn order_of(merchant_id: &str, channel: Channel, external_id: &str) -> Order {
    Order { merchant_id: merchant(merchant_id), ..order(channel, external_id) }
}

pub async fn an_inserted_order_reads_back_whole_at_version_1(s: Subject) {
    let order = order(Channel::Generic, "A-1001");
    insert(&s, &order).await;
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed");
    assert_eq!(read, Some(stored(&order)));
}

pub async fn an_unknown_order_reads_as_none(s: Subject) {
    insert(&s, &order(Channel::Generic, "A-1")).await;
    let read = s.orders.get_order(&fixtures::order_id()).await.expect("get_order failed");
    assert_eq!(read, None);
}

pub async fn second_insert_with_same_channel_merchant_and_external_id_returns_the_first_order(s: Subject) {
    let first = order(Channel::Shopify, "A-1");
    insert(&s, &first).await;
    let second = order_for(Channel::Shopify, "A-1", "c-2", Some("+8613911111111"));
    let outcome = s.orders.insert_order(&second).await.expect("insert_order failed");
    assert_eq!(outcome, InsertOutcome::Duplicate(Box::new(stored(&first))));
    assert_eq!(s.orders.get_order(&second.order_id).await.expect("get_order failed"), None, "the duplicate was stored");
    assert_eq!(
        find(&s, OrderQuery::of(merchant("m-1")).channel(Channel::Shopify).external_id(external("A-1")), 10).await,
        vec![stored(&first)]
    );
    assert!(find(&s, m1().customer(customer("c-2")), 10).await.is_empty(), "the duplicate is findable");
}

pub async fn a_duplicate_insert_returns_the_first_order_as_it_is_now(s: Subject) {
    let first = order(Channel::Amazon, "A-1");
    insert(&s, &first).await;
    let mut moved = stored(&first);
    moved.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    assert_eq!(s.orders.update_order(&moved).await.expect("update_order failed"), UpdateOutcome::Updated { version: 2 });
    let outcome = s.orders.insert_order(&order(Channel::Amazon, "A-1")).await.expect("insert_order failed");
    assert_eq!(outcome, InsertOutcome::Duplicate(Box::new(Order { version: 2, ..moved })));
}

pub async fn the_same_external_id_on_two_channels_makes_two_orders(s: Subject) {
    let on_shopify = order(Channel::Shopify, "A-1");
    let on_amazon = order(Channel::Amazon, "A-1");
    insert(&s, &on_shopify).await;
    insert(&s, &on_amazon).await;
    for o in [&on_shopify, &on_amazon] {
        assert_eq!(s.orders.get_order(&o.order_id).await.expect("get_order failed"), Some(stored(o)));
    }
    assert_eq!(
        find(&s, OrderQuery::of(merchant("m-1")).channel(Channel::Amazon).external_id(external("A-1")), 10).await,
        vec![stored(&on_amazon)]
    );
}

/// Two WooCommerce shops both number an order 727: their counters collide all the time.
pub async fn the_same_external_id_from_two_merchants_on_one_channel_makes_two_orders(s: Subject) {
    let shop_a = order_of("shop-a.example", Channel::WooCommerce, "727");
    let shop_b = order_for(Channel::WooCommerce, "727", "c-2", Some("+8613911111111"));
    let shop_b = Order { merchant_id: merchant("shop-b.example"), ..shop_b };
    insert(&s, &shop_a).await;
    insert(&s, &shop_b).await;
    for o in [&shop_a, &shop_b] {
        assert_eq!(s.orders.get_order(&o.order_id).await.expect("get_order failed"), Some(stored(o)), "overwritten");
    }
    let by_key = |m: &str| OrderQuery::of(merchant(m)).channel(Channel::WooCommerce).external_id(external("727"));
    assert_eq!(find(&s, by_key("shop-a.example"), 10).await, vec![stored(&shop_a)]);
    assert_eq!(find(&s, by_key("shop-b.example"), 10).await, vec![stored(&shop_b)]);
    assert!(find(&s, by_key("shop-c.example"), 10).await.is_empty());
    let again = order_of("shop-b.example", Channel::WooCommerce, "727");
    let outcome = s.orders.insert_order(&again).await.expect("insert_order failed");
    assert_eq!(outcome, InsertOutcome::Duplicate(Box::new(stored(&shop_b))), "the same shop's 727 again is a duplicate");
}

pub async fn an_update_at_the_stored_version_writes_the_order_and_bumps_the_version(s: Subject) {
    let order = order(Channel::Generic, "A-1");
    insert(&s, &order).await;
    let mut current = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("stored");
    current.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    assert_eq!(s.orders.update_order(&current).await.expect("update_order failed"), UpdateOutcome::Updated { version: 2 });
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("stored");
    assert_eq!(read, Order { version: 2, ..current.clone() });
    let mut again = read;
    again.note(noon(), "looked at");
    assert_eq!(s.orders.update_order(&again).await.expect("update_order failed"), UpdateOutcome::Updated { version: 3 });
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed").expect("stored");
    assert_eq!(read, Order { version: 3, ..again });
}

pub async fn an_update_at_a_stale_version_is_a_version_conflict_and_changes_nothing(s: Subject) {
    let order = order(Channel::Generic, "A-1");
    insert(&s, &order).await;
    let mut first = stored(&order);
    let mut second = stored(&order);
    first.transition(OrderStatus::Allocated, noon(), "planned").expect("a valid move");
    assert_eq!(s.orders.update_order(&first).await.expect("update_order failed"), UpdateOutcome::Updated { version: 2 });
    second.transition(OrderStatus::Cancelled, noon(), "cancelled").expect("a valid move");
    assert_eq!(s.orders.update_order(&second).await.expect("update_order failed"), UpdateOutcome::VersionConflict);
    // The order as built, never read back from the store, is at version 0: stale too.
    assert_eq!(s.orders.update_order(&order).await.expect("update_order failed"), UpdateOutcome::VersionConflict);
    let read = s.orders.get_order(&order.order_id).await.expect("get_order failed");
    assert_eq!(read, Some(Order { version: 2, ..first }));
}

pub async fn an_update_of_an_unknown_order_is_a_version_conflict_and_creates_nothing(s: Subject) {
    let order = order(Channel::Generic, "A-1");
    for version in [0, 1, 2] {
        let at = Order { version, ..order.clone() };
        assert_eq!(s.orders.update_order(&at).await.expect("update_order failed"), UpdateOutcome::VersionConflict);
    }
    assert_eq!(s.orders.get_order(&order.order_id).await.expect("get_order failed"), None);
    assert!(find(&s, m1().channel(Channel::Generic), 10).await.is_empty());
}

pub async fn orders_are_found_by_customer_newest_first(s: Subject) {
    let mine: Vec<Order> = (0..3).map(|i| order_for(Channel::Generic, &format!("A-{i}"), "c-1", None)).collect();
    let theirs = order_for(Channel::Generic, "B-1", "c-2", None);
    // Inserted out of creation order: the store sorts, it does not replay insertion order.
    for o in [&mine[1], &theirs, &mine[2], &mine[0]] {
        insert(&s, o).await;
    }
    let expected = newest_first(&[&mine[0], &mine[1], &mine[2]]);
    assert_eq!(find(&s, m1().customer(customer("c-1")), 10).await, expected);
    assert_eq!(find(&s, m1().customer(customer("c-2")), 10).await, vec![stored(&theirs)]);
}

pub async fn orders_are_found_by_phone_newest_first(s: Subject) {
    let a = order_for(Channel::Shopify, "A-1", "c-1", Some("+8613800000000"));
    let b = order_for(Channel::Amazon, "A-2", "c-2", Some("+8613800000000"));
    let other = order_for(Channel::Shopify, "A-3", "c-1", Some("+8613911111111"));
    let none = order_for(Channel::Shopify, "A-4", "c-1", None);
    for o in [&b, &other, &none, &a] {
        insert(&s, o).await;
    }
    assert_eq!(find(&s, m1().phone("+8613800000000"), 10).await, newest_first(&[&a, &b]));
    assert_eq!(find(&s, m1().phone("+8613911111111"), 10).await, vec![stored(&other)]);
}

pub async fn orders_are_found_by_shipping_address_and_card_newest_first(s: Subject) {
    let mut a = order_for(Channel::Shopify, "A-1", "c-1", None);
    a.customer.card = Some("fp_1".into());
    let mut b = order_for(Channel::Amazon, "A-2", "c-2", None);
    b.shipping_address.line1 = " 1  WEST lake rd.".into();
    b.customer.card = Some("fp_1".into());
    let mut elsewhere = order_for(Channel::Shopify, "A-3", "c-3", None);
    elsewhere.shipping_address.line1 = "9 Hubin Rd".into();
    let mut theirs = order_for(Channel::Shopify, "A-4", "c-1", None);
    theirs.merchant_id = merchant("m-2");
    theirs.customer.card = Some("fp_1".into());
    for o in [&b, &elsewhere, &theirs, &a] {
        insert(&s, o).await;
    }
    let door = a.shipping_address.fingerprint();
    assert_eq!(door, b.shipping_address.fingerprint(), "one door typed two ways");
    assert_eq!(find(&s, m1().address(door), 10).await, newest_first(&[&a, &b]));
    assert_eq!(find(&s, m1().address(elsewhere.shipping_address.fingerprint()), 10).await, vec![stored(&elsewhere)]);
    assert_eq!(find(&s, m1().card("fp_1"), 10).await, newest_first(&[&a, &b]), "another merchant's order is not found");
    assert!(find(&s, m1().card("fp_2"), 10).await.is_empty());
}

pub async fn an_order_is_found_by_its_channel_and_external_id(s: Subject) {
    let target = order(Channel::Shopify, "A-1");
    let same_id_elsewhere = order(Channel::WooCommerce, "A-1");
    let same_channel = order(Channel::Shopify, "A-2");
    for o in [&same_id_elsewhere, &target, &same_channel] {
        insert(&s, o).await;
    }
    assert_eq!(
        find(&s, OrderQuery::of(merchant("m-1")).channel(Channel::Shopify).external_id(external("A-1")), 10).await,
        vec![stored(&target)]
    );
    assert!(find(&s, OrderQuery::of(merchant("m-1")).channel(Channel::Amazon).external_id(external("A-1")), 10).await.is_empty());
}

pub async fn orders_are_found_by_external_id_on_any_channel_newest_first(s: Subject) {
    let shopify = order(Channel::Shopify, "A-1");
    let amazon = order(Channel::Amazon, "A-1");
    let generic = order(Channel::Generic, "A-1");
    let other = order(Channel::Shopify, "A-2");
    for o in [&amazon, &other, &generic, &shopify] {
        insert(&s, o).await;
    }
    assert_eq!(find(&s, m1().external_id(external("A-1")), 10).await, newest_first(&[&shopify, &amazon, &generic]));
    assert_eq!(find(&s, m1().external_id(external("A-2")), 10).await, vec![stored(&other)]);
}

pub async fn orders_are_found_by_channel_newest_first(s: Subject) {
    let shop: Vec<Order> = (0..3).map(|i| order(Channel::Shopify, &format!("S-{i}"))).collect();
    let amazon = order(Channel::Amazon, "M-1");
    for o in [&shop[2], &amazon, &shop[0], &shop[1]] {
        insert(&s, o).await;
    }
    assert_eq!(find(&s, m1().channel(Channel::Shopify), 10).await, newest_first(&[&shop[0], &shop[1], &shop[2]]));
    assert_eq!(find(&s, m1().channel(Channel::Amazon), 10).await, vec![stored(&amazon)]);
}

pub async fn find_orders_answers_at_most_the_limit_keeping_the_newest(s: Subject) {
    let all: Vec<Order> = (0..5).map(|i| order(Channel::Generic, &format!("A-{i}"))).collect();
    for o in all.iter().rev() {
        insert(&s, o).await;
    }
    let newest = newest_first(&all.iter().collect::<Vec<_>>());
    for limit in [1, 2, 4] {
        assert_eq!(find(&s, m1().customer(customer("c-1")), limit).await, newest[..limit], "limit {limit}");
        assert_eq!(find(&s, m1().channel(Channel::Generic), limit).await, newest[..limit], "limit {limit}");
        assert_eq!(find(&s, m1().phone(fixtures::PHONE), limit).await, newest[..limit], "limit {limit}");
    }
    assert_eq!(find(&s, m1().customer(customer("c-1")), 100).await, newest);
}

/// Every page of `query`, `limit` at a time, following `next` to the end.
async fn walk(s: &Subject, query: &OrderQuery, limit: usize) -> Vec<Vec<Order>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = Page::new(limit, after).expect("a valid page");
        let found = s.orders.find_orders(query, &page).await.expect("find_orders failed");
        pages.push(found.orders);
        match found.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
        assert!(pages.len() <= 100, "paging does not end");
    }
}

pub async fn filters_are_combined_before_the_page_is_cut(s: Subject) {
    let wanted = order_for(Channel::Generic, "A-0", "c-9", Some("+8613800000000"));
    insert(&s, &wanted).await;
    // Newer orders that match one filter but not both, more than a page of each.
    for i in 1..=12 {
        insert(&s, &order_for(Channel::Generic, &format!("A-{i}"), "c-1", Some("+8613800000000"))).await;
        insert(&s, &order_for(Channel::Generic, &format!("B-{i}"), "c-9", Some("+8613911111111"))).await;
    }
    let both = m1().customer(customer("c-9")).phone("+8613800000000");
    assert_eq!(walk(&s, &both, 2).await, vec![vec![stored(&wanted)]], "one page, the match, no next");
    let three = m1().customer(customer("c-9")).phone("+8613800000000").channel(Channel::Generic);
    assert_eq!(find(&s, three.clone().external_id(external("A-0")), 1).await, vec![stored(&wanted)]);
    assert_eq!(find(&s, three.order_number(fixtures::order_number("#A-0")), 1).await, vec![stored(&wanted)]);
    assert!(find(&s, m1().customer(customer("c-9")).channel(Channel::Amazon), 5).await.is_empty());
}

pub async fn paging_walks_every_match_once_newest_first(s: Subject) {
    let mine: Vec<Order> = (0..7).map(|i| order(Channel::Generic, &format!("A-{i}"))).collect();
    let others: Vec<Order> = (0..5).map(|i| order(Channel::Amazon, &format!("Z-{i}"))).collect();
    for (i, o) in mine.iter().enumerate().rev() {
        insert(&s, o).await;
        if let Some(other) = others.get(i) {
            insert(&s, other).await;
        }
    }
    let expected = newest_first(&mine.iter().collect::<Vec<_>>());
    let pages = walk(&s, &m1().channel(Channel::Generic), 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(pages.concat(), expected);
    let pages = walk(&s, &m1().customer(customer("c-1")), 4).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4]);
    assert_eq!(pages.concat(), newest_first(&mine.iter().chain(&others).collect::<Vec<_>>()));
    // A page that ends exactly at the last match says there is no next one.
    let exact = walk(&s, &m1().channel(Channel::Amazon), 5).await;
    assert_eq!(exact, vec![newest_first(&others.iter().collect::<Vec<_>>())]);
}

pub async fn another_merchants_orders_never_appear(s: Subject) {
    let mine = order(Channel::Shopify, "A-1");
    let theirs = order_of("m-2", Channel::Shopify, "A-1");
    insert(&s, &theirs).await;
    insert(&s, &mine).await;
    let queries = [
        m1().customer(customer("c-1")),
        m1().phone(fixtures::PHONE),
        m1().channel(Channel::Shopify),
        m1().external_id(external("A-1")),
        m1().order_number(fixtures::order_number("#A-1")),
        m1().channel(Channel::Shopify).external_id(external("A-1")),
    ];
    for query in queries {
        assert_eq!(walk(&s, &query, 1).await, vec![vec![stored(&mine)]], "{query:?}");
        let theirs_query = OrderQuery { merchant: merchant("m-2"), ..query.clone() };
        assert_eq!(walk(&s, &theirs_query, 1).await, vec![vec![stored(&theirs)]], "{theirs_query:?}");
        let nobody = OrderQuery { merchant: merchant("m-3"), ..query };
        assert_eq!(walk(&s, &nobody, 1).await, vec![Vec::<Order>::new()]);
    }
}

pub async fn orders_are_found_by_their_channel_order_number(s: Subject) {
    let a = order(Channel::Shopify, "5940139491234");
    let b = Order { order_number: fixtures::order_number("#1002"), ..order(Channel::Shopify, "5940139491235") };
    insert(&s, &a).await;
    insert(&s, &b).await;
    assert_eq!(find(&s, m1().order_number(fixtures::order_number("#1002")), 10).await, vec![stored(&b)]);
    assert_eq!(find(&s, m1().order_number(fixtures::order_number("#5940139491234")), 10).await, vec![stored(&a)]);
    assert!(find(&s, m1().order_number(fixtures::order_number("5940139491234")), 10).await.is_empty());
}

pub async fn a_lookup_that_matches_nothing_finds_nothing(s: Subject) {
    insert(&s, &order(Channel::Generic, "A-1")).await;
    let misses = [
        m1().customer(customer("c-9")),
        m1().phone("+4915100000000"),
        OrderQuery::of(merchant("m-1")).channel(Channel::Shopify).external_id(external("A-1")),
        OrderQuery::of(merchant("m-1")).channel(Channel::Generic).external_id(external("A-9")),
        m1().external_id(external("A-9")),
        m1().channel(Channel::Import),
    ];
    for lookup in misses {
        assert!(find(&s, lookup.clone(), 10).await.is_empty(), "{lookup:?} found something");
    }
}

pub async fn lookups_follow_an_update_of_the_customer(s: Subject) {
    let order = order_for(Channel::Generic, "A-1", "c-1", Some("+8613800000000"));
    insert(&s, &order).await;
    let mut changed = stored(&order);
    changed.customer.id = customer("c-2");
    changed.customer.phone = Some("+8613911111111".into());
    assert_eq!(s.orders.update_order(&changed).await.expect("update_order failed"), UpdateOutcome::Updated { version: 2 });
    let now = Order { version: 2, ..changed };
    assert!(find(&s, m1().customer(customer("c-1")), 10).await.is_empty());
    assert!(find(&s, m1().phone("+8613800000000"), 10).await.is_empty());
    assert_eq!(find(&s, m1().customer(customer("c-2")), 10).await, vec![now.clone()]);
    assert_eq!(find(&s, m1().phone("+8613911111111"), 10).await, vec![now.clone()]);
    assert_eq!(
        find(&s, OrderQuery::of(merchant("m-1")).channel(Channel::Generic).external_id(external("A-1")), 10).await,
        vec![now]
    );
}

/// The largest order a channel can deliver (a 256 KiB body: 500 lines of 128-character
/// SKUs and the rest in one address line, stored as delivered), allocated from one
/// warehouse: the most an order record carries beside its timeline.
pub fn largest_channel_order() -> Order {
    let mut order = order(Channel::Generic, "BIG-1");
    order.shipping_address.line1 = "x".repeat(LARGEST_ADDRESS_LINE);
    order.lines = (0..500)
        .map(|i| oms_domain::order::OrderLine {
            sku: fixtures::sku(&format!("{i:03}{}", "S".repeat(125))),
            quantity: 10_000,
            unit_price: rust_decimal::Decimal::new(99_999_999, 2),
        })
        .collect();
    order
}

/// What is left of a 256 KiB body for text once 500 lines of the longest SKU are in it.
const LARGEST_ADDRESS_LINE: usize = 170_000;

pub async fn the_largest_order_with_a_long_history_reads_whole_and_is_reserved_and_cancelled(s: Subject) {
    let big = largest_channel_order();
    insert(&s, &big).await;
    let mut expected = stored(&big);
    // A thousand operator changes, twenty to a write (as an operator's PATCHes add them).
    for round in 0..50 {
        let mut current = s.orders.get_order(&big.order_id).await.expect("get_order failed").expect("stored");
        assert_eq!(current, expected, "round {round}");
        for i in 0..20 {
            current.note(noon(), format!("updated by request: customer, shipping_address (change {})", round * 20 + i));
        }
        let outcome = s.orders.update_order(&current).await.expect("update_order failed");
        assert_eq!(outcome, UpdateOutcome::Updated { version: current.version + 1 }, "round {round}");
        expected = Order { version: current.version + 1, ..current };
    }
    assert_eq!(expected.timeline.len(), 1001);

    // Allocated: every line from one warehouse.
    let mut current = s.orders.get_order(&big.order_id).await.expect("get_order failed").expect("stored");
    assert_eq!(current, expected, "the whole history reads back, oldest first");
    let lines: Vec<_> = current.lines.iter().map(|l| fixtures::line("WH-1", l.sku.as_str(), l.quantity)).collect();
    current.transition(OrderStatus::Allocated, noon(), "planned").expect("a received order can be allocated");
    current.allocation = Some(oms_domain::order::Allocation {
        lines: lines.clone(),
        explanation: "WH-1 holds it all".into(),
        costing: None,
        planned_at: noon(),
        merge: None,
        shipments: Vec::new(),
        claimed_from: None,
    });
    let outcome = s.orders.update_order(&current).await.expect("update_order failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: current.version + 1 }, "allocated");

    // Reserved: the stock held, then the order moved on.
    for line in &lines {
        crate::inventory::set(&s, "WH-1", line.sku.as_str(), line.quantity).await;
    }
    let plan = fixtures::hold(lines);
    let hold_id = fixtures::reserved(s.inventory.reserve(&big.order_id, &plan).await.expect("reserve failed"));
    let mut current = s.orders.get_order(&big.order_id).await.expect("get_order failed").expect("stored");
    current.transition(OrderStatus::Reserved, noon(), "held").expect("an allocated order can be reserved");
    let outcome = s.orders.update_order(&current).await.expect("update_order failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: current.version + 1 }, "reserved");

    // Cancelled with its stock given back, in the write that cancels (a hold of more than
    // one transaction, beside moved timeline entries).
    let mut current = s.orders.get_order(&big.order_id).await.expect("get_order failed").expect("stored");
    current.transition(OrderStatus::Cancelled, noon(), "cancelled on request").expect("a reserved order can be cancelled");
    let effects = oms_domain::ports::Effects { send: vec![], hold: oms_domain::ports::HoldEffect::Release(hold_id), sale: None };
    let outcome = s.orders.update_order_with(&current, &effects).await.expect("update_order_with failed");
    assert_eq!(outcome, UpdateOutcome::Updated { version: current.version + 1 }, "cancelled");
    assert_eq!(s.inventory.reservation(&big.order_id).await.expect("reservation failed"), None, "nothing held");
    let levels = s.inventory.stock_of(&crate::fixtures::sku(plan.lines()[0].sku.as_str())).await.expect("stock_of failed");
    assert_eq!(levels[0].reserved, 0, "the units came back");

    let read = s.orders.get_order(&big.order_id).await.expect("get_order failed").expect("stored");
    assert_eq!(read, Order { version: current.version + 1, ..current });
    assert_eq!(read.timeline.len(), 1004);
    assert_eq!(read.timeline[1].detail, "updated by request: customer, shipping_address (change 0)");
    let found = find(&s, m1().external_id(external("BIG-1")), 10).await;
    assert_eq!(found, vec![read], "a lookup answers the whole history too");
}

pub async fn orders_are_found_by_status_alone_newest_first_across_channels_and_follow_a_move(s: Subject) {
    let in_status = |channel, external_id: &str, status| Order { status, ..order(channel, external_id) };
    let received = [
        in_status(Channel::Shopify, "S-1", OrderStatus::Received),
        in_status(Channel::Amazon, "M-1", OrderStatus::Received),
        in_status(Channel::Generic, "G-1", OrderStatus::Received),
    ];
    let reserved = in_status(Channel::Generic, "G-2", OrderStatus::Reserved);
    let cancelled = in_status(Channel::Shopify, "S-2", OrderStatus::Cancelled);
    let theirs = Order { status: OrderStatus::Received, ..order_of("m-2", Channel::Shopify, "S-9") };
    for o in received.iter().chain([&reserved, &cancelled, &theirs]) {
        insert(&s, o).await;
    }
    let by = |status| m1().status(status);
    let all_received = newest_first(&received.iter().collect::<Vec<_>>());
    assert_eq!(walk(&s, &by(OrderStatus::Received), 2).await.concat(), all_received);
    assert_eq!(walk(&s, &by(OrderStatus::Received), 2).await.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(find(&s, by(OrderStatus::Reserved), 10).await, vec![stored(&reserved)]);
    assert_eq!(find(&s, by(OrderStatus::Cancelled), 10).await, vec![stored(&cancelled)]);
    assert!(find(&s, by(OrderStatus::Delivered), 10).await.is_empty());
    // Among other filters, the status narrows them.
    assert_eq!(find(&s, by(OrderStatus::Received).channel(Channel::Amazon), 10).await, vec![stored(&received[1])]);
    assert!(find(&s, by(OrderStatus::Reserved).channel(Channel::Shopify), 10).await.is_empty());
    assert_eq!(
        find(&s, by(OrderStatus::Received).customer(customer("c-1")), 10).await,
        newest_first(&received.iter().collect::<Vec<_>>())
    );
    // A move takes the order out of its old status and into the new one.
    let mut moved = stored(&received[0]);
    moved.status = OrderStatus::Allocated;
    assert_eq!(s.orders.update_order(&moved).await.expect("update_order failed"), UpdateOutcome::Updated { version: 2 });
    let moved = Order { version: 2, ..moved };
    assert_eq!(find(&s, by(OrderStatus::Allocated), 10).await, vec![moved]);
    assert_eq!(find(&s, by(OrderStatus::Received), 10).await, newest_first(&[&received[1], &received[2]]));
    let theirs_query = OrderQuery { merchant: merchant("m-2"), ..by(OrderStatus::Received) };
    assert_eq!(find(&s, theirs_query, 10).await, vec![stored(&theirs)]);
}
