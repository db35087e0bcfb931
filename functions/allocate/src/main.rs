//! allocate: plans warehouses for received orders, from the allocate queue.

use oms_domain::usecases::fulfilment::Allocate;

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let merge = oms_lambda::merge_policy(|name| std::env::var(name).ok())?;
    oms_lambda::run_sqs(oms_lambda::aws_ports().await?, Allocate { merge }).await
}
