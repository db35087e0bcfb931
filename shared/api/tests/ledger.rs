//! The stock ledger routes through the router `oms serve` hosts, on the embedded store:
//! adjustments and as-of counts with their entries, the ledger paged and per merchant, and
//! bad input refused with a JSON error and nothing stored.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::auth::TokenTable;
use oms_api::routes::{self, Router};
use oms_api::{AppState, Authenticator, ChannelSecrets, UnsignedPolicy};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::stock::Warehouse;
use oms_domain::{MerchantId, Sku, WarehouseId};
use oms_embedded::Embedded;

const M1_WRITER: &str = "merchant-one-writer-token";
const M1_READER: &str = "merchant-one-reader-token";
const M2_READER: &str = "merchant-two-reader-token";
const STAFF: &str = "platform-staff-token-0001";

/// The router over a store where merchant m-1 has 10 units of SKU-1 in WH-1 and merchant
/// m-2 has 4 in WH-2, with a token per caller.
async fn app() -> (Router, Ports) {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let ports = store.ports(Arc::new(SystemClock));
    for (id, merchant, units) in [("WH-1", "m-1", 10), ("WH-2", "m-2", 4)] {
        let merchant = MerchantId::parse(merchant).expect("a merchant");
        let warehouse =
            Warehouse::new(WarehouseId::parse(id).expect("an id"), id, merchant.clone(), "Zhejiang", "Hangzhou", 30.0, 120.0)
                .expect("a warehouse");
        ports.warehouses.put_warehouse(&warehouse).await.expect("stored");
        let sku = Sku::parse("SKU-1").expect("a sku");
        assert!(ports.inventory.set_on_hand(&warehouse.warehouse_id, &merchant, &sku, units).await.is_ok());
    }
    let grants = json!([
        { "token": M1_WRITER, "merchant_id": "m-1", "scopes": ["oms/inventory.read", "oms/inventory.write"] },
        { "token": M1_READER, "merchant_id": "m-1", "scopes": ["oms/inventory.read"] },
        { "token": M2_READER, "merchant_id": "m-2", "scopes": ["oms/inventory.read"] },
        { "token": STAFF, "scopes": ["oms/platform", "oms/inventory.read", "oms/inventory.write"] },
    ]);
    let auth = Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("tokens")));
    let router = routes::all(AppState {
        ports: ports.clone(),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth,
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    });
    (router, ports)
}

async fn call(router: &Router, token: &str, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_owned()))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

async fn entries(ports: &Ports) -> usize {
    ports.inventory.ledger(&Sku::parse("SKU-1").expect("a sku"), None, None, 100).await.expect("ledger").entries.len()
}

#[tokio::test]
async fn an_adjustment_moves_on_hand_and_answers_its_ledger_entry() {
    let (router, _) = app().await;
    let (status, answer) =
        call(&router, M1_WRITER, "POST", "/inventory/WH-1/SKU-1/adjustments", r#"{"delta": -3, "reason": "damaged"}"#).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["stock"]["on_hand"], 7);
    assert_eq!(answer["entry"]["kind"], "adjust");
    assert_eq!((answer["entry"]["delta_on_hand"].as_i64(), answer["entry"]["reason"].as_str()), (Some(-3), Some("damaged")));

    let (status, ledger) = call(&router, M1_READER, "GET", "/inventory/SKU-1/ledger", "").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    let kinds: Vec<&str> = ledger["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["recount", "adjust"], "m-1 sees its own stock's entries only");
    assert_eq!(ledger["next"], Value::Null);
}

#[tokio::test]
async fn an_as_of_count_keeps_what_moved_since() {
    let (router, _) = app().await;
    // The count is taken after the stock was first counted, and before 2 more were found.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let as_of = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, answer) =
        call(&router, M1_WRITER, "POST", "/inventory/WH-1/SKU-1/adjustments", r#"{"delta": 2, "reason": "found"}"#).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let body = json!({"count": 40, "as_of": as_of}).to_string();
    let (status, answer) = call(&router, M1_WRITER, "POST", "/inventory/WH-1/SKU-1/adjustments", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["stock"]["on_hand"], 42, "40 counted plus the 2 found after the count");
    assert_eq!(answer["entry"]["kind"], "recount");
    let (status, answer) = call(&router, M1_WRITER, "POST", "/inventory/WH-1/SKU-1/adjustments", &body).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "newer_count"), "{answer}");
}

#[tokio::test]
async fn an_adjustment_below_held_or_malformed_is_refused_and_stores_nothing() {
    let (router, ports) = app().await;
    let before = entries(&ports).await;
    let refused = [
        (M1_WRITER, r#"{"delta": -11, "reason": "lost"}"#, StatusCode::UNPROCESSABLE_ENTITY, "below_held"),
        (M1_WRITER, r#"{"delta": -3}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_WRITER, r#"{"delta": "x", "reason": "r"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_WRITER, r#"{"delta": 1e12, "reason": "r"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_WRITER, r#"{"count": 5}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_WRITER, r#"{"delta": -1, "reason": "r""#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_READER, r#"{"delta": -1, "reason": "r"}"#, StatusCode::FORBIDDEN, "forbidden"),
        (M1_WRITER, r#"{"delta": -1, "reason": "r", "merchant_id": "m-2"}"#, StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (token, body, status, expected) in refused {
        let (got, answer) = call(&router, token, "POST", "/inventory/WH-1/SKU-1/adjustments", body).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}: {answer}");
    }
    let (got, answer) =
        call(&router, M1_WRITER, "POST", "/inventory/WH-2/SKU-1/adjustments", r#"{"delta": 1, "reason": "r"}"#).await;
    assert_eq!((got, code(&answer)), (StatusCode::NOT_FOUND, "unknown_warehouse"), "another merchant's warehouse: {answer}");
    let huge = format!(r#"{{"delta": 1, "reason": "{}"}}"#, "x".repeat(300 * 1024));
    let (got, _) = call(&router, M1_WRITER, "POST", "/inventory/WH-1/SKU-1/adjustments", &huge).await;
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(entries(&ports).await, before, "nothing stored");
}

#[tokio::test]
async fn the_ledger_is_paged_and_each_merchant_sees_its_own_units_only() {
    let (router, _) = app().await;
    for _ in 0..3 {
        let (status, _) =
            call(&router, STAFF, "POST", "/inventory/WH-2/SKU-1/adjustments", r#"{"delta": 1, "reason": "found"}"#).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, m2) = call(&router, M2_READER, "GET", "/inventory/SKU-1/ledger?limit=2", "").await;
    assert_eq!(m2["entries"].as_array().unwrap().len(), 2);
    assert!(m2["entries"].as_array().unwrap().iter().all(|e| e["merchant_id"] == "m-2"));
    let next = m2["next"].as_str().expect("a next page").to_owned();
    let (_, rest) = call(&router, M2_READER, "GET", &format!("/inventory/SKU-1/ledger?limit=2&cursor={next}"), "").await;
    assert_eq!((rest["entries"].as_array().unwrap().len(), &rest["next"]), (2, &Value::Null));
    let (_, all) = call(&router, STAFF, "GET", "/inventory/SKU-1/ledger", "").await;
    assert_eq!(all["entries"].as_array().unwrap().len(), 5, "platform staff see every owner's");
    for bad in ["?limit=0", "?limit=101", "?limit=x", "?cursor=nope"] {
        let (status, answer) = call(&router, STAFF, "GET", &format!("/inventory/SKU-1/ledger{bad}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "invalid_request"), "{bad}");
    }
    let (status, _) = call(&router, "not-a-token-at-all-000", "GET", "/inventory/SKU-1/ledger", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// An unpaid order of m-1's, in CNY, stored.
async fn unpaid_order(ports: &Ports, merchant: &str) -> String {
    let mut order = oms_conformance::fixtures::order(oms_domain::order::Channel::Generic, &format!("PAY-{merchant}"));
    order.merchant_id = MerchantId::parse(merchant).expect("a merchant");
    order.paid = false;
    assert!(matches!(ports.orders.insert_order(&order).await.expect("stored"), oms_domain::ports::InsertOutcome::Inserted));
    order.order_id.to_string()
}

#[tokio::test]
async fn a_payment_marks_the_order_paid_once_per_reference_and_bad_ones_store_nothing() {
    const M1_ORDERS: &str = "merchant-one-orders-token";
    let (_, ports) = app().await;
    let grants = json!([
        { "token": M1_ORDERS, "merchant_id": "m-1", "scopes": ["oms/orders.read", "oms/orders.write"] },
        { "token": M1_READER, "merchant_id": "m-1", "scopes": ["oms/orders.read"] },
    ]);
    let router = routes::all(AppState {
        ports: ports.clone(),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("tokens"))),
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    });
    let id = unpaid_order(&ports, "m-1").await;
    let (_, order) = call(&router, M1_ORDERS, "GET", &format!("/orders/{id}"), "").await;
    assert_eq!(order["payment_status"], "unpaid");

    let path = format!("/orders/{id}/payments");
    let refused = [
        (M1_ORDERS, r#"{"amount": "-1", "currency": "CNY", "reference": "r-1"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_ORDERS, r#"{"amount": "1.001", "currency": "CNY", "reference": "r-1"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_ORDERS, r#"{"amount": 5, "currency": "CNY", "reference": "r-1"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_ORDERS, r#"{"amount": "5", "currency": "CNY", "reference": " "}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_ORDERS, r#"{"amount": "5", "currency": "CNY"}"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (M1_ORDERS, r#"{"amount": "5", "currency": "USD", "reference": "r-1"}"#, StatusCode::UNPROCESSABLE_ENTITY, "not_payable"),
        (M1_READER, r#"{"amount": "5", "currency": "CNY", "reference": "r-1"}"#, StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (token, body, status, expected) in refused {
        let (got, answer) = call(&router, token, "POST", &path, body).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}: {answer}");
    }
    let (_, order) = call(&router, M1_ORDERS, "GET", &format!("/orders/{id}"), "").await;
    assert_eq!(
        (&order["payment_status"], order["payments"].as_array().map(Vec::len)),
        (&json!("unpaid"), Some(0)),
        "nothing stored"
    );

    let body = r#"{"amount": "39.80", "currency": "CNY", "reference": "alipay-2026-0001"}"#;
    let (status, paid) = call(&router, M1_ORDERS, "POST", &path, body).await;
    assert_eq!((status, &paid["payment_status"]), (StatusCode::CREATED, &json!("paid")), "{paid}");
    assert_eq!(paid["payments"][0]["reference"], "alipay-2026-0001");
    let (status, again) = call(&router, M1_ORDERS, "POST", &path, body).await;
    assert_eq!((status, again["payments"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "the same reference once");

    let other = unpaid_order(&ports, "m-2").await;
    let (status, answer) = call(&router, M1_ORDERS, "POST", &format!("/orders/{other}/payments"), body).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "order_not_found"), "another merchant's order");
}
