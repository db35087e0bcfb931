//! bulk-trade: requests for quotes behind API Gateway. A buyer's requirement list is
//! quoted per line by the merchants serving its region (their listings at once, the
//! merchants themselves until quotes close), the cheapest cover of merchants is proposed,
//! and its acceptance makes one sub-order per merchant through intake. A function of its
//! own: it reads stock, warehouses, merchants, listings and rate tables, writes only the
//! request's item and the sub-orders' intake transactions, and never holds stock.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::bulk_trade_api(state)).await
}
