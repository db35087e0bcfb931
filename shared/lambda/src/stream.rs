//! The outbox relay: the table's stream hands every outbox item the order writes insert
//! (the template's event filter passes only those) to [`relay_records`], which sends each
//! message to its queue. A record that fails is reported with the records after it (the
//! stream retries from the first failure, in order), so no message is skipped; a message
//! sent twice is harmless, since every consumer is idempotent.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::LambdaEvent;

use oms_domain::ports::Queue;

/// Relays one batch of stream records; never fails as a whole.
pub async fn handle_stream(queue: &dyn Queue, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    Ok(relay_records(queue, event.payload.records).await)
}

/// The batch logic without the Lambda envelope, for tests: sends the message of every
/// inserted outbox item in stream order, and stops at the first that fails, reporting its
/// sequence number (the stream retries it and everything after it).
pub async fn relay_records(queue: &dyn Queue, records: Vec<EventRecord>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        if record.event_name != "INSERT" {
            continue;
        }
        let sent = match oms_aws::relayed_message(record.change.new_image) {
            Ok(None) => continue,
            Ok(Some(message)) => queue.send(&message).await.map(|()| message),
            Err(e) => {
                // An outbox item that does not read can never be sent: retrying would
                // block the shard, so it is logged loudly and skipped.
                tracing::error!(sequence = %sequence, error = %format!("{e:#}"), "unreadable outbox item skipped");
                continue;
            }
        };
        match sent {
            Ok(message) => tracing::info!(queue = %message.queue, kind = message.kind, "outbox message relayed"),
            Err(e) => {
                tracing::warn!(sequence = %sequence, error = %format!("{e:#}"), "outbox message not relayed; the stream retries from it");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence);
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}
