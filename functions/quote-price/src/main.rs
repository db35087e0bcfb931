//! quote-price: its routes answer 501 with a JSON error until the feature is built.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    oms_lambda::run_http(oms_api::routes::quotes_api()).await
}
