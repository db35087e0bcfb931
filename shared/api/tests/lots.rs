//! Lots and expiry through the router `oms serve` hosts, on the embedded store: goods
//! received with no purchase order (once per receipt id), purchase-order receipts carrying
//! lots, the lots listed with what remains of each first-expiry-first-out, a lot already
//! past its day refused, and bad input of every kind refused with a clear JSON error and
//! nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::ports::{Ports, SystemClock};
use oms_domain::Sku;
use support::{call, code, MERCHANT, OTHER};

const PLATFORM: &str = "platform-staff-token-01";
const READER: &str = "m1-read-only-token-0001";

/// Every route, merchant m-1's warehouse WH-1 and m-2's WH-2 (m-2 stocks WH-1 too).
async fn app() -> (Router, Ports) {
    let (_, ports) = support::store(Arc::new(SystemClock));
    let mut grants = support::merchants_tokens();
    let extra = [
        json!({ "token": PLATFORM, "scopes": ["oms/platform", "oms/inventory.read", "oms/inventory.write"] }),
        json!({ "token": READER, "merchant_id": "m-1", "scopes": ["oms/inventory.read"] }),
    ];
    grants.as_array_mut().expect("a list").extend(extra);
    support::warehouse(&ports, "WH-1", "m-1").await;
    support::warehouse(&ports, "WH-2", "m-2").await;
    (routes::all(support::state(&ports, &grants)), ports)
}

fn day(days_from_today: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days_from_today)).to_string()
}

fn receipt(id: &str, lines: Value) -> String {
    json!({ "receipt_id": id, "lines": lines }).to_string()
}

async fn on_hand(ports: &Ports, warehouse: &str, owner: &str, sku: &str) -> u32 {
    let levels = ports.inventory.stock_of(&Sku::parse(sku).expect("a SKU")).await.expect("stock_of");
    levels.iter().find(|l| l.warehouse.as_str() == warehouse && l.owner.as_str() == owner).map_or(0, |l| l.on_hand)
}

async fn lots_stored(ports: &Ports, sku: &str) -> usize {
    ports.inventory.lots_of(&Sku::parse(sku).expect("a SKU")).await.expect("lots_of").len()
}

#[tokio::test]
async fn goods_received_with_lots_are_stocked_once_and_listed_first_expiry_first() {
    let (router, ports) = app().await;
    let lines = json!([
        { "sku": "SKU-1", "quantity": 10, "lot": "LATE", "expires_on": day(90) },
        { "sku": "SKU-2", "quantity": 4 },
    ]);
    let (status, first) =
        call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &receipt("gr-1", lines.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((first["duplicate"].clone(), first["entries"].as_array().map(Vec::len)), (json!(false), Some(2)));
    assert_eq!(first["entries"][0]["kind"], "receive");
    let (status, again) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &receipt("gr-1", lines)).await;
    assert_eq!((status, again["duplicate"].clone()), (StatusCode::OK, json!(true)), "{again}");
    assert_eq!(on_hand(&ports, "WH-1", "m-1", "SKU-1").await, 10, "applied once");
    let early = json!([{ "sku": "SKU-1", "quantity": 5, "lot": " EARLY ", "expires_on": day(10) }]);
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &receipt("gr-2", early)).await;
    assert_eq!(status, StatusCode::CREATED);
    let down = json!({ "delta": -7, "reason": "damaged" }).to_string();
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/SKU-1/adjustments", &down).await;
    assert_eq!(status, StatusCode::OK);

    let (status, listed) = call(&router, Some(READER), "GET", "/inventory/WH-1/lots?sku=SKU-1", "").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let rows: Vec<(Value, Value, Value)> = listed["lots"]
        .as_array()
        .expect("lots")
        .iter()
        .map(|l| (l["lot"].clone(), l["received"].clone(), l["remaining"].clone()))
        .collect();
    assert_eq!(rows, vec![(json!("EARLY"), json!(5), json!(0)), (json!("LATE"), json!(10), json!(8))]);
    assert_eq!((listed["lots"][1]["expires_on"].clone(), listed["lots"][1]["expired"].clone()), (json!(day(90)), json!(false)));
    assert_eq!(listed["lots"][0]["merchant_id"], "m-1");
    // Without a SKU: every lot of the caller's stock there (SKU-2 has none).
    let (status, all) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/lots", "").await;
    assert_eq!((status, all["lots"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)));
}

#[tokio::test]
async fn a_merchant_stocks_a_shared_warehouse_and_sees_only_its_own_lots() {
    let (router, ports) = app().await;
    let mine = json!([{ "sku": "SKU-1", "quantity": 3, "lot": "M1" }]);
    call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &receipt("gr-1", mine)).await;
    // m-2 stocks m-1's warehouse: its own units, under the same receipt id.
    let theirs = json!([{ "sku": "SKU-1", "quantity": 4, "lot": "M2" }]);
    let (status, body) = call(&router, Some(OTHER), "POST", "/inventory/WH-1/receipts", &receipt("gr-1", theirs)).await;
    assert_eq!((status, body["duplicate"].clone()), (StatusCode::CREATED, json!(false)), "{body}");
    assert_eq!((on_hand(&ports, "WH-1", "m-1", "SKU-1").await, on_hand(&ports, "WH-1", "m-2", "SKU-1").await), (3, 4));
    let lots_of =
        |answer: &Value| -> Vec<Value> { answer["lots"].as_array().expect("lots").iter().map(|l| l["lot"].clone()).collect() };
    let (_, seen) = call(&router, Some(OTHER), "GET", "/inventory/WH-1/lots", "").await;
    assert_eq!(lots_of(&seen), vec![json!("M2")]);
    let (_, seen) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/lots?sku=SKU-1", "").await;
    assert_eq!(lots_of(&seen), vec![json!("M1")]);
    let (_, seen) = call(&router, Some(PLATFORM), "GET", "/inventory/WH-1/lots?sku=SKU-1", "").await;
    assert_eq!(lots_of(&seen), vec![json!("M1"), json!("M2")]);
    // Naming another merchant's stock: 403, nothing stored.
    let body = json!({ "receipt_id": "gr-9", "merchant_id": "m-1", "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string();
    let (status, answer) = call(&router, Some(OTHER), "POST", "/inventory/WH-1/receipts", &body).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")));
    // Platform staff name the owner; by default the warehouse's merchant.
    let body = json!({ "receipt_id": "gr-9", "merchant_id": "m-2", "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string();
    let (status, _) = call(&router, Some(PLATFORM), "POST", "/inventory/WH-1/receipts", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = json!({ "receipt_id": "gr-10", "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string();
    let (status, _) = call(&router, Some(PLATFORM), "POST", "/inventory/WH-1/receipts", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((on_hand(&ports, "WH-1", "m-1", "SKU-1").await, on_hand(&ports, "WH-1", "m-2", "SKU-1").await), (4, 5));
}

#[tokio::test]
async fn a_purchase_order_receipt_carries_lots_and_refuses_one_already_expired() {
    let (router, ports) = app().await;
    let supplier = json!({ "merchant_id": "m-1", "name": "Acme", "lead_time_days": 5, "skus": [{ "sku": "SKU-1" }] });
    let (status, _) = call(&router, Some(MERCHANT), "PUT", "/suppliers/sup-1", &supplier.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let expected_at = (Utc::now() + Duration::days(3)).to_rfc3339();
    let po = json!({ "supplier_id": "sup-1", "warehouse": "WH-1", "lines": [{ "sku": "SKU-1", "quantity": 10 }], "expected_at": expected_at });
    let (status, po) = call(&router, Some(MERCHANT), "POST", "/purchase-orders", &po.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    let receipts = format!("/purchase-orders/{}/receipts", po["purchase_order_id"].as_str().expect("an id"));
    let expired = json!([{ "sku": "SKU-1", "quantity": 4, "lot": "OLD", "expires_on": day(-1) }]);
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &receipts, &receipt("r-1", expired)).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("expired_on_receipt")), "{answer}");
    assert_eq!((on_hand(&ports, "WH-1", "m-1", "SKU-1").await, lots_stored(&ports, "SKU-1").await), (0, 0), "nothing stored");
    let today = json!([{ "sku": "SKU-1", "quantity": 4, "lot": "FRESH", "expires_on": day(0) }]);
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &receipts, &receipt("r-1", today.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, _) = call(&router, Some(MERCHANT), "POST", &receipts, &receipt("r-1", today)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/lots", "").await;
    assert_eq!((listed["lots"][0]["lot"].clone(), listed["lots"][0]["received"].clone()), (json!("FRESH"), json!(4)));
    assert_eq!(listed["lots"].as_array().map(Vec::len), Some(1), "recorded once");
}

#[tokio::test]
async fn bad_goods_receipts_are_refused_naming_the_field_and_store_nothing() {
    let (router, ports) = app().await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".to_owned(), ""),
        ("[]".to_owned(), ""),
        (json!({ "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string(), "receipt_id"),
        (json!({ "receipt_id": 7, "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string(), "receipt_id"),
        (json!({ "receipt_id": "", "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string(), "receipt_id"),
        (receipt("gr-1", json!([])), "lines"),
        (receipt("gr-1", json!("SKU-1")), "lines"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": "5" }])), "lines[0].quantity"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 0 }])), "lines[0].quantity"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": -3 }])), "lines[0].quantity"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 100_000_001 }])), "lines[0].quantity"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1e30 }])), "lines[0].quantity"),
        (receipt("gr-1", json!([{ "sku": "", "quantity": 1 }])), "lines[0].sku"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1 }, { "sku": "SKU-1", "quantity": 2 }])), "lines[1].sku"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "   " }])), "lines[0].lot"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "x".repeat(65) }])), "lines[0].lot"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "a\u{0}b" }])), "lines[0].lot"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": 42 }])), "lines[0].lot"),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "expires_on": day(30) }])), "lines[0].expires_on"),
        (
            receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "L", "expires_on": "31/12/2030" }])),
            "lines[0].expires_on",
        ),
        (
            receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "L", "expires_on": "2030-02-30" }])),
            "lines[0].expires_on",
        ),
        (receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "L", "expires_on": 20301231 }])), "lines[0].expires_on"),
        (
            json!({ "receipt_id": "gr-1", "merchant_id": 5, "lines": [{ "sku": "SKU-1", "quantity": 1 }] }).to_string(),
            "merchant_id",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        }
    }
    assert_eq!((on_hand(&ports, "WH-1", "m-1", "SKU-1").await, lots_stored(&ports, "SKU-1").await), (0, 0), "nothing stored");

    let good = receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "L" }]));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/inventory/NOWHERE/receipts", &good).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/inventory/bad%01id/receipts", &good).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{answer}");
    let (status, answer) = call(&router, Some(READER), "POST", "/inventory/WH-1/receipts", &good).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, answer) = call(&router, None, "POST", "/inventory/WH-1/receipts", &good).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let expired = receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 1, "lot": "L", "expires_on": day(-1) }]));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &expired).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("expired_on_receipt")));
    let huge = receipt("gr-1", json!([{ "sku": "SKU-1", "quantity": 100_000_000 }]));
    let (status, _) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &huge).await;
    assert_eq!(status, StatusCode::CREATED);
    let past_bound = receipt("gr-2", json!([{ "sku": "SKU-1", "quantity": 1 }]));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/inventory/WH-1/receipts", &past_bound).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("over_receipt")), "{answer}");
    assert_eq!(on_hand(&ports, "WH-1", "m-1", "SKU-1").await, 100_000_000, "on hand never past the bound");
    assert_eq!(lots_stored(&ports, "SKU-1").await, 0);
}

#[tokio::test]
async fn a_lots_listing_refuses_bad_input_and_an_unknown_warehouse() {
    let (router, _) = app().await;
    let (status, answer) = call(&router, Some(MERCHANT), "GET", "/inventory/NOWHERE/lots", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("unknown_warehouse")));
    let (status, answer) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/lots?sku=%00", "").await;
    assert_eq!(
        (status, code(&answer), answer["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"), json!("sku"))
    );
    let (status, answer) = call(&router, None, "GET", "/inventory/WH-1/lots", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, answer) = call(&router, Some(MERCHANT), "GET", "/inventory/WH-1/lots", "").await;
    assert_eq!((status, answer["lots"].clone()), (StatusCode::OK, json!([])), "nothing received yet");
}
