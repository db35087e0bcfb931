//! retrain-model: the scheduled retraining of the pricing models. Until it is built, every
//! run fails loudly with a clear message rather than pretend to have trained anything.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};

async fn retrain(event: LambdaEvent<EventBridgeEvent<serde_json::Value>>) -> Result<serde_json::Value, oms_lambda::Error> {
    tracing::error!(schedule = ?event.payload.resources, "retraining was triggered but is not available yet");
    Err("not_implemented: retraining the pricing models is not available yet".into())
}

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init_tracing();
    lambda_runtime::run(service_fn(retrain)).await
}
