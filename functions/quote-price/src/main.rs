//! quote-price: per-customer price quotes, offers and recommendations from each merchant's
//! current pricing model in S3 (loaded once per container, replaced when retrain-model
//! moves a pointer).

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_http(oms_api::routes::quotes_api(oms_lambda::aws_pricing_state().await?)).await
}
