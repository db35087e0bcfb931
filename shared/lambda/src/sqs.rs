//! The SQS consumer of every queue: each record is handled on its own (concurrently),
//! and only the failed ones are reported back, so SQS redelivers just those and, after
//! the queue's maxReceiveCount, moves them to the dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use lambda_runtime::LambdaEvent;
use tracing::Instrument as _;

use oms_api::consumers::handle_message;
use oms_domain::messages::Message;
use oms_domain::ports::Ports;

/// Handles one batch; never fails as a whole (a failure is reported per message).
pub async fn handle_batch(ports: &Ports, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(handle_records(ports, event.payload.records).await)
}

/// The batch logic without the Lambda envelope, for tests.
pub async fn handle_records(ports: &Ports, records: Vec<SqsMessage>) -> SqsBatchResponse {
    let outcomes = join_all(records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("sqs_message", message_id = %id);
        let ok = handle_record(ports, &record).instrument(span).await;
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

async fn handle_record(ports: &Ports, record: &SqsMessage) -> bool {
    let body = record.body.as_deref().unwrap_or_default();
    let message = match Message::from_json(body) {
        Ok(message) => message,
        Err(err) => {
            // Redelivery cannot fix it: let it fail until the redrive policy parks it in the DLQ.
            tracing::error!(error = %err, "unreadable message");
            return false;
        }
    };
    match handle_message(ports, &message).await {
        Ok(handled) => {
            tracing::info!(order_id = %message.order_id(), outcome = ?handled, "message handled");
            true
        }
        Err(err) => {
            tracing::warn!(order_id = %message.order_id(), error = ?err, "message failed; SQS will redeliver it");
            false
        }
    }
}
