//! The reviewed catalogue (`crate::product`): a merchant writes a SKU's listing and submits
//! it; the automated rules run at once, then a reviewer approves or rejects it; the merchant
//! lists, unlists and promotes it. Every step reads the listing, takes the step and writes
//! it over the version read ([`ProductStore::update_product`]); a lost race reads again and
//! takes the step again on the fresh listing, so two reviewers deciding at once leave
//! exactly one decision (the second finds the listing decided and is refused).
//!
//! A listing going on sale (approved while listed is impossible: it is listed after the
//! approval) releases the merchant's channel orders held for it
//! ([`crate::order::HoldReason::ProductNotSellable`]), by the same mechanism as a merchant's
//! approval ([`crate::usecases::onboarding`]).

use chrono::{DateTime, Utc};

use crate::ports::{CreateProductOutcome, Ports, ProductStore, ProductsPage, StoreError, UpdateProductOutcome, MAX_PAGE_SIZE};
use crate::product::{
    listed_for_sale, sellable, InvalidProductStep, NotSellable, Product, ProductContent, ProductStatus, ProductStepError,
    ReviewRules,
};
use crate::usecases::CONFLICT_RETRIES;
use crate::{MerchantId, OrderId, Sku, ValidationError};

/// Why a catalogue step did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ProductActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No listing of the SKU (or, writing one, no facts of the SKU of this merchant).
    #[error("no product {0} of this merchant")]
    NotFound(Sku),
    /// The merchant's onboarding is not approved: it may not list products yet.
    #[error("merchant {0} is not approved to sell yet: its onboarding application must be approved before it lists products")]
    MerchantNotApproved(MerchantId),
    #[error(transparent)]
    Step(#[from] InvalidProductStep),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<ProductStepError> for ProductActionError {
    fn from(e: ProductStepError) -> Self {
        match e {
            ProductStepError::Step(step) => Self::Step(step),
            ProductStepError::Invalid(invalid) => Self::Invalid(invalid),
        }
    }
}

/// What writing a listing answered: the listing, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub product: Product,
    pub created: bool,
}

/// The SKU's listing.
pub async fn product_of(store: &dyn ProductStore, sku: &Sku) -> Result<Product, ProductActionError> {
    store.get_product(sku).await?.ok_or_else(|| ProductActionError::NotFound(sku.clone()))
}

/// The one read-step-write loop over a listing: reads it, takes `step` on it and writes it
/// over the version read; a lost race reads the listing again and takes the step again, at
/// most [`CONFLICT_RETRIES`] times. A step that changes nothing (`Ok(false)`: a retry)
/// writes nothing and answers the listing as read.
async fn step_with_retry(
    store: &dyn ProductStore,
    sku: &Sku,
    mut step: impl FnMut(&mut Product) -> Result<bool, ProductActionError>,
) -> Result<Product, ProductActionError> {
    let mut read = product_of(store, sku).await?;
    for _ in 0..CONFLICT_RETRIES {
        let mut next = read.clone();
        if !step(&mut next)? {
            return Ok(read);
        }
        match store.update_product(&read, &next).await? {
            UpdateProductOutcome::Updated => return Ok(next),
            UpdateProductOutcome::Conflict(stored) => read = *stored,
            UpdateProductOutcome::NotFound => return Err(ProductActionError::NotFound(sku.clone())),
        }
    }
    Err(StoreError::msg(format!("product {sku} kept changing: gave up after {CONFLICT_RETRIES} lost races")).into())
}

/// Writes `merchant`'s listing of `sku`: a new one is a draft; an existing one is edited
/// (`Product::edit`: an approved listing's reviewed content goes back to review). The SKU's
/// facts must be recorded and the merchant's (else `NotFound`, so another merchant's SKU
/// does not leak), and the merchant may sell (`crate::onboarding::may_sell`).
pub async fn put_product(
    ports: &Ports,
    rules: &ReviewRules,
    merchant: &MerchantId,
    sku: &Sku,
    content: ProductContent,
    by: &str,
) -> Result<Saved, ProductActionError> {
    let facts = ports.catalogue.get_sku(sku).await?;
    if facts.is_none_or(|f| &f.merchant_id != merchant) {
        return Err(ProductActionError::NotFound(sku.clone()));
    }
    if !crate::usecases::onboarding::may_sell(&*ports.merchants, merchant).await? {
        return Err(ProductActionError::MerchantNotApproved(merchant.clone()));
    }
    let now = ports.clock.now();
    let draft = Product::draft(sku.clone(), merchant.clone(), content.clone(), by, now);
    if let CreateProductOutcome::Created = ports.products.create_product(&draft).await? {
        tracing::info!(sku = %sku, merchant_id = %merchant, "product listing written");
        return Ok(Saved { product: draft, created: true });
    }
    let product = step_with_retry(&*ports.products, sku, |p| Ok(p.edit(content.clone(), rules, by, now)?)).await?;
    Ok(Saved { product, created: false })
}

/// Submits a draft: the automated `rules` run in the same step (rejecting it with their
/// reason, or queueing it for a reviewer).
pub async fn submit(
    store: &dyn ProductStore,
    rules: &ReviewRules,
    sku: &Sku,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Product, ProductActionError> {
    let product = step_with_retry(store, sku, |p| Ok(p.submit(rules, by, now)?)).await?;
    tracing::info!(sku = %sku, status = %product.status, "product submitted for review");
    Ok(product)
}

/// A reviewer approves a listing in review.
pub async fn approve(store: &dyn ProductStore, sku: &Sku, by: &str, now: DateTime<Utc>) -> Result<Product, ProductActionError> {
    let product = step_with_retry(store, sku, |p| Ok(p.approve(by, now).map(|()| true)?)).await?;
    tracing::info!(sku = %sku, "product approved");
    Ok(product)
}

/// A reviewer rejects a listing in review with `reason`.
pub async fn reject(
    store: &dyn ProductStore,
    sku: &Sku,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Product, ProductActionError> {
    let product = step_with_retry(store, sku, |p| Ok(p.reject(reason, by, now).map(|()| true)?)).await?;
    tracing::info!(sku = %sku, "product rejected");
    Ok(product)
}

/// What listing did: the listing, and the orders it released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub product: Product,
    pub released: Vec<OrderId>,
}

/// Puts an approved listing on sale; the merchant's orders held for its products are
/// released if every listing they name is on sale now
/// ([`crate::usecases::onboarding::release_held_orders`]).
pub async fn list(ports: &Ports, sku: &Sku, by: &str) -> Result<Listed, ProductActionError> {
    let now = ports.clock.now();
    let product = step_with_retry(&*ports.products, sku, |p| Ok(p.list(by, now)?)).await?;
    tracing::info!(sku = %sku, "product listed");
    let released = crate::usecases::onboarding::release_held_orders(ports, &product.merchant_id).await?;
    Ok(Listed { product, released })
}

/// Takes a listed listing off sale.
pub async fn unlist(store: &dyn ProductStore, sku: &Sku, by: &str, now: DateTime<Utc>) -> Result<Product, ProductActionError> {
    let product = step_with_retry(store, sku, |p| Ok(p.unlist(by, now)?)).await?;
    tracing::info!(sku = %sku, "product unlisted");
    Ok(product)
}

/// Promotes a listed listing to `rank`, or ends its promotion (`None`).
pub async fn promote(
    store: &dyn ProductStore,
    sku: &Sku,
    rank: Option<u32>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Product, ProductActionError> {
    step_with_retry(store, sku, |p| Ok(p.promote(rank, by, now)?)).await
}

/// Listings in `status`, oldest in it first, a page of at most `limit` (1 to
/// [`MAX_PAGE_SIZE`]) after the cursor `after`.
pub async fn in_status(
    store: &dyn ProductStore,
    status: ProductStatus,
    after: Option<&str>,
    limit: usize,
) -> Result<ProductsPage, ProductActionError> {
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ValidationError::new("limit", format!("must be 1 to {MAX_PAGE_SIZE}, not {limit}")).into());
    }
    Ok(store.products_in_status(status, after, limit).await?)
}

/// The merchant's promoted listings that are on sale, by rank then SKU.
pub async fn promoted(store: &dyn ProductStore, merchant: &MerchantId) -> Result<Vec<Product>, StoreError> {
    let mut found = store.promoted_products(merchant).await?;
    found.retain(|p| p.status == ProductStatus::Listed);
    Ok(found)
}

/// Why the platform's own checkout refuses a SKU.
#[derive(Debug, thiserror::Error)]
pub enum SellableError {
    #[error("product {sku} may not be sold: {why}")]
    NotSellable { sku: Sku, why: NotSellable },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Whether `sku` may be sold now, for the platform's own checkout: approved, listed and
/// with units on hand in some warehouse (`crate::product::sellable`); a SKU with no
/// listing predates the review and may.
pub async fn ensure_sellable(ports: &Ports, sku: &Sku) -> Result<(), SellableError> {
    let product = ports.products.get_product(sku).await?;
    let on_hand = match &product {
        // A SKU with no listing sells as before: its stock is allocation's to find.
        None => 0,
        Some(_) => ports.inventory.stock_of(sku).await?.iter().map(|level| u64::from(level.on_hand)).sum(),
    };
    sellable(product.as_ref(), on_hand).map_err(|why| SellableError::NotSellable { sku: sku.clone(), why })
}

/// The first SKU of `skus` whose listing is not on sale (approved and listed), and why:
/// what a channel order is held for. SKUs with no listing pass.
pub async fn first_not_listed<'a>(
    store: &dyn ProductStore,
    skus: impl IntoIterator<Item = &'a Sku>,
) -> Result<Option<(Sku, NotSellable)>, StoreError> {
    for sku in skus {
        if let Err(why) = listed_for_sale(store.get_product(sku).await?.as_ref()) {
            return Ok(Some((sku.clone(), why)));
        }
    }
    Ok(None)
}
