//! `oms sweep`: one sweep of a data directory (`oms_domain::usecases::sweep`), for a cron
//! job or an operator; `oms serve` sweeps by itself.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use oms_domain::ports::SystemClock;
use oms_domain::usecases::sweep::{sweep, SweepLimits, SweepReport};
use oms_embedded::Embedded;

/// Sweeps the store in `data_dir`, counting an order received or allocated for more than
/// `stuck_after_minutes` as stuck (backorders and orders on hold: the default hour).
/// The messages it queues are worked off by the next `oms serve` on this directory.
pub async fn run(data_dir: &Path, stuck_after_minutes: i64, unpaid_hold_minutes: i64) -> anyhow::Result<SweepReport> {
    anyhow::ensure!(stuck_after_minutes > 0, "--stuck-after-minutes must be at least 1");
    anyhow::ensure!(unpaid_hold_minutes > 0, "--unpaid-hold-minutes must be at least 1");
    let embedded =
        Embedded::open(data_dir).with_context(|| format!("Failed to open the data directory {}", data_dir.display()))?;
    let ports = embedded.ports(Arc::new(SystemClock));
    let limit = chrono::Duration::minutes(stuck_after_minutes);
    let unpaid_hold = chrono::Duration::minutes(unpaid_hold_minutes);
    let limits = SweepLimits { received: limit, allocated: limit, unpaid_hold, ..SweepLimits::default() };
    Ok(sweep(&ports, &limits).await?)
}
