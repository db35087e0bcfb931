//! merchants: merchant onboarding behind API Gateway - registration, the application and
//! its documents (in the bucket under `documents/`), submission, the administrators'
//! approvals and rejections and their review queue. An approval releases the merchant's
//! orders held for it (each queued for allocation through the table's outbox), so its role
//! writes orders and alerts but sends to no queue. It also serves the storefronts: the
//! platform's templates, a merchant's draft, preview, publication, and the published stores
//! storefront backends read, and the reviewed catalogue, whose automated rules take the
//! deployment's banned words (`OMS_BANNED_WORDS`, read once at start).

#[tokio::main]
async fn main() -> Result<(), oms_lambda::Error> {
    oms_lambda::init();
    let rules = oms_lambda::review_rules(|name| std::env::var(name).ok())?;
    let state = oms_lambda::aws_documents_state().await?;
    oms_lambda::run_http(oms_api::routes::with_review_rules(oms_api::routes::merchants_api(state), rules)).await
}
