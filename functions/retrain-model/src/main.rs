//! retrain-model: the scheduled retraining of the pricing models (EventBridge).

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    lambda_runtime::run(lambda_runtime::service_fn(oms_lambda::schedule::retrain_not_available)).await
}
