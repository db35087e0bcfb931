//! flash-sale-claim: flash sales, their claims and a sale's state, behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::flash_sales_api(state)).await
}
