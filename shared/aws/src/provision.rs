//! Creates the table, queues and bucket the adapters use, under a name prefix, so
//! tests against an emulator (and one-off tools) get resources of their own.
//! Production resources come from `infra/template.yaml`, which mirrors these definitions.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::dynamo::INDEXES;
use crate::AwsSettings;

/// An SDK error with its whole chain of causes (its bare display is only "service error").
fn sdk<E: std::error::Error>(err: E) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))
}

/// A poisoned message is tried this many times before SQS moves it to the DLQ.
pub const MAX_RECEIVE_COUNT: u32 = 5;

/// A prefix no other test of any process uses: `<label>-<pid>-<time>-<n>`, lower case,
/// so it fits table, queue and bucket names.
pub fn unique_prefix(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let clean: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(16).collect();
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() % 1_000_000_000;
    format!("{clean}-{}-{millis}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Creates `<prefix>-oms` (the table and its indexes, on-demand), the queues
/// `<prefix>-allocate`, `<prefix>-reserve` and `<prefix>-outbound` each with a `-dlq` and a redrive policy,
/// and the bucket `<prefix>-oms-artifacts`; answers the settings naming them.
pub async fn create_resources(sdk_config: &SdkConfig, prefix: &str) -> anyhow::Result<AwsSettings> {
    let table = format!("{prefix}-oms");
    create_table(&aws_sdk_dynamodb::Client::new(sdk_config), &table).await?;
    let sqs = aws_sdk_sqs::Client::new(sdk_config);
    let allocate_queue_url = create_queue_with_dlq(&sqs, &format!("{prefix}-allocate")).await?;
    let reserve_queue_url = create_queue_with_dlq(&sqs, &format!("{prefix}-reserve")).await?;
    let outbound_queue_url = create_queue_with_dlq(&sqs, &format!("{prefix}-outbound")).await?;
    let bucket = format!("{prefix}-oms-artifacts");
    let region = sdk_config.region().map(|r| r.as_ref().to_owned()).unwrap_or_else(|| "us-east-1".to_owned());
    create_bucket(&crate::s3_client(sdk_config), &bucket, &region).await?;
    Ok(AwsSettings { table, allocate_queue_url, reserve_queue_url, outbound_queue_url, bucket })
}

/// Creates a Secrets Manager secret holding `value`; answers its ARN.
pub async fn create_secret(sdk_config: &SdkConfig, name: &str, value: &str) -> anyhow::Result<String> {
    let created = aws_sdk_secretsmanager::Client::new(sdk_config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .with_context(|| format!("Failed to create the secret {name}"))?;
    created.arn.with_context(|| format!("The secret {name} was created with no ARN"))
}

/// The attribute DynamoDB's TTL reads: epoch seconds after which an item may be deleted
/// (outbox items).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// What an index carries: the sweeper's index by status needs only the keys (the order id
/// is in `pk`); the lookups answer whole orders from theirs.
fn projection_of(index: &str) -> ProjectionType {
    if index == crate::dynamo::INDEX_BY_STATUS {
        ProjectionType::KeysOnly
    } else {
        ProjectionType::All
    }
}

/// Creates the table as `docs/dynamodb.md` describes it and waits until it is active.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    let key = |attr: &str, key_type: KeyType| {
        KeySchemaElement::builder().attribute_name(attr).key_type(key_type).build().context("Failed to build a key schema")
    };
    let string_attr = |attr: &str| {
        AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .context("Failed to build an attribute definition")
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(string_attr("pk")?)
        .attribute_definitions(string_attr("sk")?)
        .attribute_definitions(string_attr("order_id")?)
        .attribute_definitions(string_attr("alert_id")?)
        .attribute_definitions(string_attr("status_since_key")?)
        .attribute_definitions(string_attr("merchant_alert_sort")?);
    for (index, attr, sort) in INDEXES {
        request = request.attribute_definitions(string_attr(attr)?).global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(attr, KeyType::Hash)?)
                .key_schema(key(sort, KeyType::Range)?)
                .projection(Projection::builder().projection_type(projection_of(index)).build())
                .build()
                .with_context(|| format!("Failed to build the index {index}"))?,
        );
    }
    // The template's table has a stream (NEW_IMAGE) that the outbox relay reads. The
    // emulator's tables have none: moto keeps every stream record in memory (one
    // conformance case of a large order grew it past 17 GB), and no event source mapping
    // runs on it anyway, so the tests play the stream from the outbox items themselves.
    request.send().await.map_err(sdk).with_context(|| format!("Failed to create the table {name}"))?;

    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("Failed to describe the table {name}"))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(TTL_ATTRIBUTE)
                        .build()
                        .context("Failed to build the TTL specification")?,
                )
                .send()
                .await
                .map_err(sdk)
                .with_context(|| format!("Failed to turn on the TTL of the table {name}"))?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!("the table {name} did not become active within a minute")
}

/// Creates `<name>-dlq` and `<name>`, whose messages move to the DLQ after
/// [`MAX_RECEIVE_COUNT`] receives; answers the queue's URL.
pub async fn create_queue_with_dlq(client: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    let dlq_name = format!("{name}-dlq");
    let dlq_url = client
        .create_queue()
        .queue_name(&dlq_name)
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("Failed to create the queue {dlq_name}"))?
        .queue_url
        .with_context(|| format!("Creating the queue {dlq_name} answered no URL"))?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("Failed to read the ARN of the queue {dlq_name}"))?
        .attributes
        .and_then(|mut attrs| attrs.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("The queue {dlq_name} has no ARN"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
    });
    client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(HashMap::from([(QueueAttributeName::RedrivePolicy, redrive.to_string())])))
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("Failed to create the queue {name}"))?
        .queue_url
        .with_context(|| format!("Creating the queue {name} answered no URL"))
}

/// Creates the bucket in `region` (us-east-1 takes no location constraint).
pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str, region: &str) -> anyhow::Result<()> {
    let mut request = client.create_bucket().bucket(name);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    request.send().await.map_err(sdk).with_context(|| format!("Failed to create the bucket {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_and_fit_bucket_names() {
        let a = unique_prefix("Conformance Test");
        let b = unique_prefix("Conformance Test");
        assert_ne!(a, b);
        assert!(a.starts_with("conformance-test-"));
        let bucket = format!("{a}-oms-artifacts");
        assert!(bucket.len() <= 63, "{bucket}");
        assert!(bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    }
}
