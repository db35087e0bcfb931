//! group-buys: group-buy offers, their joins and an offer's state, behind API Gateway.
//! Settling an offer at its deadline is the sweep's (sweep-orders). A function of its own
//! rather than a route of `auctions`: a join updates the offer's count and a conversion
//! updates the stock-holding offer (UpdateItem), which the auctions function never needs.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::group_buys_api(state)).await
}
