//! relay-outbox: sends the messages order writes put in the table's outbox to their
//! queues, from the table's stream.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_outbox_relay(oms_lambda::aws_ports().await?).await
}
