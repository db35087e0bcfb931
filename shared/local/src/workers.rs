//! Queue workers: for each queue, receive a batch, run the consumer on every message
//! concurrently, acknowledge what succeeded and retry the rest later (after repeated
//! failures the embedded queue moves a message to its dead letters, as SQS's redrive does).

use std::time::Duration;

use futures::future::join_all;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use oms_api::consumers::handle_message;
use oms_domain::messages::QueueName;
use oms_domain::ports::Ports;
use oms_embedded::{Delivery, Embedded};

/// Messages taken per receive and worked on together; their writes share the database
/// thread's commits. Measured with `oms bench serve`: 16 keeps intake above 5,000 orders/s
/// while the workers keep up; 64 drains the queues faster but slows intake below 4,000.
const BATCH: usize = 16;
/// How long a received message stays hidden before it is delivered again.
const VISIBILITY: Duration = Duration::from_secs(30);
/// How long an idle worker waits for a new message before looking again anyway.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Starts one worker per queue. They stop when `shutdown` turns true.
pub fn spawn(embedded: &Embedded, ports: &Ports, shutdown: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    QueueName::ALL.into_iter().map(|queue| tokio::spawn(run(queue, embedded.clone(), ports.clone(), shutdown.clone()))).collect()
}

async fn run(queue: QueueName, embedded: Embedded, ports: Ports, mut shutdown: watch::Receiver<bool>) {
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
        join_all(batch.into_iter().map(|delivery| process(&embedded, &ports, delivery))).await;
    }
}

async fn process(embedded: &Embedded, ports: &Ports, delivery: Delivery) {
    let order_id = delivery.message.order_id().clone();
    // Each message on its own task, so a panic fails that message (retried, then dead-lettered),
    // not the worker.
    let handled = {
        let (ports, message) = (ports.clone(), delivery.message.clone());
        tokio::spawn(async move { handle_message(&ports, &message).await }).await
    };
    let settled = match handled {
        Ok(Ok(_)) => embedded.ack(delivery.id).await,
        Ok(Err(err)) => {
            tracing::warn!(order_id = %order_id, attempts = delivery.attempts, error = ?err, "message failed; it will be retried");
            embedded.retry_later(delivery.id, backoff(delivery.attempts)).await
        }
        Err(panic) => {
            tracing::error!(order_id = %order_id, attempts = delivery.attempts, error = %panic, "message handler panicked; it will be retried");
            embedded.retry_later(delivery.id, backoff(delivery.attempts)).await
        }
    };
    if let Err(err) = settled {
        tracing::error!(order_id = %order_id, error = ?err, "settling a message failed; it will be redelivered");
    }
}

/// Runs the workers until every queue is empty (or `limit` passes), then stops them.
pub async fn drain(embedded: &Embedded, ports: &Ports, limit: Duration) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let workers = spawn(embedded, ports, &stopped);
    let idle = wait_until_idle(embedded, limit).await;
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
    let started = std::time::Instant::now();
    loop {
        let mut depth = 0;
        for queue in QueueName::ALL {
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
