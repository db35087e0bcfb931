//! Shipments and tracking through `oms serve` over real HTTP: a shipment, events in the
//! AfterShip and EasyPost formats, the tracking view, and every kind of bad input (a JSON
//! error, and nothing stored).

use reqwest::StatusCode;
use serde_json::{json, Value};

use oms_tests::{generic_order, spawn_app, Answer, TestApp};

fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["code"], code, "{:?}", answer.body);
}

/// A reserved order of `quantity` units of SKU-1 (10 on hand in wh-hz).
async fn reserved_order(app: &TestApp, external_id: &str, quantity: i64) -> String {
    let answer = app.post_order(&generic_order(external_id, "SKU-1", quantity)).await;
    let id = answer.body["order_id"].as_str().expect("an order id").to_owned();
    app.settle().await;
    assert_eq!(app.order(&id).await["status"], "reserved");
    id
}

fn aftership(number: &str, tag: &str, subtag: &str, at: &str) -> Vec<u8> {
    json!({"event": "tracking_update", "event_id": "0b1e6f2c", "ts": 1763800000, "msg": {
        "tracking_number": number, "slug": "sf-express", "tag": tag, "subtag": subtag,
        "expected_delivery": "2026-11-23",
        "checkpoints": [{"checkpoint_time": at, "tag": tag, "subtag": subtag, "message": "Departed facility",
                         "city": "Hangzhou", "country_name": "China"}]}})
    .to_string()
    .into_bytes()
}

fn easypost(number: &str, status: &str, at: &str) -> Vec<u8> {
    json!({"id": "evt_1", "object": "Event", "description": "tracker.updated", "result": {
        "id": "trk_1", "object": "Tracker", "tracking_code": number, "carrier": "SF", "status": status,
        "tracking_details": [{"object": "TrackingDetail", "message": "Delivered", "status": status, "datetime": at,
                              "tracking_location": {"city": "Beijing", "state": "BJ", "country": "CN", "zip": null}}]}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_shipment_reported_then_tracked_in_two_providers_formats_reads_delivered_with_its_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let id = reserved_order(&app, "TR-1", 2).await;
    let path = format!("/orders/{id}/shipments");
    let body = json!({"carrier": "sf", "tracking_number": "SF100", "lines": [{"sku": "SKU-1", "quantity": 2}]});

    let shipped = app.post(&path, body.clone()).await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{:?}", shipped.body);
    assert_eq!((&shipped.body["order_status"], &shipped.body["duplicate"]), (&json!("shipped"), &json!(false)));
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (8, 0, 8), "the held units left the stock");
    let again = app.post(&path, body).await;
    assert_eq!((again.status, &again.body["shipment_id"]), (StatusCode::OK, &shipped.body["shipment_id"]));

    let in_transit = aftership("SF100", "InTransit", "InTransit_007", "2026-11-21T10:00:00+08:00");
    let answer = app.post_carrier("aftership", &in_transit).await;
    assert_eq!((answer.status, &answer.body["accepted"]), (StatusCode::OK, &json!(1)), "{:?}", answer.body);
    let repeated = app.post_carrier("aftership", &in_transit).await;
    assert_eq!((&repeated.body["accepted"], &repeated.body["duplicates"]), (&json!(0), &json!(1)));
    assert_eq!(app.order(&id).await["status"], "in_transit");

    let delivered = app.post_carrier("easypost", &easypost("SF100", "delivered", "2026-11-22T09:30:00Z")).await;
    assert_eq!(delivered.status, StatusCode::OK, "{:?}", delivered.body);
    let tracking = app.get(&format!("/orders/{id}/tracking")).await;
    assert_eq!(tracking.status, StatusCode::OK);
    assert_eq!((&tracking.body["status"], &tracking.body["eta"]), (&json!("delivered"), &json!("2026-11-22T09:30:00Z")));
    let shipment = &tracking.body["shipments"][0];
    assert_eq!(
        (&shipment["tracking_number"], &shipment["carrier"], &shipment["status"]),
        (&json!("SF100"), &json!("sf"), &json!("delivered"))
    );
    assert_eq!(shipment["lines"], json!([{"sku": "SKU-1", "quantity": 2, "warehouse": "wh-hz"}]));
    let events: Vec<&Value> = shipment["events"].as_array().unwrap().iter().collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (&events[0]["status"], &events[0]["at"], &events[0]["location"]),
        (&json!("in_transit"), &json!("2026-11-21T02:00:00Z"), &json!("Hangzhou, China"))
    );
    assert_eq!((&events[1]["status"], &events[1]["location"]), (&json!("delivered"), &json!("Beijing, BJ, CN")));
    assert_error(
        &app.post(&format!("/orders/{id}/cancel"), json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_cancellable",
    );

    let doc = app.get("/openapi.json").await.body;
    for (path, method, ok) in [
        ("/orders/{id}/shipments", "post", "201"),
        ("/carriers/{carrier}/events", "post", "200"),
        ("/orders/{id}/tracking", "get", "200"),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(responses[ok].is_object() && responses["501"].is_null(), "{method} {path} is described as built");
    }
}

#[tokio::test]
async fn bad_shipments_and_bad_carrier_webhooks_are_refused_with_a_json_error_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let id = reserved_order(&app, "TR-2", 2).await;
    let path = format!("/orders/{id}/shipments");
    let ship = |lines: Value| json!({"carrier": "sf", "tracking_number": "SF200", "lines": lines});

    let malformed = app.request(reqwest::Method::POST, &path, Some(b"{not json".to_vec()), &[]).await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "invalid_request");
    let negative = app.post(&path, ship(json!([{"sku": "SKU-1", "quantity": -1}]))).await;
    assert_error(&negative, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(negative.body["error"]["field"], "lines[0].quantity");
    let huge = app.post(&path, ship(json!([{"sku": "SKU-1", "quantity": 99_999_999_999_i64}]))).await;
    assert_error(&huge, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.post(&path, ship(json!([]))).await, StatusCode::BAD_REQUEST, "invalid_request");
    let wrong_type = app.post(&path, json!({"carrier": 7, "tracking_number": "X", "lines": []})).await;
    assert_error(&wrong_type, StatusCode::BAD_REQUEST, "invalid_request");
    let unknown_sku = app.post(&path, ship(json!([{"sku": "SKU-9", "quantity": 1}]))).await;
    assert_error(&unknown_sku, StatusCode::UNPROCESSABLE_ENTITY, "shipment_refused");
    let too_many = app.post(&path, ship(json!([{"sku": "SKU-1", "quantity": 3}]))).await;
    assert_error(&too_many, StatusCode::UNPROCESSABLE_ENTITY, "shipment_refused");
    assert!(too_many.body["error"]["message"].as_str().unwrap().contains("holds only 2"), "{:?}", too_many.body);
    assert_error(
        &app.post("/orders/ord_nope/shipments", ship(json!([{"sku": "SKU-1", "quantity": 1}]))).await,
        StatusCode::NOT_FOUND,
        "order_not_found",
    );
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 2, 8), "nothing shipped");
    assert_eq!(app.order(&id).await["status"], "reserved");

    let body = aftership("SF200", "Delivered", "Delivered_001", "2026-11-21T10:00:00Z");
    let unsigned = app.request(reqwest::Method::POST, "/carriers/aftership/events", Some(body.clone()), &[]).await;
    assert_error(&unsigned, StatusCode::UNAUTHORIZED, "bad_signature");
    let forged = app
        .request(reqwest::Method::POST, "/carriers/aftership/events", Some(body), &[("aftership-hmac-sha256", "AAAA".to_owned())])
        .await;
    assert_error(&forged, StatusCode::UNAUTHORIZED, "bad_signature");
    let generic_as_easypost = app.post_carrier("generic", &easypost("SF200", "delivered", "2026-11-21T10:00:00Z")).await;
    assert_error(&generic_as_easypost, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.post_carrier("easypost", b"[]").await, StatusCode::BAD_REQUEST, "invalid_request");
    let oversized = vec![b' '; 300 * 1024];
    assert_error(&app.post_carrier("generic", &oversized).await, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let tracking = app.get(&format!("/orders/{id}/tracking")).await;
    assert_eq!((tracking.status, &tracking.body["shipments"]), (StatusCode::OK, &json!([])));

    // An event for a parcel not reported yet is kept (and answered unmatched), then applied.
    let early = json!({"event_id": "e-1", "tracking_number": "SF200", "status": "out_for_delivery",
                       "at": "2026-11-21T08:00:00Z", "location": "Hangzhou", "description": "on the van"});
    let kept = app.post_carrier("generic", early.to_string().as_bytes()).await;
    assert_eq!((kept.status, &kept.body["unmatched"]), (StatusCode::OK, &json!(["SF200"])), "{:?}", kept.body);
    let shipped = app.post(&path, ship(json!([{"sku": "SKU-1", "quantity": 2}]))).await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{:?}", shipped.body);
    assert_eq!(app.order(&id).await["status"], "in_transit", "the kept event applied: out for delivery");
}

#[tokio::test]
async fn a_customers_two_orders_merge_and_one_parcel_ships_and_delivers_both() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-hz", "Zhejiang", "SKU-1", 10).await;
    let first = reserved_order(&app, "MG-1", 2).await;
    let second = reserved_order(&app, "MG-2", 1).await;
    let merge = &app.order(&second).await["allocation"]["merge"];
    assert_eq!((&merge["group"], &merge["with"]), (&json!(first), &json!([first])), "{merge:?}");
    assert_eq!(merge["warehouses"], json!(["wh-hz"]));

    let path = format!("/orders/{first}/shipments");
    let parcel = |other: Value| {
        json!({"carrier": "sf", "tracking_number": "SF-MG", "lines": [
            {"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-1", "quantity": 1, "order_id": other}]})
    };
    let bad_id = app.post(&path, parcel(json!(""))).await;
    assert_error(&bad_id, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(bad_id.body["error"]["field"], "lines[1].order_id");
    let outside = app.post(&path, parcel(json!("ord_01NOTMERGED"))).await;
    assert_error(&outside, StatusCode::UNPROCESSABLE_ENTITY, "shipment_refused");
    assert_eq!(outside.body["error"]["field"], "lines[1].order_id");
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (10, 3, 7), "nothing shipped");

    let shipped = app.post(&path, parcel(json!(second))).await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{:?}", shipped.body);
    assert_eq!(shipped.body["order_status"], "shipped");
    assert_eq!(
        (&shipped.body["merged"][0]["order_id"], &shipped.body["merged"][0]["order_status"]),
        (&json!(second), &json!("shipped"))
    );
    assert_eq!(app.counts("wh-hz", "SKU-1").await, (7, 0, 7));

    let delivered = json!({"event_id": "d-1", "tracking_number": "SF-MG", "status": "delivered",
                           "at": "2026-11-21T10:00:00Z", "location": "Hangzhou", "description": "signed for"});
    let answer = app.post_carrier("generic", delivered.to_string().as_bytes()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    for id in [&first, &second] {
        assert_eq!(app.order(id).await["status"], "delivered", "order {id}");
        let tracking = app.get(&format!("/orders/{id}/tracking")).await;
        assert_eq!(tracking.body["shipments"][0]["tracking_number"], "SF-MG");
    }
}
