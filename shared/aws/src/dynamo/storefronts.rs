//! `StorefrontStore` on DynamoDB: templates in one partition, `STOREFRONT_TEMPLATES` /
//! `<template id>` (a handful, listed by one `Query`), each with its `version` beside it;
//! and a merchant's storefront beside its onboarding record, `MERCHANT#<merchant>` /
//! `STOREFRONT#DRAFT` (with the draft's `version`) and `STOREFRONT#PUBLISHED` (with the
//! draft version it copies). See `docs/dynamodb.md`, "Storefronts".
//!
//! A template is one `PutItem` on `attribute_not_exists(pk) OR version < :v`; a draft one
//! `PutItem` on `attribute_not_exists(pk)` (the first) or `version = :read`; a publication
//! ONE `TransactWriteItems` of a `ConditionCheck` that the draft is at the version copied
//! and the put of the published item, so an edit racing it leaves the old copy in place.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, ReturnValue, TransactWriteItem};
use oms_domain::ports::{PublishOutcome, PutTemplateOutcome, SaveDraftOutcome, StoreError, StorefrontStore};
use oms_domain::storefront::{PublishedStorefront, StorefrontDraft, Template, TemplateId};
use oms_domain::MerchantId;
use serde::{Deserialize, Serialize};

use super::{from_item, merchant_segment, n, to_item, unexplained, CancelReason, DynamoStore, Key, Transact};
use crate::error::{build_error, sdk_error};

/// The partition of every template.
const TEMPLATES: &str = "STOREFRONT_TEMPLATES";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TemplateItem {
    pk: String,
    sk: String,
    version: u32,
    template: Template,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DraftItem {
    pk: String,
    sk: String,
    version: u64,
    draft: StorefrontDraft,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PublishedItem {
    pk: String,
    sk: String,
    draft_version: u64,
    published: PublishedStorefront,
}

impl Key {
    /// A storefront template: `STOREFRONT_TEMPLATES` / `<template id>`.
    pub fn storefront_template(id: &TemplateId) -> Self {
        Self { pk: TEMPLATES.to_owned(), sk: id.to_string() }
    }

    /// A merchant's storefront draft: `MERCHANT#<merchant>` / `STOREFRONT#DRAFT`.
    pub fn storefront_draft(merchant: &MerchantId) -> Self {
        Self { pk: format!("MERCHANT#{}", merchant_segment(merchant)), sk: "STOREFRONT#DRAFT".to_owned() }
    }

    /// A merchant's published storefront: `MERCHANT#<merchant>` / `STOREFRONT#PUBLISHED`.
    pub fn storefront_published(merchant: &MerchantId) -> Self {
        Self { pk: format!("MERCHANT#{}", merchant_segment(merchant)), sk: "STOREFRONT#PUBLISHED".to_owned() }
    }
}

#[async_trait]
impl StorefrontStore for DynamoStore {
    /// `PutItem` on `attribute_not_exists(pk) OR version < :v`; refused, the stored one is
    /// read to tell a retry (`Unchanged`) from a stale design.
    async fn put_template(&self, template: &Template) -> Result<PutTemplateOutcome, StoreError> {
        let what = format!("storefront template {}", template.id);
        let key = Key::storefront_template(&template.id);
        let item =
            to_item(&TemplateItem { pk: key.pk, sk: key.sk, version: template.version, template: template.clone() }, &what)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #version < :v")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":v", n(template.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutTemplateOutcome::Written),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                let stored = self
                    .get_template(&template.id)
                    .await?
                    .ok_or_else(|| StoreError::msg(format!("Failed to write {what}: the template in the way vanished")))?;
                Ok(if stored.same_design(template) {
                    PutTemplateOutcome::Unchanged
                } else {
                    PutTemplateOutcome::Stale(Box::new(stored))
                })
            }
            Err(err) => Err(sdk_error(format!("Failed to write {what}"), err)),
        }
    }

    /// A strongly consistent `GetItem`.
    async fn get_template(&self, id: &TemplateId) -> Result<Option<Template>, StoreError> {
        let what = format!("storefront template {id}");
        self.get(Key::storefront_template(id), &what)
            .await?
            .map(|item| from_item::<TemplateItem>(item, &what).map(|i| i.template))
            .transpose()
    }

    /// A strongly consistent `Query` of `STOREFRONT_TEMPLATES`, in id order.
    async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        let what = "the storefront templates";
        let items = self.query_partition(TEMPLATES.to_owned(), what).await?;
        items.into_iter().map(|item| from_item::<TemplateItem>(item, what).map(|i| i.template)).collect()
    }

    /// A strongly consistent `GetItem`.
    async fn get_draft(&self, merchant: &MerchantId) -> Result<Option<StorefrontDraft>, StoreError> {
        let what = format!("the storefront draft of merchant {merchant}");
        self.get(Key::storefront_draft(merchant), &what)
            .await?
            .map(|item| from_item::<DraftItem>(item, &what).map(|i| i.draft))
            .transpose()
    }

    /// `PutItem` on `attribute_not_exists(pk)` (a first draft) or `version = :read`;
    /// refused, the stored draft is read as the conflict.
    async fn save_draft(&self, draft: &StorefrontDraft) -> Result<SaveDraftOutcome, StoreError> {
        let what = format!("the storefront draft of merchant {}", draft.merchant_id);
        let key = Key::storefront_draft(&draft.merchant_id);
        let item = to_item(&DraftItem { pk: key.pk, sk: key.sk, version: draft.version, draft: draft.clone() }, &what)?;
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let put = match draft.previous_version() {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(read) => put
                .condition_expression("#version = :read")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":read", n(read)),
        };
        match put.send().await {
            Ok(_) => Ok(SaveDraftOutcome::Saved),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(SaveDraftOutcome::Conflict(self.get_draft(&draft.merchant_id).await?.map(Box::new)))
            }
            Err(err) => Err(sdk_error(format!("Failed to write {what}"), err)),
        }
    }

    /// A strongly consistent `GetItem`.
    async fn get_published(&self, merchant: &MerchantId) -> Result<Option<PublishedStorefront>, StoreError> {
        let what = format!("the published storefront of merchant {merchant}");
        self.get(Key::storefront_published(merchant), &what)
            .await?
            .map(|item| from_item::<PublishedItem>(item, &what).map(|i| i.published))
            .transpose()
    }

    /// One `TransactWriteItems`: a `ConditionCheck` of the draft on `version = :copied`,
    /// then the published item put over whatever was there. Cancelled by the check:
    /// `DraftChanged`.
    async fn publish(&self, published: &PublishedStorefront) -> Result<PublishOutcome, StoreError> {
        let what = format!("publish the storefront of merchant {}", published.merchant_id);
        let failed = |e| build_error(format!("Failed to build {what}"), e);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Key::storefront_draft(&published.merchant_id).into_map()))
            .condition_expression("#version = :copied")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":copied", n(published.draft_version))
            .build()
            .map_err(failed)?;
        let key = Key::storefront_published(&published.merchant_id);
        let item = to_item(
            &PublishedItem { pk: key.pk, sk: key.sk, draft_version: published.draft_version, published: published.clone() },
            &what,
        )?;
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(failed)?;
        let items =
            vec![TransactWriteItem::builder().condition_check(check).build(), TransactWriteItem::builder().put(put).build()];
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(PublishOutcome::Published),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(PublishOutcome::DraftChanged);
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// `DeleteItem` of the published item, returning the old one to tell whether it was there.
    async fn unpublish(&self, merchant: &MerchantId) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Key::storefront_published(merchant).into_map()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error(format!("Failed to unpublish the storefront of merchant {merchant}"), e))?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }
}
