//! Bulk trade through the router `oms serve` hosts, on the embedded store: a requirement
//! list quoted by three approved merchants' listings (those not approved, or shipping
//! elsewhere, left out with why), covered by all three, accepted into one sub-order per
//! merchant that each merchant alone sees, accepted again to the same parent, its status
//! following the sub-orders; merchants quoting only what they stock and only for
//! themselves; and bad input of every kind refused with a clear JSON error and nothing
//! stored.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::messages::Outgoing;
use oms_domain::order::Channel;
use oms_domain::ports::{
    Effects, InsertOutcome, OrderQuery, OrderStore, OrdersPage, Page, Ports, StatusEntry, StoreError, UpdateOutcome,
};
use oms_domain::product::{PriceTier, Product, ProductContent, ReviewRules};
use oms_domain::stock::Warehouse;
use oms_domain::usecases::fulfilment;
use oms_domain::{MerchantId, Order, OrderId, OrderStatus, Sku, WarehouseId};
use support::{call, code, Movable, MERCHANT, OPERATOR, OTHER, STOREFRONT};

/// The platform's own storefront: a credential naming no merchant.
const BUYER: &str = "platform-storefront-token";
/// Merchant `m-3`'s staff.
const THIRD: &str = "m3-operator-token-0001";

fn tokens() -> Value {
    let mut tokens = support::merchants_tokens();
    let list = tokens.as_array_mut().expect("a list");
    list.push(json!({ "token": BUYER, "scopes": ["oms/storefront", "oms/platform"] }));
    list.push(json!({ "token": THIRD, "merchant_id": "m-3", "scopes": OPERATOR }));
    tokens
}

fn merchant_id(id: &str) -> MerchantId {
    MerchantId::parse(id).expect("a merchant id")
}

/// `owner`'s warehouse `id` in Hangzhou, shipping to `serves` (empty: everywhere).
async fn warehouse(ports: &Ports, id: &str, owner: &str, serves: &[&str]) {
    let stored = Warehouse {
        warehouse_id: WarehouseId::parse(id).expect("an id"),
        name: id.into(),
        merchant_id: merchant_id(owner),
        province: "Zhejiang".into(),
        city: "Hangzhou".into(),
        lat: 30.27,
        lon: 120.15,
        serves: serves.iter().map(|s| s.to_string()).collect(),
    };
    ports.warehouses.put_warehouse(&stored).await.expect("a warehouse");
}

async fn stock(ports: &Ports, warehouse: &str, owner: &str, sku: &str, on_hand: u32) {
    let (w, s) = (WarehouseId::parse(warehouse).expect("an id"), Sku::parse(sku).expect("a sku"));
    let _ = ports.inventory.set_on_hand(&w, &merchant_id(owner), &s, on_hand).await.expect("stock");
}

/// `owner`'s approved and listed listing of `sku` at `price` a unit.
async fn on_sale(ports: &Ports, owner: &str, sku: &str, price: i64) {
    let tiers = vec![PriceTier { min_quantity: 1, unit_price: Decimal::from(price) }];
    let content = ProductContent::parse("Tea brick", "357 g", "TB-1", vec![], Default::default(), tiers).expect("content");
    let now = Utc::now();
    let mut product = Product::draft(Sku::parse(sku).expect("a sku"), merchant_id(owner), content, owner, now);
    product.submit(&ReviewRules::default(), owner, now).expect("submitted");
    product.approve("staff", now).expect("approved");
    product.list(owner, now).expect("listed");
    let _ = ports.products.create_product(&product).await.expect("a listing");
}

/// Three approved merchants each selling one SKU of the list (`m-3` also stocks a few of
/// `m-1`'s), one not approved, and one whose warehouse ships to Guangdong only.
async fn app_at(clock: Arc<Movable>) -> (Router, Ports) {
    let (_, ports) = support::store(clock);
    for (id, sku, price) in [("m-1", "TEA-A", 10), ("m-2", "TEA-B", 20), ("m-3", "TEA-C", 30)] {
        support::onboarded(&ports, id, true).await;
        warehouse(&ports, &format!("wh-{id}"), id, &[]).await;
        stock(&ports, &format!("wh-{id}"), id, sku, 500).await;
        on_sale(&ports, id, sku, price).await;
    }
    stock(&ports, "wh-m-3", "m-3", "TEA-A", 50).await;
    support::onboarded(&ports, "m-4", false).await;
    warehouse(&ports, "wh-m-4", "m-4", &[]).await;
    stock(&ports, "wh-m-4", "m-4", "TEA-A", 500).await;
    support::onboarded(&ports, "m-5", true).await;
    warehouse(&ports, "wh-m-5", "m-5", &["Guangdong"]).await;
    stock(&ports, "wh-m-5", "m-5", "TEA-B", 500).await;
    (routes::all(support::state(&ports, &tokens())), ports)
}

async fn app() -> (Router, Ports) {
    app_at(Arc::new(Movable::default())).await
}

fn until(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn rfq_body(id: &str, lines: &[(&str, i64)]) -> Value {
    json!({
        "rfq_id": id, "customer_id": "buyer-1", "region": "浙江",
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang", "country": "CN"},
        "lines": lines.iter().map(|(sku, q)| json!({"sku": sku, "quantity": q})).collect::<Vec<_>>(),
        "quotes_until": until(2),
    })
}

fn three_lines(id: &str) -> String {
    rfq_body(id, &[("TEA-A", 10), ("TEA-B", 10), ("TEA-C", 10)]).to_string()
}

fn merchants_of(list: &Value, field: &str) -> Vec<String> {
    list.as_array().expect("a list").iter().map(|v| v[field].as_str().expect("a merchant").to_owned()).collect()
}

#[tokio::test]
async fn a_bulk_list_is_quoted_by_three_merchants_and_split_into_one_sub_order_each() {
    let (router, ports) = app().await;
    let (status, rfq) = call(&router, Some(BUYER), "POST", "/rfqs", &three_lines("rfq-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{rfq}");
    assert_eq!((&rfq["region"], &rfq["state"]), (&json!("Zhejiang"), &json!("open")));
    assert_eq!(merchants_of(&rfq["candidates"], "merchant_id"), ["m-1", "m-2", "m-3"]);
    let left: Vec<(String, String)> = rfq["left_out"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| (l["merchant_id"].as_str().unwrap().to_owned(), l["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left[0].0 == "m-4" && left[0].1.contains("not approved"), "{left:?}");
    assert!(left[1].0 == "m-5" && left[1].1.contains("ships to Zhejiang"), "{left:?}");
    assert_eq!(rfq["quotes"].as_array().expect("quotes").len(), 3, "one listing quote per line");
    assert!(rfq["quotes"].as_array().unwrap().iter().all(|q| q["source"] == "listing"));
    let proposal = &rfq["proposal"];
    assert_eq!(merchants_of(&proposal["merchants"], "merchant_id"), ["m-1", "m-2", "m-3"], "{proposal}");
    assert_eq!(proposal["goods"], "600.00");
    assert!(proposal["explanation"].as_str().unwrap().contains("3 merchant(s) cover the 3 lines"), "{proposal}");
    assert_eq!(rfq["uncovered"], Value::Null);

    let (status, accepted) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-1/accept", "").await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!((&accepted["state"], &accepted["repeated"]), (&json!("accepted"), &json!(false)));
    let parent = &accepted["parent"];
    assert_eq!((&parent["complete"], &parent["parent_status"]), (&json!(true), &json!("received")), "{parent}");
    let children = parent["children"].as_array().expect("children");
    assert_eq!(merchants_of(&parent["children"], "external_id"), ["rfq-1-m-1", "rfq-1-m-2", "rfq-1-m-3"]);
    let ids: Vec<String> = children.iter().map(|c| c["order_id"].as_str().expect("made").to_owned()).collect();

    // Each merchant sees its own sub-order, on channel rfq at the quoted price, and no other.
    let (status, own) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{}", ids[0]), "").await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(
        (&own["channel"], &own["lines"][0]["sku"], &own["lines"][0]["unit_price"]),
        (&json!("rfq"), &json!("TEA-A"), &json!("10.00"))
    );
    let (status, theirs) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{}", ids[1]), "").await;
    assert_eq!((status, code(&theirs)), (StatusCode::NOT_FOUND, Some("order_not_found")));
    let (_, seen) = call(&router, Some(OTHER), "GET", "/rfqs/rfq-1", "").await;
    assert_eq!(merchants_of(&seen["parent"]["children"], "merchant_id"), ["m-2"], "{seen}");
    assert_eq!(merchants_of(&seen["quotes"], "merchant_id"), ["m-2"]);
    assert_eq!(seen["proposal"], Value::Null, "a merchant does not see the others' prices");

    // Accepting again answers the same parent and makes nothing more.
    let (status, again) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-1/accept", "").await;
    assert_eq!((status, &again["repeated"]), (StatusCode::OK, &json!(true)));
    let again_ids: Vec<&str> =
        again["parent"]["children"].as_array().unwrap().iter().map(|c| c["order_id"].as_str().unwrap()).collect();
    assert_eq!(again_ids, ids);

    // One sub-order shipped: the parent is partially shipped.
    let first = OrderId::parse(ids[0].clone()).expect("an id");
    fulfilment::allocate_order(&ports, &first).await.expect("allocated");
    fulfilment::reserve_order(&ports, &first).await.expect("reserved");
    let ship = json!({"carrier": "sf", "tracking_number": "SF100200300", "lines": [{"sku": "TEA-A", "quantity": 10}]});
    let (status, shipped) =
        call(&router, Some(MERCHANT), "POST", &format!("/orders/{}/shipments", ids[0]), &ship.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{shipped}");
    let (_, read) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-1", "").await;
    assert_eq!(read["parent"]["parent_status"], "partially_shipped", "{}", read["parent"]);
}

#[tokio::test]
async fn a_merchant_quotes_only_what_it_stocks_only_for_itself_and_its_price_can_win_a_line() {
    let clock = Arc::new(Movable::default());
    let (router, _) = app_at(clock.clone()).await;
    let (status, _) = call(&router, Some(BUYER), "POST", "/rfqs", &three_lines("rfq-2")).await;
    assert_eq!(status, StatusCode::CREATED);
    let quote = |sku: &str, price: &str| json!({"sku": sku, "unit_price": price}).to_string();

    // m-3 stocks TEA-A too: its own quote wins the line, so two merchants cover the list.
    let (status, quoted) = call(&router, Some(THIRD), "POST", "/rfqs/rfq-2/quotes", &quote("TEA-A", "8.50")).await;
    assert_eq!(status, StatusCode::OK, "{quoted}");
    assert_eq!(merchants_of(&quoted["quotes"], "merchant_id"), ["m-3", "m-3"], "its own quotes only");
    let (_, read) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-2", "").await;
    let supplied: Vec<String> = merchants_of(&read["proposal"]["merchants"], "merchant_id");
    assert_eq!(supplied, ["m-2", "m-3"], "{}", read["proposal"]);

    // m-1 stocks no TEA-B; m-1 may not quote for m-2; the storefront and the buyer quote nothing.
    let (status, refused) = call(&router, Some(MERCHANT), "POST", "/rfqs/rfq-2/quotes", &quote("TEA-B", "5")).await;
    assert_eq!((status, code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_stocked")), "{refused}");
    let for_other = json!({"merchant_id": "m-2", "sku": "TEA-B", "unit_price": "5"}).to_string();
    let (status, refused) = call(&router, Some(MERCHANT), "POST", "/rfqs/rfq-2/quotes", &for_other).await;
    assert_eq!((status, code(&refused)), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = call(&router, Some(STOREFRONT), "POST", "/rfqs/rfq-2/quotes", &quote("TEA-A", "5")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad prices, a SKU not asked for, an unknown request.
    for (body, field) in [
        (quote("TEA-A", "0"), "unit_price"),
        (quote("TEA-A", "-1"), "unit_price"),
        (quote("TEA-A", "1e3"), "unit_price"),
        (quote("TEA-A", "1000000001"), "unit_price"),
        (quote("TEA-Z", "5"), "sku"),
        (json!({"sku": "TEA-A", "unit_price": 5}).to_string(), ""),
        ("{".to_owned(), ""),
    ] {
        let (status, refused) = call(&router, Some(THIRD), "POST", "/rfqs/rfq-2/quotes", &body).await;
        assert_eq!((status, code(&refused)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {refused}");
        if !field.is_empty() {
            assert_eq!(refused["error"]["field"], field, "{body}: {refused}");
        }
    }
    let (status, refused) = call(&router, Some(THIRD), "POST", "/rfqs/nope/quotes", &quote("TEA-A", "5")).await;
    assert_eq!((status, code(&refused)), (StatusCode::NOT_FOUND, Some("rfq_not_found")));
    let (_, read) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-2", "").await;
    assert_eq!(read["quotes"].as_array().unwrap().len(), 4, "nothing refused was stored");

    // Past quotes_until: gone; after the acceptance: a conflict.
    clock.set(Duration::days(3));
    let (status, refused) = call(&router, Some(THIRD), "POST", "/rfqs/rfq-2/quotes", &quote("TEA-A", "8")).await;
    assert_eq!((status, code(&refused)), (StatusCode::GONE, Some("quotes_closed")));
    clock.set(Duration::zero());
    let (status, _) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-2/accept", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = call(&router, Some(THIRD), "POST", "/rfqs/rfq-2/quotes", &quote("TEA-A", "8")).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("rfq_state_conflict")));
}

#[tokio::test]
async fn a_list_no_quote_covers_names_its_line_and_cannot_be_accepted() {
    let (router, _) = app().await;
    let body = rfq_body("rfq-3", &[("TEA-A", 10), ("TEA-NOBODY", 1)]).to_string();
    let (status, rfq) = call(&router, Some(BUYER), "POST", "/rfqs", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{rfq}");
    assert_eq!((&rfq["proposal"], &rfq["uncovered"]), (&Value::Null, &json!({"line": 1, "sku": "TEA-NOBODY"})));
    let (status, refused) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-3/accept", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, Some("uncovered")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("TEA-NOBODY"));
    let (_, read) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-3", "").await;
    assert_eq!((&read["state"], &read["parent"]), (&json!("open"), &Value::Null), "nothing accepted");
}

#[tokio::test]
async fn posting_one_id_twice_answers_the_first_and_other_terms_under_it_conflict() {
    let (router, _) = app().await;
    let (status, _) = call(&router, Some(BUYER), "POST", "/rfqs", &three_lines("rfq-4")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = call(&router, Some(BUYER), "POST", "/rfqs", &three_lines("rfq-4")).await;
    assert_eq!((status, &again["repeated"], &again["version"]), (StatusCode::OK, &json!(true), &json!(1)));
    let other = rfq_body("rfq-4", &[("TEA-A", 11)]).to_string();
    let (status, refused) = call(&router, Some(BUYER), "POST", "/rfqs", &other).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("rfq_state_conflict")));
}

#[tokio::test]
async fn bad_requests_of_every_kind_are_refused_naming_the_field_and_store_nothing() {
    let (router, _) = app().await;
    let with = |patch: Value| {
        let mut body = rfq_body("rfq-bad", &[("TEA-A", 10)]);
        for (k, v) in patch.as_object().expect("a patch") {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let many: Vec<Value> = (0..201).map(|i| json!({"sku": format!("S-{i}"), "quantity": 1})).collect();
    let cases = [
        ("{".to_owned(), ""),
        ("[]".to_owned(), ""),
        (with(json!({"lines": "TEA-A"})), ""),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": "ten"}]})), ""),
        (with(json!({"unknown": 1})), ""),
        (with(json!({"lines": []})), "lines"),
        (with(json!({"lines": many})), "lines"),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": 0}]})), "lines[0].quantity"),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": -5}]})), "lines[0].quantity"),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": 1_000_001}]})), "lines[0].quantity"),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": 99_999_999_999i64}]})), "lines[0].quantity"),
        (with(json!({"lines": [{"sku": "TEA-A", "quantity": 1}, {"sku": "TEA-A", "quantity": 2}]})), "lines[1].sku"),
        (with(json!({"lines": [{"sku": " ", "quantity": 1}]})), "lines[0].sku"),
        (with(json!({"region": "Atlantis"})), "region"),
        (with(json!({"region": "Guangdong"})), "shipping_address.province"),
        (with(json!({"customer_id": ""})), "customer_id"),
        (with(json!({"rfq_id": "x".repeat(49)})), "rfq_id"),
        (with(json!({"quotes_until": until(-1)})), "quotes_until"),
        (with(json!({"quotes_until": until(31)})), "quotes_until"),
        (with(json!({"quotes_until": "tomorrow"})), ""),
        (with(json!({"shipping_address": {"city": "Hangzhou", "country": "CN"}})), "shipping_address.line1"),
    ];
    for (body, field) in cases {
        let (status, refused) = call(&router, Some(BUYER), "POST", "/rfqs", &body).await;
        assert_eq!((status, code(&refused)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {refused}");
        if !field.is_empty() {
            assert_eq!(refused["error"]["field"], field, "{body}: {refused}");
        }
    }
    // Who may post: the platform's storefront or staff, never a merchant's credential.
    let body = three_lines("rfq-bad");
    let (status, _) = call(&router, None, "POST", "/rfqs", &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for token in [MERCHANT, STOREFRONT] {
        let (status, refused) = call(&router, Some(token), "POST", "/rfqs", &body).await;
        assert_eq!((status, code(&refused)), (StatusCode::FORBIDDEN, Some("forbidden")), "{token}");
        let (status, _) = call(&router, Some(token), "POST", "/rfqs/rfq-bad/accept", "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token}");
    }
    let (status, refused) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-bad", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::NOT_FOUND, Some("rfq_not_found")), "nothing was stored");
    let (status, refused) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-bad/accept", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::NOT_FOUND, Some("rfq_not_found")));
}

/// The orders of `inner`, whose first insert of merchant `m-2`'s order fails as a lost
/// connection would: nothing written.
struct FailsOnce {
    inner: Arc<dyn OrderStore>,
    failed: AtomicBool,
}

#[async_trait::async_trait]
impl OrderStore for FailsOnce {
    async fn insert_order_sending(&self, order: &Order, send: &[Outgoing]) -> Result<InsertOutcome, StoreError> {
        if order.merchant_id.as_str() == "m-2" && !self.failed.swap(true, Ordering::SeqCst) {
            return Err(StoreError::msg("the connection was lost"));
        }
        self.inner.insert_order_sending(order, send).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.get_order(id).await
    }
    async fn update_order_with(&self, order: &Order, effects: &Effects) -> Result<UpdateOutcome, StoreError> {
        self.inner.update_order_with(order, effects).await
    }
    async fn find_orders(&self, query: &OrderQuery, page: &Page) -> Result<OrdersPage, StoreError> {
        self.inner.find_orders(query, page).await
    }
    async fn backorders_waiting_for(&self, sku: &Sku, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.inner.backorders_waiting_for(sku, limit).await
    }
    async fn orders_in_status_since(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        after: Option<&StatusEntry>,
        limit: usize,
    ) -> Result<Vec<StatusEntry>, StoreError> {
        self.inner.orders_in_status_since(status, before, after, limit).await
    }
}

#[tokio::test]
async fn a_sub_order_that_fails_leaves_the_parent_recorded_and_accepting_again_makes_only_what_is_missing() {
    let (_, ports) = app().await;
    let flaky =
        Ports { orders: Arc::new(FailsOnce { inner: ports.orders.clone(), failed: AtomicBool::new(false) }), ..ports.clone() };
    let router = routes::all(support::state(&flaky, &tokens()));
    let (status, _) = call(&router, Some(BUYER), "POST", "/rfqs", &three_lines("rfq-5")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, failed) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-5/accept", "").await;
    assert_eq!((status, code(&failed)), (StatusCode::INTERNAL_SERVER_ERROR, Some("internal")), "{failed}");
    let (_, half) = call(&router, Some(BUYER), "GET", "/rfqs/rfq-5", "").await;
    let made: Vec<&Value> = half["parent"]["children"].as_array().expect("planned").iter().map(|c| &c["order_id"]).collect();
    assert_eq!(half["parent"]["complete"], false, "{half}");
    assert!(made[0].is_string() && made[1].is_null() && made[2].is_null(), "m-1's made, m-2's failed, m-3's not tried: {made:?}");

    let (status, done) = call(&router, Some(BUYER), "POST", "/rfqs/rfq-5/accept", "").await;
    assert_eq!((status, &done["parent"]["complete"]), (StatusCode::OK, &json!(true)), "{done}");
    assert_eq!(&done["parent"]["children"][0]["order_id"], made[0], "m-1's sub-order is not made twice");
    for merchant in ["m-1", "m-2", "m-3"] {
        let query = OrderQuery::of(merchant_id(merchant)).channel(Channel::Rfq);
        let found = ports.orders.find_orders(&query, &Page::first(10)).await.expect("found");
        assert_eq!(found.orders.len(), 1, "one sub-order of {merchant}");
    }
}
