//! `MerchantStore` on DynamoDB: the record `MERCHANT#<merchant>` / `ONBOARDING` (its
//! `version` and `status` as attributes beside the record), and its place in the list by
//! status, `MERCHANTS_IN#<status>` / `<queue key>` (a copy of the record, so a page of the
//! review queue is one `Query`). See `docs/dynamodb.md`, "Merchant onboarding".
//!
//! Registering is ONE `TransactWriteItems` of the record and its list item, both
//! `attribute_not_exists(pk)`. A step is ONE `TransactWriteItems` too: the record put on
//! `version = :read`, the old list item deleted and the new one put (or the one list item
//! replaced, when the step leaves the record's place in the list as it was), so two steps
//! from one version leave exactly one, with its list item.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use oms_domain::onboarding::{MerchantRecord, OnboardingStatus};
use oms_domain::ports::{CreateMerchantOutcome, MerchantStore, MerchantsPage, StoreError, UpdateMerchantOutcome};
use oms_domain::MerchantId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{from_item, merchant_segment, n, s, to_item, unexplained, CancelReason, DynamoStore, Item, Key, Transact};
use crate::error::{build_error, sdk_error};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordItem {
    pk: String,
    sk: String,
    version: u64,
    status: OnboardingStatus,
    record: MerchantRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListItem {
    pk: String,
    sk: String,
    record: MerchantRecord,
}

impl Key {
    /// A merchant's onboarding record: `MERCHANT#<merchant>` / `ONBOARDING`.
    pub fn merchant(id: &MerchantId) -> Self {
        Self { pk: format!("MERCHANT#{}", merchant_segment(id)), sk: "ONBOARDING".to_owned() }
    }

    /// The list of records in `status`: `MERCHANTS_IN#<status>`.
    pub fn merchants_in(status: OnboardingStatus) -> String {
        format!("MERCHANTS_IN#{}", status.as_str())
    }

    /// A record's place in the list of its status: `MERCHANTS_IN#<status>` / `<queue key>`.
    pub fn merchant_listed(record: &MerchantRecord) -> Self {
        Self { pk: Self::merchants_in(record.status), sk: record.queue_key() }
    }
}

impl DynamoStore {
    fn record_item(record: &MerchantRecord, what: &str) -> Result<Item, StoreError> {
        let key = Key::merchant(&record.merchant_id);
        to_item(
            &RecordItem { pk: key.pk, sk: key.sk, version: record.version, status: record.status, record: record.clone() },
            what,
        )
    }

    fn list_item(record: &MerchantRecord, what: &str) -> Result<Item, StoreError> {
        let key = Key::merchant_listed(record);
        to_item(&ListItem { pk: key.pk, sk: key.sk, record: record.clone() }, what)
    }

    pub(super) fn unconditional_put(&self, item: Item, what: &str) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| build_error(format!("Failed to build the write of {what}"), e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl MerchantStore for DynamoStore {
    /// One `TransactWriteItems`: the record and its list item, `put_new`. Cancelled by the
    /// record's condition: `Exists`, the stored record read.
    async fn create_merchant(&self, record: &MerchantRecord) -> Result<CreateMerchantOutcome, StoreError> {
        let what = format!("register merchant {}", record.merchant_id);
        let items =
            vec![self.put_new(Self::record_item(record, &what)?, &what)?, self.put_new(Self::list_item(record, &what)?, &what)?];
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(CreateMerchantOutcome::Created),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            let stored = self
                .get_merchant(&record.merchant_id)
                .await?
                .ok_or_else(|| StoreError::msg(format!("Failed to {what}: the record in the way vanished")))?;
            return Ok(CreateMerchantOutcome::Exists(Box::new(stored)));
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// A strongly consistent `GetItem`.
    async fn get_merchant(&self, id: &MerchantId) -> Result<Option<MerchantRecord>, StoreError> {
        let what = format!("merchant {id}");
        match self.get(Key::merchant(id), &what).await? {
            Some(item) => Ok(Some(from_item::<RecordItem>(item, &what)?.record)),
            None => Ok(None),
        }
    }

    /// One `TransactWriteItems`: the record put on `version = :read`, then its list item
    /// moved (the old deleted, the new put) or replaced in place. Cancelled by the record's
    /// condition: read it (`NotFound` or `Conflict`).
    async fn update_merchant(
        &self,
        previous: &MerchantRecord,
        next: &MerchantRecord,
    ) -> Result<UpdateMerchantOutcome, StoreError> {
        let what = format!("write merchant {}", next.merchant_id);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::record_item(next, &what)?))
            .condition_expression("version = :read")
            .expression_attribute_values(":read", n(previous.version))
            .build()
            .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let (old, new) = (Key::merchant_listed(previous), Key::merchant_listed(next));
        if old != new {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(old.into_map()))
                .build()
                .map_err(|e| build_error(format!("Failed to build {what}"), e))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        items.push(self.unconditional_put(Self::list_item(next, &what)?, &what)?);
        let reasons = match self.transact(items, &what).await? {
            Transact::Written => return Ok(UpdateMerchantOutcome::Updated),
            Transact::Cancelled(reasons) => reasons,
        };
        if reasons.first().is_some_and(CancelReason::condition_failed) {
            return Ok(match self.get_merchant(&next.merchant_id).await? {
                None => UpdateMerchantOutcome::NotFound,
                Some(stored) => UpdateMerchantOutcome::Conflict(Box::new(stored)),
            });
        }
        Err(StoreError::msg(format!("Failed to {what}: {}", unexplained(&reasons))))
    }

    /// Strongly consistent `Query`s of `MERCHANTS_IN#<status>`, `sk > :after`, until one
    /// more item than `limit` is read (to tell whether a next page exists) or none are left.
    async fn merchants_in_status(
        &self,
        status: OnboardingStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<MerchantsPage, StoreError> {
        let what = format!("the {status} merchants");
        // A key condition takes no empty string: the first page has no `sk` condition.
        let mut values = HashMap::from([(":pk".to_owned(), s(Key::merchants_in(status)))]);
        let condition = match after.filter(|a| !a.is_empty()) {
            Some(after) => {
                values.insert(":after".to_owned(), s(after));
                "pk = :pk AND sk > :after"
            }
            None => "pk = :pk",
        };
        let mut merchants = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(format!("Failed to query {what}"), e))?;
            for item in output.items.unwrap_or_default() {
                merchants.push(from_item::<ListItem>(item, &what)?.record);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() && merchants.len() <= limit => start = Some(key),
                _ => break,
            }
        }
        let next = if merchants.len() > limit {
            merchants.truncate(limit);
            merchants.last().map(MerchantRecord::queue_key)
        } else {
            None
        };
        Ok(MerchantsPage { merchants, next })
    }
}
