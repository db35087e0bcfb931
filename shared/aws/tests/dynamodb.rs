//! The DynamoDB adapters against the emulator: conditions, outcomes and the item layout.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{aws, order, sku, warehouse, wh};
use oms_conformance::fixtures::{hold, line, merchant, reserved};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{
    InsertOutcome, InventoryStore, OrderQuery, OrderStore, Page, ReleaseOutcome, ReserveOutcome, SetOnHandOutcome, UpdateOutcome,
    WarehouseStore,
};
use oms_domain::reservation::HoldId;
use oms_domain::{CustomerId, ExternalId, MerchantId, OrderId};

#[tokio::test]
async fn the_table_has_the_indexes_and_ttl_the_template_declares() {
    let aws = aws("indexes").await;
    let table = aws.dynamo().client().describe_table().table_name(aws.dynamo().table()).send().await.unwrap();
    let mut indexes: Vec<(String, String, String)> = table
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .map(|gsi| {
            let keys = gsi.key_schema();
            (gsi.index_name().unwrap().to_owned(), keys[0].attribute_name().to_owned(), keys[1].attribute_name().to_owned())
        })
        .collect();
    indexes.sort();
    let expected = [
        ("by_address", "address_key", "order_id"),
        ("by_alert_status", "alert_status_key", "alert_id"),
        ("by_card", "card_key", "order_id"),
        ("by_channel", "channel_key", "order_id"),
        ("by_customer", "customer_key", "order_id"),
        ("by_external_id", "external_key", "order_id"),
        ("by_merchant_alerts", "alert_merchant_key", "merchant_alert_sort"),
        ("by_order_number", "order_number_key", "order_id"),
        ("by_phone", "phone_key", "order_id"),
        ("by_status", "status_key", "status_since_key"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(i, k, s)| (i.to_string(), k.to_string(), s.to_string())).collect();
    assert_eq!(indexes, expected);
    // The TTL that expires outbox items. (The emulator's table has no stream: see
    // `provision::create_table`; the template's check covers it.)
    let ttl = aws.dynamo().client().describe_time_to_live().table_name(aws.dynamo().table()).send().await.unwrap();
    let ttl = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some(oms_aws::provision::TTL_ATTRIBUTE));
}

#[tokio::test]
async fn an_inserted_order_is_stored_at_version_1_with_its_index_keys() {
    let aws = aws("insert").await;
    let store = aws.dynamo();
    // The domain keeps a customer's phone normalised; the adapter stores it as it is.
    let order = order(Channel::Shopify, "A-1", "c-1", Some("+8613800000000"));
    assert_eq!(store.insert_order(&order).await.unwrap(), InsertOutcome::Inserted);

    let stored = store.get_order(&order.order_id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored, oms_domain::Order { version: 1, ..order.clone() });

    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(format!("ORDER#{}", order.order_id)))
        .key("sk", AttributeValue::S("ORDER".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(text("customer_key").as_deref(), Some("m-1#c-1"));
    assert_eq!(text("phone_key").as_deref(), Some("m-1#+8613800000000"));
    assert_eq!(text("external_key").as_deref(), Some("m-1#A-1"));
    assert_eq!(text("channel_key").as_deref(), Some("m-1#shopify"));
    assert_eq!(text("order_number_key").as_deref(), Some("m-1##A-1"));
    assert_eq!(text("order_id"), Some(order.order_id.to_string()));
    assert_eq!(item.get("version").and_then(|v| v.as_n().ok()).map(String::as_str), Some("1"));

    let dedupe = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S("CHANNEL#shopify#MERCHANT#m-1#A-1".into()))
        .key("sk", AttributeValue::S("DEDUPE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(dedupe.get("order_id").and_then(|v| v.as_s().ok()), Some(&order.order_id.to_string()));
}

#[tokio::test]
async fn a_second_delivery_of_the_same_channel_order_returns_the_first_order() {
    let aws = aws("duplicate").await;
    let store = aws.dynamo();
    let first = order(Channel::Generic, "A-1001", "c-1", None);
    assert_eq!(store.insert_order(&first).await.unwrap(), InsertOutcome::Inserted);

    let again = order(Channel::Generic, "A-1001", "c-2", None);
    match store.insert_order(&again).await.unwrap() {
        InsertOutcome::Duplicate(kept) => assert_eq!(kept.order_id, first.order_id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(store.get_order(&again.order_id).await.unwrap(), None, "nothing of the duplicate is written");

    let elsewhere = order(Channel::Shopify, "A-1001", "c-1", None);
    assert_eq!(
        store.insert_order(&elsewhere).await.unwrap(),
        InsertOutcome::Inserted,
        "another channel's A-1001 is another order"
    );
}

/// An order stored before the merchant was in the dedupe key, as that build left it: its
/// marker under `CHANNEL#<channel>#<external id>`.
async fn store_with_a_legacy_marker(store: &oms_aws::DynamoStore, order: &oms_domain::Order) {
    assert_eq!(store.insert_order(order).await.expect("the insert"), InsertOutcome::Inserted);
    let new_pk = format!("CHANNEL#{}#MERCHANT#{}#{}", order.channel, order.merchant_id, order.external_id);
    let old_pk = format!("CHANNEL#{}#{}", order.channel, order.external_id);
    let client = store.client();
    let marker = client
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(new_pk.clone()))
        .key("sk", AttributeValue::S("DEDUPE".into()))
        .send()
        .await
        .expect("the marker read")
        .item
        .expect("the new marker");
    let mut old = marker.clone();
    old.insert("pk".into(), AttributeValue::S(old_pk));
    client.put_item().table_name(store.table()).set_item(Some(old)).send().await.expect("the old marker written");
    client
        .delete_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(new_pk))
        .key("sk", AttributeValue::S("DEDUPE".into()))
        .send()
        .await
        .expect("the new marker deleted");
}

#[tokio::test]
async fn an_order_under_an_old_dedupe_marker_is_still_found_and_still_deduplicated() {
    let aws = aws("legacy-dedupe").await;
    let store = aws.dynamo();
    let first = order(Channel::WooCommerce, "727", "c-1", None);
    store_with_a_legacy_marker(store, &first).await;
    let kept = store.get_order(&first.order_id).await.unwrap().unwrap();

    let found = |query: OrderQuery| async move { store.find_orders(&query, &Page::first(10)).await.unwrap().orders };
    let lookup = OrderQuery::of(first.merchant_id.clone()).channel(Channel::WooCommerce).external_id(first.external_id.clone());
    assert_eq!(found(lookup.clone()).await, vec![kept.clone()]);

    let again = order(Channel::WooCommerce, "727", "c-2", None);
    assert_eq!(store.insert_order(&again).await.unwrap(), InsertOutcome::Duplicate(Box::new(kept.clone())));
    assert_eq!(store.get_order(&again.order_id).await.unwrap(), None, "nothing of the duplicate is written");

    let other_shop = oms_domain::Order {
        merchant_id: MerchantId::parse("shop-b").unwrap(),
        ..order(Channel::WooCommerce, "727", "c-3", None)
    };
    assert_eq!(store.insert_order(&other_shop).await.unwrap(), InsertOutcome::Inserted, "another shop's 727");
    let theirs =
        OrderQuery::of(other_shop.merchant_id.clone()).channel(Channel::WooCommerce).external_id(other_shop.external_id.clone());
    assert_eq!(found(theirs).await, vec![oms_domain::Order { version: 1, ..other_shop.clone() }]);
    assert_eq!(found(lookup).await, vec![kept], "the first shop's order is untouched");
    let duplicate_of_theirs =
        oms_domain::Order { merchant_id: other_shop.merchant_id.clone(), ..order(Channel::WooCommerce, "727", "c-4", None) };
    assert!(
        matches!(store.insert_order(&duplicate_of_theirs).await.unwrap(), InsertOutcome::Duplicate(o) if o.order_id == other_shop.order_id)
    );
}

#[tokio::test]
async fn updates_are_conditional_on_the_version_read() {
    let aws = aws("update").await;
    let store = aws.dynamo();
    let order = order(Channel::Generic, "A-1", "c-1", None);
    let _ = store.insert_order(&order).await.unwrap();

    let mut read = store.get_order(&order.order_id).await.unwrap().unwrap();
    let stale = read.clone();
    read.transition(OrderStatus::Allocated, chrono::Utc::now(), "planned").unwrap();
    assert_eq!(store.update_order(&read).await.unwrap(), UpdateOutcome::Updated { version: 2 });
    assert_eq!(store.update_order(&stale).await.unwrap(), UpdateOutcome::VersionConflict);

    let stored = store.get_order(&order.order_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (OrderStatus::Allocated, 2));

    let never_stored = common::order(Channel::Generic, "B-1", "c-1", None);
    assert_eq!(store.update_order(&never_stored).await.unwrap(), UpdateOutcome::VersionConflict);
    assert_eq!(store.get_order(&never_stored.order_id).await.unwrap(), None);
}

#[tokio::test]
async fn orders_are_found_by_each_lookup_newest_first() {
    let aws = aws("find").await;
    let store = aws.dynamo();
    // Order ids are ULIDs: they sort by creation time only across milliseconds.
    let a = order(Channel::Shopify, "X-1", "c-1", Some("+8613800000000"));
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = order(Channel::Generic, "X-1", "c-1", Some("+8613800000000"));
    std::thread::sleep(std::time::Duration::from_millis(2));
    let c = order(Channel::Generic, "X-2", "c-2", None);
    for o in [&a, &b, &c] {
        let _ = store.insert_order(o).await.unwrap();
    }
    let ids = |orders: Vec<oms_domain::Order>| orders.into_iter().map(|o| o.order_id).collect::<Vec<OrderId>>();
    let find = |query: OrderQuery, limit| async move {
        ids(store.find_orders(&query, &Page::new(limit, None).unwrap()).await.unwrap().orders)
    };
    let m = || OrderQuery::of(MerchantId::parse("m-1").unwrap());

    let customer = CustomerId::parse("c-1").unwrap();
    assert_eq!(find(m().customer(customer.clone()), 10).await, [b.order_id.clone(), a.order_id.clone()]);
    assert_eq!(find(m().customer(customer), 1).await, vec![b.order_id.clone()]);
    assert_eq!(find(m().phone("+8613800000000"), 10).await, [b.order_id.clone(), a.order_id.clone()]);
    let x1 = ExternalId::parse("X-1").unwrap();
    let m1 = MerchantId::parse("m-1").unwrap();
    assert_eq!(find(m().external_id(x1.clone()), 10).await, [b.order_id.clone(), a.order_id.clone()]);
    assert_eq!(
        find(OrderQuery::of(m1.clone()).channel(Channel::Shopify).external_id(x1.clone()), 10).await,
        vec![a.order_id.clone()]
    );
    assert_eq!(find(OrderQuery::of(m1).channel(Channel::Amazon).external_id(x1), 10).await, Vec::<OrderId>::new());
    assert_eq!(find(m().channel(Channel::Generic), 10).await, [c.order_id.clone(), b.order_id.clone()]);
    assert_eq!(find(m().channel(Channel::Amazon), 10).await, Vec::<OrderId>::new());
    let number = oms_conformance::fixtures::order_number("#X-2");
    assert_eq!(find(m().order_number(number), 10).await, vec![c.order_id.clone()]);
    assert_eq!(find(m().channel(Channel::Generic), 1).await, vec![c.order_id.clone()]);
}

#[tokio::test]
async fn a_filtered_lookup_follows_last_evaluated_key_past_a_query_page_of_misses() {
    let aws = aws("find-filtered").await;
    let store = aws.dynamo();
    let wanted = order(Channel::Generic, "W-1", "c-9", Some("+8613800000000"));
    assert_eq!(store.insert_order(&wanted).await.unwrap(), InsertOutcome::Inserted);
    // More newer orders in the queried partition (by_phone) than one query page reads.
    for i in 0..105 {
        let miss = order(Channel::Generic, &format!("M-{i}"), "c-1", Some("+8613800000000"));
        assert_eq!(store.insert_order(&miss).await.unwrap(), InsertOutcome::Inserted);
    }
    let query =
        OrderQuery::of(MerchantId::parse("m-1").unwrap()).customer(CustomerId::parse("c-9").unwrap()).phone("+8613800000000");
    let page = store.find_orders(&query, &Page::new(1, None).unwrap()).await.unwrap();
    assert_eq!(page.orders, vec![oms_domain::Order { version: 1, ..wanted }]);
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn warehouses_are_replaced_and_listed_by_id() {
    let aws = aws("warehouses").await;
    let store = aws.dynamo();
    for id in ["wh-b", "wh-a"] {
        store.put_warehouse(&warehouse(id)).await.unwrap();
    }
    let mut renamed = warehouse("wh-b");
    renamed.name = "Renamed".into();
    store.put_warehouse(&renamed).await.unwrap();

    assert_eq!(store.get_warehouse(&wh("wh-b")).await.unwrap(), Some(renamed.clone()));
    assert_eq!(store.get_warehouse(&wh("wh-z")).await.unwrap(), None);
    assert_eq!(store.list_warehouses().await.unwrap(), vec![warehouse("wh-a"), renamed]);
}

#[tokio::test]
async fn the_warehouse_list_is_cached_per_container_and_dropped_on_its_own_writes() {
    let aws = aws("cached-warehouses").await;
    // A TTL no request on a loaded machine outlasts, and one that is gone at once.
    let cached = oms_aws::CachedWarehouses::new(aws.dynamo().clone(), std::time::Duration::from_secs(600));
    let expiring = oms_aws::CachedWarehouses::new(aws.dynamo().clone(), std::time::Duration::ZERO);
    // Another container's store: the same table, a cache of its own.
    let other = aws.dynamo();
    cached.put_warehouse(&warehouse("wh-a")).await.unwrap();
    assert_eq!(cached.list_warehouses().await.unwrap(), vec![warehouse("wh-a")]);
    other.put_warehouse(&warehouse("wh-b")).await.unwrap();
    assert_eq!(cached.list_warehouses().await.unwrap(), vec![warehouse("wh-a")], "younger than the TTL: the copy");
    assert_eq!(expiring.list_warehouses().await.unwrap(), vec![warehouse("wh-a"), warehouse("wh-b")], "past it: read again");
    cached.put_warehouse(&warehouse("wh-c")).await.unwrap();
    let ids: Vec<_> = cached.list_warehouses().await.unwrap().into_iter().map(|w| w.warehouse_id.to_string()).collect();
    assert_eq!(ids, ["wh-a", "wh-b", "wh-c"], "its own write drops the copy at once");
}

#[tokio::test]
async fn on_hand_cannot_go_below_the_units_reserved() {
    let aws = aws("on-hand").await;
    let store = aws.dynamo();
    let SetOnHandOutcome::Set(level) = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 10).await.unwrap() else {
        panic!("a first count is always set");
    };
    assert_eq!((level.on_hand, level.reserved, level.available), (10, 0, 10));

    let order_id = OrderId::generate();
    let _ = reserved(store.reserve(&order_id, &hold([line("w1", "A", 6)])).await.unwrap());
    assert_eq!(
        store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap(),
        SetOnHandOutcome::BelowReserved { reserved: 6 }
    );
    let SetOnHandOutcome::Set(level) = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 6).await.unwrap() else {
        panic!("on hand may equal reserved");
    };
    assert_eq!((level.on_hand, level.reserved, level.available), (6, 6, 0));

    let _ = store.set_on_hand(&wh("w0"), &merchant("m-1"), &sku("A"), 3).await.unwrap();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("B"), 3).await.unwrap();
    let stock = store.stock_of(&sku("A")).await.unwrap();
    let rows: Vec<(String, u32, u32, u32)> =
        stock.iter().map(|l| (l.warehouse.to_string(), l.on_hand, l.reserved, l.available)).collect();
    assert_eq!(rows, [("w0".to_owned(), 3, 0, 3), ("w1".to_owned(), 6, 6, 0)]);
    assert_eq!(store.stock_of(&sku("NONE")).await.unwrap(), []);
}

#[tokio::test]
async fn a_stock_item_with_more_reserved_than_on_hand_is_an_error_not_zero_available() {
    let aws = aws("corrupt-stock").await;
    let store = aws.dynamo();
    // No write of the adapter leaves an item like this; a hand edit or a bug could.
    let attr = |v: &str| AttributeValue::S(v.to_owned());
    let count = |v: u32| AttributeValue::N(v.to_string());
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", attr("STOCK#A"))
        .item("sk", attr("WAREHOUSE#w1#MERCHANT#m-1"))
        .item("warehouse", attr("w1"))
        .item("merchant_id", attr("m-1"))
        .item("sku", attr("A"))
        .item("on_hand", count(2))
        .item("reserved", count(5))
        .item("available", count(0))
        .send()
        .await
        .unwrap();
    let err = anyhow::Error::from(store.stock_of(&sku("A")).await.unwrap_err());
    assert!(format!("{err:#}").contains("5 units reserved exceed the 2 on hand"), "{err:#}");
}

#[tokio::test]
async fn a_hold_written_before_lines_named_their_owner_is_released_to_its_warehouses_merchant() {
    let aws = aws("legacy-hold").await;
    let store = aws.dynamo();
    store.put_warehouse(&warehouse("w1")).await.unwrap();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    let order_id = OrderId::generate();
    let hold_id = reserved(store.reserve(&order_id, &hold([line("w1", "A", 2)])).await.unwrap());
    // The reservation item as the adapter wrote it before lines named their owner.
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(format!("RESERVATION#{order_id}")))
        .key("sk", AttributeValue::S("RESERVATION".into()))
        .update_expression("REMOVE #lines[0].#merchant_id")
        .expression_attribute_names("#lines", "lines")
        .expression_attribute_names("#merchant_id", "merchant_id")
        .send()
        .await
        .unwrap();

    let held = store.reservation(&order_id).await.unwrap().expect("the order holds stock").reservation;
    assert_eq!(held, hold([line("w1", "A", 2)]), "the line is the warehouse's merchant's");
    assert!(matches!(store.release(&order_id, &hold_id).await.unwrap(), ReleaseOutcome::Released(_)));
    let level = &store.stock_of(&sku("A")).await.unwrap()[0];
    assert_eq!((level.owner.as_str(), level.reserved, level.available), ("m-1", 0, 5));
}

#[tokio::test]
async fn a_reservation_is_all_or_nothing() {
    let aws = aws("all-or-nothing").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("B"), 1).await.unwrap();

    let order_id = OrderId::generate();
    let outcome = store.reserve(&order_id, &hold([line("w1", "A", 5), line("w1", "B", 2)])).await.unwrap();
    assert_eq!(
        outcome,
        ReserveOutcome::Insufficient { warehouse: wh("w1"), owner: merchant("m-1"), sku: sku("B"), available: 1 }
    );
    assert_eq!(store.stock_of(&sku("A")).await.unwrap()[0].available, 5, "line A was not taken");
    assert_eq!(store.reservation(&order_id).await.unwrap().map(|h| h.reservation), None);

    let unknown = store.reserve(&order_id, &hold([line("w9", "A", 1)])).await.unwrap();
    assert_eq!(
        unknown,
        ReserveOutcome::Insufficient { warehouse: wh("w9"), owner: merchant("m-1"), sku: sku("A"), available: 0 }
    );
    assert!(store.stock_of(&sku("A")).await.unwrap().iter().all(|l| l.warehouse != wh("w9")), "no stock item was created");
}

#[tokio::test]
async fn an_order_reserves_once_and_releases_once() {
    let aws = aws("reserve-release").await;
    let store = aws.dynamo();
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    let _ = store.set_on_hand(&wh("w2"), &merchant("m-1"), &sku("A"), 5).await.unwrap();
    let order_id = OrderId::generate();
    let lines = vec![line("w1", "A", 2), line("w2", "A", 3)];

    let hold_id = reserved(store.reserve(&order_id, &hold(lines.clone())).await.unwrap());
    assert_eq!(store.reserve(&order_id, &hold(lines.clone())).await.unwrap(), ReserveOutcome::AlreadyReserved);
    assert_eq!(store.reservation(&order_id).await.unwrap().map(|h| h.reservation), Some(hold(lines.clone())));
    let available: Vec<u32> = store.stock_of(&sku("A")).await.unwrap().iter().map(|l| l.available).collect();
    assert_eq!(available, [3, 2]);

    assert_eq!(store.release(&order_id, &hold_id).await.unwrap(), ReleaseOutcome::Released(hold(lines)));
    assert_eq!(store.release(&order_id, &hold_id).await.unwrap(), ReleaseOutcome::NothingHeld);
    assert_eq!(store.reservation(&order_id).await.unwrap().map(|h| h.reservation), None);
    let counts: Vec<(u32, u32)> = store.stock_of(&sku("A")).await.unwrap().iter().map(|l| (l.reserved, l.available)).collect();
    assert_eq!(counts, [(0, 5), (0, 5)]);
    assert_eq!(store.release(&OrderId::generate(), &HoldId::generate()).await.unwrap(), ReleaseOutcome::NothingHeld);
}

#[tokio::test]
async fn two_hundred_buyers_racing_for_fifty_units_get_exactly_fifty() {
    let aws = aws("race").await;
    let store = Arc::new(aws.dynamo().clone());
    let _ = store.set_on_hand(&wh("w1"), &merchant("m-1"), &sku("HOT"), 50).await.unwrap();

    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let order_id = OrderId::generate();
                let outcome = store.reserve(&order_id, &hold([line("w1", "HOT", 1)])).await.unwrap();
                (order_id, outcome)
            })
        })
        .collect();
    let mut reserved = HashSet::new();
    for task in tasks {
        let (order_id, outcome) = task.await.unwrap();
        match outcome {
            ReserveOutcome::Reserved { .. } => {
                reserved.insert(order_id);
            }
            ReserveOutcome::Insufficient { available, .. } => assert_eq!(available, 0),
            ReserveOutcome::AlreadyReserved => panic!("every order is new"),
        }
    }
    assert_eq!(reserved.len(), 50);
    let level = &store.stock_of(&sku("HOT")).await.unwrap()[0];
    assert_eq!((level.on_hand, level.reserved, level.available), (50, 50, 0));
    for order_id in &reserved {
        assert_eq!(store.reservation(order_id).await.unwrap().map(|h| h.reservation), Some(hold([line("w1", "HOT", 1)])));
    }
}
