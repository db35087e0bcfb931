//! The buyer's delivery confirmation and reviews through the router `oms serve` hosts, on
//! the embedded store: confirmation of a shipped order, reviews once delivered, the SKU's
//! rating in both views, who may act (another customer's or merchant's order is not
//! found), and bad input refused with a clear JSON error and nothing stored.

mod support;

use axum::http::StatusCode;
use serde_json::{json, Value};

use oms_conformance::fixtures;
use oms_domain::order::{Channel, OrderStatus};
use oms_domain::ports::{InsertOutcome, Ports};
use support::{app, call, code, MERCHANT, OTHER_SHOP, STOREFRONT};

/// An order of customer `c-1` (SKU-1 x2) stored in `status`; its id.
async fn stored(ports: &Ports, external_id: &str, status: OrderStatus) -> String {
    let mut order = fixtures::order(Channel::Generic, external_id);
    order.status = status;
    assert_eq!(ports.orders.insert_order(&order).await.expect("stored"), InsertOutcome::Inserted);
    order.order_id.to_string()
}

fn review(rating: Value, text: &str) -> String {
    json!({ "customer_id": "c-1", "sku": "SKU-1", "rating": rating, "text": text }).to_string()
}

#[tokio::test]
async fn a_buyer_confirms_delivery_then_reviews_once_and_the_rating_counts_it() {
    let (router, ports) = app().await;
    let id = stored(&ports, "R-1", OrderStatus::InTransit).await;
    let reviews = format!("/orders/{id}/reviews");

    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &reviews, &review(json!(5), "Lovely")).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_delivered")));

    let confirm = format!("/orders/{id}/delivery-confirmation");
    let buyer = json!({ "customer_id": "c-1" }).to_string();
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &confirm, &buyer).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("delivered")), "{answer}");
    let entries = answer["timeline"].as_array().map(Vec::len);
    let (status, again) = call(&router, Some(STOREFRONT), "POST", &confirm, &buyer).await;
    assert_eq!((status, again["timeline"].as_array().map(Vec::len)), (StatusCode::OK, entries), "again changes nothing");

    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &reviews, &review(json!(4), "  Fresh  ")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!((answer["rating"].as_u64(), answer["text"].as_str()), (Some(4), Some("Fresh")));
    assert!(answer.get("customer_id").is_none(), "the storefront's answer names nobody");
    let (status, _) = call(&router, Some(STOREFRONT), "POST", &reviews, &review(json!(4), "Fresh")).await;
    assert_eq!(status, StatusCode::OK, "the same review again is a retry");
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &reviews, &review(json!(1), "Changed my mind")).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, Some("already_reviewed")));

    let (status, shop_view) = call(&router, Some(STOREFRONT), "GET", "/skus/SKU-1/reviews", "").await;
    assert_eq!(status, StatusCode::OK, "{shop_view}");
    assert_eq!(shop_view["rating"], json!({ "count": 1, "average": 4.0, "poor": false }));
    assert_eq!(shop_view["reviews"][0]["text"], "Fresh");
    assert!(shop_view["reviews"][0].get("order_id").is_none());
    let (_, staff_view) = call(&router, Some(MERCHANT), "GET", "/skus/SKU-1/reviews?limit=5", "").await;
    assert_eq!(
        (staff_view["reviews"][0]["order_id"].as_str(), staff_view["reviews"][0]["customer_id"].as_str()),
        (Some(id.as_str()), Some("c-1"))
    );
    let (_, none) = call(&router, Some(STOREFRONT), "GET", "/skus/SKU-9/reviews", "").await;
    assert_eq!(none["rating"], json!({ "count": 0, "poor": false }));
}

#[tokio::test]
async fn only_a_shipped_order_is_confirmed_and_only_a_bought_sku_reviewed() {
    let (router, ports) = app().await;
    let buyer = json!({ "customer_id": "c-1" }).to_string();
    for (n, status) in [OrderStatus::Received, OrderStatus::Reserved, OrderStatus::PartiallyShipped, OrderStatus::Cancelled]
        .into_iter()
        .enumerate()
    {
        let id = stored(&ports, &format!("N-{n}"), status).await;
        let (answer_status, answer) =
            call(&router, Some(STOREFRONT), "POST", &format!("/orders/{id}/delivery-confirmation"), &buyer).await;
        assert_eq!((answer_status, code(&answer)), (StatusCode::CONFLICT, Some("not_shipped")), "{status}");
    }
    let id = stored(&ports, "D-1", OrderStatus::Delivered).await;
    let other_sku = json!({ "customer_id": "c-1", "sku": "SKU-9", "rating": 3 }).to_string();
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &format!("/orders/{id}/reviews"), &other_sku).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_bought")));
}

#[tokio::test]
async fn another_customers_or_merchants_order_is_not_found_and_bad_input_is_named() {
    let (router, ports) = app().await;
    let id = stored(&ports, "D-1", OrderStatus::Delivered).await;
    let path = format!("/orders/{id}/reviews");
    let stranger = json!({ "customer_id": "c-2", "sku": "SKU-1", "rating": 5 }).to_string();
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &path, &stranger).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")));
    let (status, answer) = call(&router, Some(OTHER_SHOP), "POST", &path, &review(json!(5), "")).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")));
    let (status, answer) = call(&router, Some(MERCHANT), "POST", &path, &review(json!(5), "")).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")), "staff do not review for buyers");
    let (status, _) = call(&router, None, "POST", &path, &review(json!(5), "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unknown = "/orders/ord_01JZZZZZZZZZZZZZZZZZZZZZZZ/reviews";
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", unknown, &review(json!(5), "")).await;
    assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("order_not_found")));

    let long = "x".repeat(2_001);
    let cases: [(String, &str); 8] = [
        ("{not json".to_owned(), ""),
        (review(json!(0), ""), "rating"),
        (review(json!(6), ""), "rating"),
        (review(json!(-1), ""), "rating"),
        (review(json!("five"), ""), "rating"),
        (review(json!(4), &long), "text"),
        (json!({ "customer_id": "c-1", "sku": "SKU-1", "rating": 4, "stars": 4 }).to_string(), ""),
        (json!({ "customer_id": "c-1", "rating": 4 }).to_string(), ""),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&router, Some(STOREFRONT), "POST", &path, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body:.60}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    for limit in ["0", "101", "x"] {
        let (status, _) = call(&router, Some(STOREFRONT), "GET", &format!("/skus/SKU-1/reviews?limit={limit}"), "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit {limit}");
    }
    let (_, view) = call(&router, Some(MERCHANT), "GET", "/skus/SKU-1/reviews", "").await;
    assert_eq!(view["rating"]["count"], 0, "nothing stored: {view}");
}
