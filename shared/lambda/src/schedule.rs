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

/// sweep-orders: one sweep (`oms_domain::usecases::sweep`) per scheduled run; the report
/// is the function's answer and its log.
pub async fn sweep_orders(
    ports: &oms_domain::ports::Ports,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<oms_domain::usecases::sweep::SweepReport, lambda_runtime::Error> {
    let limits = oms_domain::usecases::sweep::SweepLimits::default();
    let report = oms_domain::usecases::sweep::sweep(ports, &limits).await?;
    tracing::info!(schedule = ?event.payload.resources, repaired = report.repaired.len(), "sweep done");
    Ok(report)
}
