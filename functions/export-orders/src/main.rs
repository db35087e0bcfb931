//! export-orders: the scheduled export of the table's orders to S3 (EventBridge), which
//! `GET /analytics` reads in AWS: never a table scan per request.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_export().await
}
