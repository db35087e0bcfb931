//! Suppliers, purchase orders and receipts through the routers that host them (`oms
//! serve`'s and the `inventory` function's): good input is stored and answered; bad input
//! is a JSON error and nothing is stored; a merchant sees and changes only its own.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, Authenticator, ChannelSecrets, TokenTable, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;

const A: &str = "merchant-a-staff-token";
const A_READER: &str = "merchant-a-read-only-token";
const B: &str = "merchant-b-staff-token";

fn state() -> AppState {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    let grants = json!([
        { "token": A, "merchant_id": "m-a", "scopes": ["oms/inventory.read", "oms/inventory.write"] },
        { "token": A_READER, "merchant_id": "m-a", "scopes": ["oms/inventory.read"] },
        { "token": B, "merchant_id": "m-b", "scopes": ["oms/inventory.read", "oms/inventory.write"] },
    ]);
    AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: Authenticator::Tokens(Arc::new(TokenTable::from_json(&grants.to_string()).expect("the token list"))),
        pricing: Default::default(),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    }
}

async fn call(router: &Router, token: &str, method: Method, uri: &str, body: Option<String>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// Merchant A's warehouse WH-A and supplier sup-a of SKU-1 and SKU-2.
async fn stocked(router: &Router) {
    let wh = json!({"name": "West", "merchant_id": "m-a", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
    let (status, _) = call(router, A, Method::PUT, "/warehouses/WH-A", Some(wh.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let wh = json!({"name": "East", "merchant_id": "m-b", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
    let (status, _) = call(router, B, Method::PUT, "/warehouses/WH-B", Some(wh.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let supplier = json!({"merchant_id": "m-a", "name": "Acme", "lead_time_days": 5,
                          "skus": [{"sku": "SKU-1", "unit_cost": "3.20", "pack_size": 10}, {"sku": "SKU-2"}]});
    let (status, body) = call(router, A, Method::PUT, "/suppliers/sup-a", Some(supplier.to_string())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["skus"][0]["unit_cost"], "3.20");
}

/// When the test purchase orders expect their units: four days from today, 09:00 UTC
/// (`expected_at` must lie from a day before now to about two years after).
fn expected_at() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(4)).format("%Y-%m-%dT09:00:00Z").to_string()
}

fn po_body(lines: Value, reference: Option<&str>) -> String {
    let mut body = json!({"supplier_id": "sup-a", "warehouse": "WH-A", "lines": lines, "expected_at": expected_at()});
    if let Some(reference) = reference {
        body["reference"] = json!(reference);
    }
    body.to_string()
}

#[tokio::test]
async fn a_supplier_is_registered_updated_read_and_never_taken_over() {
    for router in [routes::all(state()), routes::inventory_api(state())] {
        stocked(&router).await;
        let again = json!({"merchant_id": "m-a", "name": "Acme", "lead_time_days": 3, "skus": [{"sku": "SKU-1"}]});
        let (status, body) = call(&router, A, Method::PUT, "/suppliers/sup-a", Some(again.to_string())).await;
        assert_eq!((status, body["lead_time_days"].as_u64()), (StatusCode::OK, Some(3)));
        let (status, body) = call(&router, A_READER, Method::GET, "/suppliers/sup-a", None).await;
        assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Acme")));
        // B can neither read A's supplier nor take its id over.
        let (status, body) = call(&router, B, Method::GET, "/suppliers/sup-a", None).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, Some("supplier_not_found")));
        let theirs = json!({"merchant_id": "m-b", "name": "Other", "lead_time_days": 1, "skus": []});
        let (status, body) = call(&router, B, Method::PUT, "/suppliers/sup-a", Some(theirs.to_string())).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, Some("supplier_not_found")));
        // Acting for another merchant is forbidden; so is writing with a read-only credential.
        let (status, body) = call(&router, B, Method::PUT, "/suppliers/sup-x", Some(again.to_string())).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, Some("forbidden")));
        let (status, _) = call(&router, A_READER, Method::PUT, "/suppliers/sup-a", Some(again.to_string())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = call(&router, A, Method::GET, "/suppliers/sup-a", None).await;
        assert_eq!((status, body["lead_time_days"].as_u64()), (StatusCode::OK, Some(3)), "unchanged by B");
    }
}

#[tokio::test]
async fn a_purchase_order_is_placed_once_per_reference_and_bad_ones_store_nothing() {
    let router = routes::all(state());
    stocked(&router).await;
    let (status, placed) = call(
        &router,
        A,
        Method::POST,
        "/purchase-orders",
        Some(po_body(json!([{"sku": "SKU-1", "quantity": 20}]), Some("REF-1"))),
    )
    .await;
    assert_eq!((status, placed["status"].as_str()), (StatusCode::CREATED, Some("open")), "{placed}");
    let id = placed["purchase_order_id"].as_str().expect("an id").to_owned();
    let (status, again) = call(
        &router,
        A,
        Method::POST,
        "/purchase-orders",
        Some(po_body(json!([{"sku": "SKU-1", "quantity": 5}]), Some("REF-1"))),
    )
    .await;
    assert_eq!(
        (status, again["purchase_order_id"].as_str(), again["duplicate"].as_bool()),
        (StatusCode::OK, Some(id.as_str()), Some(true))
    );

    let refused = [
        (po_body(json!([{"sku": "SKU-1", "quantity": 0}]), None), StatusCode::BAD_REQUEST, "invalid_request"),
        (po_body(json!([{"sku": "SKU-1", "quantity": -4}]), None), StatusCode::BAD_REQUEST, "invalid_request"),
        (po_body(json!([{"sku": "SKU-1", "quantity": 1e12}]), None), StatusCode::BAD_REQUEST, "invalid_request"),
        (po_body(json!([{"sku": "SKU-1", "quantity": "2"}]), None), StatusCode::BAD_REQUEST, "invalid_request"),
        (po_body(json!([{"sku": "SKU-9", "quantity": 2}]), None), StatusCode::UNPROCESSABLE_ENTITY, "sku_not_supplied"),
        (
            po_body(json!([{"sku": "SKU-1", "quantity": 2}]), None).replace(&expected_at(), "next week"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            po_body(json!([{"sku": "SKU-1", "quantity": 2}]), None).replace("sup-a", "sup-nobody"),
            StatusCode::NOT_FOUND,
            "supplier_not_found",
        ),
        (
            po_body(json!([{"sku": "SKU-1", "quantity": 2}]), None).replace("WH-A", "WH-B"),
            StatusCode::NOT_FOUND,
            "unknown_warehouse",
        ),
        ("{not json".to_owned(), StatusCode::BAD_REQUEST, "invalid_request"),
    ];
    for (body, want, want_code) in refused {
        let (status, answer) = call(&router, A, Method::POST, "/purchase-orders", Some(body.clone())).await;
        assert_eq!((status, code(&answer)), (want, Some(want_code)), "{body}: {answer}");
    }
    // B cannot order from A's supplier, nor see A's order.
    let (status, answer) =
        call(&router, B, Method::POST, "/purchase-orders", Some(po_body(json!([{"sku": "SKU-1", "quantity": 2}]), None))).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("supplier_not_found")));
    let (status, answer) = call(&router, B, Method::GET, &format!("/purchase-orders/{id}"), None).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("purchase_order_not_found")));
    // Only the first order is stored.
    let (status, page) = call(&router, A, Method::GET, "/purchase-orders?sku=SKU-1&status=open", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["purchase_orders"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["next"], Value::Null);
    let (_, page) = call(&router, B, Method::GET, "/purchase-orders", None).await;
    assert_eq!(page["purchase_orders"].as_array().map(Vec::len), Some(0), "{page}");
    let (status, answer) = call(&router, A, Method::GET, "/purchase-orders?status=lost", None).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    // A cursor the API never answered is refused, not read as a place in the list.
    let (status, answer) = call(&router, A, Method::GET, "/purchase-orders?cursor=garbage", None).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("cursor")), "{answer}");
}

#[tokio::test]
async fn receipts_grow_stock_once_per_receipt_id_and_never_past_the_order() {
    let router = routes::inventory_api(state());
    stocked(&router).await;
    let (_, placed) =
        call(&router, A, Method::POST, "/purchase-orders", Some(po_body(json!([{"sku": "SKU-1", "quantity": 10}]), None))).await;
    let id = placed["purchase_order_id"].as_str().expect("an id").to_owned();
    let receipts = format!("/purchase-orders/{id}/receipts");

    let (status, view) = call(&router, A, Method::GET, "/inventory/SKU-1", None).await;
    assert_eq!(status, StatusCode::OK, "incoming units alone make the SKU known: {view}");
    assert_eq!(
        (
            view["warehouses"][0]["incoming"].as_u64(),
            view["warehouses"][0]["expected_at"].as_str(),
            view["warehouses"][0]["on_hand"].as_u64()
        ),
        (Some(10), Some(expected_at().as_str()), Some(0))
    );
    let (status, _) = call(&router, B, Method::GET, "/inventory/SKU-1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "B sees none of A's incoming units");

    let receipt = |rid: &str, q: i64| json!({"receipt_id": rid, "lines": [{"sku": "SKU-1", "quantity": q}]}).to_string();
    let (status, po) = call(&router, A, Method::POST, &receipts, Some(receipt("r-1", 4))).await;
    assert_eq!(
        (status, po["status"].as_str(), po["lines"][0]["received"].as_u64()),
        (StatusCode::CREATED, Some("partially_received"), Some(4)),
        "{po}"
    );
    let (status, po) = call(&router, A, Method::POST, &receipts, Some(receipt("r-1", 4))).await;
    assert_eq!((status, po["duplicate"].as_bool(), po["lines"][0]["received"].as_u64()), (StatusCode::OK, Some(true), Some(4)));
    let (status, answer) = call(&router, A, Method::POST, &receipts, Some(receipt("r-2", 7))).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("over_receipt")), "{answer}");
    let (status, answer) = call(&router, A, Method::POST, &receipts, Some(receipt("r-2", 0))).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, answer) = call(&router, B, Method::POST, &receipts, Some(receipt("r-3", 1))).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("purchase_order_not_found")));
    let (status, answer) = call(&router, A_READER, Method::POST, &receipts, Some(receipt("r-3", 1))).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")));

    let (_, view) = call(&router, A, Method::GET, "/inventory/SKU-1", None).await;
    let wh = &view["warehouses"][0];
    assert_eq!(
        (wh["on_hand"].as_u64(), wh["available"].as_u64(), wh["incoming"].as_u64()),
        (Some(4), Some(4), Some(6)),
        "{view}"
    );
    let (status, po) = call(&router, A, Method::POST, &receipts, Some(receipt("r-4", 6))).await;
    assert_eq!((status, po["status"].as_str()), (StatusCode::CREATED, Some("received")));
    let (_, view) = call(&router, A, Method::GET, "/inventory/SKU-1", None).await;
    let wh = &view["warehouses"][0];
    assert_eq!((wh["on_hand"].as_u64(), wh["incoming"].as_u64(), &wh["expected_at"]), (Some(10), Some(0), &Value::Null));
}

#[tokio::test]
async fn replenishment_suggests_what_to_order_from_a_hand_set_point_and_refuses_bad_input_and_other_merchants() {
    for router in [routes::all(state()), routes::inventory_api(state())] {
        stocked(&router).await;
        let (status, _) = call(&router, A, Method::PUT, "/inventory/WH-A/SKU-1", Some(json!({"on_hand": 3}).to_string())).await;
        assert_eq!(status, StatusCode::OK);
        let facts = json!({"merchant_id": "m-a", "name": "Tea", "category": "tea", "cost": "1", "list_price": "2",
                           "weight_g": 100, "dims_mm": [1, 1, 1], "reorder_point": 5});
        let (status, body) = call(&router, A, Method::PUT, "/skus/SKU-1", Some(facts.to_string())).await;
        assert_eq!((status, &body["reorder_point"]), (StatusCode::OK, &json!(5)), "{body}");

        let (status, body) = call(&router, A_READER, Method::GET, "/replenishment?low_only=true", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let suggestions = body["suggestions"].as_array().expect("a list");
        assert_eq!(suggestions.len(), 1, "{body}");
        let s = &suggestions[0];
        assert_eq!(
            (&s["sku"], &s["warehouse"], &s["basis"], &s["low"]),
            (&json!("SKU-1"), &json!("WH-A"), &json!("manual"), &json!(true))
        );
        // Up to twice the point (10 - 3 = 7), in the supplier's packs of 10.
        assert_eq!((&s["order_quantity"], &s["supplier"]["supplier_id"]), (&json!(10), &json!("sup-a")));

        for (query, field) in [("low_only=maybe", "low_only"), ("sku=a%01b", "sku"), ("warehouse=a%01b", "warehouse")] {
            let (status, body) = call(&router, A, Method::GET, &format!("/replenishment?{query}"), None).await;
            assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{query}: {body}");
            assert!(body["error"]["field"].as_str().is_some_and(|f| f.starts_with(field)), "{query}: {body}");
        }
        let (status, body) = call(&router, B, Method::GET, "/replenishment?merchant_id=m-a", None).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
        let (status, body) = call(&router, B, Method::GET, "/replenishment", None).await;
        assert_eq!((status, body["suggestions"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "B sees none of A's");
        let bad = json!({"merchant_id": "m-a", "name": "Tea", "category": "tea", "cost": "1", "list_price": "2",
                         "weight_g": 100, "dims_mm": [1, 1, 1], "reorder_quantity": 5});
        let (status, body) = call(&router, A, Method::PUT, "/skus/SKU-1", Some(bad.to_string())).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reorder_quantity")));
    }
}

#[tokio::test]
async fn an_expected_at_out_of_range_and_names_with_hidden_characters_are_refused_naming_the_field_and_store_nothing() {
    let router = routes::inventory_api(state());
    stocked(&router).await;
    let line = json!([{"sku": "SKU-1", "quantity": 2}]);
    let when = |at: String| po_body(line.clone(), None).replace(&expected_at(), &at);
    let now = chrono::Utc::now();
    let secs = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (body, field) in [
        (when("1900-01-01T00:00:00Z".to_owned()), "expected_at"),
        (when("9999-12-31T00:00:00Z".to_owned()), "expected_at"),
        (when(secs(now - chrono::Duration::days(2))), "expected_at"),
        (when(secs(now + chrono::Duration::days(800))), "expected_at"),
        (po_body(line.clone(), Some("PO\u{202E}1")), "reference"),
    ] {
        let (status, answer) = call(&router, A, Method::POST, "/purchase-orders", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!((code(&answer), answer["error"]["field"].as_str()), (Some("invalid_request"), Some(field)), "{body}");
    }
    let (_, page) = call(&router, A, Method::GET, "/purchase-orders", None).await;
    assert_eq!(page["purchase_orders"].as_array().map(Vec::len), Some(0), "nothing stored: {page}");
    // A day of clock skew, and two years ahead, are taken.
    for at in [now - chrono::Duration::hours(20), now + chrono::Duration::days(700)] {
        let (status, answer) = call(&router, A, Method::POST, "/purchase-orders", Some(when(secs(at)))).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    // A supplier's (and a warehouse's) name with a direction override or a control
    // character is refused, and the stored supplier is unchanged.
    for name in ["Acme\u{202E}emcA", "Acme\u{2066}", "Acme\nSupply", "\u{200F}Acme"] {
        let supplier = json!({"merchant_id": "m-a", "name": name, "lead_time_days": 1, "skus": [{"sku": "SKU-1"}]});
        for path in ["/suppliers/sup-a", "/suppliers/sup-new"] {
            let (status, answer) = call(&router, A, Method::PUT, path, Some(supplier.to_string())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}: {answer}");
            assert_eq!((code(&answer), answer["error"]["field"].as_str()), (Some("invalid_request"), Some("name")));
        }
        let wh =
            json!({"name": name, "merchant_id": "m-a", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.2, "lon": 120.1});
        let (status, answer) = call(&router, A, Method::PUT, "/warehouses/WH-NEW", Some(wh.to_string())).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("name")), "{answer}");
    }
    let (_, supplier) = call(&router, A, Method::GET, "/suppliers/sup-a", None).await;
    assert_eq!((supplier["name"].as_str(), supplier["lead_time_days"].as_u64()), (Some("Acme"), Some(5)));
    let (status, _) = call(&router, A, Method::GET, "/suppliers/sup-new", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");
}
