//! The SQS adapter against the emulator: each message lands on its own queue, whose
//! poison messages go to a dead-letter queue.

mod common;

use aws_sdk_sqs::types::QueueAttributeName;
use oms_domain::messages::{AllocateOrder, Outgoing, QueueName, ReserveOrder};
use oms_domain::ports::Queue;
use oms_domain::OrderId;

/// Every message now on the queue at `url` (short polls until one comes back empty).
async fn drain(client: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut messages = Vec::new();
    loop {
        let received = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("cannot receive messages");
        let batch = received.messages.unwrap_or_default();
        if batch.is_empty() {
            return messages;
        }
        for message in batch {
            let body = message.body().expect("a message has a body");
            messages.push(body.to_owned());
            let receipt = message.receipt_handle().expect("a received message has a receipt handle");
            client.delete_message().queue_url(url).receipt_handle(receipt).send().await.expect("cannot delete a message");
        }
    }
}

#[tokio::test]
async fn each_message_lands_on_the_queue_of_its_kind_as_json() {
    let aws = common::aws("sqs").await;
    let client = aws_sdk_sqs::Client::new(&common::emulator_config().await);
    let allocate = Outgoing::of(&AllocateOrder::new(OrderId::generate()));
    let reserve = Outgoing::of(&ReserveOrder { order_id: OrderId::generate() });
    aws.queue().send(&allocate).await.unwrap();
    aws.queue().send(&reserve).await.unwrap();

    assert_eq!(drain(&client, aws.queue_url(QueueName::Allocate)).await, vec![allocate.body]);
    assert_eq!(drain(&client, aws.queue_url(QueueName::Reserve)).await, vec![reserve.body]);
}

#[tokio::test]
async fn each_queue_sends_poison_messages_to_its_dead_letter_queue_after_five_receives() {
    let aws = common::aws("redrive").await;
    let client = aws_sdk_sqs::Client::new(&common::emulator_config().await);
    for name in QueueName::ALL {
        let attributes = client
            .get_queue_attributes()
            .queue_url(aws.queue_url(name))
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let policy: serde_json::Value = serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
        assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), "5", "{name}: {policy}");
        let dlq_arn = policy["deadLetterTargetArn"].as_str().unwrap();
        assert!(dlq_arn.ends_with(&format!("-{name}-dlq")), "{name}: {dlq_arn}");
    }
}
