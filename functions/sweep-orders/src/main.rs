//! sweep-orders: on a schedule, queues again the step each order stuck past its limit
//! waits for, expires unpaid holds and closes the flash sales that ended.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_sweep(oms_lambda::aws_ports().await?).await
}
