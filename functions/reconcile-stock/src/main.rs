//! reconcile-stock: on a schedule, checks every stock (on hand, held, available) against
//! its open holds and its ledger; a drift fails the run, so it reaches the scheduled
//! failures queue and its alarm.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_reconcile(oms_lambda::aws_ports().await?).await
}
