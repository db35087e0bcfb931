//! The wiring every Lambda binary shares, so each `main.rs` is a few lines:
//! [`init`] (JSON logs, the panic behaviour), [`aws_ports`] and [`aws_state`]
//! (configuration read once, clients built once per container), [`run_http`] for API
//! Gateway functions, [`run_sqs`] for queue consumers with partial batch failure
//! reporting, [`run_outbox_relay`] for the table's stream, [`run_sweep`] for the
//! scheduled sweeper and [`run_reconcile`] for the scheduled stock reconciliation.

#[cfg(feature = "pricing")]
pub mod pricing;
#[cfg(feature = "exports")]
pub mod reports;
pub mod schedule;
pub mod sqs;
pub mod stream;

use std::sync::Arc;

use anyhow::Context as _;

use oms_api::{AppState, Authenticator, ChannelSecrets, GatewayClaims, PricingModel, UnsignedPolicy};
use oms_aws::{Aws, AwsSettings};
use oms_domain::messages::Consumer;
use oms_domain::ports::{Ports, SystemClock};

pub use lambda_runtime::Error;

/// JSON logs to stdout (CloudWatch) at the level [`log_level`] reads, no ANSI colours; and
/// the one panic behaviour of every build: a panic is logged, then the process aborts (as
/// the release profile's `panic = "abort"` does), so Lambda starts a fresh container and
/// SQS redelivers what was in flight.
pub fn init() {
    let level = log_level(|name| std::env::var(name).ok());
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_ansi(false)
        .without_time() // CloudWatch stamps every line
        .init();
    std::panic::set_hook(Box::new(|panic| {
        tracing::error!(panic = %panic, "panicked; aborting");
        std::process::abort();
    }));
}

/// The log level: `RUST_LOG`'s level (its one directive without a target, as in
/// `info,cargo_lambda_watch=debug`; targets are not filtered apart), else Lambda's own
/// `AWS_LAMBDA_LOG_LEVEL` (set by the function's `LoggingConfig.ApplicationLogLevel`:
/// TRACE, DEBUG, INFO, WARN, ERROR or FATAL), else info.
pub fn log_level(var: impl Fn(&str) -> Option<String>) -> tracing::Level {
    let from_rust_log = var("RUST_LOG").and_then(|value| {
        value.split(',').map(str::trim).filter(|d| !d.contains('=')).find_map(|d| d.parse::<tracing::Level>().ok())
    });
    let from_lambda = || {
        var("AWS_LAMBDA_LOG_LEVEL").and_then(|value| match value.trim().to_ascii_uppercase().as_str() {
            "FATAL" => Some(tracing::Level::ERROR),
            other => other.parse::<tracing::Level>().ok(),
        })
    };
    from_rust_log.or_else(from_lambda).unwrap_or(tracing::Level::INFO)
}

/// Reads the configuration (failing fast, naming the missing variable) and builds the AWS
/// clients, once per container.
pub async fn aws_ports() -> anyhow::Result<Ports> {
    Ok(aws().await?.ports(Arc::new(SystemClock)))
}

/// The configuration read (failing fast, naming the missing variable) and the AWS clients
/// built, once per container.
async fn aws() -> anyhow::Result<Aws> {
    let (sdk, settings) = configuration().await?;
    Ok(Aws::new(&sdk, settings))
}

/// The function's settings (failing fast, naming the missing variable) and the SDK
/// configuration.
async fn configuration() -> anyhow::Result<(aws_config::SdkConfig, AwsSettings)> {
    let settings = AwsSettings::from_env().context("Failed to read the function's configuration")?;
    Ok((oms_aws::load_sdk_config().await, settings))
}

/// What an HTTP function that takes no webhooks needs: the ports, and its callers known
/// from the API's JWT authorizer. (A webhook reaching it is refused: it has no secrets.)
pub async fn aws_state() -> anyhow::Result<AppState> {
    state_over(&aws().await?)
}

/// The state every HTTP function starts from: the ports over `aws`, callers from the JWT
/// authorizer, no webhook secrets (webhooks refused), no pricing model, and the burst
/// routes' admission from [`PROOF_OF_WORK_VARIABLE`].
fn state_over(aws: &Aws) -> anyhow::Result<AppState> {
    Ok(AppState {
        ports: aws.ports(Arc::new(SystemClock)),
        secrets: ChannelSecrets::default().into(),
        unsigned: UnsignedPolicy::Refuse,
        auth: gateway_auth(),
        pricing: PricingModel::default(),
        archive: None,
        reports: None,
        admission: admission(|name| std::env::var(name).ok())?,
        documents: None,
    })
}

/// The variable holding the leading zero bits a burst route's proof of work must have
/// (`oms_api::admission`; absent, empty or 0: no proof asked).
pub const PROOF_OF_WORK_VARIABLE: &str = "OMS_PROOF_OF_WORK_BITS";

/// The variable holding the requests a second one customer may send one sale or auction's
/// burst routes, in each container (`oms_api::admission`; absent, empty or 0: no limit).
pub const CUSTOMER_RATE_VARIABLE: &str = "OMS_CUSTOMER_RATE_LIMIT";

/// The burst routes' admission, from [`PROOF_OF_WORK_VARIABLE`] and
/// [`CUSTOMER_RATE_VARIABLE`] (read once, at start).
pub fn admission(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<oms_api::admission::Admission> {
    let number = |name: &str| -> anyhow::Result<u32> {
        let raw = var(name).unwrap_or_default();
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(0);
        }
        raw.parse().with_context(|| format!("{name} must be a whole number, not {raw:?}"))
    };
    let bits = u8::try_from(number(PROOF_OF_WORK_VARIABLE)?).unwrap_or(u8::MAX);
    let admission =
        oms_api::admission::Admission::proof_of_work(bits).map_err(|e| anyhow::anyhow!("{PROOF_OF_WORK_VARIABLE}: {e}"))?;
    Ok(admission.per_customer(oms_api::throttle::Rate::per_second(number(CUSTOMER_RATE_VARIABLE)?)))
}

/// Where `GET /analytics` and `GET /reports` read from (the `AppState` fields).
#[cfg(feature = "webhooks")]
type Exported = (Option<Arc<dyn oms_domain::ports::OrderArchive>>, Option<Arc<dyn oms_api::ReportFiles>>);

/// What `GET /analytics` and `GET /reports` read: the last order export and the report
/// runs in S3 (`export-orders`).
#[cfg(all(feature = "exports", feature = "webhooks"))]
fn exported(aws: &Aws) -> Exported {
    let artifacts = aws.artifacts().clone();
    (
        Some(Arc::new(oms_aws::order_export::ExportedOrders::new(artifacts.clone()))),
        Some(Arc::new(reports::S3Reports { artifacts })),
    )
}

/// Without the export (a function that serves neither route): none, 501.
#[cfg(all(not(feature = "exports"), feature = "webhooks"))]
fn exported(_aws: &Aws) -> Exported {
    (None, None)
}

/// Writes the order export and the report files once per scheduled invocation
/// (`export-orders`).
#[cfg(feature = "export-writer")]
pub async fn run_export() -> Result<(), Error> {
    let aws = aws().await?;
    let ports = aws.ports(Arc::new(SystemClock));
    let (aws, ports) = (&aws, &ports);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::export_orders(aws, ports, event))).await
}

/// The variable naming the Secrets Manager secret of the channels' webhook secrets (a JSON
/// object: `{"shopify": "...", "woocommerce": "...", "amazon": "...", "generic": "..."}`).
#[cfg(feature = "webhooks")]
pub const CHANNEL_SECRETS_VARIABLE: &str = "OMS_CHANNEL_SECRETS_ARN";

/// How often, at most, a refused signature makes a function read the secret again.
#[cfg(feature = "webhooks")]
pub const SECRETS_REREAD_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// ingest-order's state: [`aws_state`], with the channels' webhook secrets read from
/// Secrets Manager at start (failing fast when they cannot be) and again after a refused
/// signature, at most once a minute: a rotation needs no redeploy. Never from plain
/// environment variables. A channel without a secret has its webhooks refused.
#[cfg(feature = "webhooks")]
pub async fn aws_webhook_state() -> anyhow::Result<AppState> {
    let secret_id = std::env::var(CHANNEL_SECRETS_VARIABLE)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(oms_aws::MissingSetting(CHANNEL_SECRETS_VARIABLE))
        .context("Failed to read the function's configuration")?;
    let (sdk, settings) = configuration().await?;
    let secrets = webhook_secrets(&sdk, &secret_id, SECRETS_REREAD_EVERY).await?;
    let aws = Aws::new(&sdk, settings);
    let (archive, reports) = exported(&aws);
    Ok(AppState { secrets, archive, reports, ..state_over(&aws)? })
}

/// The channels' webhook secrets in the Secrets Manager secret `secret_id`, read now and
/// again after a refused signature when the last read is `at_most_every` old.
#[cfg(feature = "webhooks")]
pub async fn webhook_secrets(
    sdk: &aws_config::SdkConfig,
    secret_id: &str,
    at_most_every: std::time::Duration,
) -> anyhow::Result<oms_api::WebhookSecrets> {
    let reader = Arc::new(oms_aws::SecretsReader::new(sdk, secret_id));
    let load: oms_api::LoadSecrets = Arc::new(move || {
        let reader = reader.clone();
        Box::pin(async move { Ok(ChannelSecrets::from_json(&reader.read().await?)?) })
    });
    let initial = load().await.context("Failed to read the channels' webhook secrets")?;
    for channel in initial.unsigned_channels() {
        tracing::warn!(%channel, "no webhook secret for this channel: its webhooks are refused");
    }
    Ok(oms_api::WebhookSecrets::reloading(initial, load, at_most_every))
}

/// merchants' state: [`aws_state`] with the documents in the bucket (`documents/`).
#[cfg(feature = "documents")]
pub async fn aws_documents_state() -> anyhow::Result<AppState> {
    let aws = aws().await?;
    Ok(AppState { documents: Some(Arc::new(aws.documents())), ..state_over(&aws)? })
}

/// quote-price's state: the ports, and every merchant's current pricing model from S3,
/// loaded once per container and replaced when its pointer moves (`pricing::follow_current`).
#[cfg(feature = "pricing")]
pub async fn aws_pricing_state() -> anyhow::Result<AppState> {
    let aws = aws().await?;
    let artifacts = aws.artifacts().clone();
    let current = pricing::load_current(&artifacts).await?;
    let loaded = current.iter().map(|artifact| (artifact.merchant_id.clone(), artifact.version.clone())).collect();
    let model = PricingModel::new(current);
    pricing::follow_current(artifacts, model.clone(), loaded, pricing::FOLLOW_EVERY);
    Ok(AppState { pricing: model, ..state_over(&aws)? })
}

/// The claim that names the caller's merchant (`OMS_MERCHANT_CLAIM`, default
/// `merchant_id`; `custom:merchant_id` for a Cognito user pool attribute).
pub const MERCHANT_CLAIM_VARIABLE: &str = "OMS_MERCHANT_CLAIM";

/// Operator routes know their caller from the claims of the JWT the HTTP API's authorizer
/// verified (`with_gateway_claims`).
pub fn gateway_auth() -> Authenticator {
    let merchant_claim = std::env::var(MERCHANT_CLAIM_VARIABLE).ok().filter(|c| !c.trim().is_empty());
    Authenticator::Gateway { merchant_claim: merchant_claim.unwrap_or_else(|| "merchant_id".to_owned()) }
}

/// An HTTP function's router as Lambda runs it: the verified JWT's claims and scopes from
/// API Gateway's request context put on each request (`GatewayClaims`), where the
/// handlers' caller check reads them.
pub fn with_gateway_claims(router: oms_api::routes::Router) -> oms_api::routes::Router {
    router.layer(axum::middleware::map_request(claims_from_context))
}

async fn claims_from_context(mut request: axum::extract::Request) -> axum::extract::Request {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt as _;
    let jwt = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.authorizer.as_ref().and_then(|a| a.jwt.clone()),
        _ => None,
    };
    if let Some(jwt) = jwt {
        request.extensions_mut().insert(GatewayClaims { claims: jwt.claims, scopes: jwt.scopes });
    }
    request
}

/// Serves an HTTP function's router behind API Gateway.
pub async fn run_http(router: oms_api::routes::Router) -> Result<(), Error> {
    lambda_http::run(with_gateway_claims(router)).await
}

/// Relays the outbox items of the table's stream to their SQS queues.
pub async fn run_outbox_relay(ports: Ports) -> Result<(), Error> {
    let queue = &*ports.queue;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| stream::handle_stream(queue, event))).await
}

/// The variable holding the merge window in hours (`MergePolicy`; 0 turns merging off).
pub const MERGE_WINDOW_VARIABLE: &str = "OMS_MERGE_WINDOW_HOURS";

/// When allocation merges a customer's orders, from [`MERGE_WINDOW_VARIABLE`] (read once,
/// at start; absent or empty: the default window).
pub fn merge_policy(var: impl Fn(&str) -> Option<String>) -> Result<oms_domain::allocation::merge::MergePolicy, Error> {
    match var(MERGE_WINDOW_VARIABLE).filter(|raw| !raw.trim().is_empty()) {
        Some(raw) => {
            let hours: i64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("{MERGE_WINDOW_VARIABLE} must be a whole number of hours, not {raw:?}"))?;
            Ok(oms_domain::allocation::merge::MergePolicy::hours(hours).map_err(|e| format!("{MERGE_WINDOW_VARIABLE}: {e}"))?)
        }
        None => Ok(oms_domain::allocation::merge::MergePolicy::default()),
    }
}

/// The variables holding the return window in days and the restocking fee in percent.
pub const RETURN_WINDOW_VARIABLE: &str = "OMS_RETURN_WINDOW_DAYS";
pub const RESTOCKING_FEE_VARIABLE: &str = "OMS_RESTOCKING_FEE_PERCENT";

/// The return policy from [`RETURN_WINDOW_VARIABLE`] and [`RESTOCKING_FEE_VARIABLE`] (read
/// once, at start; absent or empty: the defaults, 30 days and 10 %), checked.
pub fn return_policy(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<oms_domain::returns::ReturnPolicy> {
    let given = |name: &str| var(name).map(|raw| raw.trim().to_owned()).filter(|raw| !raw.is_empty());
    let mut policy = oms_domain::returns::ReturnPolicy::default();
    if let Some(raw) = given(RETURN_WINDOW_VARIABLE) {
        policy.window_days =
            raw.parse().with_context(|| format!("{RETURN_WINDOW_VARIABLE} must be a whole number of days, not {raw:?}"))?;
    }
    if let Some(raw) = given(RESTOCKING_FEE_VARIABLE) {
        policy.restocking_fee_percent =
            raw.parse().with_context(|| format!("{RESTOCKING_FEE_VARIABLE} must be a decimal percent, not {raw:?}"))?;
    }
    policy.check().map_err(|e| anyhow::anyhow!("{RETURN_WINDOW_VARIABLE} / {RESTOCKING_FEE_VARIABLE}: {e}"))
}

/// The variable holding the deployment's banned words for the product review.
pub const BANNED_WORDS_VARIABLE: &str = "OMS_BANNED_WORDS";

/// The product review's automated rules: the banned words of [`BANNED_WORDS_VARIABLE`]
/// (read once, at start; absent or empty: the built-in list), checked.
pub fn review_rules(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<oms_domain::product::ReviewRules> {
    match var(BANNED_WORDS_VARIABLE).filter(|raw| !raw.trim().is_empty()) {
        Some(raw) => {
            oms_domain::product::ReviewRules::with_banned_words(&raw).map_err(|e| anyhow::anyhow!("{BANNED_WORDS_VARIABLE}: {e}"))
        }
        None => Ok(oms_domain::product::ReviewRules::default()),
    }
}

/// The variable holding the least margin over cost a quote keeps, as a fraction
/// (`0.05`, the default, is 5 %).
#[cfg(feature = "pricing")]
pub const MIN_MARGIN_VARIABLE: &str = "OMS_MIN_MARGIN";

/// The least margin over cost, from [`MIN_MARGIN_VARIABLE`] (read once, at start).
#[cfg(feature = "pricing")]
pub fn min_margin(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<rust_decimal::Decimal> {
    match var(MIN_MARGIN_VARIABLE).filter(|raw| !raw.trim().is_empty()) {
        Some(raw) => raw
            .trim()
            .parse::<rust_decimal::Decimal>()
            .ok()
            .filter(|margin| !margin.is_sign_negative() && *margin < rust_decimal::Decimal::ONE)
            .with_context(|| format!("{MIN_MARGIN_VARIABLE} must be a fraction from 0 to below 1, not {raw:?}")),
        None => Ok(oms_pricing::DEFAULT_MIN_MARGIN),
    }
}

/// Retrains every merchant's pricing models once per scheduled invocation.
#[cfg(feature = "pricing")]
pub async fn run_retrain() -> Result<(), Error> {
    let margin = min_margin(|name| std::env::var(name).ok())?;
    let aws = aws().await?;
    let (artifacts, ports) = (aws.artifacts().clone(), aws.ports(Arc::new(SystemClock)));
    let (artifacts, ports) = (&artifacts, &ports);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::retrain(artifacts, ports, margin, event))).await
}

/// Runs one sweep per scheduled invocation.
pub async fn run_sweep(ports: Ports) -> Result<(), Error> {
    let limits = schedule::sweep_limits(|name| std::env::var(name).ok())?;
    let (ports, limits) = (&ports, &limits);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::sweep_orders_with(ports, limits, event))).await
}

/// Runs one reconciliation of the stock per scheduled invocation.
pub async fn run_reconcile(ports: Ports) -> Result<(), Error> {
    let ports = &ports;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| schedule::reconcile_stock(ports, event))).await
}

/// The variable naming the Secrets Manager secret that holds the outbound destinations (a
/// JSON document, `docs/outbound.md`).
#[cfg(feature = "outbound")]
pub const OUTBOUND_SECRET_VARIABLE: &str = "OMS_OUTBOUND_SECRET_ARN";

/// Where deliver-outbound sends notices: the document in the secret
/// [`OUTBOUND_SECRET_VARIABLE`] names, read once at start (failing fast when it cannot be
/// read). With the variable empty, nothing is configured and every notice is dropped as
/// having no destination (logged).
#[cfg(feature = "outbound")]
pub async fn outbound_destinations() -> anyhow::Result<oms_outbound::Destinations> {
    let Some(secret_id) = std::env::var(OUTBOUND_SECRET_VARIABLE).ok().filter(|v| !v.trim().is_empty()) else {
        tracing::warn!("{OUTBOUND_SECRET_VARIABLE} is empty: no warehouse or shop is told anything");
        return Ok(oms_outbound::Destinations::none());
    };
    let sdk = oms_aws::load_sdk_config().await;
    let json = oms_aws::SecretsReader::new(&sdk, secret_id).read().await.context("Failed to read the outbound destinations")?;
    Ok(oms_outbound::Destinations::from_json(&json)?)
}

/// Runs `consumer` on every message of its queue's SQS events.
pub async fn run_sqs<C: Consumer>(ports: Ports, consumer: C) -> Result<(), Error> {
    let (ports, consumer) = (&ports, &consumer);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| sqs::handle_batch(consumer, ports, event))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(vars: &[(&str, &str)]) -> tracing::Level {
        log_level(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn the_log_level_comes_from_rust_log_then_lambdas_log_level_then_info() {
        assert_eq!(level(&[]), tracing::Level::INFO);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]), tracing::Level::DEBUG);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]), tracing::Level::ERROR);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "trace")]), tracing::Level::TRACE);
        assert_eq!(level(&[("RUST_LOG", "warn,cargo_lambda_watch=debug")]), tracing::Level::WARN);
        assert_eq!(level(&[("RUST_LOG", "oms=debug"), ("AWS_LAMBDA_LOG_LEVEL", "error")]), tracing::Level::ERROR);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]), tracing::Level::INFO);
    }

    fn policy(vars: &[(&str, &str)]) -> anyhow::Result<oms_domain::returns::ReturnPolicy> {
        return_policy(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn the_review_rules_come_from_the_banned_words_variable_and_are_checked() {
        let rules = review_rules(|name| (name == BANNED_WORDS_VARIABLE).then(|| "replica, fake".to_owned())).unwrap();
        assert_eq!(rules.banned_words, ["fake", "replica"]);
        assert_eq!(review_rules(|_| None).unwrap(), oms_domain::product::ReviewRules::default());
        assert_eq!(review_rules(|_| Some("  ".to_owned())).unwrap(), oms_domain::product::ReviewRules::default());
        let long = "x".repeat(oms_domain::product::MAX_BANNED_WORD_CHARS + 1);
        assert!(review_rules(|_| Some(long.clone())).unwrap_err().to_string().contains(BANNED_WORDS_VARIABLE));
    }

    #[test]
    fn the_return_policy_comes_from_its_two_variables_and_is_checked() {
        assert_eq!(policy(&[]).unwrap(), oms_domain::returns::ReturnPolicy::default());
        let set = policy(&[(RETURN_WINDOW_VARIABLE, "14"), (RESTOCKING_FEE_VARIABLE, "12.5")]).unwrap();
        assert_eq!((set.window_days, set.restocking_fee_percent), (14, rust_decimal::Decimal::new(125, 1)));
        assert!(policy(&[(RETURN_WINDOW_VARIABLE, "two weeks")]).is_err());
        assert!(policy(&[(RETURN_WINDOW_VARIABLE, "0")]).is_err());
        assert!(policy(&[(RESTOCKING_FEE_VARIABLE, "150")]).is_err());
    }
}
