//! Durability: after a restart over the same data directory nothing is lost and queued
//! work resumes.

use reqwest::StatusCode;

use oms_tests::{generic_order, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_orders_are_processed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = spawn_app_with(dir.path(), false).await;
    first.stock("wh-1", "Zhejiang", "SKU-1", 10).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let answer = first.post_order(&generic_order(&format!("P-{i}"), "SKU-1", 2)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        ids.push(answer.body["order_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(first.order(&ids[0]).await["status"], "received", "no worker ran yet");
    first.running.shutdown().await;

    let second = spawn_app(dir.path()).await;
    second.settle().await;
    for id in &ids {
        assert_eq!(second.order(id).await["status"], "reserved");
    }
    assert_eq!(second.counts("wh-1", "SKU-1").await, (10, 10, 0));
    let again = second.post_order(&generic_order("P-0", "SKU-1", 2)).await;
    assert_eq!((again.status, &again.body["order_id"]), (StatusCode::OK, &serde_json::json!(ids[0])));
}
