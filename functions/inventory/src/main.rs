//! inventory: warehouses and stock counts, behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::inventory_api(state)).await
}
