//! matchmaking: buyer requests matched to every merchant's listed, stocked products
//! (an in-memory text index per request, offers ranked by landed price), read, and
//! accepted as orders through intake, behind API Gateway. A function of its own: it reads
//! the whole listed catalogue, stock, warehouses and rates, and writes only its requests
//! and, on acceptance, an order, so its role stays that small.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::matchmaking_api(state)).await
}
