//! Alerts through `oms serve`: a channel's cancel of a shipped order raises one, and staff
//! list, acknowledge and resolve it over HTTP; bad input is a JSON error.

use reqwest::{Method, StatusCode};
use serde_json::json;

use oms_domain::ports::{OrderStore, UpdateOutcome};
use oms_domain::{OrderId, OrderStatus};
use oms_embedded::Embedded;
use oms_tests::{generic_order, spawn_app};

#[tokio::test]
async fn a_channel_cancel_of_a_shipped_order_raises_one_alert_that_staff_acknowledge_and_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-1", "Zhejiang", "SKU-1", 10).await;
    let first = app.post_order(&generic_order("S-1", "SKU-1", 2)).await;
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    app.settle().await;
    // No route ships an order yet: the warehouse's word is written straight to the store.
    let store = Embedded::open(dir.path()).unwrap();
    let mut order = store.get_order(&OrderId::parse(&order_id).unwrap()).await.unwrap().unwrap();
    order.transition(OrderStatus::Shipped, chrono::Utc::now(), "handed to the carrier").unwrap();
    assert!(matches!(store.update_order(&order).await.unwrap(), UpdateOutcome::Updated { .. }));

    let mut cancel = generic_order("S-1", "SKU-1", 2);
    cancel["cancelled_at"] = json!("2026-11-20T11:00:00Z");
    for _ in 0..2 {
        let answer = app.post_order(&cancel).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!((&answer.body["status"], &answer.body["not_applied_reason"]), (&json!("shipped"), &json!("cancel_refused")));
    }

    let open = app.get("/alerts?status=open").await;
    assert_eq!(open.status, StatusCode::OK, "{:?}", open.body);
    let alerts = open.body["alerts"].as_array().unwrap();
    assert_eq!((alerts.len(), &open.body["next"]), (1, &json!(null)), "one alert however often: {:?}", open.body);
    let alert = &alerts[0];
    assert_eq!(
        (&alert["kind"], &alert["order_id"], &alert["status"]),
        (&json!("channel_cancel_refused"), &json!(order_id), &json!("open"))
    );
    let id = alert["alert_id"].as_str().unwrap().to_owned();

    let acked = app.request(Method::POST, &format!("/alerts/{id}/acknowledge"), None, &[]).await;
    assert_eq!((acked.status, &acked.body["status"]), (StatusCode::OK, &json!("acknowledged")));
    assert_eq!(app.get("/alerts").await.body["alerts"], json!([]), "open is the default, and it is no longer open");
    assert_eq!(app.get("/alerts?status=acknowledged&limit=1").await.body["alerts"][0]["alert_id"], json!(id));
    let resolved = app.request(Method::POST, &format!("/alerts/{id}/resolve"), None, &[]).await;
    assert_eq!((resolved.status, &resolved.body["status"]), (StatusCode::OK, &json!("resolved")));
    let again = app.request(Method::POST, &format!("/alerts/{id}/resolve"), None, &[]).await;
    assert_eq!((again.status, &again.body["status"]), (StatusCode::OK, &json!("resolved")), "resolving again is a no-op");
    let late = app.request(Method::POST, &format!("/alerts/{id}/acknowledge"), None, &[]).await;
    assert_eq!((late.status, &late.body["error"]["code"]), (StatusCode::CONFLICT, &json!("alert_resolved")));
}

#[tokio::test]
async fn alert_routes_answer_bad_input_as_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    for (path, status, code) in [
        ("/alerts?status=closed", StatusCode::BAD_REQUEST, "invalid_request"),
        ("/alerts?limit=0", StatusCode::BAD_REQUEST, "invalid_request"),
        ("/alerts?limit=many", StatusCode::BAD_REQUEST, "invalid_request"),
        ("/alerts?status=open&cursor=bogus", StatusCode::BAD_REQUEST, "invalid_request"),
        ("/alerts?status=open&cursor=alt_1", StatusCode::BAD_REQUEST, "invalid_request"),
    ] {
        let answer = app.get(path).await;
        assert_eq!((answer.status, &answer.body["error"]["code"]), (status, &json!(code)), "{path}");
    }
    assert_eq!(app.get("/alerts?status=closed").await.body["error"]["field"], "status");
    for action in ["acknowledge", "resolve"] {
        let answer = app.request(Method::POST, &format!("/alerts/alt_nope/{action}"), None, &[]).await;
        assert_eq!((answer.status, &answer.body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("alert_not_found")));
    }
    // An action takes no body, but an oversized one is still refused, and changes nothing.
    let held = app.post_order(&generic_order("H-1", "SKU-NEW", 1)).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{:?}", held.body);
    let alert_id = app.get("/alerts?status=open").await.body["alerts"][0]["alert_id"].as_str().unwrap().to_owned();
    let huge = vec![b'x'; 300 * 1024];
    for action in ["acknowledge", "resolve"] {
        let answer = app.request(Method::POST, &format!("/alerts/{alert_id}/{action}"), Some(huge.clone()), &[]).await;
        assert_eq!((answer.status, &answer.body["error"]["code"]), (StatusCode::PAYLOAD_TOO_LARGE, &json!("body_too_large")));
    }
    assert_eq!(app.get("/alerts?status=open").await.body["alerts"][0]["alert_id"], json!(alert_id), "still open");
}
