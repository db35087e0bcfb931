//! Each channel's own webhook through `oms serve`: signatures, merchants from headers,
//! redeliveries and updates.

use reqwest::{Method, StatusCode};
use serde_json::json;

use oms_domain::order::Channel;
use oms_tests::{generic_order, spawn_app, TestApp};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../shared/channels/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("the fixture exists")
}

/// The Shopify fixture's shop: its orders are planned only from its own stock.
const SHOP: &str = "teahouse.myshopify.com";

/// An app whose warehouse `wh-1` holds 50 of each of `skus`, owned by merchant `m-1`.
async fn app_stocking(dir: &tempfile::TempDir, skus: &[&str]) -> TestApp {
    app_stocking_for(dir, "m-1", skus).await
}

/// An app whose warehouse `wh-1` holds 50 of each of `skus`, owned by `owner`.
async fn app_stocking_for(dir: &tempfile::TempDir, owner: &str, skus: &[&str]) -> TestApp {
    let app = spawn_app(dir.path()).await;
    for sku in skus {
        app.owned_stock("wh-1", "California", owner, sku, 50).await;
    }
    app
}

#[tokio::test]
async fn a_signed_shopify_orders_create_webhook_is_taken_in_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking_for(&dir, SHOP, &["TEE-RED-M", "MUG-BLK"]).await;
    let body = fixture("shopify_order.json");
    let shop = [("x-shopify-shop-domain", "teahouse.myshopify.com".to_owned())];
    let first = app.post_channel(Channel::Shopify, &body, &shop).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    let retry = app.post_channel(Channel::Shopify, &body, &shop).await;
    assert_eq!(
        (retry.status, &retry.body["order_id"], &retry.body["duplicate"]),
        (StatusCode::OK, &first.body["order_id"], &json!(true))
    );

    app.settle().await;
    let order = app.order(first.body["order_id"].as_str().unwrap()).await;
    assert_eq!((order["channel"].as_str(), order["external_id"].as_str()), (Some("shopify"), Some("5940139491234")));
    assert_eq!(order["merchant_id"], "teahouse.myshopify.com");
    assert_eq!(order["order_number"], "#1001", "the shop's own number, as the buyer saw it");
    let by_number = app.get("/orders?merchant=teahouse.myshopify.com&order_number=%231001").await;
    assert_eq!(by_number.body["orders"][0]["order_id"], first.body["order_id"]);
    assert_eq!(order["charges"]["shipping"], "7.99", "discounts, shipping and taxes are carried: {}", order["charges"]);
    assert_eq!(order["status"], "reserved");
}

#[tokio::test]
async fn a_shopify_order_of_an_unknown_sku_is_held_with_an_alert_and_released_when_the_sku_is_stocked() {
    let dir = tempfile::tempdir().unwrap();
    // MUG-BLK is stocked; TEE-RED-M has never been counted anywhere.
    let app = app_stocking_for(&dir, SHOP, &["MUG-BLK"]).await;
    let shop = [("x-shopify-shop-domain", "teahouse.myshopify.com".to_owned())];
    let first = app.post_channel(Channel::Shopify, &fixture("shopify_order.json"), &shop).await;
    assert_eq!((first.status, &first.body["status"]), (StatusCode::ACCEPTED, &json!("on_hold")), "{:?}", first.body);
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!((&order["status"], &order["hold"]), (&json!("on_hold"), &json!({"reason": "unknown_sku", "sku": "TEE-RED-M"})));
    let open = app.get("/alerts?status=open").await;
    let alerts = open.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{:?}", open.body);
    assert_eq!((&alerts[0]["kind"], &alerts[0]["order_id"]), (&json!("order_on_hold"), &json!(order_id)));

    app.owned_stock("wh-1", "California", SHOP, "TEE-RED-M", 50).await;
    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!(order["status"], "reserved", "{order}");
    assert!(order.get("hold").is_none(), "{order}");
    let open = app.get("/alerts?status=open").await;
    assert_eq!(open.body["alerts"], json!([]), "{:?}", open.body);
    let resolved = app.get("/alerts?status=resolved").await;
    assert_eq!(resolved.body["alerts"][0]["order_id"], json!(order_id), "{:?}", resolved.body);
}

#[tokio::test]
async fn mapping_the_shops_sku_to_ours_releases_the_held_order_and_later_orders_take_ours() {
    let dir = tempfile::tempdir().unwrap();
    // The warehouses count the tee as TEE-RED-M-01; the shop calls it TEE-RED-M.
    let app = app_stocking_for(&dir, SHOP, &["MUG-BLK", "TEE-RED-M-01"]).await;
    let shop = [("x-shopify-shop-domain", "teahouse.myshopify.com".to_owned())];
    let first = app.post_channel(Channel::Shopify, &fixture("shopify_order.json"), &shop).await;
    assert_eq!(first.body["status"], "on_hold", "{:?}", first.body);
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();

    let bad = app.put("/sku-mappings/fax/teahouse.myshopify.com/TEE-RED-M", json!({"sku": "TEE-RED-M-01"})).await;
    assert_eq!((bad.status, &bad.body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("channel")), "{:?}", bad.body);
    let mapped = app.put("/sku-mappings/shopify/teahouse.myshopify.com/TEE-RED-M", json!({"sku": "TEE-RED-M-01"})).await;
    assert_eq!(mapped.status, StatusCode::OK, "{:?}", mapped.body);
    assert_eq!(
        mapped.body,
        json!({"channel": "shopify", "merchant_id": "teahouse.myshopify.com", "channel_sku": "TEE-RED-M", "sku": "TEE-RED-M-01"})
    );
    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!(order["status"], "reserved", "{order}");
    let skus: Vec<&str> = order["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert!(skus.contains(&"TEE-RED-M-01") && !skus.contains(&"TEE-RED-M"), "{skus:?}");
    assert_eq!(app.get("/alerts?status=open").await.body["alerts"], json!([]));

    // Another order of the shop naming its own SKU goes straight through.
    let mut second: serde_json::Value = serde_json::from_slice(&fixture("shopify_order.json")).unwrap();
    second["id"] = json!(5940139499999_u64);
    let answer = app.post_channel(Channel::Shopify, second.to_string().as_bytes(), &shop).await;
    assert_eq!((answer.status, &answer.body["status"]), (StatusCode::ACCEPTED, &json!("received")), "{:?}", answer.body);
}

#[tokio::test]
async fn a_shopify_webhook_with_a_wrong_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking_for(&dir, SHOP, &["TEE-RED-M", "MUG-BLK"]).await;
    let headers = [("x-shopify-hmac-sha256", "bm90IHRoZSBzaWduYXR1cmU=".to_owned())];
    let answer =
        app.request(reqwest::Method::POST, "/channels/shopify/orders", Some(fixture("shopify_order.json")), &headers).await;
    assert_eq!((answer.status, &answer.body["error"]["code"]), (StatusCode::UNAUTHORIZED, &json!("bad_signature")));
    assert_eq!(app.get("/orders?merchant=teahouse.myshopify.com&channel=shopify").await.body["orders"], json!([]));
}

#[tokio::test]
async fn a_woocommerce_order_created_webhook_is_taken_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking(&dir, &["woo-hoodie-blue", "woo-beanie"]).await;
    let source = [("x-wc-webhook-source", "https://shop.example.com/".to_owned())];
    let answer = app.post_channel(Channel::WooCommerce, &fixture("woocommerce_order.json"), &source).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!((order["external_id"].as_str(), order["currency"].as_str()), (Some("727"), Some("USD")));
}

#[tokio::test]
async fn two_woocommerce_shops_sending_order_727_make_two_orders_neither_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking(&dir, &["woo-hoodie-blue", "woo-beanie"]).await;
    let first_shop = [("x-wc-webhook-source", "https://shop-a.example.com/".to_owned())];
    let second_shop = [("x-wc-webhook-source", "https://shop-b.example.com/".to_owned())];
    let mut theirs: serde_json::Value = serde_json::from_slice(&fixture("woocommerce_order.json")).unwrap();
    theirs["billing"]["email"] = json!("jane.roe@example.com");
    theirs["shipping"]["address_1"] = json!("1 Harbour St");
    let theirs = serde_json::to_vec(&theirs).unwrap();

    let a = app.post_channel(Channel::WooCommerce, &fixture("woocommerce_order.json"), &first_shop).await;
    let b = app.post_channel(Channel::WooCommerce, &theirs, &second_shop).await;
    assert_eq!((a.status, b.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED), "{:?} {:?}", a.body, b.body);
    assert_eq!(b.body["duplicate"], false, "the second shop's 727 is its own order: {:?}", b.body);
    assert_ne!(a.body["order_id"], b.body["order_id"]);

    app.settle().await;
    let first = app.order(a.body["order_id"].as_str().unwrap()).await;
    let second = app.order(b.body["order_id"].as_str().unwrap()).await;
    assert_eq!((first["external_id"].as_str(), second["external_id"].as_str()), (Some("727"), Some("727")));
    assert_eq!(first["customer"]["email"], "john.doe@example.com", "the first shop's buyer was overwritten");
    assert_eq!(first["shipping_address"]["line1"], "969 Market");
    assert_eq!(second["customer"]["email"], "jane.roe@example.com");
    assert_eq!(second["shipping_address"]["line1"], "1 Harbour St");
    assert_ne!(first["merchant_id"], second["merchant_id"]);

    let again = app.post_channel(Channel::WooCommerce, &theirs, &second_shop).await;
    assert_eq!(
        (again.status, &again.body["order_id"], &again.body["duplicate"]),
        (StatusCode::OK, &b.body["order_id"], &json!(true)),
        "the same shop's 727 again is a redelivery"
    );
}

#[tokio::test]
async fn an_amazon_order_with_its_items_is_taken_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking(&dir, &["AMZ-KETTLE-1L", "AMZ-FILTER-3PK"]).await;
    let answer = app.post_channel(Channel::Amazon, &fixture("amazon_order.json"), &[]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let order = app.order(answer.body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["external_id"], "113-5539421-7261831");
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_later_version_of_an_order_changes_only_what_its_stage_allows() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking(&dir, &["SKU-1"]).await;
    let first = app.post_order(&generic_order("U-1", "SKU-1", 2)).await;
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "reserved");

    let mut update = generic_order("U-1", "SKU-1", 5);
    update["shipping_address"]["line1"] = json!("9 Lakeside Rd");
    update["updated_at"] = json!("2026-11-20T11:00:00Z");
    let answer = app.post_order(&update).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["duplicate"], true);
    assert_eq!(answer.body["updated"], json!(["shipping_address"]));
    assert_eq!(answer.body["not_updated"], json!(["lines"]));

    let order = app.order(&order_id).await;
    assert_eq!(order["shipping_address"]["line1"], "9 Lakeside Rd");
    assert_eq!(order["lines"][0]["quantity"], 2, "reserved lines are not changed behind the warehouse's back");
    assert_eq!(app.counts("wh-1", "SKU-1").await, (50, 2, 48));
}

#[tokio::test]
async fn a_backordered_order_whose_lines_change_is_planned_again() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking(&dir, &["SKU-1"]).await;
    let first = app.post_order(&generic_order("U-2", "SKU-1", 80)).await;
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "backordered");

    let mut update = generic_order("U-2", "SKU-1", 10);
    update["updated_at"] = json!("2026-11-20T11:00:00Z");
    let answer = app.post_order(&update).await;
    assert_eq!(answer.body["updated"], json!(["lines"]));
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "reserved");
    assert_eq!(app.counts("wh-1", "SKU-1").await, (50, 10, 40));
}

#[tokio::test]
async fn a_retry_of_the_first_webhook_after_an_operator_changed_the_address_keeps_the_operators_address() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking_for(&dir, SHOP, &["TEE-RED-M", "MUG-BLK"]).await;
    let body = fixture("shopify_order.json");
    let shop = [("x-shopify-shop-domain", "teahouse.myshopify.com".to_owned())];
    let first = app.post_channel(Channel::Shopify, &body, &shop).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;

    let address = json!({"shipping_address": {"name": "Bob Norman", "line1": "7 Operator Way", "city": "Louisville",
                                             "province": "KY", "postal_code": "40202", "country": "US"}});
    let patched = app.request(Method::PATCH, &format!("/orders/{order_id}"), Some(address.to_string().into_bytes()), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);

    let retry = app.post_channel(Channel::Shopify, &body, &shop).await;
    assert_eq!(retry.status, StatusCode::OK, "{:?}", retry.body);
    assert_eq!((&retry.body["duplicate"], &retry.body["not_applied_reason"]), (&json!(true), &json!("stale")));
    assert_eq!(retry.body.get("updated"), None);
    let order = app.order(&order_id).await;
    assert_eq!(order["shipping_address"]["line1"], "7 Operator Way", "the operator's address stays");
}

#[tokio::test]
async fn a_shopify_orders_cancelled_webhook_cancels_the_order_and_frees_its_stock() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_stocking_for(&dir, SHOP, &["TEE-RED-M", "MUG-BLK"]).await;
    let shop = [("x-shopify-shop-domain", "teahouse.myshopify.com".to_owned())];
    let first = app.post_channel(Channel::Shopify, &fixture("shopify_order.json"), &shop).await;
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "reserved");

    let mut cancelled: serde_json::Value = serde_json::from_slice(&fixture("shopify_order.json")).unwrap();
    cancelled["cancelled_at"] = json!("2026-11-20T11:00:00-05:00");
    cancelled["updated_at"] = json!("2026-11-20T11:00:00-05:00");
    let body = serde_json::to_vec(&cancelled).unwrap();
    let topic = [shop[0].clone(), ("x-shopify-topic", "orders/cancelled".to_owned())];
    for _ in 0..2 {
        let answer = app.post_channel(Channel::Shopify, &body, &topic).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!((&answer.body["order_id"], &answer.body["status"]), (&json!(order_id), &json!("cancelled")));
    }
    assert_eq!(app.order(&order_id).await["status"], "cancelled");
    assert_eq!(app.owned_counts("wh-1", SHOP, "TEE-RED-M").await.1, 0, "nothing is held any more");
}
