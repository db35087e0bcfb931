//! Pricing end to end through `oms serve`: the orders it reserves feed the sales history,
//! `oms retrain` with no CSV trains each merchant from it, and the quotes and offers of a
//! merchant come from its own model.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use oms_local::retrain::{self, RetrainRequest};
use oms_tests::{generic_order, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_orders_train_their_merchants_model_which_answers_its_quotes_and_offers() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 500).await;
    app.stock("wh-hz", "Zhejiang", "SKU-2", 500).await;
    for index in 0..30i64 {
        let mut order = generic_order(&format!("P-{index}"), "SKU-1", 1);
        order["placed_at"] = json!(format!("2026-11-{:02}T{:02}:00:00Z", 1 + index / 24, index % 24));
        order["customer"]["id"] = json!(format!("c-{}", index % 6));
        order["lines"] = json!([{"sku": "SKU-1", "quantity": 1, "unit_price": format!("{}.00", 20 + index % 3)},
                                {"sku": "SKU-2", "quantity": 1, "unit_price": "30.00"}]);
        assert_eq!(app.post_order(&order).await.status, StatusCode::ACCEPTED);
    }
    let mut solo = generic_order("P-solo", "SKU-1", 1);
    solo["customer"]["id"] = json!("solo");
    assert_eq!(app.post_order(&solo).await.status, StatusCode::ACCEPTED);
    // m-2 has no stock: its order waits on hold and is never sold.
    let mut other = generic_order("Q-1", "SKU-1", 1);
    other["merchant_id"] = json!("m-2");
    assert_eq!(app.post_order(&other).await.status, StatusCode::ACCEPTED);
    app.settle().await;

    let trained = retrain::run(&RetrainRequest::from_store(dir.path())).await.expect("the retrain");
    let merchants: Vec<&str> = trained.iter().map(|artifact| artifact.merchant_id.as_str()).collect();
    assert_eq!(merchants, ["m-1"], "only reserved orders are history");
    assert_eq!(trained[0].report.train_rows, 61, "30 orders of two lines and one of one");

    let quote = json!({"customer_id": "c-1", "sku": "SKU-1", "quantity": 1, "province": "Zhejiang", "city": "Hangzhou",
                       "merchant_id": "m-1"});
    let started = Instant::now();
    let answer = loop {
        let answer = app.post("/quotes", quote.clone()).await;
        if answer.status == StatusCode::OK {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer.body["model_version"].as_str(), Some(trained[0].version.as_str()));
    let price: f64 = answer.body["price"].as_str().and_then(|p| p.parse().ok()).expect("a price");
    assert!((19.0..=23.0).contains(&price), "within what m-1's history paid: {price}");
    let mut theirs = quote.clone();
    theirs["merchant_id"] = json!("m-2");
    assert_eq!(app.post("/quotes", theirs).await.status, StatusCode::SERVICE_UNAVAILABLE, "m-2 has no model");

    let offers = app.get("/customers/solo/offers?limit=3&merchant_id=m-1").await;
    assert_eq!(offers.status, StatusCode::OK, "{:?}", offers.body);
    let list = offers.body["offers"].as_array().expect("offers");
    let bought_with = list.iter().find(|offer| offer["sku"] == "SKU-2").expect("what SKU-1's buyers also buy");
    assert!(bought_with["reason"].as_str().is_some_and(|r| r.contains("SKU-1")), "{:?}", offers.body);
    assert_eq!(bought_with["price"], "30", "priced by m-1's model within its history's rails");
}
