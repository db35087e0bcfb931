//! repairs: repair bookings, their quotes, and each repair's steps (accept, decline,
//! start, complete, ship back, close, cancel), behind API Gateway. A function of its own:
//! a step is one transaction of the repair's Put, the service order's items and, when the
//! repair starts, its parts' stock Updates and ledger Puts; it queues nothing, so its role
//! stays that small.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::repairs_api(state)).await
}
