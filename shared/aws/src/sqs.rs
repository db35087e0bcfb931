//! `Queue` on SQS: one standard queue per `QueueName`, each with its dead-letter queue.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use oms_domain::messages::{Outgoing, QueueName};
use oms_domain::ports::{Queue, StoreError};

use crate::error::sdk_error;

/// The SQS adapter of `Queue`. Lambda's event source mapping consumes the queues, so
/// there is nothing here to receive or delete messages.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    allocate_url: String,
    reserve_url: String,
    outbound_url: String,
}

impl SqsQueue {
    /// The queues named by `settings`.
    pub fn new(client: Client, settings: &crate::AwsSettings) -> Self {
        Self {
            client,
            allocate_url: settings.allocate_queue_url.clone(),
            reserve_url: settings.reserve_queue_url.clone(),
            outbound_url: settings.outbound_queue_url.clone(),
        }
    }

    /// The URL of the queue `name`.
    pub fn queue_url(&self, name: QueueName) -> &str {
        match name {
            QueueName::Allocate => &self.allocate_url,
            QueueName::Reserve => &self.reserve_url,
            QueueName::Outbound => &self.outbound_url,
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    /// `SendMessage` of the encoded body to the URL of `message.queue`. Unconditional.
    async fn send(&self, message: &Outgoing) -> Result<(), StoreError> {
        let queue = message.queue;
        self.client
            .send_message()
            .queue_url(self.queue_url(queue))
            .message_body(&message.body)
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to send a {} message to the {queue} queue", message.kind), e))?;
        tracing::debug!(kind = message.kind, queue = %queue, "message sent");
        Ok(())
    }
}
