//! The wiring every Lambda binary shares, so each `main.rs` is a few lines:
//! [`init_tracing`] (JSON logs), [`aws_state`] (configuration read once, clients built
//! once per container), [`run_http`] for API Gateway functions and [`run_sqs`] for queue
//! consumers with partial batch failure reporting.

pub mod schedule;
pub mod sqs;

use std::sync::Arc;

use anyhow::Context as _;

use oms_api::{AppState, ChannelSecrets, UnsignedPolicy};
use oms_aws::{Aws, AwsSettings};
use oms_domain::ports::SystemClock;

pub use lambda_runtime::Error;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default info), no ANSI colours.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .without_time() // CloudWatch stamps every line
        .init();
}

/// Reads the configuration (failing fast, naming the missing variable) and builds the AWS
/// clients, once per container. Webhooks from a channel without a secret are refused.
pub async fn aws_state() -> anyhow::Result<AppState> {
    let settings = AwsSettings::from_env().context("Failed to read the function's configuration")?;
    let sdk = oms_aws::load_sdk_config().await;
    let aws = Aws::new(&sdk, settings);
    Ok(AppState {
        ports: aws.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::from_env(),
        unsigned: UnsignedPolicy::Refuse,
    })
}

/// Serves an HTTP function's router behind API Gateway.
pub async fn run_http(router: oms_api::routes::Router) -> Result<(), Error> {
    lambda_http::run(router).await
}

/// Runs a queue consumer over the given state's ports.
pub async fn run_sqs(state: AppState) -> Result<(), Error> {
    let ports = state.ports;
    lambda_runtime::run(lambda_runtime::service_fn(|event| sqs::handle_batch(&ports, event))).await
}
