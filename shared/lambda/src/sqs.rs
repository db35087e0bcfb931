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
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(event.context.deadline);
    let time_left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
    let budget = time_left.saturating_sub(MESSAGE_DEADLINE_MARGIN);
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
