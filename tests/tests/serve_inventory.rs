//! Warehouses and stock through `oms serve`, bad input included.

use reqwest::StatusCode;
use serde_json::json;

use oms_tests::spawn_app;

fn assert_error(answer: &oms_tests::Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], code, "{:?}", answer.body);
}

fn warehouse() -> serde_json::Value {
    json!({"name": "Hangzhou West", "merchant_id": "m-1", "province": "Zhejiang", "city": "Hangzhou", "lat": 30.27, "lon": 120.15})
}

#[tokio::test]
async fn stock_is_listed_per_warehouse_with_on_hand_reserved_and_available() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    let answer = app.put("/warehouses/wh-1", warehouse()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["warehouse_id"], "wh-1");
    app.put("/warehouses/wh-2", warehouse()).await;
    let set = app.put("/inventory/wh-2/SKU-1", json!({"on_hand": 7})).await;
    assert_eq!(
        set.body,
        json!({"warehouse": "wh-2", "merchant_id": "m-1", "sku": "SKU-1", "on_hand": 7, "reserved": 0, "available": 7})
    );
    app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 3})).await;
    app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 4})).await;

    let answer = app.get("/inventory/SKU-1").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"sku": "SKU-1", "warehouses": [
            {"warehouse": "wh-1", "merchant_id": "m-1", "on_hand": 4, "reserved": 0, "available": 4, "incoming": 0, "expected_at": null},
            {"warehouse": "wh-2", "merchant_id": "m-1", "on_hand": 7, "reserved": 0, "available": 7, "incoming": 0, "expected_at": null}]})
    );
}

#[tokio::test]
async fn two_merchants_stock_in_one_warehouse_is_counted_apart_and_each_order_takes_only_its_merchants() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.put("/warehouses/wh-1", warehouse()).await;
    let set = app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 5, "merchant_id": "m-3"})).await;
    assert_eq!(
        set.body,
        json!({"warehouse": "wh-1", "merchant_id": "m-3", "sku": "SKU-1", "on_hand": 5, "reserved": 0, "available": 5})
    );
    app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 2})).await;
    assert_eq!(
        app.get("/inventory/SKU-1").await.body,
        json!({"sku": "SKU-1", "warehouses": [
            {"warehouse": "wh-1", "merchant_id": "m-1", "on_hand": 2, "reserved": 0, "available": 2, "incoming": 0, "expected_at": null},
            {"warehouse": "wh-1", "merchant_id": "m-3", "on_hand": 5, "reserved": 0, "available": 5, "incoming": 0, "expected_at": null}]})
    );

    // m-1 wants 3: it has 2 of the 7 on the shelf.
    let short = app.post_order(&oms_tests::generic_order("R-1", "SKU-1", 3)).await;
    let mut theirs = oms_tests::generic_order("R-2", "SKU-1", 3);
    theirs["merchant_id"] = json!("m-3");
    let own = app.post_order(&theirs).await;
    app.settle().await;
    assert_eq!(app.order(short.body["order_id"].as_str().unwrap()).await["status"], "backordered");
    let order = app.order(own.body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "reserved", "{order}");
    assert_eq!(order["allocation"]["lines"], json!([{"warehouse": "wh-1", "merchant_id": "m-3", "sku": "SKU-1", "quantity": 3}]));
    assert_eq!((app.counts("wh-1", "SKU-1").await, app.owned_counts("wh-1", "m-3", "SKU-1").await), ((2, 0, 2), (5, 3, 2)));
}

#[tokio::test]
async fn a_stock_count_naming_a_malformed_owner_gets_a_400_and_an_unknown_warehouse_stays_404() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.put("/warehouses/wh-1", warehouse()).await;
    for owner in [json!(""), json!("  "), json!(7)] {
        let answer = app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 1, "merchant_id": owner})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(answer.body["error"]["field"], "merchant_id");
    }
    let ghost = app.put("/inventory/wh-ghost/SKU-1", json!({"on_hand": 1, "merchant_id": "m-3"})).await;
    assert_error(&ghost, StatusCode::NOT_FOUND, "unknown_warehouse");
    assert_error(&app.get("/inventory/SKU-1").await, StatusCode::NOT_FOUND, "sku_not_found");
}

#[tokio::test]
async fn stock_for_an_unknown_warehouse_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    assert_error(&app.put("/inventory/wh-ghost/SKU-1", json!({"on_hand": 5})).await, StatusCode::NOT_FOUND, "unknown_warehouse");
    assert_error(&app.get("/inventory/SKU-1").await, StatusCode::NOT_FOUND, "sku_not_found");
}

#[tokio::test]
async fn bad_stock_counts_get_a_400_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.put("/warehouses/wh-1", warehouse()).await;
    app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 5})).await;
    for body in [json!({"on_hand": -1}), json!({"on_hand": "5"}), json!({"on_hand": 1e12}), json!({}), json!([5])] {
        let answer = app.put("/inventory/wh-1/SKU-1", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let raw = app.request(reqwest::Method::PUT, "/inventory/wh-1/SKU-1", Some(b"{on_hand: 3".to_vec()), &[]).await;
    assert_error(&raw, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(app.counts("wh-1", "SKU-1").await, (5, 0, 5));
}

#[tokio::test]
async fn bad_warehouses_get_a_400_naming_the_field_and_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    for (pointer, value, field) in [
        ("/lat", json!(91.0), "lat"),
        ("/lon", json!("east"), "lon"),
        ("/name", json!(""), "name"),
        ("/merchant_id", json!(null), "merchant_id"),
    ] {
        let mut body = warehouse();
        *body.pointer_mut(pointer).unwrap() = value;
        let answer = app.put("/warehouses/wh-bad", body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(answer.body["error"]["field"], field);
    }
    assert_error(&app.put("/inventory/wh-bad/SKU-1", json!({"on_hand": 1})).await, StatusCode::NOT_FOUND, "unknown_warehouse");
}

#[tokio::test]
async fn on_hand_cannot_go_below_what_is_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-1", "Zhejiang", "SKU-1", 5).await;
    app.post_order(&oms_tests::generic_order("R-1", "SKU-1", 4)).await;
    app.settle().await;
    assert_error(&app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 3})).await, StatusCode::CONFLICT, "below_reserved");
    assert_eq!(app.counts("wh-1", "SKU-1").await, (5, 4, 1));
}

#[tokio::test]
async fn a_backorder_is_reserved_when_stock_is_counted_in_without_any_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-1", "Zhejiang", "SKU-1", 1).await;
    let answer = app.post_order(&oms_tests::generic_order("B-1", "SKU-1", 3)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    assert_eq!(app.order(&order_id).await["status"], "backordered");

    // The warehouse counts more in; nothing is posted again.
    assert_eq!(app.put("/inventory/wh-1/SKU-1", json!({"on_hand": 5})).await.status, StatusCode::OK);
    app.settle().await;
    let order = app.order(&order_id).await;
    assert_eq!(order["status"], "reserved", "{order}");
    assert_eq!(app.counts("wh-1", "SKU-1").await, (5, 3, 2));
}
