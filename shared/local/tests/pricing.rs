//! `oms serve` answers quotes from the data directory's current pricing model, and takes
//! up the new one when `oms retrain` moves the pointer, without a restart.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use oms_local::retrain::{self, RetrainRequest};
use oms_local::server::{self, ServeOptions};

fn write_history(path: &std::path::Path) {
    let mut csv = String::from("customer_id,sku,quantity,unit_price,purchased_at,province,city,address\n");
    for row in 0..600u32 {
        let quantity = row % 13 + 1;
        let price = if quantity >= 8 { 18.5 } else { 21.0 } + f64::from(row % 3);
        let (day, hour) = (row / 24 % 28 + 1, row % 24);
        csv.push_str(&format!(
            "c-{},SKU-1,{quantity},{price:.2},2026-10-{day:02}T{hour:02}:00:00Z,Zhejiang,Hangzhou,\n",
            row % 9
        ));
    }
    std::fs::write(path, csv).expect("the history is written");
}

async fn quote(client: &reqwest::Client, base: &str) -> (u16, Value) {
    // Open on loopback: the caller is platform staff, who name the merchant.
    let body = json!({"customer_id": "c-1", "sku": "SKU-1", "quantity": 2, "province": "Zhejiang", "city": "Hangzhou",
                      "merchant_id": "m-1"});
    let response = client.post(format!("{base}/quotes")).json(&body).send().await.expect("oms serve answers");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oms_serve_quotes_from_the_model_a_retrain_makes_current_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let options = ServeOptions { run_workers: false, ..ServeOptions::local("127.0.0.1:0".parse().unwrap(), data_dir.clone()) };
    let running = server::start(options).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let (status, answer) = quote(&client, &base).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("no_pricing_model")));

    let train = dir.path().join("train.csv");
    write_history(&train);
    let request = RetrainRequest { train: Some(train), merchant: Some("m-1".into()), ..RetrainRequest::from_store(data_dir) };
    let artifact = retrain::run(&request).await.unwrap().remove(0);

    let started = Instant::now();
    loop {
        let (status, answer) = quote(&client, &base).await;
        if status == 200 {
            assert_eq!(answer["model_version"].as_str(), Some(artifact.version.as_str()));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "still {status} {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.shutdown().await;
}
