//! `oms retrain`: trains each merchant's pricing models on its own history (a CSV, or the
//! data directory's sales history: every order reserved there), compares them on
//! held-out rows (and on a test file when given), writes each versioned artifact into the
//! data directory and moves that merchant's `current` pointer there, and writes the report.
//!
//! In the data directory: `models/<merchant>/<version>.json` (the artifact, report
//! included) and `models/<merchant>/current` (the version that merchant's quotes use),
//! replaced by a rename so a reader sees the old pointer or the new one, never half of
//! one. `<merchant>` is `oms_pricing::merchant_segment` of the merchant id.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use oms_domain::ports::SystemClock;
use oms_pricing::{Artifact, Progress, Purchase};

/// What `oms retrain` was asked to do.
#[derive(Debug, Clone)]
pub struct RetrainRequest {
    /// The CSV history; `None`: the data directory's sales history.
    pub train: Option<PathBuf>,
    /// Whose history the CSV is (every row); else its `merchant_id` column, else
    /// `oms_pricing::DEFAULT_MERCHANT`. With the stored history: only this merchant.
    pub merchant: Option<String>,
    pub test: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// The least margin over cost the catalogue's floor keeps (0.05 is 5 %).
    pub min_margin: rust_decimal::Decimal,
}

impl RetrainRequest {
    /// Retrain every merchant of `data_dir` from its sales history.
    pub fn from_store(data_dir: impl Into<PathBuf>) -> Self {
        RetrainRequest {
            train: None,
            merchant: None,
            test: None,
            report: None,
            data_dir: data_dir.into(),
            min_margin: oms_pricing::DEFAULT_MIN_MARGIN,
        }
    }
}

/// Reads the history, trains each merchant's models, stores each artifact as that
/// merchant's current one and writes the report. A merchant whose history is too short
/// to train is told on stderr and skipped; none trained at all is an error.
pub async fn run(request: &RetrainRequest) -> anyhow::Result<Vec<Artifact>> {
    let started = Instant::now();
    let store = oms_embedded::Embedded::open(&request.data_dir)
        .with_context(|| format!("Failed to open the data directory {}", request.data_dir.display()))?;
    let ports = store.ports(Arc::new(SystemClock));
    let histories = match &request.train {
        Some(path) => oms_pricing::by_merchant(read_history(path)?, request.merchant.as_deref()),
        None => oms_pricing::stored::stored_histories(&ports, request.merchant.as_deref()).await?,
    };
    let test = request.test.as_deref().map(read_history).transpose()?;
    let test = test.map(|rows| oms_pricing::by_merchant(rows, request.merchant.as_deref()));
    let rows: usize = histories.values().map(Vec::len).sum();
    eprintln!("read {rows} training rows of {} merchants in {:.1} s", histories.len(), started.elapsed().as_secs_f64());
    let version = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let mut artifacts = Vec::new();
    for (merchant, history) in histories {
        let options = oms_pricing::stored::train_options(&ports, &merchant, &history, &version, request.min_margin).await?;
        let mut artifact = match oms_pricing::train(history, &options, &print_progress) {
            Ok(artifact) => artifact,
            Err(err) => {
                eprintln!("merchant {merchant}: not trained: {err}");
                continue;
            }
        };
        if let Some(test) = test.as_ref().and_then(|test| test.get(&merchant)) {
            artifact.record_test(test);
        }
        store_as_current(&request.data_dir, &artifact)?;
        artifacts.push(artifact);
    }
    if artifacts.is_empty() {
        anyhow::bail!("no merchant's history could be trained (each needs at least {} rows)", oms_pricing::selection::MIN_ROWS);
    }
    if let Some(path) = &request.report {
        let report = serde_json::to_string_pretty(&report(&artifacts)).context("Failed to serialise the report")?;
        std::fs::write(path, report).with_context(|| format!("Failed to write the report to {}", path.display()))?;
    }
    Ok(artifacts)
}

/// The report of one training as the contract has it; of several, their candidates and
/// selections together (each naming its merchant), the test RMSE over all their test
/// rows, and each merchant's own report under `merchants`.
pub fn report(artifacts: &[Artifact]) -> serde_json::Value {
    if let [artifact] = artifacts {
        let mut report = serde_json::to_value(&artifact.report).unwrap_or_default();
        report["merchant_id"] = serde_json::Value::from(artifact.merchant_id.clone());
        return report;
    }
    let rows: usize = artifacts.iter().map(|a| a.report.test_rows).sum();
    let sse: f64 = artifacts.iter().map(|a| a.report.test_rmse.powi(2) * a.report.test_rows as f64).sum();
    let tagged = |pick: fn(&Artifact) -> serde_json::Value| -> Vec<serde_json::Value> {
        artifacts
            .iter()
            .flat_map(|artifact| {
                let items = pick(artifact).as_array().cloned().unwrap_or_default();
                items.into_iter().map(move |mut item| {
                    item["merchant_id"] = serde_json::Value::from(artifact.merchant_id.clone());
                    item
                })
            })
            .collect()
    };
    serde_json::json!({
        "test_rmse": if rows > 0 { (sse / rows as f64).sqrt() } else { f64::NAN },
        "test_rows": rows,
        "candidates": tagged(|a| serde_json::to_value(&a.report.candidates).unwrap_or_default()),
        "selected": tagged(|a| serde_json::to_value(&a.report.selected).unwrap_or_default()),
        "merchants": artifacts.iter().map(|a| {
            let mut report = serde_json::to_value(&a.report).unwrap_or_default();
            report["merchant_id"] = serde_json::Value::from(a.merchant_id.clone());
            report
        }).collect::<Vec<_>>(),
    })
}

/// The version each merchant's `current` names in `data_dir`, by the merchant's directory.
pub fn current_versions(data_dir: &Path) -> anyhow::Result<HashMap<String, String>> {
    let dir = models_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(err) => return Err(err).with_context(|| format!("Failed to list {}", dir.display())),
    };
    let mut versions = HashMap::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("Failed to list {}", dir.display()))?;
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let pointer = entry.path().join("current");
        match std::fs::read_to_string(&pointer) {
            Ok(version) => {
                versions.insert(entry.file_name().to_string_lossy().into_owned(), version.trim().to_owned());
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("Failed to read {}", pointer.display())),
        }
    }
    Ok(versions)
}

/// Loads the artifact of `version` in the merchant directory `segment`.
pub fn load(data_dir: &Path, segment: &str, version: &str) -> anyhow::Result<Artifact> {
    let path = models_dir(data_dir).join(segment).join(format!("{version}.json"));
    let json = std::fs::read_to_string(&path).with_context(|| format!("Failed to read the pricing model {}", path.display()))?;
    Artifact::from_json(&json).with_context(|| format!("Failed to parse the pricing model {}", path.display()))
}

/// Loads `merchant`'s current artifact in `data_dir`; `None` before its first retrain.
pub fn load_current(data_dir: &Path, merchant: &str) -> anyhow::Result<Option<Artifact>> {
    let segment = oms_pricing::merchant_segment(merchant);
    match current_versions(data_dir)?.get(&segment) {
        Some(version) => load(data_dir, &segment, version).map(Some),
        None => Ok(None),
    }
}

/// One line per training, summarising what was selected.
pub fn summary(artifact: &Artifact) -> String {
    let report = &artifact.report;
    let all = artifact.models.all.as_ref().map_or("none", |model| model.algorithm.name());
    format!(
        "merchant {}: model {}: {} rows ({} fitted, {} held out) in {:.1} s; {} candidates, {} segments kept \
         (all: {all}, {} provinces, {} SKUs, {} customers); held-out RMSE {:.4}, test RMSE {:.4} over {} rows ({})",
        artifact.merchant_id,
        artifact.version,
        report.train_rows,
        report.fitted_rows,
        report.held_out_rows,
        report.seconds,
        report.candidates.len(),
        report.selected.len(),
        artifact.models.provinces.len(),
        artifact.models.skus.len(),
        artifact.models.customers.len(),
        report.held_out_rmse,
        report.test_rmse,
        report.test_rows,
        report.test_on,
    )
}

/// Reads a CSV history (the retrain columns).
pub fn read_history(path: &Path) -> anyhow::Result<Vec<Purchase>> {
    let file = std::fs::File::open(path).with_context(|| format!("Failed to open {}", path.display()))?;
    oms_pricing::read_csv(std::io::BufReader::new(file)).with_context(|| format!("Failed to read {}", path.display()))
}

fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// Writes the artifact into its merchant's directory and moves that merchant's pointer to it.
pub fn store_as_current(data_dir: &Path, artifact: &Artifact) -> anyhow::Result<()> {
    let dir = models_dir(data_dir).join(oms_pricing::merchant_segment(&artifact.merchant_id));
    std::fs::create_dir_all(&dir).with_context(|| format!("Failed to make {}", dir.display()))?;
    let json = artifact.to_json().context("Failed to serialise the pricing model")?;
    let path = dir.join(format!("{}.json", artifact.version));
    std::fs::write(&path, json).with_context(|| format!("Failed to write {}", path.display()))?;
    let pointer = dir.join("current");
    let staged = dir.join("current.next");
    std::fs::write(&staged, &artifact.version).with_context(|| format!("Failed to write {}", staged.display()))?;
    std::fs::rename(&staged, &pointer).with_context(|| format!("Failed to move {}", pointer.display()))
}

fn print_progress(progress: Progress) {
    // One line per layer, rewritten in place every 5 % of its candidates.
    let step = (progress.total / 20).max(1);
    if !progress.done.is_multiple_of(step) && progress.done != progress.total {
        return;
    }
    let mut err = std::io::stderr().lock();
    _ = write!(err, "\rfitting {:<8} {:>7}/{:<7}", progress.layer, progress.done, progress.total);
    if progress.done == progress.total {
        _ = writeln!(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_history(path: &Path, rows: std::ops::Range<u32>) {
        let mut csv = String::from("customer_id,sku,quantity,unit_price,purchased_at,province,city,address\n");
        for row in rows {
            let quantity = row % 13 + 1;
            let price = if quantity >= 8 { 18.5 } else { 21.0 } + f64::from(row % 3);
            let day = row / 24 % 28 + 1;
            let hour = row % 24;
            csv.push_str(&format!(
                "c-{},SKU-{},{quantity},{price:.2},2026-10-{day:02}T{hour:02}:00:00Z,Zhejiang,Hangzhou,\n",
                row % 9,
                row % 2
            ));
        }
        std::fs::write(path, csv).unwrap();
    }

    #[tokio::test]
    async fn a_retrain_writes_the_report_and_makes_its_model_current() {
        let dir = tempfile::tempdir().unwrap();
        let (train, test, report) = (dir.path().join("train.csv"), dir.path().join("test.csv"), dir.path().join("report.json"));
        write_history(&train, 0..600);
        write_history(&test, 600..700);
        let data_dir = dir.path().join("data");
        assert!(load_current(&data_dir, "m-1").unwrap().is_none(), "no model before the first retrain");
        let request = RetrainRequest {
            train: Some(train),
            merchant: Some("m-1".into()),
            test: Some(test),
            report: Some(report.clone()),
            ..RetrainRequest::from_store(&data_dir)
        };
        let artifacts = run(&request).await.unwrap();

        let current = load_current(&data_dir, "m-1").unwrap().unwrap();
        assert_eq!((current.version.as_str(), current.merchant_id.as_str()), (artifacts[0].version.as_str(), "m-1"));
        assert!(load_current(&data_dir, oms_pricing::DEFAULT_MERCHANT).unwrap().is_none(), "the CSV was m-1's alone");
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        assert!(report["test_rmse"].as_f64().is_some_and(|rmse| rmse < 2.0), "{report}");
        assert_eq!(report["test_rows"], 100);
        let candidate = &report["candidates"][0];
        for field in ["segment", "algorithm", "rmse", "sse"] {
            assert!(!candidate[field].is_null(), "{field} in {candidate}");
        }
        assert_eq!(report["selected"][0]["segment"], "all");
    }

    #[tokio::test]
    async fn without_a_csv_each_merchant_is_trained_on_its_own_stored_sales() {
        use oms_domain::ports::{Effects, InsertOutcome};
        let dir = tempfile::tempdir().unwrap();
        let store = oms_embedded::Embedded::open(dir.path()).unwrap();
        let ports = store.ports(Arc::new(SystemClock));
        // m-1 sells dear, m-2 cheap: each merchant's model knows only its own prices.
        for (merchant, price) in [("m-1", 200), ("m-2", 20)] {
            for index in 0..40u32 {
                let mut order =
                    oms_conformance::fixtures::order(oms_domain::order::Channel::Generic, &format!("{merchant}-{index}"));
                order.merchant_id = oms_domain::MerchantId::parse(merchant).unwrap();
                order.placed_at += chrono::Duration::hours(i64::from(index));
                order.lines[0].unit_price = rust_decimal::Decimal::from(price + index % 3);
                assert_eq!(ports.orders.insert_order(&order).await.unwrap(), InsertOutcome::Inserted);
                let mut reserved = oms_conformance::fixtures::stored(&order);
                reserved.status = oms_domain::OrderStatus::Reserved;
                let sale = oms_domain::sales::Sale::of(&reserved);
                let written = ports.orders.update_order_with(&reserved, &Effects::record_sale(sale)).await.unwrap();
                assert!(matches!(written, oms_domain::ports::UpdateOutcome::Updated { .. }));
            }
        }
        drop(store);
        let artifacts = run(&RetrainRequest::from_store(dir.path())).await.unwrap();
        let merchants: Vec<&str> = artifacts.iter().map(|a| a.merchant_id.as_str()).collect();
        assert_eq!(merchants, ["m-1", "m-2"]);
        let quote = |merchant: &str| {
            let artifact = load_current(dir.path(), merchant).unwrap().unwrap();
            let query = oms_pricing::Query {
                customer_id: "c-1",
                sku: "SKU-1",
                quantity: 2,
                province: "Zhejiang",
                city: "Hangzhou",
                at: chrono::Utc::now(),
                category: None,
            };
            artifact.quote(&query).unwrap().price
        };
        assert!(quote("m-1") > rust_decimal::Decimal::from(150), "m-1's model prices from m-1's sales");
        assert!(quote("m-2") < rust_decimal::Decimal::from(30), "m-2's model never saw m-1's prices");
    }
}
