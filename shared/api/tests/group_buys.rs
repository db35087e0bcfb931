//! The group-buy routes through the router `oms serve` hosts, on the embedded store: the
//! life cycle (an offer filling into orders at the group price, a repeated join answered
//! as the first, an offer expiring with every unit back), who sees what (another
//! merchant's offer not at all), and bad input refused with a clear JSON error and nothing
//! stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{Clock, Ports};
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_domain::{MerchantId, OrderId, Sku, WarehouseId};
use support::{call, code, merchants_tokens, Movable, MERCHANT, OTHER, OTHER_SHOP, STOREFRONT};

/// The router with bearer tokens: m-1's operator and storefront, m-2's.
async fn app(clock: Arc<dyn Clock>) -> (Router, Ports) {
    let (_, ports) = support::store(clock);
    let (warehouse, sku) = (WarehouseId::parse("WH-1").expect("an id"), Sku::parse("SKU-1").expect("a SKU"));
    let m1 = MerchantId::parse("m-1").expect("a merchant");
    support::warehouse(&ports, warehouse.as_str(), "m-1").await;
    assert!(ports.inventory.set_on_hand(&warehouse, &m1, &sku, 20).await.is_ok());
    let router = routes::all(support::state(&ports, &merchants_tokens()));
    (router, ports)
}

/// 3 buyers needed, 4 places, 2 units each at 9.90, for an hour.
fn offer_body() -> Value {
    json!({
        "merchant_id": "m-1", "sku": "SKU-1", "price": "9.90", "currency": "EUR",
        "min_group": 3, "capacity": 4, "units_per_buyer": 2, "deadline": Utc::now() + Duration::hours(1)
    })
}

fn join_body(customer: &str, key: &str) -> String {
    let address = json!({"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"});
    json!({"customer_id": customer, "idempotency_key": key, "shipping_address": address}).to_string()
}

async fn create(router: &Router) -> String {
    let (status, answer) = call(router, Some(MERCHANT), "POST", "/group-buys", &offer_body().to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!((&answer["state"], &answer["joined"], &answer["needed"]), (&json!("open"), &json!(0), &json!(3)));
    assert_eq!(answer["warehouse_id"], json!("WH-1"));
    answer["group_buy_id"].as_str().expect("an offer id").to_owned()
}

async fn available(ports: &Ports) -> u32 {
    let stock = ports.inventory.stock_of(&Sku::parse("SKU-1").expect("a SKU")).await.expect("stock");
    stock.iter().map(|l| l.available).sum()
}

#[tokio::test]
async fn a_group_buy_fills_into_unpaid_orders_at_the_group_price_and_a_repeated_join_is_the_first() {
    let clock = Arc::new(Movable::default());
    let (router, ports) = app(clock.clone()).await;
    let id = create(&router).await;
    assert_eq!(available(&ports).await, 12, "the capacity's 8 units are set aside");
    let joins = format!("/group-buys/{id}/joins");

    let (status, first) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-1", "k-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((&first["state"], &first["needed"], &first["ordered"]), (&json!("open"), &json!(2), &json!(false)));
    let (_, again) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-1", "k-1")).await;
    assert_eq!((&again["join_id"], &again["repeated"], &again["joined"]), (&first["join_id"], &json!(true), &json!(1)));
    call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-2", "k-2")).await;
    let (status, filling) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-3", "k-3")).await;
    assert_eq!(status, StatusCode::CREATED, "{filling}");
    assert_eq!((&filling["state"], &filling["needed"], &filling["ordered"]), (&json!("filled"), &json!(0), &json!(true)));
    // The first join's order is made too, at the group price, unpaid.
    let order_id = OrderId::parse(first["order_id"].as_str().expect("an order id")).expect("an order id");
    let order = ports.orders.get_order(&order_id).await.expect("read").expect("the first join's order");
    assert_eq!(
        (order.channel, order.external_id.as_str(), order.paid),
        (Channel::GroupBuy, first["join_id"].as_str().unwrap(), false)
    );
    assert_eq!((order.lines[0].quantity, order.lines[0].unit_price.to_string()), (2, "9.9".to_owned()));
    assert_eq!(order.status, OrderStatus::Received);
    // One place left; then full.
    let (status, _) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-4", "k-4")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, full) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-5", "k-5")).await;
    assert_eq!((status, code(&full)), (StatusCode::CONFLICT, Some("group_buy_full")), "{full}");

    // Past the deadline: no joins; the sweep closes it once, every place taken.
    clock.set(Duration::minutes(61));
    let (status, gone) = call(&router, Some(STOREFRONT), "POST", &joins, &join_body("c-6", "k-6")).await;
    assert_eq!((status, code(&gone)), (StatusCode::GONE, Some("not_active")), "{gone}");
    let report = sweep(&ports, &SweepLimits::default()).await.expect("sweep");
    assert_eq!(report.group_buys_settled.len(), 1);
    let (_, closed) = call(&router, Some(MERCHANT), "GET", &format!("/group-buys/{id}"), "").await;
    assert_eq!((&closed["state"], &closed["units_returned"], &closed["places_left"]), (&json!("closed"), &json!(0), &json!(0)));
    assert!(sweep(&ports, &SweepLimits::default()).await.expect("sweep").group_buys_settled.is_empty(), "once");
}

#[tokio::test]
async fn an_unfilled_group_buy_expires_with_every_unit_back_and_no_order() {
    let clock = Arc::new(Movable::default());
    let (router, ports) = app(clock.clone()).await;
    let id = create(&router).await;
    let (_, joined) = call(&router, Some(STOREFRONT), "POST", &format!("/group-buys/{id}/joins"), &join_body("c-1", "k-1")).await;
    clock.set(Duration::minutes(61));
    let report = sweep(&ports, &SweepLimits::default()).await.expect("sweep");
    assert_eq!(report.group_buys_settled.len(), 1);
    let (_, expired) = call(&router, Some(STOREFRONT), "GET", &format!("/group-buys/{id}"), "").await;
    assert_eq!((&expired["state"], &expired["units_returned"]), (&json!("expired"), &json!(8)));
    assert!(expired.get("warehouse_id").is_none(), "a storefront does not see the warehouse: {expired}");
    assert_eq!(available(&ports).await, 20, "every unit back");
    let order_id = OrderId::parse(joined["order_id"].as_str().expect("an order id")).expect("an order id");
    assert!(ports.orders.get_order(&order_id).await.expect("read").is_none(), "nobody charged");
}

#[tokio::test]
async fn another_merchants_group_buy_is_not_found_and_unknown_ids_are_404() {
    let (router, _) = app(Arc::new(Movable::default())).await;
    let id = create(&router).await;
    for token in [OTHER, OTHER_SHOP] {
        let (status, answer) = call(&router, Some(token), "GET", &format!("/group-buys/{id}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("group_buy_not_found")), "{answer}");
    }
    let (status, answer) =
        call(&router, Some(OTHER_SHOP), "POST", &format!("/group-buys/{id}/joins"), &join_body("c-1", "k-1")).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("group_buy_not_found")), "{answer}");
    for unknown in ["nope", "gb_01ARZ3NDEKTSV4RRFFQ69G5FAV"] {
        let (status, answer) = call(&router, Some(MERCHANT), "GET", &format!("/group-buys/{unknown}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("group_buy_not_found")), "{answer}");
    }
    // Another merchant's offer may not be created by this credential; a storefront creates none.
    let mut body = offer_body();
    body["merchant_id"] = json!("m-2");
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/group-buys", &body.to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "{answer}");
    let (status, _) = call(&router, Some(STOREFRONT), "POST", "/group-buys", &offer_body().to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&router, None, "POST", "/group-buys", &offer_body().to_string()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_offers_and_joins_are_refused_naming_the_field_and_store_nothing() {
    let (router, ports) = app(Arc::new(Movable::default())).await;
    let with = |field: &str, value: Value| {
        let mut body = offer_body();
        body[field] = value;
        body.to_string()
    };
    let cases = [
        ("{not json".to_owned(), None),
        (with("capacity", json!("4")), None),
        (with("capacity", json!(0)), Some("capacity")),
        (with("capacity", json!(-3)), Some("capacity")),
        (with("capacity", json!(10_000_000_000_i64)), Some("capacity")),
        (with("min_group", json!(5)), Some("min_group")),
        (with("min_group", json!(0)), Some("min_group")),
        (with("units_per_buyer", json!(11)), Some("units_per_buyer")),
        (with("units_per_buyer", json!(1.5)), None),
        (with("price", json!("0")), Some("price")),
        (with("price", json!("-1")), Some("price")),
        (with("price", json!("1.001")), Some("price")),
        (with("price", json!(9.9)), None),
        (with("deadline", json!(Utc::now() - Duration::minutes(1))), Some("deadline")),
        (with("deadline", json!(Utc::now() + Duration::days(40))), Some("deadline")),
        (with("sku", json!("")), Some("sku")),
        (with("surprise", json!(1)), None),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", "/group-buys", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{body}: {answer}");
        }
    }
    // More than any warehouse holds: insufficient, nothing set aside.
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/group-buys", &with("capacity", json!(11))).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, Some("insufficient_stock")), "{answer}");
    assert_eq!(available(&ports).await, 20, "nothing set aside");

    let id = create(&router).await;
    let joins = format!("/group-buys/{id}/joins");
    for body in [
        "{".to_owned(),
        json!({"customer_id": "c-1"}).to_string(),
        json!({"customer_id": 7, "idempotency_key": "k"}).to_string(),
        json!({"customer_id": "", "idempotency_key": "k"}).to_string(),
        json!({"customer_id": "c-1", "idempotency_key": " k "}).to_string(),
        json!({"customer_id": "c-1", "idempotency_key": "k", "extra": true}).to_string(),
    ] {
        let (status, answer) = call(&router, Some(STOREFRONT), "POST", &joins, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
    }
    // Joining is the storefront's: the merchant's operator credential may not.
    let (status, _) = call(&router, Some(MERCHANT), "POST", &joins, &join_body("c-1", "k-1")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, shown) = call(&router, Some(MERCHANT), "GET", &format!("/group-buys/{id}"), "").await;
    assert_eq!(shown["joined"], json!(0), "nothing stored: {shown}");
}
