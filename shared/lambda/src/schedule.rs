//! Scheduled functions (EventBridge).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;

/// retrain-model: trains every merchant on its history (the sales in DynamoDB, and the
/// CSV in S3 when there is one) and publishes each new model as that merchant's current
/// one (`pricing::retrain`); the answer is each merchant's report. A failed run is an
/// error, so the schedule's retry and failure destination see it.
#[cfg(feature = "pricing")]
pub async fn retrain(
    artifacts: &oms_aws::Artifacts,
    ports: &oms_domain::ports::Ports,
    min_margin: rust_decimal::Decimal,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let at = event.payload.time.unwrap_or_else(chrono::Utc::now);
    let version = at.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let published = crate::pricing::retrain(artifacts, ports, version, min_margin).await?;
    let reports: serde_json::Map<String, serde_json::Value> = published
        .iter()
        .map(|artifact| Ok((artifact.merchant_id.clone(), serde_json::to_value(&artifact.report)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(serde_json::json!({ "merchants": reports }))
}

/// export-orders: scans the table's orders and writes the export `GET /analytics` reads
/// (`oms_aws::order_export`), then the report files of the last 30 days from the same pass
/// (`reports::write_reports`); the answer is the manifest and the files written. A failed
/// run is an error, so the schedule's retry and failure destination see it.
#[cfg(feature = "export-writer")]
pub async fn export_orders(
    aws: &oms_aws::Aws,
    ports: &oms_domain::ports::Ports,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let at = event.payload.time.unwrap_or_else(chrono::Utc::now);
    let export = oms_aws::order_export::export_orders(aws.dynamo(), aws.artifacts(), at).await?;
    tracing::info!(merchants = export.manifest.merchants.len(), orders = export.orders.len(), "orders exported");
    let reports = crate::reports::write_reports(aws.artifacts(), ports, &export.orders, at).await?;
    tracing::info!(files = reports.len(), "reports written");
    Ok(serde_json::json!({ "manifest": export.manifest, "reports": reports }))
}

/// sweep-orders: one sweep (`oms_domain::usecases::sweep`) per scheduled run; the report
/// is the function's answer and its log.
pub async fn sweep_orders(
    ports: &oms_domain::ports::Ports,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<oms_domain::usecases::sweep::SweepReport, lambda_runtime::Error> {
    sweep_orders_with(ports, &oms_domain::usecases::sweep::SweepLimits::default(), event).await
}

/// `sweep_orders` keeping to `limits` (the unpaid hold as configured).
pub async fn sweep_orders_with(
    ports: &oms_domain::ports::Ports,
    limits: &oms_domain::usecases::sweep::SweepLimits,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<oms_domain::usecases::sweep::SweepReport, lambda_runtime::Error> {
    let report = oms_domain::usecases::sweep::sweep(ports, limits).await?;
    tracing::info!(
        schedule = ?event.payload.resources,
        repaired = report.repaired.len(),
        expired = report.expired.len(),
        sales_closed = report.sales_closed.len(),
        units_returned = report.sales_closed.iter().map(|c| c.units_returned).sum::<u64>(),
        auctions_closed = report.auctions_closed.len(),
        group_buys_settled = report.group_buys_settled.len(),
        expired_lots = report.expired_lots.len(),
        "sweep done"
    );
    Ok(report)
}

/// The sweeper's limits from the environment, read once at start: `OMS_UNPAID_HOLD_MINUTES`
/// (default 30; a value that is not a whole number of minutes from 1 is an error).
pub fn sweep_limits(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<oms_domain::usecases::sweep::SweepLimits, lambda_runtime::Error> {
    let mut limits = oms_domain::usecases::sweep::SweepLimits::default();
    if let Some(raw) = lookup("OMS_UNPAID_HOLD_MINUTES") {
        let minutes: i64 = raw
            .trim()
            .parse()
            .ok()
            .filter(|m| *m >= 1)
            .ok_or_else(|| format!("OMS_UNPAID_HOLD_MINUTES must be a whole number of minutes from 1, not {raw:?}"))?;
        limits.unpaid_hold = chrono::Duration::minutes(minutes);
    }
    Ok(limits)
}

/// What a clean reconciliation answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReconcileAnswer {
    pub skus: usize,
    pub stocks: usize,
    pub open_holds: usize,
    pub entries: usize,
    /// Stocks at or below their reorder point, and the low-stock alerts raised and
    /// resolved by this run's check (`usecases::replenishment::check_low_stock`).
    pub low_stock: usize,
    pub low_stock_raised: usize,
    pub low_stock_resolved: usize,
}

/// reconcile-stock: one reconciliation (`oms_domain::usecases::reconcile`) and one
/// low-stock check (`oms_domain::usecases::replenishment`) per scheduled run. A drift is an error naming every drift and its entries (logged in full), so the
/// run fails and lands in the scheduled failures queue, whose alarm tells staff.
pub async fn reconcile_stock(
    ports: &oms_domain::ports::Ports,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<ReconcileAnswer, lambda_runtime::Error> {
    let report = oms_domain::usecases::reconcile::reconcile(ports).await?;
    tracing::info!(schedule = ?event.payload.resources, stocks = report.stocks, drifts = report.drifts.len(), "reconciliation done");
    let low = oms_domain::usecases::replenishment::check_low_stock(ports).await?;
    tracing::info!(
        checked = low.checked,
        low = low.low,
        raised = low.raised.len(),
        resolved = low.resolved.len(),
        "low-stock check done"
    );
    if !report.is_clean() {
        tracing::error!(report = %report, "stock drift");
        return Err(format!("{report}").into());
    }
    Ok(ReconcileAnswer {
        skus: report.skus,
        stocks: report.stocks,
        open_holds: report.open_holds,
        entries: report.entries,
        low_stock: low.low,
        low_stock_raised: low.raised.len(),
        low_stock_resolved: low.resolved.len(),
    })
}
