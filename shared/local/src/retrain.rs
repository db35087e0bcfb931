//! `oms retrain`: trains the pricing models on a CSV history, compares them on held-out
//! rows (and on a test file when given), writes the versioned artifact into the data
//! directory and moves its `current` pointer there, and writes the report.
//!
//! In the data directory: `models/<version>.json` (the artifact, report included) and
//! `models/current` (the version quotes use), replaced by a rename so a reader sees the
//! old pointer or the new one, never half of one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use oms_pricing::{Artifact, Progress, Purchase, TrainOptions};

/// What `oms retrain` was asked to do.
#[derive(Debug, Clone)]
pub struct RetrainRequest {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub data_dir: PathBuf,
}

/// Reads the history, trains, stores the artifact as current and writes the report.
pub fn run(request: &RetrainRequest) -> anyhow::Result<Artifact> {
    let started = Instant::now();
    let history = read_history(&request.train)?;
    let test = request.test.as_deref().map(read_history).transpose()?;
    eprintln!("read {} training rows in {:.1} s", history.len(), started.elapsed().as_secs_f64());
    let version = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let mut artifact = oms_pricing::train(history, &TrainOptions::new(version), &print_progress)
        .context("Failed to train the pricing models")?;
    if let Some(test) = &test {
        artifact.record_test(test);
    }
    store_as_current(&request.data_dir, &artifact)?;
    if let Some(path) = &request.report {
        let report = serde_json::to_string_pretty(&artifact.report).context("Failed to serialise the report")?;
        std::fs::write(path, report).with_context(|| format!("Failed to write the report to {}", path.display()))?;
    }
    Ok(artifact)
}

/// The version `models/current` names in `data_dir`; `None` before any retrain.
pub fn current_version(data_dir: &Path) -> anyhow::Result<Option<String>> {
    let pointer = models_dir(data_dir).join("current");
    match std::fs::read_to_string(&pointer) {
        Ok(version) => Ok(Some(version.trim().to_owned())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("Failed to read {}", pointer.display())),
    }
}

/// Loads the artifact `models/current` names in `data_dir`; `None` before any retrain.
pub fn load_current(data_dir: &Path) -> anyhow::Result<Option<Artifact>> {
    let Some(version) = current_version(data_dir)? else { return Ok(None) };
    let path = models_dir(data_dir).join(format!("{version}.json"));
    let json = std::fs::read_to_string(&path).with_context(|| format!("Failed to read the pricing model {}", path.display()))?;
    Artifact::from_json(&json).with_context(|| format!("Failed to parse the pricing model {}", path.display())).map(Some)
}

/// One line per training, summarising what was selected.
pub fn summary(artifact: &Artifact) -> String {
    let report = &artifact.report;
    let all = artifact.models.all.as_ref().map_or("none", |model| model.algorithm.name());
    format!(
        "model {}: {} rows ({} fitted, {} held out) in {:.1} s; {} candidates, {} segments kept \
         (all: {all}, {} provinces, {} SKUs, {} customers); held-out RMSE {:.4}, test RMSE {:.4} over {} rows ({})",
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

fn store_as_current(data_dir: &Path, artifact: &Artifact) -> anyhow::Result<()> {
    let dir = models_dir(data_dir);
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
    if progress.done % step != 0 && progress.done != progress.total {
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

    #[test]
    fn a_retrain_writes_the_report_and_makes_its_model_current() {
        let dir = tempfile::tempdir().unwrap();
        let (train, test, report) = (dir.path().join("train.csv"), dir.path().join("test.csv"), dir.path().join("report.json"));
        write_history(&train, 0..600);
        write_history(&test, 600..700);
        let data_dir = dir.path().join("data");
        assert!(load_current(&data_dir).unwrap().is_none(), "no model before the first retrain");
        let request = RetrainRequest { train, test: Some(test), report: Some(report.clone()), data_dir: data_dir.clone() };
        let artifact = run(&request).unwrap();

        let current = load_current(&data_dir).unwrap().unwrap();
        assert_eq!(current.version, artifact.version);
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        assert!(report["test_rmse"].as_f64().is_some_and(|rmse| rmse < 2.0), "{report}");
        assert_eq!(report["test_rows"], 100);
        let candidate = &report["candidates"][0];
        for field in ["segment", "algorithm", "rmse", "sse"] {
            assert!(!candidate[field].is_null(), "{field} in {candidate}");
        }
        assert_eq!(report["selected"][0]["segment"], "all");
    }
}
