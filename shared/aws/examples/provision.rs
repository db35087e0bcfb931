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
//! `<prefix>-oms-artifacts`. Creating them twice under one prefix fails (the table exists).

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
            println!("export OMS_BUCKET={}", shell_quote(&settings.bucket));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("provision: cannot create the {prefix} resources on {endpoint}: {err:#}");
            ExitCode::FAILURE
        }
    }
}
