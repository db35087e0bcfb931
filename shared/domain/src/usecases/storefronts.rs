//! Storefronts (`crate::storefront`): staff publish templates; a merchant saves its draft
//! over the version it read, previews it, publishes it and unpublishes it; buyers read the
//! published copy with each product's catalogue facts, rating and whether it is in stock.
//!
//! Who may: a merchant with an onboarding record drafts (one with none, a merchant from
//! before onboarding, registers first); only an approved one publishes. The products a
//! storefront shows are the merchant's own SKUs in the catalogue, checked on every save and
//! again at publication (a SKU may have left the catalogue meanwhile).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::onboarding::OnboardingStatus;
use crate::ports::{Ports, PublishOutcome, PutTemplateOutcome, SaveDraftOutcome, StoreError, StorefrontStore};
use crate::review::Rating;
use crate::storefront::{Profile, PublishRefused, PublishedStorefront, StorefrontDraft, Template, TemplateId, TemplateStatus};
use crate::{MerchantId, Sku, ValidationError};

/// Why a storefront step did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum StorefrontError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("template {id} is at version {stored} already, differently: send a higher version")]
    TemplateStale { id: TemplateId, stored: u32 },
    #[error("no storefront template {0}")]
    UnknownTemplate(TemplateId),
    #[error("template {0} is withdrawn: pick another template and save the draft again")]
    TemplateWithdrawn(TemplateId),
    #[error("{field}: SKU {sku} {why}")]
    UnknownSku { field: &'static str, sku: Sku, why: &'static str },
    #[error("merchant {0} has not registered")]
    NotRegistered(MerchantId),
    #[error("merchant {0} is not approved yet, so its storefront cannot be published")]
    NotApproved(MerchantId),
    #[error("merchant {0} has no storefront draft")]
    NoDraft(MerchantId),
    #[error("the draft is at version {stored}, not {expected}: read it and save again")]
    VersionConflict { expected: String, stored: String },
    #[error(transparent)]
    NotPublishable(ValidationError),
    #[error("merchant {0} has no published storefront")]
    NotPublished(MerchantId),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<PublishRefused> for StorefrontError {
    fn from(refused: PublishRefused) -> Self {
        match refused {
            PublishRefused::TemplateWithdrawn(id) => Self::TemplateWithdrawn(id),
            PublishRefused::NoLongerFits(invalid) => Self::NotPublishable(invalid),
        }
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "none (no draft)".to_owned(), |v| v.to_string())
}

/// Stores `template` (staff's). A retry of the same design at the stored version answers
/// it as stored; another design at a version not above the stored one is refused.
pub async fn put_template(store: &dyn StorefrontStore, template: Template) -> Result<Template, StorefrontError> {
    match store.put_template(&template).await? {
        PutTemplateOutcome::Written => Ok(template),
        PutTemplateOutcome::Unchanged => {
            Ok(store.get_template(&template.id).await?.ok_or_else(|| StoreError::msg("a stored template vanished"))?)
        }
        PutTemplateOutcome::Stale(stored) => Err(StorefrontError::TemplateStale { id: template.id, stored: stored.version }),
    }
}

/// The templates merchants may pick: the published ones, by id.
pub async fn published_templates(store: &dyn StorefrontStore) -> Result<Vec<Template>, StorefrontError> {
    let mut all = store.list_templates().await?;
    all.retain(|t| t.status == TemplateStatus::Published);
    Ok(all)
}

/// The template `id` when merchants may pick it.
async fn pickable_template(store: &dyn StorefrontStore, id: &TemplateId) -> Result<Template, StorefrontError> {
    let template = store.get_template(id).await?.ok_or_else(|| StorefrontError::UnknownTemplate(id.clone()))?;
    if template.status == TemplateStatus::Withdrawn {
        return Err(StorefrontError::TemplateWithdrawn(id.clone()));
    }
    Ok(template)
}

/// Every SKU of `profile` is the merchant's own in the catalogue.
async fn check_own_skus(ports: &Ports, merchant: &MerchantId, profile: &Profile) -> Result<(), StorefrontError> {
    let lists = [("featured", &profile.featured), ("promoted", &profile.promoted)];
    for (field, skus) in lists {
        for sku in skus {
            let why = match ports.catalogue.get_sku(sku).await? {
                None => "is not in the catalogue",
                Some(facts) if facts.merchant_id != *merchant => "is not one of the merchant's own",
                Some(_) => continue,
            };
            return Err(StorefrontError::UnknownSku { field, sku: sku.clone(), why });
        }
    }
    Ok(())
}

/// The merchant has an onboarding record (approved or not).
async fn registered(ports: &Ports, merchant: &MerchantId) -> Result<crate::onboarding::MerchantRecord, StorefrontError> {
    ports.merchants.get_merchant(merchant).await?.ok_or_else(|| StorefrontError::NotRegistered(merchant.clone()))
}

/// What a draft save asks for.
#[derive(Debug, Clone)]
pub struct DraftEdit {
    pub merchant: MerchantId,
    pub profile: Profile,
    /// The version the editor read; `None` for the merchant's first draft.
    pub read_version: Option<u64>,
    pub by: String,
}

/// Saves the merchant's draft over the version the editor read: its template pickable and
/// holding the profile, its products the merchant's own. A retry of a save that landed
/// (the stored draft is this profile at the version after the one read) answers that
/// draft; any other version is a `VersionConflict`.
pub async fn save_draft(ports: &Ports, edit: DraftEdit, now: DateTime<Utc>) -> Result<StorefrontDraft, StorefrontError> {
    let store = &*ports.storefronts;
    registered(ports, &edit.merchant).await?;
    let template = pickable_template(store, &edit.profile.template).await?;
    template.holds(&edit.profile)?;
    check_own_skus(ports, &edit.merchant, &edit.profile).await?;
    let next = StorefrontDraft::saved_over(edit.read_version, edit.merchant, edit.profile, &edit.by, now);
    match store.save_draft(&next).await? {
        SaveDraftOutcome::Saved => Ok(next),
        SaveDraftOutcome::Conflict(stored) => match stored {
            Some(stored) if stored.version == next.version && stored.profile == next.profile => Ok(*stored),
            stored => Err(StorefrontError::VersionConflict {
                expected: version_text(edit.read_version),
                stored: version_text(stored.map(|d| d.version)),
            }),
        },
    }
}

/// The merchant's draft.
pub async fn draft_of(store: &dyn StorefrontStore, merchant: &MerchantId) -> Result<StorefrontDraft, StorefrontError> {
    store.get_draft(merchant).await?.ok_or_else(|| StorefrontError::NoDraft(merchant.clone()))
}

/// Publishes the merchant's draft as it is now: the merchant approved, the template still
/// pickable and holding the draft, its products still the merchant's own. Replaces what
/// was published before. An edit landing between the read and the write refuses it
/// (`VersionConflict`): publish again to publish the edit.
pub async fn publish(ports: &Ports, merchant: &MerchantId, now: DateTime<Utc>) -> Result<PublishedStorefront, StorefrontError> {
    let store = &*ports.storefronts;
    let record = registered(ports, merchant).await?;
    if record.status != OnboardingStatus::Approved {
        return Err(StorefrontError::NotApproved(merchant.clone()));
    }
    let draft = draft_of(store, merchant).await?;
    let template = store
        .get_template(&draft.profile.template)
        .await?
        .ok_or_else(|| StorefrontError::UnknownTemplate(draft.profile.template.clone()))?;
    let published = PublishedStorefront::of(&draft, &template, now)?;
    check_own_skus(ports, merchant, &draft.profile).await?;
    match store.publish(&published).await? {
        PublishOutcome::Published => Ok(published),
        PublishOutcome::DraftChanged => Err(StorefrontError::VersionConflict {
            expected: draft.version.to_string(),
            stored: version_text(store.get_draft(merchant).await?.map(|d| d.version)),
        }),
    }
}

/// Takes the merchant's storefront down (the draft stays). `true` when one was published:
/// unpublishing twice is not an error.
pub async fn unpublish(store: &dyn StorefrontStore, merchant: &MerchantId) -> Result<bool, StorefrontError> {
    Ok(store.unpublish(merchant).await?)
}

/// A product as a storefront shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductCard {
    pub sku: Sku,
    pub name: String,
    pub list_price: Decimal,
    pub rating: Rating,
    /// Whether any of the merchant's own stock of it is available now.
    pub in_stock: bool,
}

/// A storefront page: the profile on its template, with its products' cards (a SKU that
/// left the merchant's catalogue since is not shown).
#[derive(Debug, Clone, PartialEq)]
pub struct Showcase {
    pub merchant: MerchantId,
    pub profile: Profile,
    pub template: Template,
    /// When it was published; `None` for a draft's preview.
    pub published_at: Option<DateTime<Utc>>,
    pub draft_version: u64,
    pub featured: Vec<ProductCard>,
    pub promoted: Vec<ProductCard>,
}

async fn card(ports: &Ports, merchant: &MerchantId, sku: &Sku) -> Result<Option<ProductCard>, StoreError> {
    let Some(facts) = ports.catalogue.get_sku(sku).await?.filter(|f| f.merchant_id == *merchant) else {
        return Ok(None);
    };
    let rating = ports.reviews.rating_of(merchant, sku).await?;
    let in_stock = ports.inventory.stock_of(sku).await?.iter().any(|level| level.owner == *merchant && level.available > 0);
    Ok(Some(ProductCard { sku: sku.clone(), name: facts.name, list_price: facts.list_price, rating, in_stock }))
}

async fn cards(ports: &Ports, merchant: &MerchantId, skus: &[Sku]) -> Result<Vec<ProductCard>, StoreError> {
    let mut cards = Vec::with_capacity(skus.len());
    for sku in skus {
        cards.extend(card(ports, merchant, sku).await?);
    }
    Ok(cards)
}

async fn showcase(
    ports: &Ports,
    profile: Profile,
    template: Template,
    merchant: &MerchantId,
    published_at: Option<DateTime<Utc>>,
    draft_version: u64,
) -> Result<Showcase, StoreError> {
    let featured = cards(ports, merchant, &profile.featured).await?;
    let promoted = cards(ports, merchant, &profile.promoted).await?;
    Ok(Showcase { merchant: merchant.clone(), profile, template, published_at, draft_version, featured, promoted })
}

/// The merchant's published storefront, as buyers see it: never the draft.
pub async fn published_showcase(ports: &Ports, merchant: &MerchantId) -> Result<Showcase, StorefrontError> {
    let published =
        ports.storefronts.get_published(merchant).await?.ok_or_else(|| StorefrontError::NotPublished(merchant.clone()))?;
    let PublishedStorefront { profile, template, published_at, draft_version, .. } = published;
    Ok(showcase(ports, profile, template, merchant, Some(published_at), draft_version).await?)
}

/// The merchant's draft as it would be published now, on its template as stored now (a
/// withdrawn template previews, so the merchant sees what it had).
pub async fn preview(ports: &Ports, merchant: &MerchantId) -> Result<Showcase, StorefrontError> {
    let draft = draft_of(&*ports.storefronts, merchant).await?;
    let template = ports
        .storefronts
        .get_template(&draft.profile.template)
        .await?
        .ok_or_else(|| StorefrontError::UnknownTemplate(draft.profile.template.clone()))?;
    Ok(showcase(ports, draft.profile, template, merchant, None, draft.version).await?)
}
