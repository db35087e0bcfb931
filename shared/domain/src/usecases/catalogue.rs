//! The SKU catalogue and the carriers' rate tables: configuration that allocation reads
//! (unit weights, parcel prices) and later features share.

use crate::carrier::RateTable;
use crate::catalogue::SkuFacts;
use crate::ports::{Ports, StoreError};
use crate::{CarrierId, MerchantId, Sku};

/// Why a SKU's facts were not recorded. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum PutSkuError {
    /// The merchant's onboarding is not approved (`crate::onboarding::may_sell`): it may
    /// not list products yet.
    #[error("merchant {0} is not approved to sell yet: its onboarding application must be approved before it lists products")]
    NotApproved(MerchantId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Records the facts of a SKU, replacing any earlier ones; plans made from then on weigh
/// its units by them. Only a merchant that may sell lists products: one whose onboarding
/// record is not approved is refused (one with no record predates onboarding and may).
pub async fn put_sku(ports: &Ports, facts: &SkuFacts) -> Result<(), PutSkuError> {
    if !crate::usecases::onboarding::may_sell(&*ports.merchants, &facts.merchant_id).await? {
        return Err(PutSkuError::NotApproved(facts.merchant_id.clone()));
    }
    ports.catalogue.put_sku(facts).await?;
    tracing::info!(sku = %facts.sku, merchant_id = %facts.merchant_id, weight_g = facts.weight_g, "SKU facts recorded");
    Ok(())
}

/// The facts of a SKU, if the catalogue has them.
pub async fn sku(ports: &Ports, sku: &Sku) -> Result<Option<SkuFacts>, StoreError> {
    ports.catalogue.get_sku(sku).await
}

/// Records a carrier's rate table, replacing its earlier one whole; plans made from then
/// on price parcels by it.
pub async fn put_rates(ports: &Ports, table: &RateTable) -> Result<(), StoreError> {
    ports.rates.put_rates(table).await?;
    tracing::info!(carrier = %table.carrier, bands = table.bands.len(), "carrier rates recorded");
    Ok(())
}

/// A carrier's rate table, if it has one.
pub async fn rates(ports: &Ports, carrier: &CarrierId) -> Result<Option<RateTable>, StoreError> {
    ports.rates.get_rates(carrier).await
}
