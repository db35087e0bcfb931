//! The AWS adapters: every port of the domain on DynamoDB, SQS and S3.
//!
//! A Lambda binary reads [`AwsSettings`] once at start-up, loads the SDK configuration
//! once ([`load_sdk_config`]), builds one [`Aws`] per container and hands its
//! [`Aws::ports`] to the handlers. Nothing here reads the environment after that; the
//! endpoint of a local emulator comes from the SDK's own `AWS_ENDPOINT_URL`.
//!
//! - [`DynamoStore`]: orders, warehouses, stock and reservations in one table
//!   (layout in `docs/dynamodb.md`), every order-flow write conditional.
//! - [`SqsQueue`]: the queues between the functions.
//! - `Artifacts` (feature `artifacts`): model artifacts and reports in S3.
//! - `SecretsReader` (feature `secrets`): a secret's current value in Secrets Manager.
//!
//! With the `provision` feature, [`provision`] creates those resources and
//! [`emulator`] starts moto's server for tests.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use oms_domain::messages::QueueName;
use oms_domain::ports::{Clock, Ports};

pub mod budget;
mod cached_flash_sales;
mod cached_warehouses;
#[cfg(feature = "artifacts")]
mod documents;
mod dynamo;
mod error;
#[cfg(feature = "artifacts")]
pub mod order_export;
#[cfg(feature = "artifacts")]
mod s3;
#[cfg(feature = "secrets")]
mod secrets;
mod sqs;

#[cfg(feature = "provision")]
pub mod emulator;
#[cfg(feature = "provision")]
pub mod provision;

pub use cached_flash_sales::{CachedFlashSales, KNOWN_EMPTY_TTL};
pub use cached_warehouses::{CachedWarehouses, WAREHOUSES_TTL};
#[cfg(feature = "artifacts")]
pub use documents::{S3Documents, DOCUMENTS_PREFIX};
pub use dynamo::{
    relayed_message, DynamoStore, INDEX_BY_CHANNEL, INDEX_BY_CUSTOMER, INDEX_BY_EXTERNAL_ID, INDEX_BY_ORDER_NUMBER,
    INDEX_BY_PHONE, INDEX_BY_STATUS, OUTBOX_PREFIX,
};
#[cfg(feature = "artifacts")]
pub use s3::{Artifacts, StoredObject};
#[cfg(feature = "secrets")]
pub use secrets::SecretsReader;
pub use sqs::SqsQueue;

/// The names of the resources the adapters use, read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// The DynamoDB table (`OMS_TABLE`).
    pub table: String,
    /// The queue `allocate` consumes (`OMS_ALLOCATE_QUEUE_URL`).
    pub allocate_queue_url: String,
    /// The queue `reserve-stock` consumes (`OMS_RESERVE_QUEUE_URL`).
    pub reserve_queue_url: String,
    /// The queue `deliver-outbound` consumes (`OMS_OUTBOUND_QUEUE_URL`).
    pub outbound_queue_url: String,
    /// The bucket of model artifacts and reports (`OMS_BUCKET`).
    pub bucket: String,
}

/// A setting the environment does not provide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the environment variable {0} is not set (or is empty)")]
pub struct MissingSetting(pub &'static str);

impl AwsSettings {
    /// Reads `OMS_TABLE`, `OMS_ALLOCATE_QUEUE_URL`, `OMS_RESERVE_QUEUE_URL`,
    /// `OMS_OUTBOUND_QUEUE_URL` and `OMS_BUCKET`;
    /// fails naming the first one missing or empty. Call once, at start-up.
    pub fn from_env() -> Result<Self, MissingSetting> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`AwsSettings::from_env`], with the variables looked up by `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingSetting> {
        let var = |name: &'static str| -> Result<String, MissingSetting> {
            lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or(MissingSetting(name))
        };
        Ok(Self {
            table: var("OMS_TABLE")?,
            allocate_queue_url: var("OMS_ALLOCATE_QUEUE_URL")?,
            reserve_queue_url: var("OMS_RESERVE_QUEUE_URL")?,
            outbound_queue_url: var("OMS_OUTBOUND_QUEUE_URL")?,
            bucket: var("OMS_BUCKET")?,
        })
    }
}

/// The SDK configuration from the standard sources (environment, profile, the Lambda
/// role), with the retries and timeouts of the one retry budget ([`budget`],
/// `docs/retries.md`) rather than the SDK's defaults (whose back-off alone, 1 s doubling
/// to 20 s with no operation timeout, could outlast a function). A local emulator is
/// reached by setting `AWS_ENDPOINT_URL`.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(budget::retry_config())
        .timeout_config(budget::timeout_config())
        .load()
        .await
}

/// The one HTTP client of every AWS client: hyper with rustls on ring, trusting the
/// system's root certificates. (The SDK's default client is rustls on aws-lc, which nearly
/// doubles what TLS adds to a bootstrap; ring does the same job for a Lambda function.)
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

#[cfg(feature = "artifacts")]
/// An S3 client that uses path-style addresses when the endpoint is overridden (an
/// emulator has no per-bucket host names), without the order flow's operation timeouts
/// (artifacts are large; see [`budget::artifact_timeout_config`]).
pub(crate) fn s3_client(sdk_config: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk_config)
        .force_path_style(sdk_config.endpoint_url().is_some())
        .timeout_config(budget::artifact_timeout_config())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Every AWS adapter, sharing the SDK clients. Build one per container and clone it freely.
#[derive(Debug, Clone)]
pub struct Aws {
    dynamo: DynamoStore,
    queue: SqsQueue,
    #[cfg(feature = "artifacts")]
    artifacts: Artifacts,
    settings: Arc<AwsSettings>,
}

impl Aws {
    /// Builds the clients once.
    pub fn new(sdk_config: &SdkConfig, settings: AwsSettings) -> Self {
        let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk_config), settings.table.clone());
        let queue = SqsQueue::new(aws_sdk_sqs::Client::new(sdk_config), &settings);
        Self {
            dynamo,
            queue,
            #[cfg(feature = "artifacts")]
            artifacts: Artifacts::new(s3_client(sdk_config), settings.bucket.clone()),
            settings: Arc::new(settings),
        }
    }

    /// The adapters as the domain's ports.
    pub fn ports(&self, clock: Arc<dyn Clock>) -> Ports {
        let store = Arc::new(self.dynamo.clone());
        Ports {
            orders: store.clone(),
            warehouses: Arc::new(CachedWarehouses::new(self.dynamo.clone(), WAREHOUSES_TTL)),
            inventory: store.clone(),
            alerts: store.clone(),
            sku_mappings: store.clone(),
            catalogue: store.clone(),
            rates: store.clone(),
            flash_sales: Arc::new(CachedFlashSales::new(self.dynamo.clone())),
            supply: Arc::new(self.dynamo.clone()),
            shipments: store,
            sales: Arc::new(self.dynamo.clone()),
            queue: Arc::new(self.queue.clone()),
            clock,
            consignments: Arc::new(self.dynamo.clone()),
            auctions: Arc::new(self.dynamo.clone()),
            group_buys: Arc::new(self.dynamo.clone()),
            rentals: Arc::new(self.dynamo.clone()),
            reviews: Arc::new(self.dynamo.clone()),
            repairs: Arc::new(self.dynamo.clone()),
            returns: Arc::new(self.dynamo.clone()),
            merchants: Arc::new(self.dynamo.clone()),
            storefronts: Arc::new(self.dynamo.clone()),
            browsing: Arc::new(self.dynamo.clone()),
            products: Arc::new(self.dynamo.clone()),
            rfqs: Arc::new(self.dynamo.clone()),
            buyer_requests: Arc::new(self.dynamo.clone()),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// Orders, warehouses, stock and reservations.
    pub fn dynamo(&self) -> &DynamoStore {
        &self.dynamo
    }

    pub fn queue(&self) -> &SqsQueue {
        &self.queue
    }

    /// The URL of the queue `name`.
    pub fn queue_url(&self, name: QueueName) -> &str {
        self.queue.queue_url(name)
    }

    /// Model artifacts and reports in the bucket.
    #[cfg(feature = "artifacts")]
    pub fn artifacts(&self) -> &Artifacts {
        &self.artifacts
    }

    /// Uploaded documents in the bucket, under `documents/`.
    #[cfg(feature = "artifacts")]
    pub fn documents(&self) -> S3Documents {
        S3Documents::new(self.artifacts.client().clone(), self.settings.bucket.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn settings_are_read_from_the_five_variables() {
        let settings = AwsSettings::from_lookup(env(&[
            ("OMS_TABLE", "oms"),
            ("OMS_ALLOCATE_QUEUE_URL", "https://sqs/allocate"),
            ("OMS_RESERVE_QUEUE_URL", "https://sqs/reserve"),
            ("OMS_OUTBOUND_QUEUE_URL", "https://sqs/outbound"),
            ("OMS_BUCKET", "bucket"),
        ]))
        .unwrap();
        assert_eq!(settings.table, "oms");
        assert_eq!(settings.reserve_queue_url, "https://sqs/reserve");
    }

    #[test]
    fn a_missing_setting_is_named() {
        let err = AwsSettings::from_lookup(env(&[("OMS_TABLE", "oms"), ("OMS_ALLOCATE_QUEUE_URL", " ")])).unwrap_err();
        assert_eq!(err, MissingSetting("OMS_ALLOCATE_QUEUE_URL"));
        assert!(err.to_string().contains("OMS_ALLOCATE_QUEUE_URL"));
    }
}
