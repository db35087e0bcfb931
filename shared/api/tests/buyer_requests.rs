//! Buyer requests through the router `oms serve` hosts, on the embedded store: a request
//! matched to two merchants' listings written differently ("ink stone 120mm" against
//! "Duan inkstone 12 cm"), ranked by landed price with the stock that cannot serve left out
//! and why, posted twice as one request, accepted once as a `marketplace` order; a request
//! matching nothing; one past its deadline (410); who may post; and bad input of every kind
//! refused with a clear JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use oms_api::routes::{self, Router};
use oms_domain::ports::Clock;
use support::{call, code, Movable, MERCHANT, OPERATOR, OTHER, STOREFRONT};

/// Platform staff: approve listings, enter requests for buyers, read orders.
const STAFF: &str = "platform-staff-token-001";
/// The platform's storefront: a platform token (naming no merchant) with `oms/storefront`.
const SHOP: &str = "platform-shop-token-0001";

async fn app() -> (Router, Arc<Movable>) {
    let clock = Arc::new(Movable::default());
    let (_, ports) = support::store(clock.clone() as Arc<dyn Clock>);
    let grants = json!([
        { "token": MERCHANT, "merchant_id": "m-1", "scopes": OPERATOR },
        { "token": STOREFRONT, "merchant_id": "m-1", "scopes": ["oms/storefront"] },
        { "token": OTHER, "merchant_id": "m-2", "scopes": OPERATOR },
        { "token": STAFF, "scopes": ["oms/platform", "oms/admin", "oms/orders.read"] },
        { "token": SHOP, "scopes": ["oms/platform", "oms/storefront"] },
    ]);
    (routes::all(support::state(&ports, &grants)), clock)
}

async fn ok(router: &Router, token: &str, method: &str, path: &str, body: &str) -> Value {
    let (status, answer) = call(router, Some(token), method, path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

/// A listed, stocked product of `merchant` (`token` its operator): `on_hand` units in a
/// warehouse at (`lat`, `lon`).
#[allow(clippy::too_many_arguments)]
async fn listed(router: &Router, token: &str, merchant: &str, sku: &str, name: &str, price: &str, on_hand: u32, at: (f64, f64)) {
    let facts = json!({"merchant_id": merchant, "name": name, "category": "stationery", "cost": "40",
                       "list_price": "168", "weight_g": 900, "dims_mm": [120, 80, 30]});
    ok(router, token, "PUT", &format!("/skus/{sku}"), &facts.to_string()).await;
    let listing = json!({
        "name": name, "specification": "hand made", "model": format!("{sku}-X"),
        "images": [{"url": "https://img.example.com/ink.jpg", "bytes": 200000}],
        "attributes": {"grade": "A"},
        "wholesale_prices": [{"min_quantity": 1, "unit_price": price}]
    });
    ok(router, token, "PUT", &format!("/products/{sku}"), &listing.to_string()).await;
    ok(router, token, "POST", &format!("/products/{sku}/submit"), "").await;
    ok(router, STAFF, "POST", &format!("/products/{sku}/approve"), "").await;
    ok(router, token, "POST", &format!("/products/{sku}/list"), "").await;
    let warehouse = format!("WH-{sku}");
    let body = json!({"name": warehouse, "merchant_id": merchant, "province": "Zhejiang", "city": "Hangzhou",
                      "lat": at.0, "lon": at.1});
    ok(router, token, "PUT", &format!("/warehouses/{warehouse}"), &body.to_string()).await;
    ok(router, token, "PUT", &format!("/inventory/{warehouse}/{sku}"), &json!({"on_hand": on_hand}).to_string()).await;
}

const HANGZHOU: (f64, f64) = (30.27, 120.15);
const URUMQI: (f64, f64) = (43.83, 87.62);

/// Two merchants' ink stones that match, one too small a stock, and a bowl that does not.
async fn catalogue(router: &Router) {
    listed(router, MERCHANT, "m-1", "INK-NEAR", "Duan inkstone 12 cm", "100.00", 50, HANGZHOU).await;
    listed(router, OTHER, "m-2", "INK-FAR", "Duan ink stone 120mm", "99.00", 50, URUMQI).await;
    listed(router, OTHER, "m-2", "INK-FEW", "Ink stone 120 mm, Duan", "50.00", 3, HANGZHOU).await;
    listed(router, MERCHANT, "m-1", "BOWL-1", "Porcelain bowl", "20.00", 50, HANGZHOU).await;
}

fn request(id: &str, name: &str, quantity: Value) -> String {
    let deadline = (Utc::now() + Duration::days(7)).to_rfc3339();
    json!({"request_id": id, "customer_id": "buyer-1", "name": name, "specification": "", "quantity": quantity,
           "region": "浙江", "deadline": deadline,
           "shipping_address": {"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou", "province": "Zhejiang",
                                "postal_code": "310000", "country": "CN"}})
    .to_string()
}

fn amount(value: &Value) -> Decimal {
    value.as_str().expect("a decimal string").parse().expect("a decimal")
}

#[tokio::test]
async fn a_request_is_matched_ranked_by_landed_price_and_accepted_once_as_a_marketplace_order() {
    let (router, _) = app().await;
    catalogue(&router).await;

    let (status, posted) =
        call(&router, Some(SHOP), "POST", "/buyer-requests", &request("br-1", "ink stone 120mm", json!(10))).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!((posted["status"].as_str(), posted["region"].as_str()), (Some("proposed"), Some("Zhejiang")));
    let offers = posted["offers"].as_array().expect("offers");
    let skus: Vec<&str> = offers.iter().filter_map(|o| o["sku"].as_str()).collect();
    assert_eq!(skus, ["INK-NEAR", "INK-FAR"], "the nearer stock lands cheaper though its unit price is higher: {posted}");
    for offer in offers {
        assert_eq!(amount(&offer["goods"]), amount(&offer["unit_price"]) * Decimal::from(10));
        assert_eq!(amount(&offer["landed_price"]), amount(&offer["goods"]) + amount(&offer["shipping"]));
        assert!(offer["why"].as_str().is_some_and(|w| w.contains("matched")), "{offer}");
    }
    assert!(amount(&offers[0]["shipping"]) < amount(&offers[1]["shipping"]), "{posted}");
    let excluded: Vec<(&str, &str)> = posted["excluded"]
        .as_array()
        .expect("excluded")
        .iter()
        .filter_map(|e| Some((e["sku"].as_str()?, e["reason"].as_str()?)))
        .collect();
    assert_eq!(excluded, [("INK-FEW", "short_of_stock")], "the bowl never matched: {posted}");

    let (status, again) =
        call(&router, Some(SHOP), "POST", "/buyer-requests", &request("br-1", "porcelain bowl", json!(1))).await;
    assert_eq!((status, &again["repeated"], &again["offers"]), (StatusCode::OK, &json!(true), &posted["offers"]));

    let (status, accepted) = call(&router, Some(SHOP), "POST", "/buyer-requests/br-1/accept", "").await;
    assert_eq!((status, accepted["status"].as_str()), (StatusCode::OK, Some("accepted")), "{accepted}");
    let order_id = accepted["order_id"].as_str().expect("an order").to_owned();
    let (status, twice) = call(&router, Some(SHOP), "POST", "/buyer-requests/br-1/accept", "").await;
    assert_eq!((status, twice["order_id"].as_str(), &twice["repeated"]), (StatusCode::OK, Some(order_id.as_str()), &json!(true)));

    let order = ok(&router, STAFF, "GET", &format!("/orders/{order_id}"), "").await;
    assert_eq!(
        (order["channel"].as_str(), order["external_id"].as_str(), order["merchant_id"].as_str()),
        (Some("marketplace"), Some("br-1"), Some("m-1"))
    );
    assert_eq!((order["lines"][0]["sku"].as_str(), &order["lines"][0]["quantity"]), (Some("INK-NEAR"), &json!(10)));
    let read = ok(&router, STAFF, "GET", "/buyer-requests/br-1", "").await;
    assert_eq!((read["status"].as_str(), read["order_id"].as_str()), (Some("accepted"), Some(order_id.as_str())));
}

#[tokio::test]
async fn a_request_matching_nothing_is_no_match_and_cannot_be_accepted() {
    let (router, _) = app().await;
    catalogue(&router).await;
    let (status, posted) = call(&router, Some(STAFF), "POST", "/buyer-requests", &request("br-2", "silk scarf", json!(1))).await;
    assert_eq!(
        (status, posted["status"].as_str(), &posted["entered_by"]),
        (StatusCode::CREATED, Some("no_match"), &json!("platform"))
    );
    assert_eq!(posted["offers"], json!([]));
    let (status, refused) = call(&router, Some(SHOP), "POST", "/buyer-requests/br-2/accept", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, Some("buyer_request_state_conflict")));
}

#[tokio::test]
async fn a_proposal_past_its_deadline_is_gone_and_the_request_expired() {
    let (router, clock) = app().await;
    catalogue(&router).await;
    ok(&router, SHOP, "POST", "/buyer-requests", &request("br-3", "Duan inkstone", json!(2))).await;
    clock.set(Duration::days(8));
    let (status, refused) = call(&router, Some(SHOP), "POST", "/buyer-requests/br-3/accept", "").await;
    assert_eq!((status, code(&refused)), (StatusCode::GONE, Some("buyer_request_expired")));
    assert_eq!(ok(&router, SHOP, "GET", "/buyer-requests/br-3", "").await["status"], "expired");
    let (status, _) = call(&router, Some(SHOP), "POST", "/buyer-requests/br-3/accept", "").await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test]
async fn only_the_platforms_storefront_and_staff_work_on_buyer_requests() {
    let (router, _) = app().await;
    let body = request("br-4", "ink stone", json!(1));
    for (token, want) in
        [(Some(MERCHANT), StatusCode::FORBIDDEN), (Some(STOREFRONT), StatusCode::FORBIDDEN), (None, StatusCode::UNAUTHORIZED)]
    {
        let (status, answer) = call(&router, token, "POST", "/buyer-requests", &body).await;
        assert_eq!(status, want, "{token:?}: {answer}");
        let (status, _) = call(&router, token, "GET", "/buyer-requests/br-4", "").await;
        assert_eq!(status, want, "{token:?}");
    }
    let (status, _) = call(&router, Some(SHOP), "GET", "/buyer-requests/br-4", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored by the refused posts");
    let (status, posted) = call(&router, Some(SHOP), "POST", "/buyer-requests", &body).await;
    assert_eq!((status, &posted["entered_by"]), (StatusCode::CREATED, &json!("storefront")));
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field_and_nothing_is_stored() {
    let (router, _) = app().await;
    let valid: Value = serde_json::from_str(&request("br-bad", "ink stone", json!(1))).expect("json");
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body.to_string()
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().expect("an object").remove(field);
        body.to_string()
    };
    let cases = [
        ("{not json".to_owned(), ""),
        ("[1, 2]".to_owned(), ""),
        (String::new(), ""),
        (with("quantity", json!("ten")), "quantity"),
        (with("quantity", json!(0)), "quantity"),
        (with("quantity", json!(-5)), "quantity"),
        (with("quantity", json!(1_000_001)), "quantity"),
        (with("quantity", json!(1e30)), "quantity"),
        (with("quantity", json!(2.5)), "quantity"),
        (with("name", json!("")), "name"),
        (with("name", json!("x".repeat(201))), "name"),
        (with("name", json!(42)), "name"),
        (with("specification", json!("x".repeat(501))), "specification"),
        (with("region", json!("Atlantis")), "region"),
        (with("deadline", json!((Utc::now() - Duration::hours(1)).to_rfc3339())), "deadline"),
        (with("deadline", json!((Utc::now() + Duration::days(91)).to_rfc3339())), "deadline"),
        (with("deadline", json!("next tuesday")), "deadline"),
        (with("request_id", json!("  ")), "request_id"),
        (with("customer_id", json!(null)), "customer_id"),
        (with("shipping_address", json!("Hangzhou")), "shipping_address"),
        (with("surprise", json!(1)), ""),
        (without("request_id"), ""),
        (without("region"), ""),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Some(SHOP), "POST", "/buyer-requests", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if !field.is_empty() {
            let named = answer["error"]["field"].as_str().unwrap_or_default();
            assert!(named.starts_with(field), "{body}: names {named}, not {field}");
        }
    }
    let (status, answer) = call(&router, Some(SHOP), "GET", "/buyer-requests/br-bad", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("buyer_request_not_found")), "nothing stored");
    let (status, answer) = call(&router, Some(SHOP), "POST", "/buyer-requests/no-such/accept", "").await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("buyer_request_not_found")));
    let (status, _) = call(&router, Some(SHOP), "GET", &format!("/buyer-requests/{}", "x".repeat(300)), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
