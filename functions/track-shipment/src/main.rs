//! track-shipment: its routes answer 501 with a JSON error until the feature is built.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::tracking_api(state)).await
}
