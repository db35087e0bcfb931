//! allocate: plans warehouses for received orders, from the allocate queue.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init_tracing();
    oms_lambda::run_sqs(oms_lambda::aws_state().await?).await
}
