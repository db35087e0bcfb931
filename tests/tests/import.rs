//! `oms import`: bulk orders from CSV through the same intake as the webhooks.

use oms_tests::spawn_app;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/channels/tests/fixtures/import_orders.csv");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_takes_orders_in_once_and_reserves_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path()).await;
    for sku in ["SKU-1", "SKU-2", "SKU-3"] {
        app.stock("wh-1", "Zhejiang", sku, 100).await;
    }
    // m-2's order (IMP-1003) is planned only from m-2's own units.
    for sku in ["SKU-JP-1", "SKU-JP-2"] {
        app.owned_stock("wh-1", "Zhejiang", "m-2", sku, 100).await;
    }
    app.running.shutdown().await;

    let first = oms_local::import::run(dir.path(), FIXTURE.as_ref()).await.unwrap();
    assert_eq!((first.accepted, first.refused.len()), (3, 0), "{first:?}");
    assert_eq!(first.duplicates, 0);
    let again = oms_local::import::run(dir.path(), FIXTURE.as_ref()).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, first.accepted), "importing twice stores nothing new");

    let app = spawn_app(dir.path()).await;
    let mut imported = Vec::new();
    for merchant in ["m-1", "m-2"] {
        let page = app.get(&format!("/orders?merchant={merchant}&channel=import")).await;
        imported.extend(page.body["orders"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(imported.len(), first.accepted);
    assert!(imported.iter().all(|o| o["status"] == "reserved"), "{imported:?}");
    let ids: Vec<&str> = imported.iter().map(|o| o["external_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"IMP-1001"));
    let two_lines = imported.iter().find(|o| o["external_id"] == "IMP-1001").unwrap();
    assert_eq!(two_lines["lines"].as_array().unwrap().len(), 2, "rows with one external_id are one order");
}
