//! reserve-stock: holds the stock of allocated orders, from the reserve queue.

use oms_domain::usecases::fulfilment::Reserve;

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_sqs(oms_lambda::aws_ports().await?, Reserve).await
}
