//! `PUT|GET /skus/{sku}` and `PUT|GET /carriers/{id}/rates` through the routers that host
//! them (`oms serve`'s and the `inventory` function's): good input is stored and read
//! back; bad input is a JSON error naming the field, and nothing is stored.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_api::{AppState, ChannelSecrets, PricingModel, UnsignedPolicy};
use oms_domain::ports::SystemClock;
use oms_embedded::Embedded;

fn state() -> AppState {
    let store = Embedded::open_in_memory().expect("an in-memory store");
    AppState {
        ports: store.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: oms_api::Authenticator::Open,
        pricing: PricingModel::new(None),
        archive: None,
        reports: None,
        admission: Default::default(),
        documents: None,
    }
}

async fn call(router: &Router, method: Method, uri: &str, body: Option<String>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn tea() -> Value {
    json!({"merchant_id": "m-1", "name": "Green tea", "category": "tea", "cost": "12.50", "list_price": "39.90",
           "weight_g": 300, "dims_mm": [120, 80, 60], "traits": ["fragile"]})
}

fn rates() -> Value {
    json!({"currency": "CNY", "bands": [
        {"service": "standard", "max_distance_km": 300, "max_weight_g": 1000, "price": "8.00", "transit_days": 1},
        {"service": "standard", "max_distance_km": 3000, "max_weight_g": 1000, "price": "15.00", "transit_days": 3}
    ]})
}

/// The error's code and field.
fn error(body: &Value) -> (&str, Option<&str>) {
    (body["error"]["code"].as_str().unwrap_or("?"), body["error"]["field"].as_str())
}

#[tokio::test]
async fn a_sku_put_is_read_back_by_both_routers() {
    for router in [routes::all(state()), routes::inventory_api(state())] {
        let (status, put) = call(&router, Method::PUT, "/skus/TEA-1", Some(tea().to_string())).await;
        assert_eq!(status, StatusCode::OK, "{put}");
        assert_eq!(
            (put["sku"].as_str(), put["weight_g"].as_u64(), put["cost"].as_str()),
            (Some("TEA-1"), Some(300), Some("12.5"))
        );
        let (status, got) = call(&router, Method::GET, "/skus/TEA-1", None).await;
        assert_eq!((status, got), (StatusCode::OK, put));
    }
}

#[tokio::test]
async fn bad_sku_facts_are_refused_naming_the_field_and_nothing_is_stored() {
    let router = routes::all(state());
    let with = |field: &str, value: Value| {
        let mut body = tea();
        body[field] = value;
        body.to_string()
    };
    let cases = [
        ("{\"merchant_id\": ".to_owned(), None),
        (with("weight_g", json!("300")), Some("weight_g")),
        (with("weight_g", json!(-1)), Some("weight_g")),
        (with("cost", json!("-0.01")), Some("cost")),
        (with("list_price", json!("abc")), Some("list_price")),
        (with("dims_mm", json!([1, 2])), Some("dims_mm")),
        (with("traits", json!(["Not A Word"])), Some("traits[0]")),
        ("[1, 2]".to_owned(), None),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Method::PUT, "/skus/TEA-1", Some(body.clone())).await;
        assert_eq!((status, error(&answer)), (StatusCode::BAD_REQUEST, ("invalid_request", field)), "{body}: {answer}");
    }
    let (status, answer) = call(&router, Method::GET, "/skus/TEA-1", None).await;
    assert_eq!((status, error(&answer).0), (StatusCode::NOT_FOUND, "sku_not_found"), "nothing was stored");
}

#[tokio::test]
async fn a_rate_table_put_is_read_back_by_both_routers() {
    for router in [routes::all(state()), routes::inventory_api(state())] {
        let (status, put) = call(&router, Method::PUT, "/carriers/sf/rates", Some(rates().to_string())).await;
        assert_eq!(status, StatusCode::OK, "{put}");
        assert_eq!((put["carrier"].as_str(), put["bands"].as_array().map(Vec::len)), (Some("sf"), Some(2)));
        let (status, got) = call(&router, Method::GET, "/carriers/sf/rates", None).await;
        assert_eq!((status, got), (StatusCode::OK, put));
    }
}

#[tokio::test]
async fn bad_rate_tables_are_refused_naming_the_band_and_field_and_nothing_is_stored() {
    let router = routes::all(state());
    let with_band = |field: &str, value: Value| {
        let mut body = rates();
        body["bands"][1][field] = value;
        body.to_string()
    };
    let cases = [
        ("not json".to_owned(), None),
        (json!({"bands": []}).to_string(), Some("bands")),
        (json!({"currency": "XXX1", "bands": rates()["bands"]}).to_string(), Some("currency")),
        (with_band("price", json!("-8")), Some("bands[1].price")),
        (with_band("price", json!(8)), Some("bands[1].price")),
        (with_band("max_weight_g", json!(-1)), Some("bands[1].max_weight_g")),
        (with_band("max_distance_km", json!(0)), Some("bands[1].max_distance_km")),
        (with_band("transit_days", json!(1.5)), Some("bands[1].transit_days")),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Method::PUT, "/carriers/sf/rates", Some(body.clone())).await;
        assert_eq!((status, error(&answer)), (StatusCode::BAD_REQUEST, ("invalid_request", field)), "{body}: {answer}");
    }
    let (status, answer) = call(&router, Method::GET, "/carriers/sf/rates", None).await;
    assert_eq!((status, error(&answer).0), (StatusCode::NOT_FOUND, "carrier_not_found"), "nothing was stored");
}

#[tokio::test]
async fn a_bands_handled_traits_and_longest_side_are_checked_and_read_back() {
    let router = routes::all(state());
    let with_band = |field: &str, value: Value| {
        let mut body = rates();
        body["bands"][1][field] = value;
        body.to_string()
    };
    let cases = [
        (with_band("handles", json!(["fragile", "gift"])), Some("bands[1].handles")),
        (with_band("handles", json!("fragile")), Some("bands[1].handles")),
        (with_band("handles", json!(vec!["fragile"; 9])), Some("bands[1].handles")),
        (with_band("handles", json!([1])), Some("bands[1].handles[0]")),
        (with_band("max_side_mm", json!(0)), Some("bands[1].max_side_mm")),
        (with_band("max_side_mm", json!(20_001)), Some("bands[1].max_side_mm")),
        (with_band("max_side_mm", json!("600")), Some("bands[1].max_side_mm")),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Method::PUT, "/carriers/sf/rates", Some(body.clone())).await;
        assert_eq!((status, error(&answer)), (StatusCode::BAD_REQUEST, ("invalid_request", field)), "{body}: {answer}");
    }
    let (status, answer) = call(&router, Method::GET, "/carriers/sf/rates", None).await;
    assert_eq!((status, error(&answer).0), (StatusCode::NOT_FOUND, "carrier_not_found"), "nothing was stored");

    let mut body = rates();
    body["bands"][1]["handles"] = json!(["cold_chain", "fragile", "fragile"]);
    body["bands"][1]["max_side_mm"] = json!(600);
    let (status, put) = call(&router, Method::PUT, "/carriers/sf/rates", Some(body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!((&put["bands"][1]["handles"], &put["bands"][1]["max_side_mm"]), (&json!(["fragile", "cold_chain"]), &json!(600)));
    assert_eq!((&put["bands"][0]["handles"], &put["bands"][0]["max_side_mm"]), (&json!([]), &Value::Null), "by default none");
    let (status, got) = call(&router, Method::GET, "/carriers/sf/rates", None).await;
    assert_eq!((status, got), (StatusCode::OK, put));
}
