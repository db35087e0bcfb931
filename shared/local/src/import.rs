//! `oms import FILE.csv`: bulk intake of orders from a CSV file into the local store,
//! through the same intake use case as the webhooks (idempotent per external id), then
//! the queued allocation and reservation are worked off before it returns.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use oms_channels::csv_import;
use oms_domain::ports::SystemClock;
use oms_domain::usecases::intake::{self, IntakeError};
use oms_domain::OrderStatus;
use oms_embedded::Embedded;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub accepted: usize,
    pub duplicates: usize,
    /// One line per refused order: where and why.
    pub refused: Vec<String>,
    /// One line per order stored on hold (it names a SKU no warehouse has counted).
    pub held: Vec<String>,
}

/// Imports every order of `file` into the store in `data_dir`.
pub async fn run(data_dir: &Path, file: &Path) -> anyhow::Result<ImportSummary> {
    let reader = std::fs::File::open(file).with_context(|| format!("Failed to open {}", file.display()))?;
    let embedded = Embedded::open(data_dir).with_context(|| format!("Failed to open {}", data_dir.display()))?;
    let ports = embedded.ports(Arc::new(SystemClock));
    let mut summary = ImportSummary::default();
    for parsed in csv_import::parse_csv(reader) {
        let new = match parsed {
            Ok(new) => new,
            Err(err) => {
                summary.refused.push(err.to_string());
                continue;
            }
        };
        let external_id = new.external_id.clone();
        match intake::receive_order(&ports, new).await {
            Ok(receipt) if receipt.duplicate => summary.duplicates += 1,
            Ok(receipt) if receipt.status == OrderStatus::OnHold => {
                summary.accepted += 1;
                summary.held.push(format!("{external_id}: on hold ({}), an alert was raised", receipt.order_id));
            }
            Ok(_) => summary.accepted += 1,
            Err(IntakeError::Unexpected(err)) => return Err(err).context("Failed to store an imported order"),
        }
    }
    crate::workers::drain(&embedded, &ports, Duration::from_secs(120)).await?;
    Ok(summary)
}
