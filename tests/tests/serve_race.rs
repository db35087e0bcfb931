//! Many buyers racing for little stock through `oms serve`: never oversold.

use futures::future::join_all;
use reqwest::StatusCode;

use oms_tests::{generic_order, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_orders_for_fifty_units_reserve_exactly_fifty() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    app.stock("wh-1", "Zhejiang", "HOT-1", 30).await;
    app.stock("wh-2", "Beijing", "HOT-1", 20).await;

    let posts = (0..200).map(|i| {
        let app = &app;
        async move { app.post_order(&generic_order(&format!("RACE-{i}"), "HOT-1", 1)).await }
    });
    let answers = join_all(posts).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::ACCEPTED), "every order is taken in");
    app.settle().await;

    let mut reserved = 0;
    let mut backordered = 0;
    for answer in &answers {
        match app.order(answer.body["order_id"].as_str().unwrap()).await["status"].as_str().unwrap() {
            "reserved" => reserved += 1,
            "backordered" => backordered += 1,
            other => panic!("an order ended {other}"),
        }
    }
    assert_eq!((reserved, backordered), (50, 150));
    assert_eq!(app.counts("wh-1", "HOT-1").await, (30, 30, 0));
    assert_eq!(app.counts("wh-2", "HOT-1").await, (20, 20, 0));
}
