//! `oms import FILE.csv`: bulk intake of orders from a CSV file into the local store,
//! through the same intake use case as the webhooks (idempotent per external id), then
//! the queued allocation and reservation are worked off before it returns.

use std::io::BufRead as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use oms_channels::csv_import;
use oms_domain::ports::SystemClock;
use oms_domain::usecases::intake::{self, IntakeError};
use oms_domain::OrderStatus;
use oms_embedded::Embedded;

use crate::progress::Progress;

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
    let rows = count_rows(file)?;
    let reader = std::fs::File::open(file).with_context(|| format!("Failed to open {}", file.display()))?;
    let embedded = Embedded::open(data_dir).with_context(|| format!("Failed to open {}", data_dir.display()))?;
    let ports = embedded.ports(Arc::new(SystemClock));
    let mut summary = ImportSummary::default();
    let progress = Progress::new("import", rows, "rows");
    for parsed in csv_import::parse_csv(reader) {
        let new = match parsed {
            Ok(new) => new,
            Err(err) => {
                summary.refused.push(err.to_string());
                progress.add(1);
                continue;
            }
        };
        progress.add(new.lines.len() as u64);
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
    progress.finish();
    crate::workers::drain(&embedded, &ports, Duration::from_secs(120)).await?;
    Ok(summary)
}

/// The data rows of a CSV file (its lines less the header), for the progress bar.
fn count_rows(file: &Path) -> anyhow::Result<u64> {
    let mut reader =
        std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("Failed to open {}", file.display()))?);
    let mut lines = 0u64;
    loop {
        let buffer = reader.fill_buf().with_context(|| format!("Failed to read {}", file.display()))?;
        if buffer.is_empty() {
            break;
        }
        lines += buffer.iter().filter(|&&byte| byte == b'\n').count() as u64;
        let read = buffer.len();
        reader.consume(read);
    }
    Ok(lines.saturating_sub(1))
}
