//! Notices to systems outside the OMS through `oms serve`, against the local fakes of each:
//! a reserved order asks its warehouse to ship, a cancel tells it to stop, and each parcel
//! of a shop's order is written back to the shop; a destination that refuses raises an alert.

use reqwest::StatusCode;
use serde_json::json;

use oms_domain::order::Channel;
use oms_outbound::fakes::Fakes;
use oms_tests::{channel_fixture, generic_order, spawn_app_sending};

const SHOP: &str = "teahouse.myshopify.com";

#[tokio::test]
async fn a_reserved_shopify_order_asks_its_warehouse_to_ship_and_each_parcel_is_written_back_to_the_shop() {
    let fakes = Fakes::start(&["wh-1"]).await.unwrap();
    fakes.seed_shopify("5940139491234", &[(466157049, "TEE-RED-M", 2), (518995019, "MUG-BLK", 1)]);
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_sending(dir.path(), fakes.destinations(&[SHOP])).await;
    for sku in ["TEE-RED-M", "MUG-BLK"] {
        app.owned_stock("wh-1", "California", SHOP, sku, 50).await;
    }
    let shop = [("x-shopify-shop-domain", SHOP.to_owned())];
    let taken = app.post_channel(Channel::Shopify, &channel_fixture("shopify_order.json"), &shop).await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{:?}", taken.body);
    let id = taken.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&id).await["status"], "reserved");

    let asked = fakes.warehouse_requests();
    assert_eq!(asked.len(), 1, "one request for the one warehouse: {asked:?}");
    let request = &asked[0];
    assert_eq!((request.warehouse.as_str(), request.event.as_str()), ("wh-1", "fulfilment.requested"));
    assert_eq!((&request.body["order_id"], &request.body["order_number"]), (&json!(id), &json!("#1001")));
    assert_eq!(
        request.body["lines"],
        json!([{"sku": "MUG-BLK", "quantity": 1, "owner": SHOP}, {"sku": "TEE-RED-M", "quantity": 2, "owner": SHOP}])
    );
    assert_eq!((&request.body["recipient"], &request.body["ship_to"]["city"]), (&json!("Bob Norman"), &json!("Louisville")));

    let first = json!({"carrier": "ups", "tracking_number": "1Z100", "lines": [{"sku": "TEE-RED-M", "quantity": 2}]});
    assert_eq!(app.post(&format!("/orders/{id}/shipments"), first).await.status, StatusCode::CREATED);
    app.settle().await;
    let fulfilled = fakes.shopify_fulfillments("5940139491234");
    assert_eq!(fulfilled.len(), 1, "{fulfilled:?}");
    assert_eq!(
        (&fulfilled[0]["tracking_number"], &fulfilled[0]["line_items"]),
        (&json!("1Z100"), &json!([{"id": 466157049, "quantity": 2}]))
    );

    let rest = json!({"carrier": "ups", "tracking_number": "1Z101", "lines": [{"sku": "MUG-BLK", "quantity": 1}]});
    assert_eq!(app.post(&format!("/orders/{id}/shipments"), rest.clone()).await.status, StatusCode::CREATED);
    assert_eq!(app.post(&format!("/orders/{id}/shipments"), rest).await.status, StatusCode::OK, "a repeated report");
    app.settle().await;
    let fulfilled = fakes.shopify_fulfillments("5940139491234");
    assert_eq!(fulfilled.len(), 2, "each parcel once: {fulfilled:?}");
    assert_eq!(fulfilled[1]["line_items"], json!([{"id": 518995019, "quantity": 1}]));
    assert_eq!(fakes.warehouse_requests().len(), 1, "shipping sends the warehouse nothing more");
    assert!(fakes.problems().is_empty(), "every request had its API's shape: {:?}", fakes.problems());
}

#[tokio::test]
async fn a_cancel_tells_the_warehouse_what_not_to_ship_and_a_shop_that_refuses_raises_an_alert() {
    let fakes = Fakes::start(&["wh-hz"]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_sending(dir.path(), fakes.destinations(&["m-1", "shop.example.com"])).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let placed = app.post_order(&generic_order("OUT-1", "SKU-1", 3)).await;
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let cancelled = app.post(&format!("/orders/{id}/cancel"), json!({"reason": "changed mind"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    app.settle().await;
    let told = fakes.warehouse_requests();
    assert_eq!(told.iter().map(|r| r.event.as_str()).collect::<Vec<_>>(), ["fulfilment.requested", "fulfilment.cancelled"]);
    assert_eq!(told[1].body["lines"], json!([{"sku": "SKU-1", "quantity": 3, "owner": "m-1"}]));
    assert_eq!(told[1].body["reason"], "cancelled: changed mind");

    // The store behind the WooCommerce webhook does not know the order: it answers 404, a
    // refusal no retry mends, and staff are alerted.
    let shop = "shop.example.com";
    for sku in ["woo-hoodie-blue", "woo-beanie"] {
        app.owned_stock("wh-hz", "Zhejiang", shop, sku, 10).await;
    }
    let source = [("x-wc-webhook-source", format!("https://{shop}/"))];
    let taken = app.post_channel(Channel::WooCommerce, &channel_fixture("woocommerce_order.json"), &source).await;
    let woo = taken.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let parcel = json!({"carrier": "sf", "tracking_number": "SF900", "lines": [{"sku": "woo-beanie", "quantity": 3}]});
    assert_eq!(app.post(&format!("/orders/{woo}/shipments"), parcel).await.status, StatusCode::CREATED);
    app.settle().await;
    let alerts = app.get("/alerts?status=open").await;
    let refused: Vec<_> = alerts.body["alerts"].as_array().unwrap().iter().filter(|a| a["kind"] == "notice_refused").collect();
    assert_eq!(refused.len(), 1, "{:?}", alerts.body);
    assert_eq!(refused[0]["order_id"], json!(woo));
    assert!(refused[0]["message"].as_str().unwrap().contains("404"), "{:?}", refused[0]);
}
