//! The SQS consumer of every queue: each record is handled on its own (concurrently),
//! and only the failed ones are reported back, so SQS redelivers just those and, after
//! the queue's maxReceiveCount, moves them to the dead-letter queue. A poison message (not
//! the queue's kind) is reported failed every time, so it reaches the dead-letter queue.

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use lambda_runtime::LambdaEvent;
use tracing::Instrument as _;

use oms_domain::messages::{consume, ConsumeError, Consumer};
use oms_domain::ports::Ports;

/// How long before the invocation's deadline every message still at work is given up
/// (failed alone, redelivered later), so the batch answers before Lambda times it out.
/// See `docs/retries.md`.
pub const MESSAGE_DEADLINE_MARGIN: Duration = Duration::from_millis(1500);

/// Handles one batch; never fails as a whole (a failure is reported per message).
pub async fn handle_batch<C: Consumer>(
    consumer: &C,
    ports: &Ports,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let budget = time_left(event.context.deadline, SystemTime::now()).saturating_sub(MESSAGE_DEADLINE_MARGIN);
    Ok(handle_records(consumer, ports, event.payload.records, budget).await)
}

/// The batch logic without the Lambda envelope, for tests: every message gets at most
/// `budget` (they run concurrently).
pub async fn handle_records<C: Consumer>(
    consumer: &C,
    ports: &Ports,
    records: Vec<SqsMessage>,
    budget: Duration,
) -> SqsBatchResponse {
    let outcomes = join_all(records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("sqs_message", message_id = %id);
        let ok = match tokio::time::timeout(budget, handle_record(consumer, ports, &record)).instrument(span).await {
            Ok(ok) => ok,
            Err(_) => {
                tracing::warn!(message_id = %id, budget_ms = budget.as_millis(), "message ran out of time; SQS will redeliver it");
                false
            }
        };
        (id, ok)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = outcomes
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

async fn handle_record<C: Consumer>(consumer: &C, ports: &Ports, record: &SqsMessage) -> bool {
    let body = record.body.as_deref().unwrap_or_default();
    match consume(consumer, ports, body).await {
        Ok(handled) => {
            tracing::info!(outcome = ?handled, "message handled");
            true
        }
        Err(ConsumeError::Poison(err)) => {
            // Redelivery cannot fix it: let it fail until the redrive policy parks it in the DLQ.
            tracing::error!(error = %err, "poison message");
            false
        }
        Err(ConsumeError::Failed(err)) => {
            tracing::warn!(error = ?err, "message failed; SQS will redeliver it");
            false
        }
    }
}

/// Deadlines below this (2001-09-09 as epoch milliseconds) are not times but durations.
const EARLIEST_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The invocation's time left from its `Lambda-Runtime-Deadline-Ms`. Lambda sends the
/// deadline as epoch milliseconds; `cargo lambda watch` sends the timeout itself
/// (`600000`), which read as a time lies in 1970 and would leave no time at all, so a
/// value too small to be a time is taken as the time left.
fn time_left(deadline_ms: u64, now: SystemTime) -> Duration {
    if deadline_ms < EARLIEST_DEADLINE_MS {
        return Duration::from_millis(deadline_ms);
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline.duration_since(now).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_runs_to_lambdas_deadline() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_076_000_000);
        assert_eq!(time_left(1_796_076_010_000, now), Duration::from_secs(10));
        assert_eq!(time_left(1_796_075_990_000, now), Duration::ZERO, "a deadline passed leaves nothing");
    }

    #[test]
    fn a_deadline_too_small_to_be_a_time_is_the_time_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_076_000_000);
        assert_eq!(time_left(600_000, now), Duration::from_secs(600));
    }
}
