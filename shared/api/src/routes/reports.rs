//! `GET /reports` and `GET /reports/{run}/{file}`: the generated report files, listed newest
//! first and served with their content type, from wherever they are kept
//! ([`ReportFiles`]): the data directory `oms serve` and `oms report` write into
//! ([`ReportDirectory`]), or the bucket `export-orders` writes into in AWS. Staff only.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use oms_domain::access::Scope;

use async_trait::async_trait;
use oms_domain::ports::StoreError;

use super::{AppState, PathParams};
use crate::error::{ErrorBody, ErrorCode};
use crate::{ApiError, Authed};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_reports)).routes(routes!(report_file))
}

/// One report file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportFileAnswer {
    /// `{run}/{file}`: what `GET /reports/{run}/{file}` takes.
    pub path: String,
    pub bytes: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub modified: Option<DateTime<Utc>>,
    pub content_type: &'static str,
}

/// Every report file, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportsAnswer {
    pub reports: Vec<ReportFileAnswer>,
}

/// The content type a report file is served with, by its extension.
pub fn content_type(file: &str) -> &'static str {
    match Path::new(file).extension().and_then(|e| e.to_str()) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Where the report files are kept: runs (named by their UTC time) of files.
#[async_trait]
pub trait ReportFiles: Send + Sync + std::fmt::Debug {
    /// Every report file of every run, in any order.
    async fn list(&self) -> Result<Vec<ReportFileAnswer>, StoreError>;
    /// The bytes of `file` in the run `run` (both plain names: [`plain_name`]), if there is
    /// such a file.
    async fn read(&self, run: &str, file: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// The report files under a directory (`<data dir>/reports`), one directory per run.
#[derive(Debug, Clone)]
pub struct ReportDirectory(pub PathBuf);

#[async_trait]
impl ReportFiles for ReportDirectory {
    async fn list(&self) -> Result<Vec<ReportFileAnswer>, StoreError> {
        let root = self.0.clone();
        tokio::task::spawn_blocking(move || list(&root))
            .await
            .map_err(|err| StoreError::new("The listing of the report files stopped", err))?
            .map_err(|err| StoreError::new("Failed to list the report files", err))
    }

    async fn read(&self, run: &str, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (run_dir, path) = (self.0.join(run), self.0.join(run).join(file));
        let read = tokio::task::spawn_blocking(move || read_within(&run_dir, &path))
            .await
            .map_err(|err| StoreError::new("The read of a report file stopped", err))?;
        match read {
            Ok(bytes) => Ok(bytes),
            Err(err) if matches!(err.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) => Ok(None),
            Err(err) => Err(StoreError::new("Failed to read a report file", err)),
        }
    }
}

/// The file at `path` in the run directory `run_dir`, when both are what they look like:
/// a directory and a regular file, neither a symbolic link (which could lead out of the
/// reports' directory); `None` otherwise.
fn read_within(run_dir: &std::path::Path, path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    let run = std::fs::symlink_metadata(run_dir)?;
    let file = std::fs::symlink_metadata(path)?;
    if !run.file_type().is_dir() || !file.file_type().is_file() {
        return Ok(None);
    }
    std::fs::read(path).map(Some)
}

/// Whether `name` may be one part of a report's path: letters, digits, `-`, `_` and `.`,
/// not starting with a dot (so never `.` or `..`), at most 200 bytes.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn staff_only(caller: Authed) -> Result<(), ApiError> {
    let caller = caller.with(Scope::OrdersRead)?;
    if let Some(merchant) = caller.merchant_id() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("reports cover every merchant: platform staff only (this credential acts for {merchant})"),
        ));
    }
    Ok(())
}

fn files(state: &AppState) -> Result<&dyn ReportFiles, ApiError> {
    state.reports.as_deref().ok_or_else(|| ApiError::not_implemented("report files in this function (it keeps none)"))
}

/// The report files under `root`: each run's directory's files, newest first.
fn list(root: &Path) -> std::io::Result<Vec<ReportFileAnswer>> {
    let mut found = Vec::new();
    let runs = match std::fs::read_dir(root) {
        Ok(runs) => runs,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(err) => return Err(err),
    };
    for run in runs {
        let run = run?;
        let run_name = run.file_name().to_string_lossy().into_owned();
        if !run.file_type()?.is_dir() || !plain_name(&run_name) {
            continue;
        }
        for file in std::fs::read_dir(run.path())? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            let meta = file.metadata()?;
            if !meta.is_file() || !plain_name(&name) {
                continue;
            }
            found.push(ReportFileAnswer {
                content_type: content_type(&name),
                path: format!("{run_name}/{name}"),
                bytes: meta.len(),
                modified: meta.modified().ok().map(DateTime::<Utc>::from),
            });
        }
    }
    Ok(found)
}

/// Every generated report file (CSV, XLSX, SVG, HTML), newest first.
#[utoipa::path(
    get,
    path = "/reports",
    tag = "reports",
    responses(
        (status = 200, description = "The report files, newest first", body = ReportsAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`, or acts for one merchant", body = ErrorBody),
        (status = 501, description = "`not_implemented`: a function that keeps no report files", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn list_reports(State(state): State<AppState>, caller: Authed) -> Result<Json<ReportsAnswer>, ApiError> {
    staff_only(caller)?;
    let mut reports = files(&state)?.list().await?;
    reports.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.path.cmp(&b.path)));
    Ok(Json(ReportsAnswer { reports }))
}

/// One report file, with its content type (an HTML report is self-contained: its charts are
/// inline SVG, and it is served with a policy that runs no script).
#[utoipa::path(
    get,
    path = "/reports/{run}/{file}",
    tag = "reports",
    params(
        ("run" = String, Path, description = "The run's directory (its UTC time, `20261201T030000Z`)"),
        ("file" = String, Path, description = "The file's name, as `GET /reports` lists it"),
    ),
    responses(
        (status = 200, description = "The file: text/csv, text/html, image/svg+xml or the XLSX type"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the credential lacks `oms/orders.read`, or acts for one merchant", body = ErrorBody),
        (status = 404, description = "`not_found`: no such report file (or a name that is not a plain file name)", body = ErrorBody),
        (status = 501, description = "`not_implemented`: a function that keeps no report files", body = ErrorBody),
    ),
    security(("bearer" = ["oms/orders.read"]))
)]
async fn report_file(
    State(state): State<AppState>,
    caller: Authed,
    PathParams((run, file)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    staff_only(caller)?;
    let files = files(&state)?;
    let missing = || ApiError::new(ErrorCode::NotFound, "no such report file");
    if !plain_name(&run) || !plain_name(&file) {
        return Err(missing());
    }
    let bytes = files.read(&run, &file).await?.ok_or_else(missing)?;
    let headers = [
        (header::CONTENT_TYPE, content_type(&file)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    ];
    Ok((headers, bytes).into_response())
}
