//! retrain-model: the scheduled retraining of the pricing models (EventBridge): trains each
//! merchant on its sales history in DynamoDB (and the purchase history CSV in S3, when
//! there is one) and publishes each new model as that merchant's current one.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_retrain().await
}
