//! merchants: merchant onboarding behind API Gateway - registration, the application and
//! its documents (in the bucket under `documents/`), submission, the administrators'
//! approvals and rejections and their review queue. An approval releases the merchant's
//! orders held for it (each queued for allocation through the table's outbox), so its role
//! writes orders and alerts but sends to no queue. It also serves the storefronts: the
//! platform's templates, a merchant's draft, preview, publication, and the published stores
//! storefront backends read.

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let state = oms_lambda::aws_documents_state().await?;
    oms_lambda::run_http(oms_api::routes::merchants_api(state)).await
}
