//! returns: returns and exchanges (RMA) behind API Gateway: a buyer's request for a
//! delivered order's units, staff's approval or refusal, the ship-back, receipt,
//! inspection (units back on hand or to damaged stock, with ledger entries) and the
//! settlement (a refund queued for the payment system through the outbox, or the
//! exchange's order through the normal intake), and a warehouse's damaged stock. The return
//! window and restocking fee are read once at start (`OMS_RETURN_WINDOW_DAYS`,
//! `OMS_RESTOCKING_FEE_PERCENT`).

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let policy = oms_lambda::return_policy(|name| std::env::var(name).ok())?;
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::with_return_policy(oms_api::routes::returns_api(state), policy)).await
}
