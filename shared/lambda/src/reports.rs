//! Report files in AWS: the four templates over the last 30 days, written to the bucket
//! (`reports/<UTC time>/<file>`) by `export-orders` from the orders it just exported, and
//! listed and served from there by `GET /reports` in ingest-order ([`S3Reports`]).

use async_trait::async_trait;

use oms_api::routes::{plain_name, report_content_type, ReportFileAnswer, ReportFiles};
use oms_aws::Artifacts;
use oms_domain::ports::StoreError;

/// Where the report runs live in the bucket.
pub const REPORTS_PREFIX: &str = "reports/";

/// The report files in the bucket, one prefix per run.
#[derive(Debug, Clone)]
pub struct S3Reports {
    pub artifacts: Artifacts,
}

/// `reports/<run>/<file>` as (run, file), when both are plain names.
fn run_and_file(key: &str) -> Option<(&str, &str)> {
    let (run, file) = key.strip_prefix(REPORTS_PREFIX)?.split_once('/')?;
    (plain_name(run) && plain_name(file)).then_some((run, file))
}

#[async_trait]
impl ReportFiles for S3Reports {
    async fn list(&self) -> Result<Vec<ReportFileAnswer>, StoreError> {
        Ok(self
            .artifacts
            .list(REPORTS_PREFIX)
            .await?
            .into_iter()
            .filter_map(|object| {
                let (run, file) = run_and_file(&object.key)?;
                Some(ReportFileAnswer {
                    path: format!("{run}/{file}"),
                    bytes: object.bytes,
                    modified: object.modified,
                    content_type: report_content_type(file),
                })
            })
            .collect())
    }

    async fn read(&self, run: &str, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.artifacts.get_object(&format!("{REPORTS_PREFIX}{run}/{file}")).await
    }
}

/// How many report runs the bucket keeps: after each run, the older ones go.
#[cfg(feature = "export-writer")]
pub const KEEP_RUNS: usize = 30;

/// Writes every template over the 30 days up to `at`, in every format, from `orders` (the
/// pass just exported) and the stock and shipments in `ports`, into `reports/<at>/`; then
/// deletes all but the newest [`KEEP_RUNS`] runs. Answers the keys written.
#[cfg(feature = "export-writer")]
pub async fn write_reports(
    artifacts: &Artifacts,
    ports: &oms_domain::ports::Ports,
    orders: &oms_aws::order_export::OrderSnapshot,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<String>> {
    use anyhow::Context as _;
    use oms_domain::reports::{ReportQuery, Template};
    use oms_domain::usecases::reports::{generate, ReportSources};

    let query = ReportQuery { from: at - chrono::Duration::days(30), to: at, merchant: None };
    let sources = ReportSources { archive: orders, inventory: ports.inventory.as_ref(), shipments: ports.shipments.as_ref() };
    let documents = generate(sources, &query, &Template::ALL, &mut |_| {}).await?;
    let run = at.format("%Y%m%dT%H%M%SZ").to_string();
    let scratch = std::env::temp_dir().join(format!("oms-reports-{run}"));
    let written = oms_report_files::write(&documents, oms_report_files::Formats::ALL, &scratch)?;
    let mut keys = Vec::new();
    for path in written {
        let name = path.file_name().and_then(|n| n.to_str()).context("a report file has a plain name")?.to_owned();
        let bytes = std::fs::read(&path).with_context(|| format!("Failed to read {}", path.display()))?;
        let key = format!("{REPORTS_PREFIX}{run}/{name}");
        artifacts.put_object(&key, bytes).await?;
        keys.push(key);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    prune_runs(artifacts, KEEP_RUNS).await?;
    Ok(keys)
}

/// Deletes every object of the runs older than the newest `keep`.
#[cfg(feature = "export-writer")]
async fn prune_runs(artifacts: &Artifacts, keep: usize) -> Result<usize, StoreError> {
    let objects = artifacts.list(REPORTS_PREFIX).await?;
    let mut runs: Vec<&str> = objects.iter().filter_map(|o| run_and_file(&o.key).map(|(run, _)| run)).collect();
    runs.sort_unstable_by(|a, b| b.cmp(a));
    runs.dedup();
    let old: std::collections::BTreeSet<&str> = runs.into_iter().skip(keep).collect();
    let mut deleted = 0;
    for object in &objects {
        if run_and_file(&object.key).is_some_and(|(run, _)| old.contains(run)) {
            artifacts.delete_object(&object.key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_run_and_file_names_are_report_files() {
        assert_eq!(run_and_file("reports/20261201T030000Z/sales.html"), Some(("20261201T030000Z", "sales.html")));
        assert_eq!(run_and_file("reports/20261201T030000Z/../x"), None);
        assert_eq!(run_and_file("reports/.hidden/sales.html"), None);
        assert_eq!(run_and_file("exports/orders/m-1.jsonl"), None);
        assert_eq!(run_and_file("reports/20261201T030000Z/a/b.csv"), None);
    }
}
