//! Creates the table, queues and bucket the functions use on whatever endpoint the
//! standard SDK configuration points at (`AWS_ENDPOINT_URL` for moto or LocalStack), and
//! prints their names as `export` lines for a shell to eval:
//!
//! ```sh
//! eval "$(cargo run -q -p oms-aws --features provision --example provision -- local)"
//! ```
//!
//! The one argument is the name prefix (default `local`): the resources are
//! `<prefix>-oms`, `<prefix>-allocate`, `<prefix>-reserve` (each with a `-dlq`) and
//! `<prefix>-oms-artifacts`, and the secret `<prefix>-channel-secrets` holding the
//! channels' webhook secrets taken from `OMS_CHANNEL_SECRET_<CHANNEL>` (as ingest-order
//! reads them in AWS). Creating them twice under one prefix fails (the table exists).

use std::process::ExitCode;

/// Quotes a value for a POSIX shell: single quotes, with each `'` written as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let prefix = args.next().unwrap_or_else(|| "local".to_owned());
    if prefix.starts_with('-') || args.next().is_some() {
        eprintln!("usage: provision [PREFIX]   (default prefix: local)");
        return ExitCode::from(2);
    }
    let sdk_config = oms_aws::load_sdk_config().await;
    let endpoint = sdk_config.endpoint_url().unwrap_or("the real AWS (AWS_ENDPOINT_URL is not set)").to_owned();
    match oms_aws::provision::create_resources(&sdk_config, &prefix).await {
        Ok(settings) => {
            eprintln!("provision: created the {prefix} resources on {endpoint}");
            println!("export OMS_TABLE={}", shell_quote(&settings.table));
            println!("export OMS_ALLOCATE_QUEUE_URL={}", shell_quote(&settings.allocate_queue_url));
            println!("export OMS_RESERVE_QUEUE_URL={}", shell_quote(&settings.reserve_queue_url));
            println!("export OMS_OUTBOUND_QUEUE_URL={}", shell_quote(&settings.outbound_queue_url));
            println!("export OMS_BUCKET={}", shell_quote(&settings.bucket));
            let secrets: serde_json::Map<String, serde_json::Value> = ["shopify", "woocommerce", "amazon", "generic"]
                .into_iter()
                .filter_map(|channel| {
                    let value = std::env::var(format!("OMS_CHANNEL_SECRET_{}", channel.to_ascii_uppercase())).ok()?;
                    Some((channel.to_owned(), value.into()))
                })
                .collect();
            let name = format!("{prefix}-channel-secrets");
            match oms_aws::provision::create_secret(&sdk_config, &name, &serde_json::Value::Object(secrets).to_string()).await {
                Ok(arn) => println!("export OMS_CHANNEL_SECRETS_ARN={}", shell_quote(&arn)),
                Err(err) => {
                    eprintln!("provision: cannot create the secret {name} on {endpoint}: {err:#}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("provision: cannot create the {prefix} resources on {endpoint}: {err:#}");
            ExitCode::FAILURE
        }
    }
}
