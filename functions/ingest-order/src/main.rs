//! ingest-order: channel webhooks, order reads, cancel and modify, behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_webhook_state().await?;
    oms_lambda::run_http(oms_api::routes::orders_api(state)).await
}
