//! The auction routes through the router `oms serve` hosts, on the embedded store: the life
//! cycle (list, bid, anti-sniping, close by the sweep, the winner's order), who sees what
//! (the reserve never to bidders, another merchant's auction not at all), and bad input
//! refused with a clear JSON error and nothing stored.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use tower::ServiceExt;

use oms_api::routes::{self, Router};
use oms_domain::auction::AuctionId;
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
    assert!(ports.inventory.set_on_hand(&warehouse, &m1, &sku, 5).await.is_ok());
    let router = routes::all(support::state(&ports, &merchants_tokens()));
    (router, ports)
}

/// An auction from 100 by 10, reserve 150, for an hour; bids in the last 5 minutes extend
/// it by 5, at most 15.
fn auction_body() -> Value {
    json!({
        "merchant_id": "m-1", "sku": "SKU-1", "start_price": "100", "increment": "10", "reserve_price": "150",
        "ends_at": Utc::now() + Duration::hours(1),
        "anti_sniping": {"window_minutes": 5, "extension_minutes": 5, "max_extension_minutes": 15}
    })
}

fn bid_body(customer: &str, key: &str, amount: &str) -> String {
    let address = json!({"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"});
    json!({"customer_id": customer, "amount": amount, "idempotency_key": key, "shipping_address": address}).to_string()
}

async fn create(router: &Router) -> String {
    let (status, answer) = call(router, Some(MERCHANT), "POST", "/auctions", &auction_body().to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!((&answer["reserve_price"], &answer["state"], &answer["bids"]), (&json!("150"), &json!("open"), &json!(0)));
    answer["auction_id"].as_str().expect("an auction id").to_owned()
}

#[tokio::test]
async fn an_auction_takes_rising_bids_extends_its_end_and_closes_with_the_winners_order() {
    let clock = Arc::new(Movable::default());
    let (router, ports) = app(clock.clone()).await;
    let id = create(&router).await;
    let bids = format!("/auctions/{id}/bids");

    let (status, first) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-1", "k-1", "100")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((&first["seq"], &first["best_bid"], &first["repeated"]), (&json!(1), &json!("100"), &json!(false)));
    // An equal bid, or one short of the increment: too low, nothing stored.
    for amount in ["100", "109.99"] {
        let (status, low) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-2", "k-2", amount)).await;
        assert_eq!((status, code(&low)), (StatusCode::CONFLICT, Some("bid_too_low")), "{low}");
    }
    // The same key again answers the first bid.
    let (status, again) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-1", "k-1", "500")).await;
    assert_eq!((status, &again["bid_id"], &again["repeated"]), (StatusCode::CREATED, &first["bid_id"], &json!(true)));

    // Two minutes before the end, a bid moves the end to three minutes after it.
    clock.set(Duration::minutes(58));
    let (status, late) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-2", "k-3", "160")).await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    let (_, shown) = call(&router, Some(STOREFRONT), "GET", &format!("/auctions/{id}"), "").await;
    assert_eq!((&shown["best_bid"], &shown["bids"], &shown["reserve_met"]), (&json!("160"), &json!(2), &json!(true)));
    assert!(shown.get("reserve_price").is_none() && shown.get("best_bidder").is_none(), "bidders never see: {shown}");
    assert_ne!(shown["ends_at"], shown["listed_ends_at"], "the end moved: {shown}");

    // Past the listed end, the auction still takes bids and the sweep leaves it open.
    clock.set(Duration::minutes(61));
    let report = sweep(&ports, &SweepLimits::default()).await.expect("sweep");
    assert!(report.auctions_closed.is_empty());
    let (status, _) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-1", "k-4", "170")).await;
    assert_eq!(status, StatusCode::CREATED);

    // After the moved end: no bids; the sweep closes it once, with c-1's order.
    clock.set(Duration::minutes(80));
    let (status, gone) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-2", "k-5", "500")).await;
    assert_eq!((status, code(&gone)), (StatusCode::GONE, Some("not_active")));
    let report = sweep(&ports, &SweepLimits::default()).await.expect("sweep");
    assert_eq!(report.auctions_closed.len(), 1);
    let (_, ended) = call(&router, Some(MERCHANT), "GET", &format!("/auctions/{id}"), "").await;
    assert_eq!((&ended["state"], &ended["outcome"], &ended["best_bidder"]), (&json!("ended"), &json!("won"), &json!("c-1")));
    let order_id = OrderId::parse(ended["order_id"].as_str().expect("the winner's order")).expect("an order id");
    let order = ports.orders.get_order(&order_id).await.expect("read").expect("the order");
    assert_eq!((order.channel, order.external_id.as_str(), order.paid), (Channel::Auction, id.as_str(), false));
    assert_eq!((order.customer.id.as_str(), order.lines[0].unit_price.to_string()), ("c-1", "170".to_owned()));
    assert_eq!(order.status, OrderStatus::Received);
    assert!(sweep(&ports, &SweepLimits::default()).await.expect("sweep").auctions_closed.is_empty(), "once");

    // The merchant lists the bids, a page at a time, in the order they landed.
    let (status, page) = call(&router, Some(MERCHANT), "GET", &format!("/auctions/{id}/bids?limit=2"), "").await;
    assert_eq!((status, page["bids"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)));
    let next = page["next"].as_str().expect("a next page");
    let (_, rest) = call(&router, Some(MERCHANT), "GET", &format!("/auctions/{id}/bids?limit=2&cursor={next}"), "").await;
    let amounts: Vec<&Value> =
        page["bids"].as_array().into_iter().chain(rest["bids"].as_array()).flatten().map(|b| &b["amount"]).collect();
    assert_eq!(amounts, [&json!("100"), &json!("160"), &json!("170")]);
    assert_eq!(rest["next"], Value::Null);
}

#[tokio::test]
async fn another_merchants_auction_is_not_found_and_each_route_needs_its_scope() {
    let (router, _) = app(Arc::new(Movable::default())).await;
    let id = create(&router).await;
    let path = format!("/auctions/{id}");
    let bids = format!("/auctions/{id}/bids");
    for (token, method, path, body) in [
        (OTHER, "GET", path.as_str(), String::new()),
        (OTHER, "GET", bids.as_str(), String::new()),
        (OTHER_SHOP, "POST", bids.as_str(), bid_body("c-1", "k-1", "100")),
    ] {
        let (status, answer) = call(&router, Some(token), method, path, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("auction_not_found")), "{method} {path}");
    }
    // A storefront may not list bids nor an auction; an operator may not bid.
    let (status, _) = call(&router, Some(STOREFRONT), "GET", &bids, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&router, Some(STOREFRONT), "POST", "/auctions", &auction_body().to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&router, Some(MERCHANT), "POST", &bids, &bid_body("c-1", "k-1", "100")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&router, None, "GET", &path, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A merchant listing for another merchant.
    let mut theirs = auction_body();
    theirs["merchant_id"] = json!("m-2");
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/auctions", &theirs.to_string()).await;
    assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (_, shown) = call(&router, Some(MERCHANT), "GET", &path, "").await;
    assert_eq!(shown["bids"], json!(0), "nothing was stored");
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_stored() {
    let (router, ports) = app(Arc::new(Movable::default())).await;
    let id = create(&router).await;
    let with = |field: &str, value: Value| {
        let mut body = auction_body();
        body[field] = value;
        body.to_string()
    };
    for (body, field) in [
        ("{".to_owned(), None),
        (with("start_price", json!(100)), None),
        (with("start_price", json!("-1")), Some("start_price")),
        (with("increment", json!("0")), Some("increment")),
        (with("increment", json!("1e3")), Some("increment")),
        (with("reserve_price", json!("99")), Some("reserve_price")),
        (with("ends_at", json!(Utc::now() - Duration::hours(1))), Some("ends_at")),
        (with("ends_at", json!(Utc::now() + Duration::days(40))), Some("ends_at")),
        (
            with("anti_sniping", json!({"window_minutes": 0, "extension_minutes": 5, "max_extension_minutes": 5})),
            Some("anti_sniping.window_minutes"),
        ),
        (with("currency", json!("XYZ")), Some("currency")),
        (with("surprise", json!(1)), None),
    ] {
        let (status, answer) = call(&router, Some(MERCHANT), "POST", "/auctions", &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], json!(field), "{body}: {answer}");
        }
    }
    // A SKU no warehouse has counted for the merchant: its winner's order could never ship.
    let (status, answer) = call(&router, Some(MERCHANT), "POST", "/auctions", &with("sku", json!("SKU-NEVER"))).await;
    assert_eq!(
        (status, code(&answer), answer["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_sku"), Some("sku"))
    );
    let bids = format!("/auctions/{id}/bids");
    for body in [
        "[]".to_owned(),
        json!({"customer_id": "c-1", "amount": 100, "idempotency_key": "k"}).to_string(),
        bid_body("c-1", "k-1", "-5"),
        bid_body("c-1", "k-1", "99999999999999"),
        bid_body("c-1", "k-1", "1.0000001"),
        bid_body("c-1", " k", "100"),
    ] {
        let (status, answer) = call(&router, Some(STOREFRONT), "POST", &bids, &body).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {answer}");
    }
    let (status, big) = call(&router, Some(STOREFRONT), "POST", &bids, &"x".repeat(2 * 1024 * 1024)).await;
    assert_eq!((status, code(&big)), (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large")));
    for path in ["/auctions/nope", "/auctions/fs_01ARZ3NDEKTSV4RRFFQ69G5FAV", &format!("/auctions/{}", AuctionId::generate())] {
        let (status, answer) = call(&router, Some(MERCHANT), "GET", path, "").await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, Some("auction_not_found")), "{path}");
    }
    for query in ["limit=0", "limit=101", "limit=x", "cursor=abc"] {
        let (status, answer) = call(&router, Some(MERCHANT), "GET", &format!("{bids}?{query}"), "").await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{query}");
    }
    // The key as the Idempotency-Key header; the same key in both is one key, two keys are refused.
    let header = |key: &str, body: &str| {
        Request::builder()
            .method("POST")
            .uri(&bids)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {STOREFRONT}"))
            .header("idempotency-key", key)
            .body(Body::from(body.to_owned()))
            .expect("a request")
    };
    let keyless = json!({"customer_id": "c-3", "amount": "100"}).to_string();
    let response = router.clone().oneshot(header("h-1", &keyless)).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CREATED);
    let again = router.clone().oneshot(header("h-1", &bid_body("c-3", "h-1", "100"))).await.expect("infallible");
    assert_eq!(again.status(), StatusCode::CREATED, "the same key in both: the first bid again");
    let two = router.clone().oneshot(header("h-2", &bid_body("c-3", "h-3", "500"))).await.expect("infallible");
    assert_eq!(two.status(), StatusCode::BAD_REQUEST);
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &bids, &keyless).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("idempotency_key")));
    // Another customer's key is refused.
    let (status, _) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-1", "k-1", "110")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = call(&router, Some(STOREFRONT), "POST", &bids, &bid_body("c-2", "k-1", "200")).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("idempotency_key")));
    let auction = ports.auctions.get_auction(&AuctionId::parse(&id).expect("an id")).await.expect("read").expect("stored");
    assert_eq!(auction.bids, 2, "only the two good bids were stored");
}
