//! retrain-model: the scheduled retraining of the pricing models (EventBridge): trains on
//! the purchase history in S3 and publishes the new model as current.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_retrain().await
}
