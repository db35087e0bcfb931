//! A flash sale through `oms serve` over real HTTP: created, claimed to sold out, and the
//! claims' orders carried by the queue workers to reserved from the units set aside.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use oms_tests::spawn_app;

#[tokio::test]
async fn a_flash_sale_through_oms_serve_is_claimed_to_sold_out_and_its_orders_are_reserved() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let now = Utc::now();
    let sale = app
        .post(
            "/flash-sales",
            json!({"merchant_id": "m-1", "sku": "SKU-1", "units": 2, "per_customer_limit": 1, "shards": 2,
                   "starts_at": now - Duration::minutes(1), "ends_at": now + Duration::hours(1)}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{:?}", sale.body);
    let claims = format!("/flash-sales/{}/claims", sale.body["sale_id"].as_str().expect("a sale id"));
    let address = json!({"line1": "1 West Lake Rd", "city": "Hangzhou", "country": "CN"});
    let claim = |customer: &str| json!({"customer_id": customer, "quantity": 1, "idempotency_key": customer, "shipping_address": address});
    let mut orders = Vec::new();
    for customer in ["c-1", "c-2"] {
        let answer = app.post(&claims, claim(customer)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        orders.push(answer.body["order_id"].as_str().expect("an order id").to_owned());
    }
    let sold_out = app.post(&claims, claim("c-3")).await;
    assert_eq!((sold_out.status, &sold_out.body["error"]["code"]), (StatusCode::CONFLICT, &json!("sold_out")));
    app.settle().await;
    for order_id in &orders {
        let order = app.order(order_id).await;
        assert_eq!((&order["status"], &order["channel"]), (&json!("reserved"), &json!("flash_sale")));
    }
    let stock = app.get("/inventory/SKU-1").await;
    assert_eq!(stock.body["warehouses"][0]["reserved"], 2, "the orders hold the two units the sale set aside: {:?}", stock.body);
}
