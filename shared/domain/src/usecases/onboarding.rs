//! Merchant onboarding: register, write the application, upload its documents, submit it,
//! and an administrator's approval or rejection (`crate::onboarding`). Every step reads
//! the record, takes the step and writes it over the version read
//! ([`MerchantStore::update_merchant`]); a lost race reads again and takes the step again
//! on the fresh record, so two administrators deciding at once leave exactly one decision
//! (the second finds the application decided and is refused).
//!
//! Approval releases the merchant's orders held for it ([`release_held_orders`]): each goes
//! back to `received` and is queued for allocation in the same write.

use chrono::{DateTime, Utc};

use crate::document::{DocumentKey, DocumentRef, DocumentType};
use crate::messages::{AllocateOrder, Outgoing};
use crate::onboarding::{
    Application, DocumentKind, InvalidOnboardingStep, MerchantRecord, OnboardingError, OnboardingStatus, Phone, Region,
};
use crate::order::OrderStatus;
use crate::ports::{
    CreateMerchantOutcome, DocumentStore, Effects, MerchantStore, MerchantsPage, OrderQuery, Page, Ports, StoreError,
    UpdateMerchantOutcome, MAX_PAGE_SIZE,
};
use crate::usecases::{update_with_retry, Change, CONFLICT_RETRIES};
use crate::{MerchantId, OrderId, ValidationError};

/// Why an onboarding step did nothing. Nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum OnboardingActionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("merchant {0} has not registered")]
    NotRegistered(MerchantId),
    #[error(transparent)]
    Step(#[from] InvalidOnboardingStep),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<OnboardingError> for OnboardingActionError {
    fn from(e: OnboardingError) -> Self {
        match e {
            OnboardingError::Step(step) => Self::Step(step),
            OnboardingError::Incomplete(invalid) => Self::Invalid(invalid),
        }
    }
}

/// What registering answered: the record, and whether this call created it (a second
/// registration of the merchant answers its record as it is, unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub record: MerchantRecord,
    pub created: bool,
}

/// Registers `merchant` with its phone and region; once per merchant: registering again
/// (a retry) answers the record stored, whatever it holds now.
pub async fn register(
    store: &dyn MerchantStore,
    merchant: MerchantId,
    phone: Phone,
    region: Region,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Registered, OnboardingActionError> {
    let record = MerchantRecord::register(merchant, phone, region, by, now);
    match store.create_merchant(&record).await? {
        CreateMerchantOutcome::Created => {
            tracing::info!(merchant_id = %record.merchant_id, "merchant registered");
            Ok(Registered { record, created: true })
        }
        CreateMerchantOutcome::Exists(stored) => Ok(Registered { record: *stored, created: false }),
    }
}

/// The merchant's record.
pub async fn record_of(store: &dyn MerchantStore, merchant: &MerchantId) -> Result<MerchantRecord, OnboardingActionError> {
    store.get_merchant(merchant).await?.ok_or_else(|| OnboardingActionError::NotRegistered(merchant.clone()))
}

/// The one read-step-write loop over a record: reads it, takes `step` on it and writes it
/// over the version read; a lost race reads the record again and takes the step again, at
/// most [`CONFLICT_RETRIES`] times. A step that changes nothing (`Ok(false)`: a retry)
/// writes nothing and answers the record as read.
async fn step_with_retry(
    store: &dyn MerchantStore,
    merchant: &MerchantId,
    mut step: impl FnMut(&mut MerchantRecord) -> Result<bool, OnboardingActionError>,
) -> Result<MerchantRecord, OnboardingActionError> {
    let mut read = record_of(store, merchant).await?;
    for _ in 0..CONFLICT_RETRIES {
        let mut next = read.clone();
        if !step(&mut next)? {
            return Ok(read);
        }
        match store.update_merchant(&read, &next).await? {
            UpdateMerchantOutcome::Updated => return Ok(next),
            UpdateMerchantOutcome::Conflict(stored) => read = *stored,
            UpdateMerchantOutcome::NotFound => return Err(OnboardingActionError::NotRegistered(merchant.clone())),
        }
    }
    Err(StoreError::msg(format!("merchant {merchant} kept changing: gave up after {CONFLICT_RETRIES} lost races")).into())
}

/// Writes (or rewrites) the merchant's application.
pub async fn save_application(
    store: &dyn MerchantStore,
    merchant: &MerchantId,
    application: Application,
    by: &str,
    now: DateTime<Utc>,
) -> Result<MerchantRecord, OnboardingActionError> {
    step_with_retry(store, merchant, |record| Ok(record.save_application(application.clone(), by, now)?)).await
}

/// A document uploaded (already checked: `crate::document::check_upload`).
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: DocumentKind,
    pub content_type: DocumentType,
    pub bytes: Vec<u8>,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The key a merchant's document is stored under: `merchants/<merchant>/<kind>-<ULID>`, a
/// fresh one per upload, so the record's reference to the last one stays good until the
/// record itself moves to the new one. A merchant id with characters a key does not take
/// is written as `hex-<its bytes in hex>`.
fn document_key(merchant: &MerchantId, kind: DocumentKind) -> Result<DocumentKey, ValidationError> {
    let raw = merchant.as_str();
    let safe = raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) && !raw.is_empty();
    let segment =
        if safe { raw.to_owned() } else { format!("hex-{}", raw.bytes().map(|b| format!("{b:02x}")).collect::<String>()) };
    DocumentKey::parse(format!("merchants/{segment}/{}-{}", kind.as_str(), ulid::Ulid::new()))
}

/// Stores an uploaded document and attaches it to the application. The record is read
/// first: a merchant that has not registered, or whose application may not change now
/// (under review, approved), stores nothing. (An upload whose record then loses every race
/// leaves its file unreferenced, never a record pointing at nothing.)
pub async fn attach_document(
    store: &dyn MerchantStore,
    documents: &dyn DocumentStore,
    merchant: &MerchantId,
    upload: Upload,
    by: &str,
    now: DateTime<Utc>,
) -> Result<MerchantRecord, OnboardingActionError> {
    let record = record_of(store, merchant).await?;
    if !record.status.is_editable() {
        return Err(
            InvalidOnboardingStep { merchant: merchant.clone(), from: record.status, step: "change its documents" }.into()
        );
    }
    if record.status == OnboardingStatus::Draft && record.has_document(upload.kind, &upload.sha256) {
        // The same bytes again (a retry): nothing stored.
        return Ok(record);
    }
    let key = document_key(merchant, upload.kind)?;
    documents.put_document(&key, upload.content_type, &upload.bytes).await?;
    let document = DocumentRef {
        key,
        content_type: upload.content_type,
        bytes: u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX),
        sha256: upload.sha256,
        uploaded_at: now,
    };
    let kind = upload.kind;
    step_with_retry(store, merchant, |record| Ok(record.attach_document(kind, document.clone(), by, now)?)).await
}

/// Submits the application for review.
pub async fn submit(
    store: &dyn MerchantStore,
    merchant: &MerchantId,
    by: &str,
    now: DateTime<Utc>,
) -> Result<MerchantRecord, OnboardingActionError> {
    let record = step_with_retry(store, merchant, |record| Ok(record.submit(by, now)?)).await?;
    tracing::info!(merchant_id = %merchant, "merchant application submitted");
    Ok(record)
}

/// An administrator rejects the submitted application with `reason`.
pub async fn reject(
    store: &dyn MerchantStore,
    merchant: &MerchantId,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<MerchantRecord, OnboardingActionError> {
    let record = step_with_retry(store, merchant, |record| Ok(record.reject(reason, by, now).map(|()| true)?)).await?;
    tracing::info!(merchant_id = %merchant, "merchant application rejected");
    Ok(record)
}

/// What an approval did: the record, and the orders it released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub record: MerchantRecord,
    pub released: Vec<OrderId>,
}

/// An administrator approves the submitted application; the merchant's orders held for
/// its approval are released ([`release_held_orders`]).
pub async fn approve(ports: &Ports, merchant: &MerchantId, by: &str) -> Result<Approved, OnboardingActionError> {
    let now = ports.clock.now();
    let record = step_with_retry(&*ports.merchants, merchant, |record| Ok(record.approve(by, now).map(|()| true)?)).await?;
    tracing::info!(merchant_id = %merchant, "merchant approved");
    let released = release_held_orders(ports, merchant).await?;
    Ok(Approved { record, released })
}

/// Whether `merchant` may sell now ([`crate::onboarding::may_sell`]).
pub async fn may_sell(store: &dyn MerchantStore, merchant: &MerchantId) -> Result<bool, StoreError> {
    Ok(crate::onboarding::may_sell(store.get_merchant(merchant).await?.as_ref()))
}

/// Releases every order of `merchant` on hold for its approval, when it may sell: each goes
/// back to `received` with the reason on its timeline and is queued for allocation in the
/// same write; its `order_on_hold` alert is resolved. Idempotent: an order released
/// already is no longer on that hold. (Allocation and the sweeper release such an order
/// too, so one an interrupted approval left behind is not stuck.)
///
/// The same releases the merchant's orders held for a product's listing
/// ([`crate::order::HoldReason::ProductNotSellable`]) whose every listing is on sale now: each order is
/// released only when [`crate::usecases::intake::review_hold`] finds nothing left to hold
/// it for.
pub async fn release_held_orders(ports: &Ports, merchant: &MerchantId) -> Result<Vec<OrderId>, StoreError> {
    if !may_sell(&*ports.merchants, merchant).await? {
        return Ok(Vec::new());
    }
    let query = OrderQuery::of(merchant.clone()).status(OrderStatus::OnHold);
    let mut held = Vec::new();
    let mut page = Page::first(MAX_PAGE_SIZE);
    loop {
        let found = ports.orders.find_orders(&query, &page).await?;
        held.extend(found.orders.into_iter().filter(|o| o.hold().is_some_and(|h| h.is_review())).map(|o| o.order_id));
        match found.next {
            Some(after) => page = Page::new(MAX_PAGE_SIZE, Some(after)).map_err(|e| StoreError::msg(e.to_string()))?,
            None => break,
        }
    }
    let mut released = Vec::new();
    for order_id in held {
        if release_one(ports, &order_id).await? {
            released.push(order_id);
        }
    }
    Ok(released)
}

async fn release_one(ports: &Ports, order_id: &OrderId) -> Result<bool, StoreError> {
    let now = ports.clock.now();
    let changed = update_with_retry(&*ports.orders, order_id, |mut order| {
        Box::pin(async move {
            if !order.hold().is_some_and(|h| h.is_review())
                || crate::usecases::intake::review_hold(ports, &order).await?.is_some()
            {
                return Ok::<_, StoreError>(Change::Keep(order, false));
            }
            order
                .transition(OrderStatus::Received, now, crate::usecases::fulfilment::REVIEW_RELEASE)
                .map_err(|e| StoreError::new("an order held for the review could not be released", e))?;
            let allocate = Outgoing::of(&AllocateOrder::new(order.order_id.clone()));
            Ok(Change::WriteWith(order, Effects::send(allocate), true))
        })
    })
    .await?;
    let Some(changed) = changed.filter(|c| c.value) else { return Ok(false) };
    crate::usecases::intake::resolve_on_hold(ports, &changed.order).await?;
    tracing::info!(order_id = %order_id, "order released: its merchant and products are approved");
    Ok(true)
}

/// Records in `status`, oldest in it first, a page of at most `limit` (1 to
/// [`MAX_PAGE_SIZE`]) after the cursor `after`.
pub async fn in_status(
    store: &dyn MerchantStore,
    status: OnboardingStatus,
    after: Option<&str>,
    limit: usize,
) -> Result<MerchantsPage, OnboardingActionError> {
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ValidationError::new("limit", format!("must be 1 to {MAX_PAGE_SIZE}, not {limit}")).into());
    }
    Ok(store.merchants_in_status(status, after, limit).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_key_is_fresh_per_upload_and_safe_for_any_merchant_id() {
        let merchant = MerchantId::parse("m-1").unwrap();
        let a = document_key(&merchant, DocumentKind::BusinessLicence).unwrap();
        let b = document_key(&merchant, DocumentKind::BusinessLicence).unwrap();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("merchants/m-1/business_licence-"));
        let odd = document_key(&MerchantId::parse("../x y").unwrap(), DocumentKind::RepresentativeId).unwrap();
        assert!(odd.as_str().starts_with("merchants/hex-2e2e2f782079/representative_id-"), "{odd}");
    }
}
