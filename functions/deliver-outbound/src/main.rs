//! deliver-outbound: sends the notices of the outbound queue to the warehouses' endpoints
//! and the shops' APIs (SQS).

use std::sync::Arc;

use oms_domain::usecases::outbound::Deliver;

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let destinations = oms_lambda::outbound_destinations().await?;
    let outbound = Arc::new(oms_outbound::HttpOutbound::new(destinations));
    oms_lambda::run_sqs(oms_lambda::aws_ports().await?, Deliver { outbound }).await
}
