//! `oms report` and `oms serve`'s scheduled reports: the templates of
//! `oms_domain::reports` read from the embedded store and rendered as files
//! (`oms_report_files`).
//!
//! Scheduled runs write every template into `<data dir>/reports/<UTC time>/`, which
//! `GET /reports` lists.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use oms_domain::ports::Clock as _;
use oms_domain::ports::SystemClock;
use oms_domain::reports::{Document, ReportQuery, Template};
use oms_domain::usecases::reports::{generate, ReportSources};
use oms_embedded::Embedded;
pub use oms_report_files::{escape, html, svg, write, Formats};

use crate::progress::Progress;

/// What `oms report` was asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub templates: Vec<Template>,
    pub query: ReportQuery,
    pub formats: Formats,
    /// Default: a new run directory under `<data dir>/reports/`.
    pub out: Option<PathBuf>,
    pub data_dir: PathBuf,
}

/// Where a data directory's reports go (and `GET /reports` reads).
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("reports")
}

/// The run directory for reports made at `at`: `<data dir>/reports/20261201T030000Z`.
pub fn run_dir(data_dir: &Path, at: DateTime<Utc>) -> PathBuf {
    root(data_dir).join(at.format("%Y%m%dT%H%M%SZ").to_string())
}

/// Generates the reports `request` names from its data directory and writes them; the
/// paths written, in order.
pub async fn run(request: &ReportRequest) -> anyhow::Result<Vec<PathBuf>> {
    let embedded = Embedded::open(&request.data_dir)
        .with_context(|| format!("Failed to open the data directory {}", request.data_dir.display()))?;
    let out = request.out.clone().unwrap_or_else(|| run_dir(&request.data_dir, SystemClock.now()));
    let documents = documents(&embedded, &request.query, &request.templates, true).await?;
    write(&documents, request.formats, &out)
}

/// The documents of `templates` from `embedded`, with a progress bar over the orders when
/// `show_progress`.
pub async fn documents(
    embedded: &Embedded,
    query: &ReportQuery,
    templates: &[Template],
    show_progress: bool,
) -> anyhow::Result<Vec<Document>> {
    let reads_orders = templates.iter().any(|t| *t != Template::Inventory);
    let progress = if show_progress && reads_orders {
        let total: usize = embedded.order_counts_by_status().await?.iter().map(|(_, n)| n).sum();
        Some(Progress::new("report", total as u64, "orders"))
    } else {
        None
    };
    let ports = embedded.ports(std::sync::Arc::new(SystemClock));
    let sources = ReportSources { archive: embedded, inventory: ports.inventory.as_ref(), shipments: ports.shipments.as_ref() };
    let mut tell = |n: u64| {
        if let Some(progress) = &progress {
            progress.add(n);
        }
    };
    let documents = generate(sources, query, templates, &mut tell).await.context("Failed to read the reports' data")?;
    if let Some(progress) = &progress {
        progress.finish();
    }
    Ok(documents)
}

/// How many run directories the scheduled reports keep: after each run, older ones go.
pub const KEEP_RUNS: usize = 30;

/// `oms serve --report-every-hours`: every template over the last 30 days, in every
/// format, into a new run directory whenever `every` has passed since the newest run
/// (the first at start when none is that recent), until stopped; then only the newest
/// [`KEEP_RUNS`] runs are kept. A failed run is logged.
pub async fn scheduled(embedded: Embedded, data_dir: PathBuf, every: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        let now = SystemClock.now();
        let due = newest_run(&data_dir).map_or(now, |last| last + chrono::Duration::from_std(every).unwrap_or_default());
        let wait = (due - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let at = SystemClock.now();
        let query = ReportQuery { from: at - chrono::Duration::days(30), to: at, merchant: None };
        let out = run_dir(&data_dir, at);
        // Written under a hidden name, then renamed: `GET /reports` never lists half a run.
        let hidden = out.with_file_name(format!(".{}", out.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        let result = async {
            let documents = documents(&embedded, &query, &Template::ALL, false).await?;
            let (dir, done) = (hidden.clone(), out.clone());
            tokio::task::spawn_blocking(move || {
                let written = write(&documents, Formats::ALL, &dir)?;
                std::fs::rename(&dir, &done).with_context(|| format!("Failed to move the run to {}", done.display()))?;
                anyhow::Ok(written)
            })
            .await?
        }
        .await;
        match result {
            Ok(written) => {
                tracing::info!(dir = %out.display(), files = written.len(), "scheduled reports written");
                match prune_runs(&data_dir, KEEP_RUNS) {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, kept = KEEP_RUNS, "old report runs deleted"),
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "deleting old report runs failed"),
                }
            }
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "the scheduled reports failed");
                let _ = std::fs::remove_dir_all(&hidden);
                // An empty run directory: the next try is a full interval later, not at once.
                let _ = std::fs::create_dir_all(&out);
            }
        }
    }
}

/// The time of the newest run directory, from its name.
fn newest_run(data_dir: &Path) -> Option<DateTime<Utc>> {
    runs(data_dir).ok()?.into_iter().map(|(at, _)| at).max()
}

/// The run directories (named by their time, `20261201T030000Z`) under the reports root.
fn runs(data_dir: &Path) -> std::io::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    Ok(std::fs::read_dir(root(data_dir))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let at = chrono::NaiveDateTime::parse_from_str(name.to_str()?, "%Y%m%dT%H%M%SZ").ok()?.and_utc();
            Some((at, entry.path()))
        })
        .collect())
}

/// Deletes every run directory but the newest `keep`; anything else under the reports
/// root is left alone. Answers how many were deleted.
pub fn prune_runs(data_dir: &Path, keep: usize) -> anyhow::Result<usize> {
    let mut all = runs(data_dir).with_context(|| format!("Failed to list {}", root(data_dir).display()))?;
    all.sort_by_key(|run| std::cmp::Reverse(run.0));
    let old = all.split_off(keep.min(all.len()));
    for (_, dir) in &old {
        std::fs::remove_dir_all(dir).with_context(|| format!("Failed to delete {}", dir.display()))?;
    }
    Ok(old.len())
}
