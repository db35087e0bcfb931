//! track-shipment: shipments reported by warehouses, carrier tracking webhooks (signed with
//! the carriers' secrets) and order tracking, behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_webhook_state().await?;
    oms_lambda::run_http(oms_api::routes::tracking_api(state)).await
}
