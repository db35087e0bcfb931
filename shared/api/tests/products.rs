//! The reviewed catalogue through the router `oms serve` hosts, on the embedded store: a
//! listing's life (rejected by a rule for a banned word, edited, submitted again, approved
//! by a reviewer, listed, promoted, unlisted), a channel order for a product not on sale
//! held (never bounced) and released by its listing, the platform checkout's check (422
//! `product_not_sellable`), who sees and decides what, and bad input of every kind refused
//! with a clear JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_api::{AppState, UnsignedPolicy};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::Sku;
use support::{call, code};

const MERCHANT: &str = "m1-operator-token-0001";
const STOREFRONT: &str = "m1-storefront-token-01";
const OTHER: &str = "m2-operator-token-0001";
const ADMIN: &str = "platform-admin-token-01";
/// A merchant's credential that was (wrongly) given the admin scope: it still decides nothing.
const MERCHANT_ADMIN: &str = "m1-admin-scope-token-1";

async fn app() -> (Router, Ports) {
    let (_, ports) = support::store(Arc::new(SystemClock));
    let operator = ["oms/inventory.read", "oms/inventory.write", "oms/orders.read", "oms/orders.write"];
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": operator },
        { "token": STOREFRONT, "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": OTHER, "merchant_id": "m-2", "scopes": operator },
        { "token": ADMIN, "scopes": ["oms/platform", "oms/admin", "oms/orders.read"] },
        { "token": MERCHANT_ADMIN, "merchant_id": "m-1", "scopes": ["oms/admin", "oms/inventory.write"] },
    ]);
    let router = routes::all(AppState { unsigned: UnsignedPolicy::Accept, ..support::state(&ports, &grants) });
    (router, ports)
}

fn sku(raw: &str) -> Sku {
    Sku::parse(raw).expect("a sku")
}

/// The SKU's facts recorded for merchant `m-1` (or `m-2` with `OTHER`).
async fn facts(router: &Router, token: &str, merchant: &str, sku: &str) {
    let body = json!({"merchant_id": merchant, "name": "Ink stone", "category": "stationery", "cost": "40",
                      "list_price": "168", "weight_g": 900, "dims_mm": [120, 80, 30]})
    .to_string();
    let (status, answer) = call(router, Some(token), "PUT", &format!("/skus/{sku}"), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

fn listing(name: &str) -> String {
    json!({
        "name": name, "specification": "hand-carved duan stone, 12 cm", "model": "DS-12",
        "images": [{"url": "https://img.example.com/ds-12.jpg", "bytes": 200000}],
        "attributes": {"material": "duan stone"},
        "wholesale_prices": [{"min_quantity": 1, "unit_price": "120.00"}, {"min_quantity": 10, "unit_price": "99.00"}]
    })
    .to_string()
}

fn statuses(product: &Value) -> Vec<String> {
    product["timeline"].as_array().expect("a timeline").iter().map(|e| e["status"].as_str().unwrap_or("").to_owned()).collect()
}

/// `sku`'s listing written, submitted (passing the rules) and approved.
async fn approved(router: &Router, sku: &str) {
    facts(router, MERCHANT, "m-1", sku).await;
    let (status, _) = call(router, Some(MERCHANT), "PUT", &format!("/products/{sku}"), &listing("Duan ink stone")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, submitted) = call(router, Some(MERCHANT), "POST", &format!("/products/{sku}/submit"), "").await;
    assert_eq!(submitted["status"], "in_review", "{submitted}");
    let (status, answer) = call(router, Some(ADMIN), "POST", &format!("/products/{sku}/approve"), "").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn a_banned_word_is_rejected_by_the_rules_then_the_edit_is_resubmitted_approved_listed_and_promoted() {
    let (router, _) = app().await;
    facts(&router, MERCHANT, "m-1", "INK-1").await;
    let (status, draft) = call(&router, Some(MERCHANT), "PUT", "/products/INK-1", &listing("Replica duan ink stone")).await;
    assert_eq!((status, &draft["status"], &draft["version"]), (StatusCode::CREATED, &json!("draft"), &json!(1)), "{draft}");
    assert_eq!(draft["wholesale_prices"][1], json!({"min_quantity": 10, "unit_price": "99.00"}));

    let (status, rejected) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/submit", "").await;
    assert_eq!((status, &rejected["status"]), (StatusCode::OK, &json!("rejected")), "{rejected}");
    assert!(rejected["rejection_reason"].as_str().expect("a reason").contains("\"replica\""), "{rejected}");
    // A rejected listing is edited before it is submitted again.
    let (status, refused) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/submit", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("product_state_conflict")));
    let (status, edited) = call(&router, Some(MERCHANT), "PUT", "/products/INK-1", &listing("Duan ink stone")).await;
    assert_eq!((status, &edited["status"]), (StatusCode::OK, &json!("draft")), "{edited}");
    let (_, in_review) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/submit", "").await;
    assert_eq!(in_review["status"], "in_review", "{in_review}");
    let (status, queue) = call(&router, Some(ADMIN), "GET", "/products?status=in_review", "").await;
    assert_eq!((status, queue["products"][0]["sku"].as_str()), (StatusCode::OK, Some("INK-1")), "{queue}");

    // Not listable before the approval; approved once (a second decision is refused).
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/list", "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, approved) = call(&router, Some(ADMIN), "POST", "/products/INK-1/approve", "").await;
    assert_eq!((status, &approved["status"], &approved["rejection_reason"]), (StatusCode::OK, &json!("approved"), &Value::Null));
    let (status, again) = call(&router, Some(ADMIN), "POST", "/products/INK-1/reject", r#"{"reason":"late"}"#).await;
    assert_eq!((status, code(&again)), (StatusCode::CONFLICT, Some("product_state_conflict")));

    let (status, listed) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/list", "").await;
    assert_eq!((status, &listed["status"], &listed["released_orders"]), (StatusCode::OK, &json!("listed"), &json!([])));
    let (status, promoted) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/promote", r#"{"rank":1}"#).await;
    assert_eq!((status, &promoted["promotion"]), (StatusCode::OK, &json!(1)), "{promoted}");
    let (status, placements) = call(&router, Some(STOREFRONT), "GET", "/catalogue/promoted", "").await;
    assert_eq!((status, placements["products"][0]["sku"].as_str()), (StatusCode::OK, Some("INK-1")), "{placements}");
    let (_, staff_view) = call(&router, Some(ADMIN), "GET", "/catalogue/promoted?merchant_id=m-1", "").await;
    assert_eq!(staff_view["products"].as_array().map(Vec::len), Some(1), "{staff_view}");

    let (status, unlisted) = call(&router, Some(MERCHANT), "POST", "/products/INK-1/unlist", "").await;
    assert_eq!((status, &unlisted["status"], &unlisted["promotion"]), (StatusCode::OK, &json!("unlisted"), &Value::Null));
    let (_, placements) = call(&router, Some(STOREFRONT), "GET", "/catalogue/promoted", "").await;
    assert_eq!(placements["products"], json!([]), "unlisting ends the promotion");

    let (status, read) = call(&router, Some(MERCHANT), "GET", "/products/INK-1", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        statuses(&read),
        ["draft", "submitted", "rejected", "draft", "submitted", "in_review", "approved", "listed", "listed", "unlisted"]
    );
    let by: Vec<&str> = read["timeline"].as_array().expect("a timeline").iter().filter_map(|e| e["by"].as_str()).collect();
    assert_eq!((by[2], by[6]), ("review rules", "platform staff"));
}

#[tokio::test]
async fn the_deployments_banned_words_replace_the_built_in_list() {
    let (_, ports) = support::store(Arc::new(SystemClock));
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": ["oms/inventory.write"] },
    ]);
    let rules = oms_domain::product::ReviewRules::with_banned_words("replica, 仿品").expect("rules");
    let router = routes::with_review_rules(routes::all(support::state(&ports, &grants)), rules);
    facts(&router, MERCHANT, "m-1", "INK-8").await;
    let submitted = |name: &'static str| {
        let router = router.clone();
        async move {
            call(&router, Some(MERCHANT), "PUT", "/products/INK-8", &listing(name)).await;
            call(&router, Some(MERCHANT), "POST", "/products/INK-8/submit", "").await.1
        }
    };
    let rejected = submitted("Replica Duan ink stone").await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert!(rejected["rejection_reason"].as_str().unwrap_or("").contains("replica"), "{rejected}");
    let passed = submitted("顶级 Duan ink stone").await;
    assert_eq!(passed["status"], "in_review", "the built-in list no longer applies: {passed}");
}

#[tokio::test]
async fn an_edit_of_a_listed_products_text_sends_it_back_to_review_and_off_sale() {
    let (router, _) = app().await;
    approved(&router, "INK-2").await;
    call(&router, Some(MERCHANT), "POST", "/products/INK-2/list", "").await;
    let (status, edited) = call(&router, Some(MERCHANT), "PUT", "/products/INK-2", &listing("Duan ink stone, larger")).await;
    assert_eq!((status, &edited["status"]), (StatusCode::OK, &json!("in_review")), "{edited}");
    // Under review: no edit.
    let (status, refused) = call(&router, Some(MERCHANT), "PUT", "/products/INK-2", &listing("Another")).await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("product_state_conflict")));
}

fn generic_order(external_id: &str, sku: &str) -> String {
    json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                             "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": sku, "quantity": 2, "unit_price": "120.00"}]
    })
    .to_string()
}

#[tokio::test]
async fn a_channel_order_for_a_product_not_on_sale_is_held_never_bounced_and_released_by_its_listing() {
    let (router, ports) = app().await;
    approved(&router, "INK-3").await;
    let (status, receipt) = call(&router, None, "POST", "/channels/generic/orders", &generic_order("A-1", "INK-3")).await;
    assert_eq!((status, &receipt["status"]), (StatusCode::ACCEPTED, &json!("on_hold")), "{receipt}");
    let order_id = receipt["order_id"].as_str().expect("an order id").to_owned();
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(order["hold"], json!({"reason": "product_not_sellable", "why": "unlisted", "sku": "INK-3"}), "{order}");
    let (_, alerts) = call(&router, Some(MERCHANT), "GET", "/alerts?status=open", "").await;
    assert!(alerts.to_string().contains("INK-3"), "an alert names the SKU: {alerts}");

    let (status, listed) = call(&router, Some(MERCHANT), "POST", "/products/INK-3/list", "").await;
    assert_eq!((status, &listed["released_orders"]), (StatusCode::OK, &json!([order_id])), "{listed}");
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!((&order["status"], &order["hold"]), (&json!("received"), &Value::Null), "{order}");

    // A SKU with no listing predates the review: its orders are not held for it.
    let (status, plain) = call(&router, None, "POST", "/channels/generic/orders", &generic_order("A-2", "TEA-9")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = oms_domain::OrderId::parse(plain["order_id"].as_str().expect("an id")).expect("an id");
    let stored = ports.orders.get_order(&id).await.expect("read").expect("stored");
    assert_ne!(stored.hold().map(|h| h.code()), Some("product_not_sellable"));
}

/// `m-1`'s warehouse `WH-1` holding `units` of `sku`.
async fn stock(router: &Router, sku: &str, units: u32) {
    let warehouse = json!({"name": "Hangzhou", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou",
                           "lat": 30.27, "lon": 120.15})
    .to_string();
    let (status, _) = call(router, Some(MERCHANT), "PUT", "/warehouses/WH-1", &warehouse).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) =
        call(router, Some(MERCHANT), "PUT", &format!("/inventory/WH-1/{sku}"), &json!({"on_hand": units}).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn checkout_orders(ports: &Ports) -> usize {
    let query = oms_domain::ports::OrderQuery::of(oms_domain::MerchantId::parse("m-1").expect("an id"))
        .channel(oms_domain::order::Channel::Checkout);
    ports.orders.find_orders(&query, &oms_domain::ports::Page::first(100)).await.expect("read").orders.len()
}

#[tokio::test]
async fn the_platform_checkout_refuses_a_product_not_approved_unlisted_or_unstocked_with_422_and_stores_nothing() {
    let (router, ports) = app().await;
    let place = |id: &'static str, sku: &'static str| {
        let router = router.clone();
        async move { call(&router, Some(STOREFRONT), "POST", "/checkout", &generic_order(id, sku)).await }
    };
    approved(&router, "INK-4").await;
    let (status, refused) = place("CO-1", "INK-4").await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("product_not_sellable")),
        "approved, not listed"
    );
    call(&router, Some(MERCHANT), "POST", "/products/INK-4/list", "").await;
    let (status, refused) = place("CO-1", "INK-4").await;
    assert_eq!((status, code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, Some("product_not_sellable")), "no unit on hand");
    assert_eq!(checkout_orders(&ports).await, 0, "nothing stored from a refusal");

    stock(&router, "INK-4", 5).await;
    let (status, placed) = place("CO-1", "INK-4").await;
    assert_eq!(
        (status, &placed["status"], &placed["duplicate"]),
        (StatusCode::CREATED, &json!("received"), &json!(false)),
        "{placed}"
    );
    let (_, order) = call(&router, Some(MERCHANT), "GET", &format!("/orders/{}", placed["order_id"].as_str().unwrap()), "").await;
    assert_eq!((&order["channel"], &order["external_id"]), (&json!("checkout"), &json!("CO-1")), "{order}");
    // The same checkout again, even once the product is off sale: the first order.
    call(&router, Some(MERCHANT), "POST", "/products/INK-4/unlist", "").await;
    let (status, again) = place("CO-1", "INK-4").await;
    assert_eq!((status, &again["order_id"], &again["duplicate"]), (StatusCode::OK, &placed["order_id"], &json!(true)), "{again}");
    let (status, refused) = place("CO-2", "INK-4").await;
    assert_eq!((status, code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, Some("product_not_sellable")), "unlisted");
    // A SKU with no listing predates the review and sells.
    let (status, plain) = place("CO-3", "TEA-9").await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(checkout_orders(&ports).await, 2);
}

#[tokio::test]
async fn the_checkout_takes_only_its_own_merchants_storefront_and_a_well_formed_order() {
    let (router, ports) = app().await;
    let mut theirs: Value = serde_json::from_str(&generic_order("CO-9", "TEA-9")).unwrap();
    theirs["merchant_id"] = json!("m-2");
    let mut no_lines: Value = serde_json::from_str(&generic_order("CO-9", "TEA-9")).unwrap();
    no_lines["lines"] = json!([]);
    let mut negative: Value = serde_json::from_str(&generic_order("CO-9", "TEA-9")).unwrap();
    negative["lines"][0]["quantity"] = json!(-2);
    let mut huge: Value = serde_json::from_str(&generic_order("CO-9", "TEA-9")).unwrap();
    huge["lines"][0]["quantity"] = json!(10_000_000_000_u64);
    let order = generic_order("CO-9", "TEA-9");
    for (token, body, expected) in [
        (Some(STOREFRONT), theirs.to_string(), (StatusCode::FORBIDDEN, Some("forbidden"))),
        (Some(MERCHANT), order.clone(), (StatusCode::FORBIDDEN, Some("forbidden"))),
        (None, order.clone(), (StatusCode::UNAUTHORIZED, Some("unauthenticated"))),
        (Some(STOREFRONT), "{not json".to_owned(), (StatusCode::BAD_REQUEST, Some("invalid_request"))),
        (Some(STOREFRONT), r#"{"external_id": 5}"#.to_owned(), (StatusCode::BAD_REQUEST, Some("invalid_request"))),
        (Some(STOREFRONT), no_lines.to_string(), (StatusCode::BAD_REQUEST, Some("invalid_request"))),
        (Some(STOREFRONT), negative.to_string(), (StatusCode::BAD_REQUEST, Some("invalid_request"))),
        (Some(STOREFRONT), huge.to_string(), (StatusCode::BAD_REQUEST, Some("invalid_request"))),
        (Some(STOREFRONT), "x".repeat(2 * 1024 * 1024), (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))),
    ] {
        let (status, answer) = call(&router, token, "POST", "/checkout", &body).await;
        assert_eq!((status, code(&answer)), expected, "{answer}");
    }
    assert_eq!(checkout_orders(&ports).await, 0, "nothing stored");
}

#[tokio::test]
async fn flash_sales_auctions_and_group_buys_sell_only_a_product_on_sale() {
    let (router, _) = app().await;
    approved(&router, "INK-6").await;
    stock(&router, "INK-6", 10).await;
    let now = chrono::Utc::now();
    let hour = chrono::Duration::hours(1);
    let sale = json!({"merchant_id": "m-1", "sku": "INK-6", "units": 2, "per_customer_limit": 1,
                      "starts_at": now, "ends_at": now + hour, "shards": 1});
    let auction = json!({"merchant_id": "m-1", "sku": "INK-6", "start_price": "100", "increment": "10", "ends_at": now + hour});
    let group = json!({"merchant_id": "m-1", "sku": "INK-6", "price": "9.90", "min_group": 2, "capacity": 2,
                       "units_per_buyer": 1, "deadline": now + hour});
    let offers = [("/flash-sales", &sale), ("/auctions", &auction), ("/group-buys", &group)];
    for (path, body) in offers {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", path, &body.to_string()).await;
        assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("product_not_sellable")), "{path}: {answer}");
    }
    call(&router, Some(MERCHANT), "POST", "/products/INK-6/list", "").await;
    for (path, body) in offers {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", path, &body.to_string()).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    }
}

#[tokio::test]
async fn only_platform_reviewers_decide_and_another_merchants_listing_is_not_found() {
    let (router, _) = app().await;
    facts(&router, MERCHANT, "m-1", "INK-6").await;
    call(&router, Some(MERCHANT), "PUT", "/products/INK-6", &listing("Duan ink stone")).await;
    call(&router, Some(MERCHANT), "POST", "/products/INK-6/submit", "").await;
    for token in [MERCHANT, MERCHANT_ADMIN] {
        let (status, refused) = call(&router, Some(token), "POST", "/products/INK-6/approve", "").await;
        assert_eq!((status, code(&refused)), (StatusCode::FORBIDDEN, Some("forbidden")), "{refused}");
        let (status, _) = call(&router, Some(token), "GET", "/products?status=in_review", "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = call(&router, None, "GET", "/products/INK-6", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (method, path, body) in [
        ("GET", "/products/INK-6", ""),
        ("POST", "/products/INK-6/submit", ""),
        ("POST", "/products/INK-6/list", ""),
        ("PUT", "/products/INK-6", &*listing("Taken over")),
    ] {
        let (status, answer) = call(&router, Some(OTHER), method, path, body).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("product_not_found")), "{method} {path}");
    }
    let (status, answer) = call(&router, Some(OTHER), "GET", "/catalogue/promoted?merchant_id=m-1", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "{answer}");
    let (status, rejected) =
        call(&router, Some(ADMIN), "POST", "/products/INK-6/reject", r#"{"reason":"the photos are blurry"}"#).await;
    assert_eq!((status, &rejected["rejection_reason"]), (StatusCode::OK, &json!("the photos are blurry")));
}

#[tokio::test]
async fn bad_input_of_every_kind_is_refused_naming_the_field_and_stores_nothing() {
    let (router, ports) = app().await;
    facts(&router, MERCHANT, "m-1", "INK-7").await;
    let with = |patch: Value| {
        let mut body: Value = serde_json::from_str(&listing("Duan ink stone")).expect("json");
        for (k, v) in patch.as_object().expect("an object") {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let tier = |q: Value, p: &str| json!({"wholesale_prices": [{"min_quantity": q, "unit_price": p}]});
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), ""),
        (r#"{"name": 7}"#.into(), ""),
        (with(json!({"name": "  "})), "name"),
        (with(json!({"name": "x".repeat(201)})), "name"),
        (with(json!({"surprise": true})), ""),
        (with(tier(json!(-1), "10")), "wholesale_prices[0].min_quantity"),
        (with(tier(json!(0), "10")), "wholesale_prices[0].min_quantity"),
        (with(tier(json!(99_999_999_999_i64), "10")), "wholesale_prices[0].min_quantity"),
        (with(tier(json!(1), "-5")), "wholesale_prices[0].unit_price"),
        (with(tier(json!(1), "0")), "wholesale_prices[0].unit_price"),
        (with(tier(json!(1), "1e3")), "wholesale_prices[0].unit_price"),
        (with(tier(json!("ten"), "10")), ""),
        (
            with(json!({"wholesale_prices": [{"min_quantity": 1, "unit_price": "10"}, {"min_quantity": 5, "unit_price": "12"}]})),
            "wholesale_prices[1].unit_price",
        ),
        (
            with(json!({"wholesale_prices": [{"min_quantity": 5, "unit_price": "10"}, {"min_quantity": 5, "unit_price": "9"}]})),
            "wholesale_prices[1].min_quantity",
        ),
        (with(json!({"images": [{"url": "http://img.example.com/a.jpg"}]})), "images[0].url"),
        (with(json!({"images": [{"url": "https://img.example.com/a.jpg", "bytes": -1}]})), "images[0].bytes"),
        (with(json!({"attributes": {"colour": ""}})), "attributes.colour"),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/products/INK-7", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        }
    }
    assert_eq!(ports.products.get_product(&sku("INK-7")).await.expect("read"), None, "nothing stored");

    // A SKU with no facts, or a listing that does not exist.
    let (status, answer) = call(&router, Some(MERCHANT), "PUT", "/products/NO-FACTS", &listing("x")).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("product_not_found")));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/products/NOPE/submit", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("product_not_found")));

    // Steps' bodies and queries.
    approved(&router, "INK-8").await;
    call(&router, Some(MERCHANT), "POST", "/products/INK-8/list", "").await;
    for body in [r#"{"rank":0}"#, r#"{"rank":1001}"#, r#"{"rank":-3}"#, r#"{"rank":"first"}"#, "{", r#"{"rank":1,"why":"x"}"#] {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", "/products/INK-8/promote", body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
    }
    for query in ["status=submitted", "status=lost", "limit=0", "limit=x", "cursor=%%%"] {
        let (status, answer) = call(&router, Some(ADMIN), "GET", &format!("/products?{query}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{query}: {answer}");
    }
    facts(&router, MERCHANT, "m-1", "INK-9").await;
    call(&router, Some(MERCHANT), "PUT", "/products/INK-9", &listing("Duan ink stone")).await;
    call(&router, Some(MERCHANT), "POST", "/products/INK-9/submit", "").await;
    for body in [r#"{"reason":"  "}"#, r#"{}"#, "{"] {
        let (status, answer) = call(&router, Some(ADMIN), "POST", "/products/INK-9/reject", body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
    }
    let stored = ports.products.get_product(&sku("INK-9")).await.expect("read").expect("stored");
    assert_eq!(stored.status, oms_domain::product::ProductStatus::InReview, "a refused decision changes nothing");
}
