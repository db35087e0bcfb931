//! rentals: rental units, their availability, bookings and each booking's steps
//! (hand-over, return, inspection, settlement, cancel), behind API Gateway. A function of
//! its own: a booking is a transaction of day items in the unit's partition and a
//! cancellation deletes them (PutItem, DeleteItem); the booking's service order is written
//! in those transactions, and it never touches stock or queues, so its role stays that
//! small.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_state().await?;
    oms_lambda::run_http(oms_api::routes::rentals_api(state)).await
}
