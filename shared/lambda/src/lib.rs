//! The wiring every Lambda binary shares, so each `main.rs` is a few lines:
//! [`init`] (JSON logs, the panic behaviour), [`aws_ports`] and [`aws_state`]
//! (configuration read once, clients built once per container), [`run_http`] for API
//! Gateway functions, [`run_sqs`] for queue consumers with partial batch failure
//! reporting, [`run_outbox_relay`] for the table's stream and [`run_sweep`] for the
//! scheduled sweeper.

#[cfg(feature = "pricing")]
pub mod pricing;
pub mod schedule;
pub mod sqs;
pub mod stream;

use std::sync::Arc;

use anyhow::Context as _;

use oms_api::{AppState, ChannelSecrets, PricingModel, UnsignedPolicy};
use oms_aws::{Aws, AwsSettings};
use oms_domain::messages::Consumer;
use oms_domain::ports::{Ports, SystemClock};

pub use lambda_runtime::Error;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default info), no ANSI
/// colours; and the one panic behaviour of every build: a panic is logged, then the
/// process aborts (as the release profile's `panic = "abort"` does), so Lambda starts a
/// fresh container and SQS redelivers what was in flight.
pub fn init() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .without_time() // CloudWatch stamps every line
        .init();
    std::panic::set_hook(Box::new(|panic| {
        tracing::error!(panic = %panic, "panicked; aborting");
        std::process::abort();
    }));
}

/// Reads the configuration (failing fast, naming the missing variable) and builds the AWS
/// clients, once per container.
pub async fn aws_ports() -> anyhow::Result<Ports> {
    Ok(aws().await?.ports(Arc::new(SystemClock)))
}

/// The configuration read (failing fast, naming the missing variable) and the AWS clients
/// built, once per container.
async fn aws() -> anyhow::Result<Aws> {
    let settings = AwsSettings::from_env().context("Failed to read the function's configuration")?;
    let sdk = oms_aws::load_sdk_config().await;
    Ok(Aws::new(&sdk, settings))
}

/// What an HTTP function needs: the ports and the webhook secrets. Webhooks from a
/// channel without a secret are refused.
pub async fn aws_state() -> anyhow::Result<AppState> {
    Ok(AppState {
        ports: aws_ports().await?,
        secrets: ChannelSecrets::from_env(),
        unsigned: UnsignedPolicy::Refuse,
        pricing: PricingModel::default(),
    })
}

/// quote-price's state: the ports, and the current pricing model from S3, loaded once per
/// container and replaced when the pointer moves (`pricing::follow_current`).
#[cfg(feature = "pricing")]
pub async fn aws_pricing_state() -> anyhow::Result<AppState> {
    let aws = aws().await?;
    let artifacts = aws.artifacts().clone();
    let current = pricing::load_current(&artifacts).await?;
    let loaded = current.as_ref().map(|artifact| artifact.version.clone());
    let model = PricingModel::new(current);
    pricing::follow_current(artifacts, model.clone(), loaded, pricing::FOLLOW_EVERY);
    Ok(AppState {
        ports: aws.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default(),
        unsigned: UnsignedPolicy::Refuse,
        pricing: model,
    })
}

/// Serves an HTTP function's router behind API Gateway.
pub async fn run_http(router: oms_api::routes::Router) -> Result<(), Error> {
    lambda_http::run(router).await
}

/// Relays the outbox items of the table's stream to their SQS queues.
pub async fn run_outbox_relay(ports: Ports) -> Result<(), Error> {
    let queue = &*ports.queue;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| stream::handle_stream(queue, event))).await
}

/// Retrains the pricing models once per scheduled invocation.
#[cfg(feature = "pricing")]
pub async fn run_retrain() -> Result<(), Error> {
    let artifacts = aws().await?.artifacts().clone();
    let artifacts = &artifacts;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::retrain(artifacts, event))).await
}

/// Runs one sweep per scheduled invocation.
pub async fn run_sweep(ports: Ports) -> Result<(), Error> {
    let ports = &ports;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::sweep_orders(ports, event))).await
}

/// Runs `consumer` on every message of its queue's SQS events.
pub async fn run_sqs<C: Consumer>(ports: Ports, consumer: C) -> Result<(), Error> {
    let (ports, consumer) = (&ports, &consumer);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| sqs::handle_batch(consumer, ports, event))).await
}
