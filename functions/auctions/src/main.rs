//! auctions: auctions, their bids and an auction's state, behind API Gateway. Closing an
//! ended auction is the sweep's (sweep-orders).

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::auctions_api(state)).await
}
