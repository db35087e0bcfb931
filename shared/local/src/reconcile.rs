//! `oms reconcile`: checks every stock of a data directory against its open holds and its
//! ledger (`oms_domain::usecases::reconcile`), prints a summary and every drift with the
//! entries that explain it, then checks every stock against its reorder point (raising
//! and resolving low-stock alerts, `oms_domain::usecases::replenishment`). The caller
//! exits non-zero on drift.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use oms_domain::ports::SystemClock;
use oms_domain::usecases::reconcile::{reconcile_with, ReconcileStep, Report};

use crate::progress::Progress;
use oms_domain::usecases::replenishment::{check_low_stock, LowStockReport};
use oms_embedded::Embedded;

/// Reconciles the store in `data_dir`, then runs the low-stock check.
pub async fn run(data_dir: &Path) -> anyhow::Result<(Report, LowStockReport)> {
    let embedded =
        Embedded::open(data_dir).with_context(|| format!("Failed to open the data directory {}", data_dir.display()))?;
    let ports = embedded.ports(Arc::new(SystemClock));
    let shown: std::sync::Mutex<Option<Progress>> = std::sync::Mutex::new(None);
    let progress = |step: ReconcileStep| {
        let Ok(mut shown) = shown.lock() else { return };
        match step {
            ReconcileStep::Skus(total) => *shown = Some(Progress::new("reconciling", total as u64, "SKUs")),
            ReconcileStep::SkuChecked => shown.iter().for_each(|p| p.add(1)),
        }
    };
    let report = reconcile_with(&ports, &progress).await?;
    if let Some(done) = shown.lock().ok().and_then(|mut shown| shown.take()) {
        done.finish();
    }
    let low = check_low_stock(&ports).await?;
    Ok((report, low))
}
