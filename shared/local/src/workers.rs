//! Queue workers: one per queue, each running that queue's consumer. A worker receives a
//! batch, runs the consumer on every message concurrently, acknowledges what succeeded,
//! retries the rest later (after repeated failures the embedded queue moves a message to
//! its dead letters, as SQS's redrive does) and dead-letters a poison message at once.
//!
//! The sweeper runs beside them: once at start, then every [`SWEEP_EVERY`]; and the
//! low-stock check once at start, then every [`LOW_STOCK_EVERY`] (in AWS it runs with the
//! hourly reconciliation).
//!
//! A panic is not caught here: `oms` aborts on panic in every build (see `main.rs`), and
//! what was in flight is delivered again when the store is next opened.

use std::time::Duration;

use futures::future::join_all;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use oms_domain::allocation::merge::MergePolicy;
use oms_domain::messages::{consume, ConsumeError, Consumer, QueueMessage, QueueName};
use oms_domain::ports::Ports;
use oms_domain::usecases::fulfilment::{Allocate, Reserve};
use oms_domain::usecases::outbound::Deliver;
use oms_domain::usecases::replenishment::check_low_stock;
use oms_domain::usecases::sweep::{sweep, SweepLimits};
use oms_embedded::{Delivery, Embedded};
use oms_outbound::{Destinations, HttpOutbound};

/// Messages taken per receive and worked on together; their writes share the database
/// thread's commits. Measured with `oms bench serve`: 16 keeps intake above 5,000 orders/s
/// while the workers keep up; 64 drains the queues faster but slows intake below 4,000.
const BATCH: usize = 16;
/// How long a received message stays hidden before it is delivered again.
const VISIBILITY: Duration = Duration::from_secs(30);
/// How long an idle worker waits for a new message before looking again anyway.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// How often the sweeper looks for stuck orders while `oms serve` runs (and once at start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// How often `oms serve` checks every stock against its reorder point.
pub const LOW_STOCK_EVERY: Duration = Duration::from_secs(60 * 60);

/// The queues that move orders on (the outbound queue's notices go to the world outside).
const FLOW_QUEUES: [QueueName; 2] = [QueueName::Allocate, QueueName::Reserve];

/// Starts the worker of each queue that moves orders on, with its consumer, the sweeper
/// and the low-stock check; they stop when `shutdown` turns true. No outbound worker: the
/// notices stay queued for a server that knows where they go (`oms serve --outbound`).
pub fn spawn(embedded: &Embedded, ports: &Ports, shutdown: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    spawn_with(embedded, ports, shutdown, SweepLimits::default(), MergePolicy::default(), None)
}

/// `spawn`, the sweeper keeping to `limits`, allocation merging orders under `merge`, and
/// with `destinations` a worker sending the notices there.
pub fn spawn_with(
    embedded: &Embedded,
    ports: &Ports,
    shutdown: &watch::Receiver<bool>,
    limits: SweepLimits,
    merge: MergePolicy,
    destinations: Option<Destinations>,
) -> Vec<JoinHandle<()>> {
    let deliver = destinations.map(|d| {
        let deliver = Deliver { outbound: std::sync::Arc::new(HttpOutbound::new(d)) };
        tokio::spawn(run(deliver, embedded.clone(), ports.clone(), shutdown.clone()))
    });
    deliver
        .into_iter()
        .chain([
            tokio::spawn(run(Allocate { merge }, embedded.clone(), ports.clone(), shutdown.clone())),
            tokio::spawn(run(Reserve, embedded.clone(), ports.clone(), shutdown.clone())),
            tokio::spawn({
                let ports = ports.clone();
                periodically(SWEEP_EVERY, shutdown.clone(), move || {
                    let ports = ports.clone();
                    async move { sweep_once(&ports, &limits).await }
                })
            }),
            tokio::spawn({
                let ports = ports.clone();
                periodically(LOW_STOCK_EVERY, shutdown.clone(), move || {
                    let ports = ports.clone();
                    async move { check_low_stock_once(&ports).await }
                })
            }),
        ])
        .collect()
}

/// Runs `task` now (what a crash left stuck is moved on at start), then once every `period`
/// until shutdown; the task logs what it did.
async fn periodically<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    while !*shutdown.borrow() {
        task().await;
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One low-stock check, logged.
async fn check_low_stock_once(ports: &Ports) {
    match check_low_stock(ports).await {
        Ok(report) if report.raised.is_empty() && report.resolved.is_empty() => {
            tracing::debug!(checked = report.checked, low = report.low, "low-stock check: no change")
        }
        Ok(report) => tracing::info!(
            checked = report.checked,
            low = report.low,
            raised = report.raised.len(),
            resolved = report.resolved.len(),
            "low-stock check: alerts raised or resolved"
        ),
        Err(err) => tracing::error!(error = ?err, "the low-stock check failed; it runs again later"),
    }
}

/// One sweep, logged.
async fn sweep_once(ports: &Ports, limits: &SweepLimits) {
    match sweep(ports, limits).await {
        Ok(report)
            if report.repaired.is_empty()
                && report.expired.is_empty()
                && report.sales_closed.is_empty()
                && report.auctions_closed.is_empty()
                && report.group_buys_settled.is_empty()
                && report.expired_lots.is_empty() =>
        {
            tracing::debug!("sweep: nothing stuck")
        }
        Ok(report) => tracing::info!(
            repaired = report.repaired.len(),
            expired = report.expired.len(),
            sales_closed = report.sales_closed.len(),
            units_returned = report.sales_closed.iter().map(|c| c.units_returned).sum::<u64>(),
            auctions_closed = report.auctions_closed.len(),
            group_buys_settled = report.group_buys_settled.len(),
            expired_lots = report.expired_lots.len(),
            "sweep: stuck orders queued again, unpaid holds expired, ended flash sales and auctions closed, group buys settled, expired lots written off"
        ),
        Err(err) => tracing::error!(error = ?err, "the sweep failed; it runs again later"),
    }
}

/// The worker of `C`'s queue.
async fn run<C: Consumer>(consumer: C, embedded: Embedded, ports: Ports, mut shutdown: watch::Receiver<bool>) {
    let queue = C::Message::QUEUE;
    let notify = embedded.notifier();
    while !*shutdown.borrow() {
        // Register interest before looking, so a send between the look and the wait is not missed.
        let notified = notify.notified();
        let batch = match embedded.receive(queue, BATCH, VISIBILITY).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(queue = %queue, error = ?err, "receiving from the queue failed");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        join_all(batch.into_iter().map(|delivery| process(&consumer, &embedded, &ports, delivery))).await;
    }
}

async fn process<C: Consumer>(consumer: &C, embedded: &Embedded, ports: &Ports, delivery: Delivery) {
    let settled = match consume(consumer, ports, &delivery.body).await {
        Ok(_) => embedded.ack(delivery.id).await,
        Err(ConsumeError::Poison(err)) => {
            tracing::error!(message_id = delivery.id, error = %err, "poison message; moved to the dead letters");
            embedded.dead_letter(delivery.id, &err.to_string()).await
        }
        Err(ConsumeError::Failed(err)) => {
            tracing::warn!(message_id = delivery.id, attempts = delivery.attempts, error = ?err, "message failed; it will be retried");
            embedded.retry_later(delivery.id, backoff(delivery.attempts)).await
        }
    };
    if let Err(err) = settled {
        tracing::error!(message_id = delivery.id, error = ?err, "settling a message failed; it will be redelivered");
    }
}

/// Runs the workers until the queues that move orders on are empty (or `limit` passes),
/// then stops them. Notices stay queued for `oms serve`.
pub async fn drain(embedded: &Embedded, ports: &Ports, limit: Duration) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let workers = spawn(embedded, ports, &stopped);
    let idle = wait_until_empty(embedded, &FLOW_QUEUES, limit).await;
    let _ = stop.send(true);
    for worker in workers {
        worker.await?;
    }
    if !idle? {
        anyhow::bail!("queued work did not finish within {limit:?}");
    }
    Ok(())
}

/// Waits until every queue is empty, up to `limit`; false if it never was.
pub async fn wait_until_idle(embedded: &Embedded, limit: Duration) -> anyhow::Result<bool> {
    wait_until_empty(embedded, &QueueName::ALL, limit).await
}

/// Waits until each of `queues` is empty, up to `limit`; false if one never was.
async fn wait_until_empty(embedded: &Embedded, queues: &[QueueName], limit: Duration) -> anyhow::Result<bool> {
    let started = std::time::Instant::now();
    loop {
        let mut depth = 0;
        for &queue in queues {
            depth += embedded.queue_depth(queue).await?;
        }
        if depth == 0 {
            return Ok(true);
        }
        if started.elapsed() > limit {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 1 s, 2 s, 4 s, ... capped at a minute.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}
