//! Scheduled functions (EventBridge).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;

/// The run failed because the feature is not built yet: a clear failure, not a fake success.
#[derive(Debug, thiserror::Error)]
#[error("not_implemented: retraining the pricing models is not available yet")]
pub struct NotAvailable;

/// retrain-model until retraining is built: every scheduled run fails loudly.
pub async fn retrain_not_available(
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<serde_json::Value, NotAvailable> {
    tracing::error!(schedule = ?event.payload.resources, "retraining was triggered but is not available yet");
    Err(NotAvailable)
}

impl From<NotAvailable> for lambda_runtime::Diagnostic {
    fn from(err: NotAvailable) -> Self {
        Self { error_type: "NotImplemented".into(), error_message: err.to_string() }
    }
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
