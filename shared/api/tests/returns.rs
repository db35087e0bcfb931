//! The return routes through the router `oms serve` hosts, on the embedded store: a return
//! from request to refund (units back on hand and to damaged stock, the refund recorded
//! and queued for the payment system, the carrier's `delivered` event receiving it), an
//! exchange making its unpaid order once, the window closed, who sees what (another
//! merchant's order and return not at all), and bad input refused with a clear JSON error
//! and nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_api::{AppState, UnsignedPolicy};
use oms_conformance::fixtures;
use oms_domain::messages::QueueName;
use oms_domain::order::{AllocatedLine, Allocation, Channel, OrderStatus, TimelineEvent};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::returns::{ReturnId, ReturnPolicy};
use oms_domain::{MerchantId, Order, OrderId, Sku, WarehouseId};
use oms_embedded::Embedded;
use support::{call, code, merchants_tokens, MERCHANT, OTHER, OTHER_SHOP, STOREFRONT};

async fn app() -> (Router, Ports, Embedded) {
    let (store, ports) = support::store(Arc::new(SystemClock));
    let m1 = MerchantId::parse("m-1").expect("a merchant");
    support::warehouse(&ports, "WH-1", "m-1").await;
    let wh = WarehouseId::parse("WH-1").expect("an id");
    for sku in ["TEA", "TEA-GREEN"] {
        let _ = ports.inventory.set_on_hand(&wh, &m1, &Sku::parse(sku).expect("a sku"), 10).await.expect("stock");
    }
    let state = AppState { unsigned: UnsignedPolicy::Accept, ..support::state(&ports, &merchants_tokens()) };
    let policy = ReturnPolicy { window_days: 14, restocking_fee_percent: Decimal::TEN };
    (routes::with_return_policy(routes::all(state), policy), ports, store)
}

/// A delivered order of customer `c-1`: three `TEA` at 19.90 from `WH-1`, delivered
/// `days_ago` days ago.
async fn delivered(ports: &Ports, external_id: &str, days_ago: i64) -> String {
    let body = json!({
        "external_id": external_id, "merchant_id": "m-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "CNY",
        "customer": {"id": "c-1", "email": "a@example.com", "phone": "+8613800000000"},
        "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                             "postal_code": "310000", "country": "CN"},
        "lines": [{"sku": "TEA", "quantity": 3, "unit_price": "19.90"}]
    });
    let new = oms_channels::normalise(Channel::Generic, body.to_string().as_bytes()).expect("an order");
    let mut order = Order::receive(new, OrderId::generate(), Utc::now());
    let line = AllocatedLine {
        warehouse: WarehouseId::parse("WH-1").expect("an id"),
        owner: MerchantId::parse("m-1").expect("a merchant"),
        sku: Sku::parse("TEA").expect("a sku"),
        quantity: 3,
        transfer_price: None,
    };
    order.allocation = Some(Allocation {
        lines: vec![line],
        explanation: "WH-1".into(),
        costing: None,
        planned_at: Utc::now(),
        merge: None,
        shipments: vec![],
        claimed_from: None,
    });
    order.status = OrderStatus::Delivered;
    let at = Utc::now() - Duration::days(days_ago);
    order.timeline.push(TimelineEvent { at, status: OrderStatus::Delivered, detail: "delivered".into() });
    let _ = ports.orders.insert_order(&order).await.expect("stored");
    order.order_id.to_string()
}

fn request_body(kind: &str, reason: &str, key: &str, quantity: i64) -> String {
    json!({
        "customer_id": "c-1", "kind": kind, "reason": reason, "reason_text": "too strong",
        "photos": ["https://img.example/tea.jpg"], "idempotency_key": key,
        "lines": [{"sku": "TEA", "quantity": quantity}]
    })
    .to_string()
}

async fn requested(router: &Router, order: &str, body: &str) -> String {
    let (status, answer) = call(router, Some(STOREFRONT), "POST", &format!("/orders/{order}/returns"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["return_id"].as_str().expect("an id").to_owned()
}

async fn step(router: &Router, token: &str, id: &str, what: &str, body: &str) -> Value {
    let (status, answer) = call(router, Some(token), "POST", &format!("/returns/{id}/{what}"), body).await;
    assert_eq!(status, StatusCode::OK, "{what}: {answer}");
    answer
}

async fn on_hand(ports: &Ports, sku: &str) -> u32 {
    let levels = ports.inventory.stock_of(&Sku::parse(sku).expect("a sku")).await.expect("stock");
    levels.iter().map(|l| l.on_hand).sum()
}

#[tokio::test]
async fn a_return_runs_from_request_to_refund_with_its_units_back_and_the_payment_system_told() {
    let (router, ports, store) = app().await;
    let order = delivered(&ports, "A-1", 2).await;
    let body = request_body("return", "changed_mind", "k-1", 2);
    let id = requested(&router, &order, &body).await;
    let (status, again) = call(&router, Some(STOREFRONT), "POST", &format!("/orders/{order}/returns"), &body).await;
    assert_eq!((status, &again["return_id"], &again["repeated"]), (StatusCode::CREATED, &json!(id), &json!(true)));
    let approved = step(&router, MERCHANT, &id, "approve", "").await;
    assert_eq!(approved["state"], "approved");
    let (status, early) = call(&router, Some(MERCHANT), "POST", &format!("/returns/{id}/inspect"), "{\"lines\":[]}").await;
    assert_eq!((status, code(&early)), (StatusCode::CONFLICT, Some("return_state_conflict")), "{early}");
    let shipped = step(&router, STOREFRONT, &id, "ship", &json!({"carrier": "sf", "tracking_number": "SFR1"}).to_string()).await;
    assert_eq!((&shipped["state"], &shipped["tracking_number"]), (&json!("in_transit"), &json!("SFR1")));

    // The carrier's webhook: the parcel back at the warehouse receives the return.
    let event = json!({"event_id": "e-1", "tracking_number": "SFR1", "status": "delivered", "at": Utc::now().to_rfc3339()});
    let (status, answer) = call(&router, None, "POST", "/carriers/generic/events", &event.to_string()).await;
    assert!(status.is_success(), "{answer}");
    let (_, seen) = call(&router, Some(MERCHANT), "GET", &format!("/returns/{id}"), "").await;
    assert_eq!(seen["state"], "received", "{seen}");

    // An order waiting for TEA: the restocked unit wakes it.
    let mut waiting = fixtures::order(Channel::Generic, "W-1");
    waiting.lines[0].sku = Sku::parse("TEA").expect("a sku");
    waiting.status = OrderStatus::Backordered;
    let _ = ports.orders.insert_order(&waiting).await.expect("stored");
    let planning =
        |rows: Vec<oms_embedded::Delivery>| rows.iter().filter(|row| row.body.contains(waiting.order_id.as_str())).count();
    assert_eq!(planning(store.pending(QueueName::Allocate).await.expect("the queue")), 0);

    let findings = json!({"lines": [{"sku": "TEA", "restock": 1, "damaged": 1}], "note": "one tin dented"});
    let before = on_hand(&ports, "TEA").await;
    let done = step(&router, MERCHANT, &id, "inspect", &findings.to_string()).await;
    assert_eq!(done["state"], "refunded", "{done}");
    let refund = &done["refund"];
    assert_eq!(
        (&refund["gross"], &refund["restocking_fee"], &refund["amount"]),
        (&json!("39.80"), &json!("3.98"), &json!("35.82"))
    );
    assert_eq!(refund["amount_minor"], 3582);
    assert_eq!(on_hand(&ports, "TEA").await, before + 1, "the sellable unit is back on hand");
    assert_eq!(planning(store.pending(QueueName::Allocate).await.expect("the queue")), 1, "the backorder is planned again");
    let (status, damaged) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/damaged", "").await;
    assert_eq!(status, StatusCode::OK, "{damaged}");
    assert_eq!(damaged["damaged"], json!([{"sku": "TEA", "merchant_id": "m-1", "units": 1}]));
    let (_, theirs) = call(&router, Some(OTHER), "GET", "/inventory/WH-1/damaged", "").await;
    assert_eq!(theirs["damaged"], json!([]), "another merchant sees none of m-1's damaged units");
    let notices = store.pending(QueueName::Outbound).await.expect("the queue");
    let refunds = notices.iter().filter(|row| row.body.contains("refund_recorded") && row.body.contains(&id)).count();
    assert_eq!(refunds, 1, "the payment system's notice, queued once");
    let (status, twice) = call(&router, Some(MERCHANT), "POST", &format!("/returns/{id}/settle"), "").await;
    assert_eq!((status, code(&twice)), (StatusCode::CONFLICT, Some("return_state_conflict")), "refunded once");
    let (_, listed) = call(&router, Some(STOREFRONT), "GET", &format!("/orders/{order}/returns"), "").await;
    assert_eq!(listed["returns"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_exchange_makes_one_unpaid_order_for_the_replacement_and_no_fee_for_a_defect() {
    let (router, ports, _) = app().await;
    let order = delivered(&ports, "A-2", 1).await;
    let body = json!({
        "customer_id": "c-1", "kind": "exchange", "reason": "defective", "idempotency_key": "k-1",
        "lines": [{"sku": "TEA", "quantity": 1, "replacement_sku": "TEA-GREEN"}]
    });
    let id = requested(&router, &order, &body.to_string()).await;
    step(&router, MERCHANT, &id, "approve", "").await;
    step(&router, STOREFRONT, &id, "ship", &json!({"carrier": "sf", "tracking_number": "SFR2"}).to_string()).await;
    step(&router, MERCHANT, &id, "receive", "").await;
    let findings = json!({"lines": [{"sku": "TEA", "restock": 0, "damaged": 1}]});
    let done = step(&router, MERCHANT, &id, "inspect", &findings.to_string()).await;
    assert_eq!(done["state"], "exchanged", "{done}");
    let made = OrderId::parse(done["exchange_order_id"].as_str().expect("an order")).expect("an id");
    let exchange = ports.orders.get_order(&made).await.expect("read").expect("the order");
    assert_eq!((exchange.channel, exchange.external_id.as_str(), exchange.paid), (Channel::Exchange, id.as_str(), false));
    assert_eq!((exchange.lines[0].sku.as_str(), exchange.lines[0].quantity), ("TEA-GREEN", 1));
    let ret = ports.returns.get_return(&ReturnId::parse(id.clone()).expect("an id")).await.expect("read").expect("stored");
    let twice = oms_domain::usecases::returns::exchange_order(&ports, &ret).await.expect("the order again");
    assert_eq!(twice, made, "a repeated step finds the first order, never a second");
    assert_eq!(done["refund"], Value::Null, "an exchange refunds nothing");
    let (_, damaged) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/damaged", "").await;
    assert_eq!(damaged["damaged"][0]["units"], 1, "{damaged}");
}

#[tokio::test]
async fn a_request_after_the_window_or_for_more_than_delivered_is_refused_and_nothing_stored() {
    let (router, ports, _) = app().await;
    let late = delivered(&ports, "A-3", 15).await;
    let (status, answer) =
        call(&router, Some(STOREFRONT), "POST", &format!("/orders/{late}/returns"), &request_body("return", "other", "k", 1))
            .await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("return_window_closed")), "{answer}");
    let order = delivered(&ports, "A-4", 1).await;
    requested(&router, &order, &request_body("return", "other", "k-1", 2)).await;
    let path = format!("/orders/{order}/returns");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &path, &request_body("return", "other", "k-2", 2)).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("return_quantity_exceeded")), "{answer}");
    let order_id = OrderId::parse(order.clone()).expect("an id");
    assert_eq!(ports.returns.returns_of(&order_id).await.expect("list").len(), 1, "nothing stored");
}

#[tokio::test]
async fn another_merchant_sees_neither_the_order_nor_its_returns() {
    let (router, ports, _) = app().await;
    let order = delivered(&ports, "A-5", 1).await;
    let id = requested(&router, &order, &request_body("return", "other", "k-1", 1)).await;
    let (status, answer) =
        call(&router, Some(OTHER_SHOP), "POST", &format!("/orders/{order}/returns"), &request_body("return", "other", "k-9", 1))
            .await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")), "{answer}");
    for (method, path) in [("GET", format!("/returns/{id}")), ("POST", format!("/returns/{id}/approve"))] {
        let (status, answer) = call(&router, Some(OTHER), method, &path, "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("return_not_found")), "{path}: {answer}");
    }
    let (status, answer) = call(&router, Some(OTHER), "GET", &format!("/orders/{order}/returns"), "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")), "{answer}");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &format!("/returns/{id}/approve"), "").await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "a storefront does not approve: {answer}");
    let (status, answer) = call(&router, None, "GET", &format!("/returns/{id}"), "").await;
    assert_eq!((status, code(&answer)), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (_, seen) = call(&router, Some(MERCHANT), "GET", &format!("/returns/{id}"), "").await;
    assert_eq!(seen["state"], "requested", "nothing moved");
}

#[tokio::test]
async fn bad_input_of_every_kind_is_a_clear_json_error_and_stores_nothing() {
    let (router, ports, _) = app().await;
    let order = delivered(&ports, "A-6", 1).await;
    let path = format!("/orders/{order}/returns");
    let line = |quantity: Value| json!([{"sku": "TEA", "quantity": quantity}]);
    let base =
        |lines: Value| json!({"customer_id": "c-1", "kind": "return", "reason": "other", "idempotency_key": "k", "lines": lines});
    let mut with_photo = base(line(json!(1)));
    with_photo["photos"] = json!(["http://img.example/p.jpg"]);
    let mut too_many_photos = base(line(json!(1)));
    too_many_photos["photos"] = json!(vec!["https://img.example/p.jpg"; 6]);
    let mut bad_kind = base(line(json!(1)));
    bad_kind["kind"] = json!("swap");
    let mut bad_reason = base(line(json!(1)));
    bad_reason["reason"] = json!("meh");
    let mut stranger = base(line(json!(1)));
    stranger["customer_id"] = json!("c-2");
    let mut replacement_on_return = base(json!([{"sku": "TEA", "quantity": 1, "replacement_sku": "TEA-GREEN"}]));
    replacement_on_return["kind"] = json!("return");
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        ("{not json".into(), StatusCode::BAD_REQUEST, "invalid_request", None),
        ("[]".into(), StatusCode::BAD_REQUEST, "invalid_request", None),
        (base(line(json!("two"))).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].quantity")),
        (base(line(json!(-1))).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].quantity")),
        (base(line(json!(0))).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].quantity")),
        (base(line(json!(4))).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].quantity")),
        (base(line(json!(9_999_999_999_i64))).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].quantity")),
        (base(json!([])).to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines")),
        (
            base(json!([{"sku": "NOPE", "quantity": 1}])).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("lines[0].sku"),
        ),
        (with_photo.to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("photos[0]")),
        (too_many_photos.to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("photos")),
        (bad_kind.to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("kind")),
        (bad_reason.to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("reason")),
        (replacement_on_return.to_string(), StatusCode::BAD_REQUEST, "invalid_request", Some("lines[0].replacement_sku")),
        (
            json!({"customer_id": "c-1", "kind": "return", "reason": "other", "lines": line(json!(1))}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("idempotency_key"),
        ),
        (stranger.to_string(), StatusCode::NOT_FOUND, "order_not_found", None),
    ];
    for (body, status, want, field) in cases {
        let (got, answer) = call(&router, Some(STOREFRONT), "POST", &path, &body).await;
        assert_eq!((got, code(&answer)), (status, Some(want)), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{body}: {answer}");
        }
    }
    let order_id = OrderId::parse(order.clone()).expect("an id");
    assert!(ports.returns.returns_of(&order_id).await.expect("list").is_empty(), "nothing stored");

    let (status, answer) =
        call(&router, Some(STOREFRONT), "POST", "/orders/ord_nope/returns", &base(line(json!(1))).to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")));
    for path in ["/returns/ret_nope", "/returns/ret_01JDXYZ0000000000000000000"] {
        let (status, answer) = call(&router, Some(MERCHANT), "GET", path, "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("return_not_found")), "{path}");
    }
    let id = requested(&router, &order, &base(line(json!(1))).to_string()).await;
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/returns/{id}/refuse"), "{}").await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{answer}");
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/returns/{id}/refuse"), "{\"reason\":\"  \"}").await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{answer}");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &format!("/returns/{id}/ship"), "{\"carrier\":\"sf\"}").await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{answer}");
    let ship = json!({"carrier": "sf", "tracking_number": "SF9"}).to_string();
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &format!("/returns/{id}/ship"), &ship).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, Some("return_state_conflict")), "not approved yet: {answer}");
    step(&router, MERCHANT, &id, "approve", "").await;
    step(&router, STOREFRONT, &id, "ship", &ship).await;
    step(&router, MERCHANT, &id, "receive", "").await;
    for (body, field) in [
        (json!({"lines": [{"sku": "TEA", "restock": 2, "damaged": 0}]}), "lines[0]"),
        (json!({"lines": [{"sku": "TEA", "restock": -1, "damaged": 2}]}), "lines[0].restock"),
        (
            json!({"lines": [{"sku": "TEA", "restock": 1, "damaged": 0}, {"sku": "TEA", "restock": 1, "damaged": 0}]}),
            "lines[1].sku",
        ),
        (json!({"lines": []}), "lines[0]"),
    ] {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", &format!("/returns/{id}/inspect"), &body.to_string()).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {answer}");
    }
    let (_, seen) = call(&router, Some(MERCHANT), "GET", &format!("/returns/{id}"), "").await;
    assert_eq!(seen["state"], "received", "nothing moved");
    let (status, answer) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-NOPE/damaged", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")));
}
